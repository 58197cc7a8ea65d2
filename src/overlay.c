/* SPDX-License-Identifier: GPL-2.0-or-later */
/* overlay.c: the layered root: the host's / (or --rootfs), --layer dirs and a
 * writable layer, through kernel overlayfs or fuse-overlayfs.
 *
 * The kernel refuses, in a user namespace, a lower layer with mounts below
 * it (they are locked: unmounting or overlaying across them could reveal
 * what they hide), and refuses an upper inside a lower.  So the host's / is
 * taken apart: every directory with nothing in the way below it becomes one
 * overlay, and the directories above those ("split" directories) are plain
 * directories of a small tmpfs skeleton, read-only in the end.
 *
 * With --map-root, root inside must write into what the host's root owns,
 * whom no unprivileged user namespace maps.  The caller's directory
 * skeleton (skeleton.c), a lower layer just above the host's /, makes those
 * directories root's inside, at kernel speed; files stay the host's, and
 * the few that package managers rewrite in place are copied up before the
 * command starts.  Without a skeleton, fuse-overlayfs serves them: it reads
 * through the VFS and has neither limit, and with squash_to_root it shows
 * the host's root-owned files as root's; it is slow on small files, so it
 * serves nothing else (the caller's home and working directory go through
 * the kernel).
 *
 * Layers are opened once in the host's view and passed to the kernel and to
 * fuse-overlayfs as /proc/self/fd/N: no path is parsed twice, and ',' ':' or
 * '\' in a directory name cannot change what is mounted. */
#include "config.h"

#include "overlay.h"
#include "fuse.h"
#include "skeleton.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* The directories the sandbox mounts itself (rootfs.c). */
static const char *const specials[] = { "/proc", "/dev", "/sys", "/run", "/tmp", "/var/tmp" };

typedef struct
{
  char *path;         /* the host path, for messages and mount-table checks */
  const char *option; /* "--layer", "--rootfs", or NULL for the host's / */
  int fd;             /* O_PATH of its root */
} Layer;

struct SbxOverlay
{
  Layer *lowers; /* highest first; the last one is the base */
  guint n_lowers;
  gboolean host_base;
  int upper_fd; /* a kept layer's upper and work dirs, or -1 */
  int work_fd;
  char *upper_path; /* the kept layer's upper and work dirs, for messages, or NULL */
  char *upper_work_path;
  GPtrArray *obstacles; /* paths relative to the layers ("/x/y") the kernel cannot cross */
  GPtrArray *hidden;    /* relative paths never shown (the kept upper and work dirs) */
  GPtrArray *fast;      /* the caller's home and cwd: kept on the kernel's fast path */
  GPtrArray *units;     /* the writable units mounted so far: "kernel:/usr", "fuse:/var" */
  uid_t overflow_uid;
  gid_t overflow_gid;
  gboolean map_root;
  gboolean all_fuse; /* --overlay fuse */
  gboolean root_mapped;
  gboolean verbose;
  const char *fuse_bin;
  char *fuse_mnt;  /* where fuse-overlayfs is mounted, once started */
  int sync_fd;     /* to the monitor, which starts fuse-overlayfs */
  int skeleton;    /* the root skeleton tmpfs mount, or -1 */
  int tree_fd;     /* the caller's directory skeleton (skeleton.c), or -1 */
  char *tree_path; /* ... its path on the host */
  GString *report;
};

/* ---- the mount table ---------------------------------------------------- */

char *
sbx_overlay_unescape_mountinfo (const char *field)
{
  GString *s = g_string_new (NULL);
  for (const char *p = field; *p; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0'
          && p[3] <= '7')
        {
          g_string_append_c (s, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
          p += 3;
        }
      else
        g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

static gboolean
under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  if (strcmp (dir, "/") == 0)
    return path[0] == '/' && path[1] != '\0';
  return strncmp (path, dir, n) == 0 && path[n] == '/';
}

/* @abs relative to @layer ("/usr/lib" in "/srv/tree" -> NULL; "/srv/tree/usr"
 * -> "/usr"), or NULL when it is not below it. */
static char *
relative_to (const char *abs, const char *layer)
{
  if (strcmp (layer, "/") == 0)
    return g_strdup (abs);
  if (!under (abs, layer))
    return NULL;
  return g_strdup (abs + strlen (layer));
}

gboolean
sbx_overlay_is_special (const char *rel)
{
  for (guint i = 0; i < G_N_ELEMENTS (specials); i++)
    if (strcmp (rel, specials[i]) == 0 || under (rel, specials[i]))
      return TRUE;
  return FALSE;
}

static void
add_relative (GPtrArray *set, SbxOverlay *o, const char *abs)
{
  for (guint i = 0; i < o->n_lowers; i++)
    {
      g_autofree char *rel = relative_to (abs, o->lowers[i].path);
      if (rel != NULL && !sbx_overlay_is_special (rel))
        g_ptr_array_add (set, g_steal_pointer (&rel));
    }
}

static void
read_obstacles (SbxOverlay *o)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/self/mountinfo", &text, NULL, NULL))
    sbx_die_errno ("cannot read /proc/self/mountinfo");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", 6);
      if (g_strv_length (f) < 5)
        continue;
      g_autofree char *mp = sbx_overlay_unescape_mountinfo (f[4]);
      add_relative (o->obstacles, o, mp);
    }
}

/* Whether something the kernel driver cannot cross lies strictly below. */
static gboolean
blocked_below (GPtrArray *set, const char *rel)
{
  for (guint i = 0; i < set->len; i++)
    if (under (set->pdata[i], rel))
      return TRUE;
  return FALSE;
}

static gboolean
in_set (GPtrArray *set, const char *rel)
{
  for (guint i = 0; i < set->len; i++)
    if (strcmp (set->pdata[i], rel) == 0)
      return TRUE;
  return FALSE;
}

/* ---- preparing, in the host's view ------------------------------------------ */

