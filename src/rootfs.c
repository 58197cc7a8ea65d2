/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rootfs.c: the sandbox's root filesystem, /proc, /dev, /tmp and the user's
 * binds, assembled in the child's mount namespace, then pivot_root.
 *
 * Sources are cloned with open_tree() while the child still sees the host,
 * then attached below a staging directory, and every destination is resolved
 * with openat2(RESOLVE_IN_ROOT) relative to the new root: a destination that
 * is a symlink pointing at "/etc" lands on the sandbox's /etc, never on a
 * host path. */
#include "config.h"

#include "rootfs.h"
#include "fuse.h"
#include "mask.h"
#include "net.h"
#include "overlay.h"
#include "pty.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Where the new root is assembled.  The staging tmpfs covers the host's /sys
 * (see fuse.h for why there) in the child's (private) mount namespace only,
 * and is detached together with the old root after pivot_root. */
#define STAGING SBX_STAGING
#define NEWROOT SBX_STAGING_ROOT

/* The device nodes of the minimal /dev, bound from the host's. */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define N_DEV_NODES G_N_ELEMENTS (dev_nodes)
/* The symlinks of the minimal /dev. */
static const struct
{
  const char *name, *target;
} dev_links[] = {
  { "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};

struct SbxRootfs
{
  SbxOverlay *overlay;        /* the layered root */
  gboolean host_base;         /* the root is the host's / (not --rootfs) */
  int sys_tree;               /* clone of the host's /sys */
  int resolv_tree;            /* --net host: the host's resolv.conf when it lies in /run */
  char *resolv_path;          /* ... and that path */
  int dev_trees[N_DEV_NODES]; /* clones of the host's device nodes */
  int *mount_trees;           /* per spec->mounts entry: a clone for binds, -1 otherwise */
  int newroot;                /* O_PATH of NEWROOT once attached */
  int devpts;                 /* the root of the sandbox's devpts, once mounted */
};

static gboolean
at_or_below (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const char *
sbx_rootfs_reserved (const char *dst)
{
  /* Replaced by sbx: a mount over one of these would hide the sandbox's
   * own (a /proc of the host's PID namespace instead of its own, a /dev
   * without its nodes), and the root is --rootfs's. */
  static const char *const points[] = { "/", "/proc", "/dev", "/dev/shm" };
  /* Not to be entered at all: filesystems of the kernel's (sysfs, the
   * sandbox's own devpts) where a mount hides what programs read there. */
  static const char *const trees[] = { "/sys", "/dev/pts" };
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    if (strcmp (dst, points[i]) == 0)
      return points[i];
  for (guint i = 0; i < G_N_ELEMENTS (trees); i++)
    if (at_or_below (dst, trees[i]))
      return trees[i];
  if (g_str_has_prefix (dst, "/dev/"))
    {
      for (guint i = 0; i < N_DEV_NODES; i++)
        if (strcmp (dst + 5, dev_nodes[i]) == 0)
          return dst;
      for (guint i = 0; i < G_N_ELEMENTS (dev_links); i++)
        if (strcmp (dst + 5, dev_links[i].name) == 0)
          return dst;
    }
  /* What mask.c hides or makes read-only (/proc/sys, /proc/kcore...). */
  return sbx_mask_reserved (dst);
}

static int
clone_tree (const char *path, gboolean recursive)
{
  return open_tree (AT_FDCWD, path,
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

/* Sets mount attributes on a whole detached or attached tree. */
static int
set_tree_attrs (int fd, guint64 attrs)
{
  struct mount_attr attr = { .attr_set = attrs };
  return mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}

/* The host's /run is not shown inside (see build_run), but with the host's
 * network its resolver configuration is wanted, and /etc/resolv.conf often
 * points into /run (systemd-resolved, resolvconf): that one file comes
 * along, read-only. */
static void
clone_host_resolv_conf (SbxRootfs *r)
{
  g_autofree char *real = realpath ("/etc/resolv.conf", NULL);
  if (real == NULL || !g_str_has_prefix (real, "/run/"))
    return;
  r->resolv_tree = clone_tree (real, FALSE);
  guint64 ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (r->resolv_tree < 0 || set_tree_attrs (r->resolv_tree, ro) < 0)
    sbx_die_errno ("cannot bind %s", real);
  r->resolv_path = g_steal_pointer (&real);
}

SbxRootfs *
sbx_rootfs_prepare (const SbxSpec *spec, int tree_fd, const char *tree_path)
{
  SbxRootfs *r = g_new0 (SbxRootfs, 1);
  r->devpts = -1;

  /* Private, recursively: a mount made in the sandbox never propagates to the
   * host and a host mount never appears inside later. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    sbx_die_errno ("cannot make the mount namespace private");

  /* Read-only, recursively (their submounts too), nosuid,nodev,noexec: the
   * kernel's and the host's runtime state, as the caller may see them. */
  r->host_base = spec->rootfs == NULL;
  /* With a network namespace of its own the sandbox gets a fresh sysfs
   * (its own interfaces); in the host's it sees the host's, read-only. */
  r->sys_tree = spec->net == SBX_NET_HOST ? clone_tree ("/sys", TRUE) : -1;
  guint64 ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (spec->net == SBX_NET_HOST && (r->sys_tree < 0 || set_tree_attrs (r->sys_tree, ro) < 0))
    sbx_die_errno ("cannot bind /sys");
  r->resolv_tree = -1;
  if (spec->net == SBX_NET_HOST && r->host_base)
    clone_host_resolv_conf (r);
  r->overlay = sbx_overlay_prepare (spec, tree_fd, tree_path);

  for (guint i = 0; i < N_DEV_NODES; i++)
    {
      g_autofree char *path = g_strdup_printf ("/dev/%s", dev_nodes[i]);
      r->dev_trees[i] = clone_tree (path, FALSE);
      if (r->dev_trees[i] < 0)
        sbx_die_errno ("cannot bind %s", path);
    }

  r->mount_trees = g_new (int, spec->mounts->len);
  for (guint i = 0; i < spec->mounts->len; i++)
    {
      const SbxMount *m = spec->mounts->pdata[i];
      r->mount_trees[i] = -1;
      if (m->kind != SBX_MOUNT_BIND)
        continue;
      r->mount_trees[i] = clone_tree (m->src, TRUE);
      if (r->mount_trees[i] < 0)
        sbx_die_errno ("cannot bind %s", m->src);
      /* Host mounts carry nosuid,nodev: a setuid file or a device node bound
       * in from the host grants nothing inside. */
      guint64 attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->ro ? MOUNT_ATTR_RDONLY : 0);
      if (set_tree_attrs (r->mount_trees[i], attrs) < 0)
        sbx_die_errno ("cannot set the mount flags of %s", m->src);
    }
  return r;
}

/* Resolves @path inside the new root as the sandbox will see it: absolute
 * symlinks and ".." stay within the root (RESOLVE_IN_ROOT). */
static int
open_inside (SbxRootfs *r, const char *path, int flags)
{
  struct open_how how = {
    .flags = (guint64)(flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? 0644 : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  const char *rel = path[0] == '/' ? path + 1 : path;
  if (*rel == '\0')
    rel = ".";
  return (int)syscall (SYS_openat2, r->newroot, rel, &how, sizeof how);
}

static int make_mount_point (SbxRootfs *r, const char *option, const char *path, gboolean is_dir);

/* Attaches the detached tree @tree at @path inside the new root, creating
 * the directory where a --rootfs tree lacks it. */
static void
attach_tree (SbxRootfs *r, int tree, const char *path, const char *what)
{
  cleanup_fd int target = open_inside (r, path, O_PATH | O_NOFOLLOW);
  if (target < 0 && errno == ELOOP)
    target = open_inside (r, path, O_PATH); /* a symlink: follow it, within the root */
  if (target < 0 && errno == ENOENT)
    target = make_mount_point (r, what, path, TRUE);
  if (target < 0)
    sbx_die_errno ("cannot mount %s on %s", what, path);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    sbx_die_errno ("cannot mount %s on %s", what, path);
}

/* A fresh filesystem (tmpfs, proc, devpts) as a detached mount. */
static int
new_fs (const char *type, const char *const *options, guint64 attrs, const char *what)
{
  cleanup_fd int fs = fsopen (type, FSOPEN_CLOEXEC);
  if (fs < 0)
    sbx_die_errno ("cannot create %s", what);
  /* The source shows in mountinfo; name it after the filesystem, as mount(8)
   * users expect, rather than "none". */
  if (fsconfig (fs, FSCONFIG_SET_STRING, "source", type, 0) < 0)
    sbx_die_errno ("cannot create %s", what);
  for (const char *const *o = options; o != NULL && *o != NULL; o += 2)
    {
      int r = o[1] != NULL ? fsconfig (fs, FSCONFIG_SET_STRING, o[0], o[1], 0)
                           : fsconfig (fs, FSCONFIG_SET_FLAG, o[0], NULL, 0);
      if (r < 0)
        sbx_die_errno ("cannot create %s: option %s", what, o[0]);
    }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    sbx_die_errno ("cannot create %s", what);
  int mnt = fsmount (fs, FSMOUNT_CLOEXEC, (unsigned int)attrs);
  if (mnt < 0)
    sbx_die_errno ("cannot mount %s", what);
  return mnt;
}

static void
mount_new_fs (SbxRootfs *r, const char *type, const char *const *options, guint64 attrs,
              const char *path)
{
  cleanup_fd int mnt = new_fs (type, options, attrs, path);
  attach_tree (r, mnt, path, type);
}

static void
build_dev (SbxRootfs *r, const SbxSpec *spec, gboolean root_mapped)
{
  const char *const dev_opts[]
      = { "mode", "0755", "size", "64k", root_mapped ? "uid" : NULL, "0", "gid", "0", NULL };
  static const char *const pts_opts[]
      = { "newinstance", NULL, "ptmxmode", "0666", "mode", "620", NULL };
  /* Capped (--shm-size): what a tmpfs holds is pinned in RAM and charged
   * to no process, so the OOM killer cannot find the sandbox behind it. */
  const char *const shm_opts[] = {
    "mode", "1777", "size", spec->shm_size, root_mapped ? "uid" : NULL, "0", "gid", "0", NULL
  };
  /* /dev is a small tmpfs: no host device appears but the ones listed. */
  mount_new_fs (r, "tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev");
  cleanup_fd int dev = open_inside (r, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0)
    sbx_die_errno ("cannot open the new /dev");

  for (guint i = 0; i < N_DEV_NODES; i++)
    {
      cleanup_fd int f = openat (dev, dev_nodes[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
      if (f < 0)
        sbx_die_errno ("cannot create /dev/%s", dev_nodes[i]);
      if (move_mount (r->dev_trees[i], "", dev, dev_nodes[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot bind /dev/%s", dev_nodes[i]);
      sbx_util_close_fdp (&r->dev_trees[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (dev_links); i++)
    if (symlinkat (dev_links[i].target, dev, dev_links[i].name) < 0)
      sbx_die_errno ("cannot create /dev/%s", dev_links[i].name);
  if (mkdirat (dev, "pts", 0755) < 0 || mkdirat (dev, "shm", 01777) < 0)
    sbx_die_errno ("cannot create /dev/pts and /dev/shm");

  /* A devpts of our own: the host's ptys are not reachable, and ptmx gives
   * ptys of this instance only.  No gid= option: the tty group may be
   * unmapped. */
  r->devpts = new_fs ("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts");
  attach_tree (r, r->devpts, "/dev/pts", "devpts");
  mount_new_fs (r, "tmpfs", shm_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/dev/shm");
}

/* /sys: the host's (read-only) with --net host, else a fresh sysfs of the
 * sandbox's network namespace, read-only, with its cgroup2 view. */
static void
build_sys (SbxRootfs *r)
{
  guint64 ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (r->sys_tree >= 0)
    {
      attach_tree (r, r->sys_tree, "/sys", "/sys");
      sbx_util_close_fdp (&r->sys_tree);
      return;
    }
  mount_new_fs (r, "sysfs", NULL, ro, "/sys");
  /* The sandbox's own cgroup namespace: its part of the hierarchy, where
   * the kernel offers cgroup2 (not on a host with v1 only). */
  cleanup_fd int cg = fsopen ("cgroup2", FSOPEN_CLOEXEC);
  if (cg >= 0 && fsconfig (cg, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    {
      cleanup_fd int mnt = fsmount (cg, FSMOUNT_CLOEXEC, (unsigned int)ro);
      cleanup_fd int target = open_inside (r, "/sys/fs/cgroup", O_PATH | O_DIRECTORY);
      if (mnt >= 0 && target >= 0)
        move_mount (mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    }
}

/* A fresh /run, as at boot, with the caller's runtime directory.  Not the
 * host's, even read-only: a read-only mount does not stop connect(), and
 * /run is full of sockets that act for whoever connects (the system bus,
 * docker.sock, the journal, every session's bus and agents in /run/user). */
static void
build_run (SbxRootfs *r, const SbxSpec *spec, gboolean root_mapped, uid_t uid, gid_t gid)
{
  const char *const run_opts[] = {
    "mode", "0755", "size", spec->tmp_size, root_mapped ? "uid" : NULL, "0", "gid", "0", NULL
  };
  mount_new_fs (r, "tmpfs", run_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/run");
  cleanup_fd int run = open_inside (r, "/run", O_PATH | O_DIRECTORY);
  g_autofree char *name = g_strdup_printf ("%u", (guint)uid);
  cleanup_fd int user = -1;
  if (run < 0 || mkdirat (run, "user", 0755) < 0
      || (user = openat (run, "user", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0
      || mkdirat (user, name, 0700) < 0 || fchownat (user, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0
      || mkdirat (run, "lock", 01777) < 0 || fchmodat (run, "lock", 01777, 0) < 0
      || (root_mapped
          && (fchownat (run, "user", 0, 0, 0) < 0 || fchownat (run, "lock", 0, 0, 0) < 0)))
    sbx_die_errno ("cannot populate /run");
  if (r->resolv_tree >= 0)
    {
      cleanup_fd int target = make_mount_point (r, "--net host", r->resolv_path, FALSE);
      if (move_mount (r->resolv_tree, "", target, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
          < 0)
        sbx_die_errno ("cannot bind %s", r->resolv_path);
      sbx_util_close_fdp (&r->resolv_tree);
    }
}

/* Something to bind the sandbox's resolv.conf on where /etc/resolv.conf
 * leads nowhere inside: the file a symlink into the fresh /run names
 * (systemd-resolved's stub-resolv.conf), or, in a --rootfs without one, an
 * empty file in the writable layer. */
static int
make_resolv_conf (SbxRootfs *r)
{
  cleanup_fd int etc = open_inside (r, "/etc", O_PATH | O_DIRECTORY);
  char link[PATH_MAX];
  ssize_t n = etc >= 0 ? readlinkat (etc, "resolv.conf", link, sizeof link - 1) : -1;
  if (n > 0)
    {
      link[n] = '\0';
      g_autofree char *path = g_canonicalize_filename (link, "/etc");
      if (!g_str_has_prefix (path, "/run/"))
        return -1;
      return make_mount_point (r, "resolv.conf", path, FALSE);
    }
  cleanup_fd int made
      = etc >= 0 ? openat (etc, "resolv.conf", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644) : -1;
  return made >= 0 ? open_inside (r, "/etc/resolv.conf", O_PATH) : -1;
}

/* The sandbox's /etc/resolv.conf names slirp's DNS: a file of the staging
 * tmpfs bound over the host's (or over what its symlink points to inside,
 * such as systemd-resolved's stub file), never written into the host's. */
static void
bind_resolv_conf (SbxRootfs *r, const SbxSpec *spec)
{
  g_autofree char *content = sbx_net_resolv_conf (spec);
  const char *staged = STAGING "/resolv.conf";
  if (!g_file_set_contents_full (staged, content, -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL))
    sbx_die_errno ("cannot write %s", staged);
  cleanup_fd int target = open_inside (r, "/etc/resolv.conf", O_PATH);
  if (target < 0 && errno == ENOENT)
    target = make_resolv_conf (r);
  struct stat st;
  if (target < 0 || fstat (target, &st) < 0 || !S_ISREG (st.st_mode))
    {
      sbx_warn ("no /etc/resolv.conf inside to point at the sandbox's DNS (" SBX_NET_DNS ")");
      return;
    }
  cleanup_fd int tree = open_tree (AT_FDCWD, staged, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0
      || move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    sbx_die_errno ("cannot bind the sandbox's /etc/resolv.conf");
}

/* A --tmpfs: owned by the caller inside (root with --map-root), mode 0755,
 * of its SIZE or else of --tmp-size (never the kernel's half of the RAM). */
static int
new_user_tmpfs (const SbxSpec *spec, const SbxMount *m, uid_t uid, gid_t gid)
{
  g_autofree char *uid_text = g_strdup_printf ("%u", uid);
  g_autofree char *gid_text = g_strdup_printf ("%u", gid);
  g_autofree char *size_text
      = m->size ? g_strdup_printf ("%" G_GUINT64_FORMAT, m->size) : g_strdup (spec->tmp_size);
  const char *opts[]
      = { "mode", "0755", "uid", uid_text, "gid", gid_text, "size", size_text, NULL };
  return new_fs ("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, m->option);
}

/* Creates the missing components of @path inside the new root, where the
 * parent is writable (a tmpfs such as /tmp), as bwrap does; the last one a
 * directory or an empty file to bind a file onto.  Each component is created
 * relative to its parent's fd, so no symlink can redirect the creation. */
static int
make_mount_point (SbxRootfs *r, const char *option, const char *path, gboolean is_dir)
{
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", -1);
  g_autoptr (GString) prefix = g_string_new ("/");
  int fd = open_inside (r, "/", O_PATH | O_DIRECTORY);

  for (guint i = 0; fd >= 0 && parts[i] != NULL; i++)
    {
      gboolean last = parts[i + 1] == NULL;
      if (parts[i][0] == '\0')
        continue;
      g_string_append_printf (prefix, "%s%s", prefix->len > 1 ? "/" : "", parts[i]);
      int next = open_inside (r, prefix->str, O_PATH);
      if (next < 0 && errno == ENOENT)
        {
          int made = (last && !is_dir)
                         ? openat (fd, parts[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644)
                         : mkdirat (fd, parts[i], 0755);
          if (made < 0)
            sbx_die_errno ("%s: cannot create %s inside the sandbox", option, prefix->str);
          if (last && !is_dir)
            close (made);
          next = open_inside (r, prefix->str, O_PATH);
        }
      close (fd);
      fd = next;
    }
  if (fd < 0)
    sbx_die_errno ("%s: cannot open %s inside the sandbox", option, path);
  return fd;
}

static void
build_user_mounts (SbxRootfs *r, const SbxSpec *spec, uid_t uid, gid_t gid)
{
  for (guint i = 0; i < spec->mounts->len; i++)
    {
      const SbxMount *m = spec->mounts->pdata[i];
      cleanup_fd int tree = m->kind == SBX_MOUNT_BIND ? sbx_steal_fd (&r->mount_trees[i])
                                                      : new_user_tmpfs (spec, m, uid, gid);
      struct stat st;
      gboolean is_dir = m->kind == SBX_MOUNT_TMPFS
                        || (fstatat (tree, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR (st.st_mode));
      cleanup_fd int target = make_mount_point (r, m->option, m->dst, is_dir);
      if (fstatat (target, "", &st, AT_EMPTY_PATH) == 0 && !S_ISDIR (st.st_mode) != !is_dir)
        {
          if (m->kind == SBX_MOUNT_TMPFS)
            sbx_die ("%s: %s is not a directory (a tmpfs goes on a directory)", m->option, m->dst);
          sbx_die ("cannot bind %s on %s: %s", m->src, m->dst,
                   is_dir ? "a directory cannot be bound over a file"
                          : "a file cannot be bound over a directory");
        }
      if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot %s %s on %s", m->kind == SBX_MOUNT_BIND ? "bind" : "mount",
                       m->kind == SBX_MOUNT_BIND ? m->src : "a tmpfs", m->dst);
    }
}

void
sbx_rootfs_build (SbxRootfs *r, const SbxSpec *spec, uid_t inside_uid, gid_t inside_gid,
                  gboolean root_mapped, int sync_fd)
{
  static const char *const staging_opts[] = { "mode", "0700", "size", "64k", NULL };
  /* /tmp, /dev and /dev/shm belong to root inside, as on any system, when
   * root is mapped at all (not with --no-subids keep-id).  Each is capped
   * (--tmp-size): the kernel's default, half the RAM per tmpfs, would let a
   * sandbox pin several times what the OOM killer can charge to it. */
  const char *const tmp_opts[] = {
    "mode", "1777", "size", spec->tmp_size, root_mapped ? "uid" : NULL, "0", "gid", "0", NULL
  };

  cleanup_fd int staging = new_fs ("tmpfs", staging_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                                   "the staging directory");
  if (move_mount (staging, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    sbx_die_errno ("cannot mount the staging directory on %s", STAGING);
  if (mkdir (NEWROOT, 0755) < 0)
    sbx_die_errno ("cannot create %s", NEWROOT);

  sbx_overlay_build (r->overlay, spec, STAGING, NEWROOT, root_mapped, sync_fd);
  r->newroot = open (NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->newroot < 0)
    sbx_die_errno ("cannot open %s", NEWROOT);

  /* A /proc of the sandbox's own PID namespace. */
  mount_new_fs (r, "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/proc");
  build_dev (r, spec, root_mapped);
  /* A fresh /tmp: the host's /tmp (X11 and ssh-agent sockets) stays outside. */
  mount_new_fs (r, "tmpfs", tmp_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/tmp");
  /* /var/tmp too: the kernel driver could not create anything in the host's
   * (its owner, root, is not mapped), and a sandbox's temporary files have
   * no business outliving it there either. */
  cleanup_fd int var = open_inside (r, "/var", O_PATH | O_DIRECTORY);
  if (var >= 0)
    mount_new_fs (r, "tmpfs", tmp_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/var/tmp");
  build_sys (r);
  build_run (r, spec, root_mapped, inside_uid, inside_gid);
  if (spec->net == SBX_NET_SLIRP)
    bind_resolv_conf (r, spec);
  build_user_mounts (r, spec, inside_uid, inside_gid);
  /* Last, so that no --bind uncovers what is masked. */
  sbx_mask_apply (r->newroot);
  sbx_overlay_seal (r->overlay);
}

int
sbx_rootfs_open_pty (SbxRootfs *r)
{
  g_autoptr (GError) error = NULL;
  /* Through the mount PID 1 made a moment ago, not through a path: the
   * sandbox's own devpts instance, so that the command's terminal is one
   * of the sandbox's, never one of the host's or the caller's. */
  int master = sbx_pty_open_master_at (r->devpts, &error);
  if (master < 0)
    sbx_die ("%s", error->message);
  return master;
}

void
sbx_rootfs_enter (SbxRootfs *r)
{
  /* fuse-overlayfs runs in this mount namespace with the host's root as its
   * own; pivot_root would move that root for it too (and the lazy unmount
   * would take its mounts away).  The sandbox pivots in a copy. */
  if (sbx_overlay_uses_fuse (r->overlay))
    {
      if (unshare (CLONE_NEWNS) < 0)
        sbx_die_errno ("cannot create the sandbox's mount namespace");
      sbx_util_close_fdp (&r->newroot);
      r->newroot = open (NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (r->newroot < 0)
        sbx_die_errno ("cannot open %s", NEWROOT);
    }
  /* pivot_root(".", ".") stacks the old root on top of the new one; the
   * lazy unmount then detaches it with the staging tmpfs, so no path leads
   * back to the host's root (CVE-2015-2925 style escapes need one). */
  if (fchdir (r->newroot) < 0)
    sbx_die_errno ("cannot enter the new root");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    sbx_die_errno ("pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    sbx_die_errno ("cannot detach the old root");
  if (chdir ("/") < 0)
    sbx_die_errno ("chdir /");
  sbx_util_close_fdp (&r->newroot);
  sbx_util_close_fdp (&r->devpts);
  sbx_overlay_free (r->overlay);
  g_free (r->mount_trees);
  g_free (r);
}