static int
open_dir (const char *path, const char *option)
{
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    sbx_die_errno ("%s %s", option, path);
  return fd;
}

static int open_beneath (int dirfd, const char *rel, int flags);

/* Whether the skeleton mirrors @rel. */
static gboolean
skeleton_has (const SbxOverlay *o, const char *rel)
{
  if (o->tree_fd < 0)
    return FALSE;
  cleanup_fd int fd = open_beneath (o->tree_fd, rel, O_PATH | O_DIRECTORY);
  return fd >= 0;
}

/* The kernel refuses a lower layer inside another lower layer of the same
 * overlay, and the skeleton lies below the host's / (in the caller's cache
 * directory): the overlays on the way to it are split there, down to the
 * first directory the skeleton does not mirror (the caller's own, which
 * needs no skeleton).  Nothing else changes: the caller's home, say, stays
 * one overlay of its own. */
static void
keep_skeleton_out (SbxOverlay *o)
{
  g_auto (GStrv) parts = g_strsplit (o->tree_path, "/", -1);
  g_autoptr (GString) prefix = g_string_new (NULL);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      g_string_append_printf (prefix, "/%s", parts[i]);
      if (!skeleton_has (o, prefix->str))
        break;
    }
  add_relative (o->obstacles, o, prefix->str);
}

SbxOverlay *
sbx_overlay_prepare (const SbxSpec *spec, int tree_fd, const char *tree_path)
{
  SbxOverlay *o = g_new0 (SbxOverlay, 1);
  o->n_lowers = spec->layers->len + 1;
  o->lowers = g_new0 (Layer, o->n_lowers);
  for (guint i = 0; i < spec->layers->len; i++)
    {
      Layer *l = &o->lowers[spec->layers->len - 1 - i]; /* highest first */
      l->path = g_strdup (spec->layers->pdata[i]);
      l->option = "--layer";
      l->fd = open_dir (l->path, l->option);
    }
  Layer *base = &o->lowers[o->n_lowers - 1];
  o->host_base = spec->rootfs == NULL;
  base->path = g_strdup (o->host_base ? "/" : spec->rootfs);
  base->option = o->host_base ? NULL : "--rootfs";
  base->fd = open_dir (base->path, "--rootfs");

  o->upper_fd = o->work_fd = -1;
  if (spec->upper != NULL)
    {
      o->upper_fd = open_dir (spec->upper, "--upper");
      o->work_fd = open_dir (spec->upper_work, "--upper");
      o->upper_path = g_strdup (spec->upper);
      o->upper_work_path = g_strdup (spec->upper_work);
    }
  o->obstacles = g_ptr_array_new_with_free_func (g_free);
  o->hidden = g_ptr_array_new_with_free_func (g_free);
  o->fast = g_ptr_array_new_with_free_func (g_free);
  o->units = g_ptr_array_new_with_free_func (g_free);
  read_obstacles (o);
  if (spec->upper != NULL)
    {
      /* The kept layer lives somewhere below the host's /: never overlay
       * across it (the kernel refuses) and never show it inside. */
      add_relative (o->obstacles, o, spec->upper);
      add_relative (o->obstacles, o, spec->upper_work);
      add_relative (o->hidden, o, spec->upper);
      add_relative (o->hidden, o, spec->upper_work);
    }
  if (o->host_base)
    {
      /* The caller's own trees stay on the fast kernel path. */
      g_autofree char *home = realpath (g_get_home_dir (), NULL);
      if (home != NULL)
        add_relative (o->fast, o, home);
      if (spec->cwd != NULL)
        add_relative (o->fast, o, spec->cwd);
      if (spec->workdir != NULL)
        add_relative (o->fast, o, spec->workdir);
    }

  g_autofree char *overflow = NULL;
  o->overflow_uid = 65534;
  o->overflow_gid = 65534;
  if (g_file_get_contents ("/proc/sys/kernel/overflowuid", &overflow, NULL, NULL))
    o->overflow_uid = (uid_t)g_ascii_strtoull (overflow, NULL, 10);
  g_clear_pointer (&overflow, g_free);
  if (g_file_get_contents ("/proc/sys/kernel/overflowgid", &overflow, NULL, NULL))
    o->overflow_gid = (gid_t)g_ascii_strtoull (overflow, NULL, 10);
  o->map_root = spec->identity == SBX_ID_ROOT;
  o->verbose = spec->verbose;
  o->skeleton = -1;
  o->tree_fd = -1;
  o->report = g_string_new (NULL);
  /* The skeleton describes the host's /, for root inside. */
  if (tree_fd >= 0 && o->host_base && o->map_root)
    {
      /* Opened again here: overlayfs takes its layers only from mounts of
       * the mounter's own mount namespace, and the monitor's fd is of the
       * host's.  It must be the directory the monitor checked. */
      struct stat here, checked;
      o->tree_fd = open (tree_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      o->tree_path = g_strdup (tree_path);
      if (o->tree_fd < 0)
        sbx_die_errno ("%s", tree_path);
      if (fstat (o->tree_fd, &here) < 0 || fstat (tree_fd, &checked) < 0
          || here.st_dev != checked.st_dev || here.st_ino != checked.st_ino)
        sbx_die ("%s: not the directory sbx checked (it was replaced meanwhile)", tree_path);
      keep_skeleton_out (o);
    }
  return o;
}

void
sbx_overlay_free (SbxOverlay *o)
{
  if (o == NULL)
    return;
  for (guint i = 0; i < o->n_lowers; i++)
    {
      g_free (o->lowers[i].path);
      if (o->lowers[i].fd >= 0)
        close (o->lowers[i].fd);
    }
  g_free (o->lowers);
  if (o->upper_fd >= 0)
    close (o->upper_fd);
  if (o->work_fd >= 0)
    close (o->work_fd);
  if (o->skeleton >= 0)
    close (o->skeleton);
  if (o->tree_fd >= 0)
    close (o->tree_fd);
  g_free (o->tree_path);
  g_ptr_array_unref (o->obstacles);
  g_ptr_array_unref (o->hidden);
  g_ptr_array_unref (o->fast);
  g_ptr_array_unref (o->units);
  g_free (o->fuse_mnt);
  g_free (o->upper_path);
  g_free (o->upper_work_path);
  g_string_free (o->report, TRUE);
  g_free (o);
}

gboolean
sbx_overlay_uses_fuse (const SbxOverlay *o)
{
  return o->fuse_mnt != NULL;
}

/* ---- helpers ----------------------------------------------------------------- */

/* Whether the owner or group of @st is not mapped inside: the kernel driver
 * cannot copy such a file or directory up (it could not give the copy the
 * same owner), and writes below it fail with EOVERFLOW. */
static gboolean
unmapped (const SbxOverlay *o, const struct stat *st)
{
  return st->st_uid == o->overflow_uid || st->st_gid == o->overflow_gid;
}

/* @rel ("/usr/lib") below the directory @dirfd without following symlinks:
 * a layer cannot redirect us anywhere with a symlink of its own. */
static int
open_beneath (int dirfd, const char *rel, int flags)
{
  return sbx_util_openat2 (dirfd, rel[0] == '/' ? rel + 1 : rel, flags | O_CLOEXEC,
                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static char *
fd_path (int fd)
{
  return g_strdup_printf ("/proc/self/fd/%d", fd);
}

static gboolean top_entry (SbxOverlay *o, const char *rel, struct stat *st, guint *layer);

/* Gives the directory @name in @dirfd the owner and mode of @like, a lower
 * one: an upper directory lends its attributes to the merged one, so /usr
 * must stay root's and 0755 inside, not become the caller's.  An owner that
 * is not mapped becomes root inside, or, where root is not mapped either,
 * the caller's without write permission. */
static void
copy_attrs (SbxOverlay *o, int dirfd, const char *name, const struct stat *like)
{
  mode_t mode = like->st_mode & 07777;
  gboolean no_uid = like->st_uid == o->overflow_uid;
  if (!no_uid || o->root_mapped)
    fchownat (dirfd, name, no_uid ? 0 : like->st_uid,
              like->st_gid == o->overflow_gid ? 0 : like->st_gid, AT_SYMLINK_NOFOLLOW);
  else
    mode &= ~0222;
  fchmodat (dirfd, name, mode, 0);
}

/* Creates the directories of @rel below @dirfd as needed (mkdir -p) and
 * opens the last one.  Each component is created relative to its parent's
 * fd, so no symlink can redirect the creation.  With @like_lower, every
 * directory created takes the attributes of the lower one at its path. */
static int
make_dirs (SbxOverlay *o, int dirfd, const char *rel, gboolean like_lower)
{
  g_auto (GStrv) parts = g_strsplit (rel[0] == '/' ? rel + 1 : rel, "/", -1);
  g_autoptr (GString) path = g_string_new (NULL);
  int fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 0);
  for (guint i = 0; fd >= 0 && parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      g_string_append_printf (path, "/%s", parts[i]);
      if (mkdirat (fd, parts[i], 0755) == 0)
        {
          struct stat st;
          guint layer;
          if (like_lower && top_entry (o, path->str, &st, &layer) && S_ISDIR (st.st_mode))
            copy_attrs (o, fd, parts[i], &st);
        }
      else if (errno != EEXIST)
        {
          close (fd);
          return -1;
        }
      int next = open_beneath (fd, parts[i], O_PATH | O_DIRECTORY);
      close (fd);
      fd = next;
    }
  return fd;
}

/* Records what serves @rel: "kernel", "skeleton" (a kernel overlay with
 * the directory skeleton), "fuse", "split", "read-only", "closed" or
 * "hidden", for --verbose; the writable units as "kernel:/x" or "fuse:/x". */
static void
note (SbxOverlay *o, const char *what, const char *rel)
{
  if (o->verbose)
    g_string_append_printf (o->report, " %s:%s", what, rel);
  if (strcmp (what, "kernel") == 0 || strcmp (what, "skeleton") == 0)
    g_ptr_array_add (o->units, g_strdup_printf ("kernel:%s", rel));
  else if (strcmp (what, "fuse") == 0)
    g_ptr_array_add (o->units, g_strdup_printf ("fuse:%s", rel));
}

/* ---- the drivers ------------------------------------------------------------------ */

/* What the kernel said when it refused a mount: the log of the fs context
 * (fsopen(2)), one "e overlay: ..." message per read(), joined. */
static GString *
fs_context_log (int fs)
{
  GString *log = g_string_new (NULL);
  char buf[512];
  ssize_t n;
  while ((n = read (fs, buf, sizeof buf - 1)) > 0)
    {
      buf[n] = '\0';
      const char *m = buf;
      if (n > 2 && m[1] == ' ')
        m += 2; /* the "e ", "w " or "i " of its level */
      if (g_str_has_prefix (m, "overlayfs: "))
        m += strlen ("overlayfs: ");
      else if (g_str_has_prefix (m, "overlay: "))
        m += strlen ("overlay: ");
      g_string_append_printf (log, "%s%s", log->len ? "; " : "", g_strchomp ((char *)m));
    }
  return log;
}

/* One directory given to the kernel as /proc/self/fd/N: the user must read
 * its path (and the option it came from), not N. */
typedef struct
{
  int fd;
  const char *option; /* "--layer", "--rootfs", or NULL */
  char *top;          /* the lower layer (what the option gave), NULL for the writable one */
  char *path;         /* the directory itself */
} KernelDir;

static void
kernel_dir_clear (gpointer data)
{
  KernelDir *d = data;
  g_free (d->top);
  g_free (d->path);
}

/* @log with every /proc/self/fd/N of @dirs replaced by its path; *@first
 * is the first layer it names. */
static char *
name_kernel_dirs (GArray *dirs, const char *log, const KernelDir **first)
{
  GString *out = g_string_new (NULL);
  *first = NULL;
  for (const char *p = log; *p;)
    {
      const char *hit = strstr (p, "/proc/self/fd/");
      if (hit == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, hit - p);
      char *end;
      long fd = strtol (hit + strlen ("/proc/self/fd/"), &end, 10);
      const KernelDir *d = NULL;
      for (guint i = 0; d == NULL && i < dirs->len; i++)
        if (g_array_index (dirs, KernelDir, i).fd == fd)
          d = &g_array_index (dirs, KernelDir, i);
      g_string_append_len (out, d != NULL ? d->path : hit,
                           d != NULL ? (gssize)strlen (d->path) : end - hit);
      if (d != NULL && d->option != NULL && *first == NULL)
        *first = d;
      p = end;
    }
  return g_string_free (out, FALSE);
}

/* Whether the running kernel is older than @major.@minor. */
static gboolean
kernel_older_than (int major, int minor)
{
  struct utsname u;
  int ma = 0, mi = 0;
  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &ma, &mi) != 2)
    return FALSE;
  return ma < major || (ma == major && mi < minor);
}

/* "--layer /a, --rootfs /b": the lower layers of @dirs, as the user gave
 * them. */
static char *
list_layers (GArray *dirs)
{
  GString *layers = g_string_new (NULL);
  for (guint i = 0; i < dirs->len; i++)
    {
      const KernelDir *d = &g_array_index (dirs, KernelDir, i);
      if (d->top != NULL)
        g_string_append_printf (layers, "%s%s %s", layers->len ? ", " : "",
                                d->option != NULL ? d->option : "the host's", d->top);
    }
  return g_string_free (layers, FALSE);
}

/* Dies naming why the kernel refused the overlay of @rel: its own words
 * from the fs context log (with our /proc/self/fd/N turned back into the
 * layers' paths), the layer they name, and the errno.  Where the kernel
 * logs to dmesg only (overlayfs before Linux 6.5), the layers it was given.
 * Only a kernel too old for overlayfs in a user namespace (userxattr came
 * with Linux 5.11) gets the advice to upgrade. */
G_GNUC_NORETURN static void
kernel_refused (int fs, GArray *dirs, const char *rel, int errsv)
{
  g_autoptr (GString) log = fs_context_log (fs);
  const KernelDir *first = NULL;
  g_autofree char *said = name_kernel_dirs (dirs, log->str, &first);
  if (kernel_older_than (5, 11))
    sbx_die ("cannot mount a kernel overlay on %s: %s (overlayfs in a user namespace needs "
             "Linux 5.11; try --overlay fuse)",
             rel, sbx_util_strerror (errsv));
  if (*said == '\0')
    {
      g_autofree char *layers = list_layers (dirs);
      sbx_die ("cannot mount a kernel overlay on %s over %s: %s (dmesg may say why)", rel, layers,
               sbx_util_strerror (errsv));
    }
  if (first != NULL)
    sbx_die ("cannot mount a kernel overlay on %s: %s %s: %s (%s)", rel, first->option, first->top,
             said, sbx_util_strerror (errsv));
  sbx_die ("cannot mount a kernel overlay on %s: %s (%s)", rel, said, sbx_util_strerror (errsv));
}

/* @rel ("/usr", or "/" itself) below the directory @top. */
static char *
path_below (const char *top, const char *rel)
{
  return strcmp (rel, "/") == 0 ? g_strdup (top) : g_build_filename (top, rel, NULL);
}

/* Records @fd, the directory @rel of the lower layer @top that @option
 * gave, for the messages of kernel_refused(). */
static void
add_kernel_dir (GArray *dirs, int fd, const char *option, const char *top, const char *rel)
{
  KernelDir d = { fd, option, g_strdup (top), path_below (top, rel) };
  g_array_append_val (dirs, d);
}

/* Removes the mark a volatile mount left in the work directory @work of a
 * kept layer (WORK/work/incompat/volatile/dirty): the kernel refuses the
 * next mount while it is there.  The monitor made sure that the machine has
 * not gone down since that mount (sbx_state_mark_unsynced()), so the page
 * cache still holds all that was written: the kernel's documented case for
 * removing it. */
static void
clear_volatile_mark (int work, const char *work_name)
{
  cleanup_fd int incompat = open_beneath (work, "work/incompat", O_PATH | O_DIRECTORY);
  cleanup_fd int mark
      = incompat >= 0 ? open_beneath (incompat, "volatile", O_PATH | O_DIRECTORY) : -1;
  if (mark < 0)
    return;
  if ((unlinkat (mark, "dirty", 0) < 0 && errno != ENOENT)
      || unlinkat (incompat, "volatile", AT_REMOVEDIR) < 0)
    sbx_die_errno ("cannot remove the mark of the last run in %s/work/incompat/volatile",
                   work_name);
}

/* A kernel overlay of @rel across every layer that has it as a directory. */
static int
kernel_overlay (SbxOverlay *o, const char *rel)
{
  g_autoptr (GString) lowerdir = g_string_new (NULL);
  g_autoptr (GArray) dirs = g_array_new (FALSE, FALSE, sizeof (KernelDir));
  g_array_set_clear_func (dirs, kernel_dir_clear);

  gboolean with_skeleton = FALSE;
  for (guint i = 0; i < o->n_lowers; i++)
    {
      /* The skeleton just above the host's /: it gives the host's
       * directories their owner inside (root), and a --layer's own
       * directories still decide theirs. */
      int skel = i == o->n_lowers - 1 && o->tree_fd >= 0
                     ? open_beneath (o->tree_fd, rel, O_PATH | O_DIRECTORY)
                     : -1;
      if (skel >= 0)
        {
          add_kernel_dir (dirs, skel, "the directory skeleton", o->tree_path, rel);
          g_string_append_printf (lowerdir, "%s/proc/self/fd/%d", lowerdir->len ? ":" : "", skel);
          with_skeleton = TRUE;
        }
      int fd = open_beneath (o->lowers[i].fd, rel, O_PATH | O_DIRECTORY);
      if (fd < 0)
        continue;
      add_kernel_dir (dirs, fd, o->lowers[i].option, o->lowers[i].path, rel);
      g_string_append_printf (lowerdir, "%s/proc/self/fd/%d", lowerdir->len ? ":" : "", fd);
    }
  g_autofree char *work_rel = g_strconcat ("/kernel", strcmp (rel, "/") ? rel : "", NULL);
  cleanup_fd int upper = make_dirs (o, o->upper_fd, rel, TRUE);
  cleanup_fd int work = make_dirs (o, o->work_fd, work_rel, FALSE);
  if (upper < 0 || work < 0)
    sbx_die_errno ("cannot create the writable layer of %s", rel);
  g_autofree char *upper_path = fd_path (upper);
  g_autofree char *work_path = fd_path (work);
  g_autofree char *upper_name = o->upper_path != NULL
                                    ? path_below (o->upper_path, rel)
                                    : g_strdup_printf ("the writable layer of %s", rel);
  g_autofree char *work_name
      = o->upper_work_path != NULL
            ? g_strconcat (o->upper_work_path, work_rel, NULL)
            : g_strdup_printf ("the work directory of the writable layer of %s", rel);
  KernelDir u = { upper, NULL, NULL, g_steal_pointer (&upper_name) };
  KernelDir w = { work, NULL, NULL, g_steal_pointer (&work_name) };
  g_array_append_val (dirs, u);
  g_array_append_val (dirs, w);
  /* A kept layer is mounted volatile: its unmount does not sync the whole
   * filesystem it is on, which is most of what a large write would cost
   * over the host (docs/rootfs.md, "A kept layer").  A throwaway one is a
   * tmpfs: nothing to sync. */
  gboolean kept = o->upper_path != NULL;
  if (kept)
    clear_volatile_mark (work, w.path);

  cleanup_fd int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    sbx_die_errno ("overlayfs is not available");
  /* userxattr: in a user namespace overlayfs keeps its metadata in user.*
   * attributes (trusted.* needs the host's CAP_SYS_ADMIN). */
  if (fsconfig (fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir", lowerdir->str, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper_path, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work_path, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0
      || (kept && fsconfig (fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    kernel_refused (fs, dirs, rel, errno);
  /* nosuid,nodev: the layers are the host's files; a setuid binary or a
   * device node among them grants nothing inside. */
  int mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  for (guint i = 0; i < dirs->len; i++)
    if (g_array_index (dirs, KernelDir, i).top != NULL)
      close (g_array_index (dirs, KernelDir, i).fd);
  if (mnt < 0)
    sbx_die_errno ("cannot mount a kernel overlay on %s", rel);
  note (o, with_skeleton ? "skeleton" : "kernel", rel);
  return mnt;
}

/* The package managers' lock files under fuse-overlayfs: empty, and closed
 * to all but root on the host (0640 or 0600).  Copying one up means reading
 * it, which the caller may not, so dpkg and apt could not lock anything
 * inside; as they are empty nothing is revealed by an empty copy made up
 * front.  (With the directory skeleton they have stand-ins there instead.)
 * They are named, not looked for: /var/cache/apt/archives holds every .deb
 * apt has fetched. */
static const char *const lock_files[] = {
  "/var/lib/dpkg/lock",      "/var/lib/dpkg/lock-frontend",  "/var/lib/dpkg/triggers/Lock",
  "/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock", "/var/cache/debconf/passwords.dat",
};

static void
copy_up_locks (SbxOverlay *o)
{
  for (guint i = 0; i < G_N_ELEMENTS (lock_files); i++)
    {
      guint layer;
      struct stat f;
      g_autofree char *dir = g_path_get_dirname (lock_files[i]);
      g_autofree char *name = g_path_get_basename (lock_files[i]);
      cleanup_fd int fd = -1;
      if (!top_entry (o, lock_files[i], &f, &layer) || !S_ISREG (f.st_mode) || f.st_size != 0
          || (fd = open_beneath (o->lowers[layer].fd, dir, O_PATH | O_DIRECTORY)) < 0
          || faccessat (fd, name, R_OK, 0) == 0)
        continue;
      cleanup_fd int upper = make_dirs (o, o->upper_fd, dir, TRUE);
      cleanup_fd int copy
          = upper >= 0 ? openat (upper, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                                 f.st_mode & 07777)
                       : -1;
      /* The lower file's times too: with its owner, mode and (empty)
       * content they make the copy the same file, which `sbx diff` then
       * does not list as a change nobody made. */
      struct timespec times[2] = { f.st_atim, f.st_mtim };
      if (copy >= 0)
        {
          copy_attrs (o, upper, name, &f);
          futimens (copy, times);
        }
    }
}

/* Before the skeleton held stand-ins, every start copied the files that
 * have one into the writable layer.  A kept layer may still hold such a
 * copy never written since (its modification time, the host's, older than
 * its birth), which would hide the host's changes from it: it goes, and
 * the stand-in shows through.  (A stand-in the kernel copied up for a
 * change of its attributes alone looks the same, and goes too.) */
static void
drop_unwritten_copies (SbxOverlay *o)
{
  for (const char *const *p = sbx_skeleton_standins (); *p != NULL; p++)
    {
      g_autofree char *dir = g_path_get_dirname (*p);
      const char *name = strrchr (*p, '/') + 1;
      cleanup_fd int upper = open_beneath (o->upper_fd, dir, O_PATH | O_DIRECTORY);
      struct statx sx;
      if (upper < 0
          || statx (upper, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
        continue;
      gboolean unwritten = S_ISREG (sx.stx_mode) && (sx.stx_mask & STATX_BTIME)
                           && (sx.stx_mtime.tv_sec < sx.stx_btime.tv_sec
                               || (sx.stx_mtime.tv_sec == sx.stx_btime.tv_sec
                                   && sx.stx_mtime.tv_nsec < sx.stx_btime.tv_nsec));
      if (unwritten)
        unlinkat (upper, name, 0);
    }
}

/* Has the monitor start fuse-overlayfs over all the layers, once (see
 * fuse.h for why the monitor does it). */
static void
start_fuse (SbxOverlay *o)
{
  cleanup_fd int work = make_dirs (o, o->work_fd, "/fuse", FALSE);
  if (work < 0 || mkdir (SBX_STAGING_FUSE, 0755) < 0)
    sbx_die_errno ("cannot prepare fuse-overlayfs");
  if (o->map_root)
    copy_up_locks (o);
  sbx_fuse_request (o->sync_fd);
  o->fuse_mnt = g_strdup (SBX_STAGING_FUSE);
}

/* A bind of @rel out of the one fuse-overlayfs mount. */
static int
fuse_unit (SbxOverlay *o, const char *staging, const char *rel)
{
  if (o->fuse_mnt == NULL)
    start_fuse (o);
  g_autofree char *path = g_strconcat (o->fuse_mnt, strcmp (rel, "/") ? rel : "", NULL);
  int tree = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
  if (tree < 0 || mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    sbx_die_errno ("cannot bind %s from fuse-overlayfs", rel);
  note (o, "fuse", rel);
  return tree;
}

/* A bind of @rel as it is, read-only: for a directory on a read-only mount,
 * which no layer can make writable anyway. */
static int
readonly_unit (SbxOverlay *o, int fd, const char *rel)
{
  int tree = open_tree (fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
  if (tree < 0 || mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    sbx_die_errno ("cannot bind %s", rel);
  note (o, "read-only", rel);
  return tree;
}

/* ---- assembly -------------------------------------------------------------------- */

/* The highest layer's view of @rel: its lstat, and which layer. */
static gboolean
top_entry (SbxOverlay *o, const char *rel, struct stat *st, guint *layer)
{
  const char *p = rel[0] == '/' ? rel + 1 : rel;
  g_autofree char *parent = g_path_get_dirname (rel);
  g_autofree char *name = g_path_get_basename (rel);
  for (guint i = 0; i < o->n_lowers; i++)
    {
      cleanup_fd int dir = open_beneath (o->lowers[i].fd, parent, O_PATH | O_DIRECTORY);
      if (dir < 0
          || fstatat (dir, *p ? name : "", st, AT_SYMLINK_NOFOLLOW | (*p ? 0 : AT_EMPTY_PATH)) < 0)
        continue;
      /* A 0/0 character device is a whiteout: the name is deleted there. */
      if (S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0))
        return FALSE;
      *layer = i;
      return TRUE;
    }
  return FALSE;
}

/* Whether the caller can enter @rel at all (as seen inside the user
 * namespace: capabilities count only for mapped owners). */
static gboolean
enterable (SbxOverlay *o, guint layer, const char *rel)
{
  const char *p = rel[0] == '/' ? rel + 1 : rel;
  return faccessat (o->lowers[layer].fd, *p ? p : ".", X_OK, 0) == 0;
}

static void attach (int mnt, int parent, const char *name, const char *rel);
static void split_dir (SbxOverlay *o, const char *staging, const char *rel, int target);

/* Whether @fd is the root of a kernel interface mounted somewhere on the host
 * besides its usual place (a chroot's /proc, a second sysfs, cgroupfs,
 * tracefs...): no overlay can use it as a layer, and the host's view of
 * the kernel (its processes, its knobs) has no business inside.  The
 * sandbox has its own /proc and /sys where they belong. */
gboolean
sbx_overlay_is_kernel_interface (int fd)
{
  static const long types[] = {
    PROC_SUPER_MAGIC,   SYSFS_MAGIC,      CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,
    TRACEFS_MAGIC,      SECURITYFS_MAGIC, PSTOREFS_MAGIC,     BPF_FS_MAGIC,        BINFMTFS_MAGIC,
    DEVPTS_SUPER_MAGIC, EFIVARFS_MAGIC,   NSFS_MAGIC,
  };
  struct statfs sfs;
  if (fd < 0 || fstatfs (fd, &sfs) < 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if ((long)sfs.f_type == types[i])
      return TRUE;
  return FALSE;
}

/* One directory of the tree: a unit mounted on @name in @parent, or a split
 * directory of the skeleton whose entries are assembled one by one. */
static void
assemble_dir (SbxOverlay *o, const char *staging, const char *rel, const struct stat *st,
              guint layer, int parent, const char *name)
{
  /* Where --map-root must write into what an unmapped owner owns. */
  gboolean want_fuse = o->all_fuse || (o->fuse_bin != NULL && o->map_root && unmapped (o, st));
  gboolean split = blocked_below (o->obstacles, rel);

  if (in_set (o->obstacles, rel))
    {
      cleanup_fd int mounted = open_beneath (o->lowers[layer].fd, rel, O_PATH | O_DIRECTORY);
      if (sbx_overlay_is_kernel_interface (mounted))
        {
          /* An empty directory in its place, as a mount point would be. */
          if (mkdirat (parent, name, st->st_mode & 07777) < 0 && errno != EEXIST)
            sbx_die_errno ("cannot create %s in the new root", rel);
          note (o, "hidden", rel);
          return;
        }
    }

  if (split)
    {
      if (mkdirat (parent, name, 0755) < 0 && errno != EEXIST)
        sbx_die_errno ("cannot create %s in the new root", rel);
      copy_attrs (o, parent, name, st);
      cleanup_fd int target = open_beneath (parent, name, O_PATH | O_DIRECTORY);
      if (target < 0)
        sbx_die_errno ("cannot open %s in the new root", rel);
      note (o, "split", rel);
      split_dir (o, staging, rel, target);
      return;
    }

  /* Nothing to overlay where the caller cannot even enter: an empty
   * directory with the same mode denies the same. */
  if (mkdirat (parent, name, st->st_mode & 07777) < 0 && errno != EEXIST)
    sbx_die_errno ("cannot create %s in the new root", rel);
  if (!enterable (o, layer, rel))
    {
      note (o, "closed", rel);
      return;
    }
  cleanup_fd int lower = open_beneath (o->lowers[layer].fd, rel, O_PATH | O_DIRECTORY);
  struct statvfs vfs;
  int mnt;
  if (o->n_lowers == 1 && lower >= 0 && fstatvfs (lower, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    mnt = readonly_unit (o, lower, rel);
  else if (want_fuse)
    mnt = fuse_unit (o, staging, rel);
  else
    mnt = kernel_overlay (o, rel);
  attach (mnt, parent, name, rel);
  close (mnt);
}

static void
attach (int mnt, int parent, const char *name, const char *rel)
{
  if (move_mount (mnt, "", parent, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    sbx_die_errno ("cannot mount %s in the new root", rel);
}

/* Adds the non-directory @rel to the skeleton: a symlink is copied, a file
 * is bound read-only (nothing can be written at a split level). */
static void
assemble_other (SbxOverlay *o, const char *rel, const struct stat *st, guint layer, int parent,
                const char *name)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  cleanup_fd int lower_dir = open_beneath (o->lowers[layer].fd, dir, O_PATH | O_DIRECTORY);
  if (lower_dir < 0)
    return;
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (lower_dir, name, target, sizeof target - 1);
      if (n < 0)
        return;
      target[n] = '\0';
      if (symlinkat (target, parent, name) < 0 && errno != EEXIST)
        sbx_die_errno ("cannot create %s in the new root", rel);
      return;
    }
  if (!S_ISREG (st->st_mode))
    return; /* devices, sockets and fifos at a split level are left out */
  cleanup_fd int file = openat (parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  int tree = open_tree (lower_dir, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
  if (file < 0 || tree < 0 || mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    sbx_die_errno ("cannot bind %s in the new root", rel);
  attach (tree, parent, name, rel);
  close (tree);
}

/* The names in @rel across all layers, each once. */
static GPtrArray *
union_names (SbxOverlay *o, const char *rel)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < o->n_lowers; i++)
    {
      int fd = open_beneath (o->lowers[i].fd, rel, O_RDONLY | O_DIRECTORY);
      DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
      struct dirent *e;
      if (d == NULL)
        {
          if (fd >= 0)
            close (fd);
          continue;
        }
      while ((e = readdir (d)) != NULL)
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")
            && !g_hash_table_contains (seen, e->d_name))
          {
            char *n = g_strdup (e->d_name);
            g_ptr_array_add (names, n);
            g_hash_table_add (seen, n);
          }
      closedir (d);
    }
  return names;
}

static void
split_dir (SbxOverlay *o, const char *staging, const char *rel, int target)
{
  g_autoptr (GPtrArray) names = union_names (o, rel);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_build_filename (rel, name, NULL);
      struct stat st;
      guint layer;

      if (in_set (o->hidden, child) || !top_entry (o, child, &st, &layer))
        continue;
      if (sbx_overlay_is_special (child))
        {
          /* A mount point for rootfs.c. */
          if (mkdirat (target, name, 0755) < 0 && errno != EEXIST)
            sbx_die_errno ("cannot create %s in the new root", child);
          continue;
        }
      if (S_ISDIR (st.st_mode))
        assemble_dir (o, staging, child, &st, layer, target, name);
      else
        assemble_other (o, child, &st, layer, target, name);
    }
}

/* The deepest writable unit that contains @rel, as "kernel:/x" or
 * "fuse:/x", or NULL. */
static const char *
covering_unit (SbxOverlay *o, const char *rel)
{
  const char *best = NULL;
  for (guint i = 0; i < o->units->len; i++)
    {
      const char *u = o->units->pdata[i];
      const char *path = strchr (u, ':') + 1;
      if ((strcmp (path, rel) == 0 || under (rel, path))
          && (best == NULL || strlen (path) > strlen (strchr (best, ':') + 1)))
        best = u;
    }
  return best;
}

/* Whether a directory strictly between @top and @rel has an owner that is
 * not mapped, and no directory of the skeleton stands for it: the kernel
 * driver cannot copy it up, so nothing below it could be written through
 * the unit at @top. */
static gboolean
unmapped_between (SbxOverlay *o, const char *top, const char *rel)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  while (strcmp (dir, top) != 0 && under (dir, top))
    {
      struct stat st;
      guint layer;
      if (top_entry (o, dir, &st, &layer) && unmapped (o, &st) && !skeleton_has (o, dir))
        return TRUE;
      char *up = g_path_get_dirname (dir);
      g_free (dir);
      dir = up;
    }
  return FALSE;
}

/* The caller's home and working directory get a kernel overlay of their own
 * where the unit around them cannot serve them well: inside a fuse-overlayfs
 * unit (slow on small files, DESIGN.md), or below a directory of an unmapped
 * owner (which the kernel driver cannot copy up, so a write there would fail
 * with EOVERFLOW).  Their upper directories sit inside the outer unit's
 * upper at their own path, so a kept layer keeps one layout. */
static void
mount_fast_paths (SbxOverlay *o, const char *newroot)
{
  cleanup_fd int root = open (newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (guint i = 0; i < o->fast->len; i++)
    {
      const char *rel = o->fast->pdata[i];
      const char *unit = covering_unit (o, rel);
      struct stat st;
      guint layer;
      if (unit == NULL || strcmp (strchr (unit, ':') + 1, rel) == 0
          || blocked_below (o->hidden, rel) || in_set (o->hidden, rel)
          || !top_entry (o, rel, &st, &layer) || !S_ISDIR (st.st_mode) || unmapped (o, &st))
        continue;
      if (!g_str_has_prefix (unit, "fuse:") && !unmapped_between (o, strchr (unit, ':') + 1, rel))
        continue;
      cleanup_fd int target = open_beneath (root, rel, O_PATH | O_DIRECTORY);
      if (target < 0)
        continue;
      int mnt = kernel_overlay (o, rel);
      if (move_mount (mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot mount %s in the new root", rel);
      close (mnt);
    }
}

void
sbx_overlay_build (SbxOverlay *o, const SbxSpec *spec, const char *staging, const char *newroot,
                   gboolean root_mapped, int sync_fd)
{
  o->root_mapped = root_mapped;
  o->sync_fd = sync_fd;
  o->fuse_bin = spec->fuse_overlayfs;
  if (spec->overlay == SBX_OVERLAY_KERNEL)
    o->fuse_bin = NULL;

  /* A kept layer is checked by path before the run (spec.c); these are the
   * directories the kernel gets, checked now that our ids are mapped. */
  if (o->upper_fd >= 0
      && (!sbx_util_dir_is_private (o->upper_fd) || !sbx_util_dir_is_private (o->work_fd)))
    sbx_die ("--upper %s: not yours alone any more (its owner or mode changed since sbx checked "
             "it)",
             o->upper_path);
  /* The same for the skeleton: a directory another user could write to
   * would give the sandbox its files. */
  if (o->tree_fd >= 0 && !sbx_util_dir_is_private (o->tree_fd))
    sbx_die ("%s: not yours alone any more (its owner or mode changed since sbx checked it)",
             o->tree_path);
  /* With the skeleton, root inside writes through the kernel: no
   * fuse-overlayfs at all. */
  if (o->tree_fd >= 0)
    o->fuse_bin = NULL;

  /* A throwaway writable layer lives on a tmpfs in the sandbox's own mount
   * namespace: it is gone with the sandbox, however the sandbox ends.  It
   * is capped (--upper-size): its pages stay in RAM (or swap) charged to no
   * process, so without a cap a command could fill half the RAM there
   * where the OOM killer cannot trace it back. */
  if (o->upper_fd < 0)
    {
      const char *const layer_opts[] = { "mode", "0755", "size", spec->upper_size, NULL };
      const char *layer = SBX_STAGING_LAYER;
      cleanup_fd int tmp = -1;
      int fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
      /* Every option must take: a cap that did not would pass silently. */
      for (const char *const *opt = layer_opts; fs >= 0 && *opt; opt += 2)
        if (fsconfig (fs, FSCONFIG_SET_STRING, opt[0], opt[1], 0) < 0)
          sbx_die_errno ("cannot create the writable layer: option %s=%s", opt[0], opt[1]);
      if (fs < 0 || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
          || (tmp = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0
          || mkdir (layer, 0755) < 0
          || move_mount (tmp, "", AT_FDCWD, layer, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot create the writable layer");
      if (fs >= 0)
        close (fs);
      cleanup_fd int layer_fd = open (layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (layer_fd < 0 || mkdirat (layer_fd, "upper", 0755) < 0
          || mkdirat (layer_fd, "work", 0700) < 0)
        sbx_die_errno ("cannot create the writable layer");
      o->upper_fd = open_beneath (layer_fd, "upper", O_PATH | O_DIRECTORY);
      o->work_fd = open_beneath (layer_fd, "work", O_PATH | O_DIRECTORY);
    }

  /* With --overlay fuse everything goes through fuse-overlayfs: no fast
   * paths for the caller's trees. */
  o->all_fuse = spec->overlay == SBX_OVERLAY_FUSE;
  if (o->all_fuse)
    g_ptr_array_set_size (o->fast, 0);

  /* The writable layer's directories of the caller's home and cwd are
   * made now, before fuse-overlayfs can start: a kernel overlay of their
   * own (mount_fast_paths) keeps its upper there, inside the upper that
   * fuse-overlayfs serves.  Made after the daemon had looked at /home, they
   * were a directory it did not know to be in its upper, and the copy-up
   * of /home for a new entry beside the caller's home failed (ENOTEMPTY). */
  for (guint i = 0; o->fuse_bin != NULL && i < o->fast->len; i++)
    {
      cleanup_fd int made = make_dirs (o, o->upper_fd, o->fast->pdata[i], TRUE);
    }

  /* Before any overlay is mounted, while the writable layer is ours. */
  if (o->tree_fd >= 0 && o->upper_path != NULL)
    drop_unwritten_copies (o);

  struct stat st;
  guint layer = o->n_lowers - 1;
  if (fstat (o->lowers[layer].fd, &st) < 0)
    sbx_die_errno ("%s", o->lowers[layer].path);
  gboolean want_fuse = o->all_fuse || (o->fuse_bin != NULL && o->map_root && unmapped (o, &st));

  /* The host's / always has mounts below it (/proc, /sys...), locked. */
  if (!o->host_base && !blocked_below (o->obstacles, "/"))
    {
      /* Nothing in the way: the whole tree is one overlay. */
      int mnt = want_fuse ? fuse_unit (o, staging, "/") : kernel_overlay (o, "/");
      if (move_mount (mnt, "", AT_FDCWD, newroot, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot mount the new root");
      close (mnt);
    }
  else
    {
      /* The skeleton: a small tmpfs for the split directories. */
      int fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
      g_autofree char *mode = g_strdup_printf ("%04o", st.st_mode & 07777);
      if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "source", "sbx-root", 0) < 0
          || fsconfig (fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0
          || (root_mapped && fsconfig (fs, FSCONFIG_SET_STRING, "uid", "0", 0) < 0)
          || (root_mapped && fsconfig (fs, FSCONFIG_SET_STRING, "gid", "0", 0) < 0)
          || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
          || (o->skeleton = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0
          || move_mount (o->skeleton, "", AT_FDCWD, newroot, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        sbx_die_errno ("cannot create the root skeleton");
      close (fs);
      cleanup_fd int target = open (newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
      note (o, "split", "/");
      split_dir (o, staging, "/", target);
    }
  mount_fast_paths (o, newroot);
  if (o->verbose)
    sbx_info ("overlay:%s", o->report->str);
}

void
sbx_overlay_seal (SbxOverlay *o)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  if (o->skeleton >= 0 && mount_setattr (o->skeleton, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    sbx_die_errno ("cannot make the root skeleton read-only");
}
