/* SPDX-License-Identifier: GPL-2.0-or-later */
/* skeleton.c: the caller's directory skeleton of the host's /.
 *
 * A kernel overlay takes a merged directory's owner and mode from the
 * highest layer that holds it.  The host's system directories belong to
 * its root, whom no unprivileged user namespace maps, so root inside a
 * --map-root sandbox could not create, replace or delete anything in them.
 * The skeleton is a tree of directories (and a few stand-in files, below),
 * made by the caller, that mirrors the host's root-owned directories with
 * their modes; placed just above the host's / in each kernel overlay, it
 * makes those directories root's inside, and writes into them go to the
 * writable layer at kernel speed.  Files stay the host's: readable as the host allows, never
 * writable in place, but for the few that package managers change in place,
 * of which the tree holds stand-ins (below).
 *
 * It is kept in $XDG_CACHE_HOME/sbx/skeleton, the caller's alone, and made
 * and updated only here, by the monitor as the caller on the host, never by
 * anything that runs in a sandbox.  What each host directory became is
 * listed in "manifest", one line per directory seen (docs/rootfs.md):
 *
 *   T  owned by the host's root, readable: mirrored, and its subdirectories too
 *   L  of another id the sandbox does not map, readable: mirrored alone
 *   O  neither readable nor searchable: an empty opaque directory (the host's
 *      entries stay out of sight, as they are on the host)
 *   S  left out: the caller's own ids, a directory the caller can search but
 *      not list, a network or FUSE filesystem, a kernel interface
 *
 * "stamp" holds what a start checks cheaply (the ids, the package
 * databases, the stand-ins' host files as they were copied, the
 * directories near the top); when that differs, or the last
 * full check is more than CHECK_PERIOD old, every directory of the manifest
 * is checked (a stat each) and what changed is mirrored again, in place.
 * A sandbox running meanwhile sees the skeleton change as it sees the host
 * change: the skeleton is a lower layer as the host's / is. */
#include "config.h"

#include "skeleton.h"
#include "overlay.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define FORMAT "sbx-skeleton 1"

/* A full check at least this often (seconds): a stat of every directory
 * the skeleton knows, about 3 us each. */
#define CHECK_PERIOD (10 * 60)

/* Deeper than this the walk stops (each level holds two fds). */
#define MAX_DEPTH 128

/* Where package managers record what they installed: the tree below /usr
 * changes with them, and a change of one of these makes the next start
 * check the whole skeleton. */
static const char *const package_databases[] = {
  "/var/lib/dpkg/status",  "/var/lib/rpm",          "/usr/lib/sysimage/rpm",
  "/var/lib/pacman/local", "/lib/apk/db/installed", NULL,
};

/* Files of the host's root that a sandbox must be able to change and the
 * kernel cannot copy up (their owner is not mapped): the package managers'
 * lock files (empty, and closed to all but root on the host, 0640 or 0600),
 * and the files dpkg and apt change in place (their logs) or link to a
 * backup before they replace them (status-old, diversions-old...).  The tree
 * holds a stand-in of each, the caller's (root's inside) with the host
 * file's mode, times and content, which the kernel copies up when a sandbox
 * writes it.  A lock file's stand-in is empty, as it is: made without
 * reading it; another file the caller may not read has none.  Named, not
 * looked for: /var/cache/apt/archives holds every .deb apt has fetched. */
static const char *const standins[] = {
  "/var/lib/dpkg/lock",      "/var/lib/dpkg/lock-frontend",  "/var/lib/dpkg/triggers/Lock",
  "/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock", "/var/cache/debconf/passwords.dat",
  "/var/lib/dpkg/status",    "/var/lib/dpkg/diversions",     "/var/lib/dpkg/statoverride",
  "/var/log/dpkg.log",       "/var/log/apt/history.log",     NULL,
};

/* Bigger than this, a file gets no stand-in (a log never rotated). */
#define STANDIN_MAX (64 * 1024 * 1024)

typedef struct Entry Entry;
struct Entry
{
  char *path; /* "/usr/lib"; "/" for the root */
  Entry *parent;
  GPtrArray *children; /* Entry *, not owned; NULL when none */
  char kind;           /* 'T', 'L', 'O' or 'S' */
  guint64 dev, ino;
  guint32 mode, uid, gid;
  gint64 ctime_sec;
  guint32 ctime_nsec;
};

struct SbxSkeleton
{
  char *dir;       /* $XDG_CACHE_HOME/sbx/skeleton */
  char *tree_path; /* dir/tree */
  int dir_fd;
  int tree_fd;  /* O_PATH, for the child */
  uid_t uid;    /* the caller */
  GArray *uids; /* SbxIdRange: the host uids mapped inside */
  GArray *gids;
  char *ids;           /* the ids and groups the tree was made for, as text */
  GHashTable *entries; /* path -> Entry * (owned) */
  Entry *root;
  guint changed;  /* directories mirrored again */
  gboolean dirty; /* the manifest must be written */
  GString *report;
  GString *standins; /* the stamp's lines for the stand-ins, as they were copied */
};

/* ---- entries ------------------------------------------------------------------ */

static void
entry_free (gpointer data)
{
  Entry *e = data;
  g_free (e->path);
  if (e->children != NULL)
    g_ptr_array_unref (e->children);
  g_free (e);
}

static const char *
base_name (const Entry *e)
{
  const char *slash = strrchr (e->path, '/');
  return slash[1] != '\0' ? slash + 1 : ".";
}

static char *
child_path (const char *parent, const char *name)
{
  return strcmp (parent, "/") == 0 ? g_strconcat ("/", name, NULL)
                                   : g_strconcat (parent, "/", name, NULL);
}

static void
set_stat (Entry *e, const struct stat *st)
{
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->mode = st->st_mode & 07777;
  e->uid = st->st_uid;
  e->gid = st->st_gid;
  e->ctime_sec = st->st_ctim.tv_sec;
  e->ctime_nsec = (guint32)st->st_ctim.tv_nsec;
}

static Entry *
add_entry (SbxSkeleton *sk, Entry *parent, char *path, char kind, const struct stat *st)
{
  Entry *e = g_new0 (Entry, 1);
  e->path = path;
  e->parent = parent;
  e->kind = kind;
  set_stat (e, st);
  if (parent != NULL)
    {
      if (parent->children == NULL)
        parent->children = g_ptr_array_new ();
      g_ptr_array_add (parent->children, e);
    }
  g_hash_table_replace (sk->entries, e->path, e);
  return e;
}

/* Forgets @e and everything below it. */
static void
drop_entry (SbxSkeleton *sk, Entry *e)
{
  while (e->children != NULL && e->children->len > 0)
    drop_entry (sk, e->children->pdata[e->children->len - 1]);
  if (e->parent != NULL && e->parent->children != NULL)
    g_ptr_array_remove_fast (e->parent->children, e);
  g_hash_table_remove (sk->entries, e->path);
}

/* Whether the host directory @st is still what @e mirrored.  The ctime of
 * a T entry changes with every entry made or removed in it, which may be a
 * directory, and an O entry's with a change of its permissions (an ACL);
 * for the others only their own owner and mode matter (an L or S
 * directory's entries change all the time, and none is mirrored). */
static gboolean
same_stat (const Entry *e, const struct stat *st)
{
  if (e->dev != (guint64)st->st_dev || e->ino != (guint64)st->st_ino
      || e->mode != (st->st_mode & 07777) || e->uid != st->st_uid || e->gid != st->st_gid)
    return FALSE;
  if (e->kind == 'T' || e->kind == 'O')
    return e->ctime_sec == st->st_ctim.tv_sec && e->ctime_nsec == (guint32)st->st_ctim.tv_nsec;
  return TRUE;
}

/* ---- deciding what a host directory becomes ------------------------------- */

static gboolean
in_ranges (const GArray *ranges, guint32 id)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      const SbxIdRange *r = &g_array_index (ranges, SbxIdRange, i);
      if (id >= r->start && id - r->start < r->count)
        return TRUE;
    }
  return FALSE;
}

/* Filesystems the walk does not enter: kernel interfaces (no overlay takes
 * them), and network, FUSE and automounted ones (slow to walk, and their
 * directories are not the host's system directories). */
static gboolean
foreign_filesystem (int dirfd, const char *name)
{
  static const long types[] = {
    NFS_SUPER_MAGIC,       SMB_SUPER_MAGIC,    0xFF534D42 /* cifs */, 0xFE534D42 /* smb2 */,
    0x65735546 /* fuse */, AUTOFS_SUPER_MAGIC, 0x00c36400 /* ceph */, V9FS_MAGIC,
    AFS_SUPER_MAGIC,       CODA_SUPER_MAGIC,
  };
  cleanup_fd int fd = openat (dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sfs;
  if (fd < 0 || fstatfs (fd, &sfs) < 0 || sbx_overlay_is_kernel_interface (fd))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if ((long)sfs.f_type == types[i])
      return TRUE;
  return FALSE;
}

/* What the host directory @name of @dirfd (@path, @st) becomes; 0 when it
 * is no directory of the layers at all (the sandbox's own /proc, /tmp...). */
static char
classify (SbxSkeleton *sk, int dirfd, const char *name, const char *path, const struct stat *st,
          guint64 parent_dev)
{
  if (!S_ISDIR (st->st_mode) || sbx_overlay_is_special (path))
    return 0;
  if ((guint64)st->st_dev != parent_dev && foreign_filesystem (dirfd, name))
    return 'S';
  /* The kernel overlay serves directories of mapped ids as they are. */
  if (in_ranges (sk->uids, st->st_uid) && in_ranges (sk->gids, st->st_gid))
    return 'S';
  gboolean readable = faccessat (dirfd, name, R_OK | X_OK, AT_SYMLINK_NOFOLLOW) == 0;
  if (readable)
    return st->st_uid == 0 ? 'T' : 'L';
  if (faccessat (dirfd, name, R_OK, AT_SYMLINK_NOFOLLOW) < 0
      && faccessat (dirfd, name, X_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return 'O';
  return 'S'; /* searchable but not listable (0711): its names stay reachable */
}

/* ---- making the tree ------------------------------------------------------- */

/* Opens the directory @name of @dirfd without following a symlink. */
static int
open_dir_at (int dirfd, const char *name)
{
  return openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Gives the skeleton directory @name (in @skel_dir) its mirrored mode. */
static void
set_mode (int skel_dir, const char *name, guint32 mode)
{
  fchmodat (skel_dir, name, mode, 0);
}

static void mirror_children (SbxSkeleton *sk, Entry *e, int host_dir, int skel_dir, guint depth);

/* Mirrors the host directory @name of @host_dir, just classified as @e,
 * into @skel_dir; the mode comes last, once its own entries are made. */
static void
mirror (SbxSkeleton *sk, Entry *e, int host_dir, int skel_dir, guint depth)
{
  const char *name = base_name (e);
  if (e->kind == 'S')
    return;
  if (mkdirat (skel_dir, name, 0700) < 0 && errno != EEXIST)
    return;
  sk->changed++;
  if (e->kind == 'O')
    {
      /* user.overlay.opaque: the kernel overlay (userxattr) then looks no
       * further down for this directory, where the caller may not look. */
      cleanup_fd int fd = open_dir_at (skel_dir, name);
      if (fd >= 0)
        fsetxattr (fd, "user.overlay.opaque", "y", 1, 0);
    }
  else if (e->kind == 'T' && depth < MAX_DEPTH)
    {
      cleanup_fd int host = open_dir_at (host_dir, name);
      cleanup_fd int skel = open_dir_at (skel_dir, name);
      if (host >= 0 && skel >= 0)
        mirror_children (sk, e, host, skel, depth + 1);
    }
  set_mode (skel_dir, name, e->mode);
}

/* Classifies and mirrors the subdirectories of @e (open as @host_dir and
 * @skel_dir) that @e does not know yet. */
static void
mirror_children (SbxSkeleton *sk, Entry *e, int host_dir, int skel_dir, guint depth)
{
  int fd = fcntl (host_dir, F_DUPFD_CLOEXEC, 0);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) || strcmp (de->d_name, ".") == 0
          || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      g_autofree char *path = child_path (e->path, de->d_name);
      if (g_hash_table_contains (sk->entries, path)
          || fstatat (host_dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
        continue;
      char kind = classify (sk, host_dir, de->d_name, path, &st, e->dev);
      if (kind == 0)
        continue;
      Entry *child = add_entry (sk, e, g_steal_pointer (&path), kind, &st);
      mirror (sk, child, host_dir, skel_dir, depth);
    }
  closedir (d);
}

/* Opens the host directory @path, without following symlinks. */
static int
open_host (const char *path)
{
  return sbx_util_openat2 (AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Opens @path in the tree (the root when "/"). */
static int
open_skel (SbxSkeleton *sk, const char *path)
{
  return sbx_util_openat2 (sk->tree_fd, path[1] != '\0' ? path + 1 : ".",
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Removes the entry @name of the tree's directory @dirfd and everything
 * below it.  Mirrored modes may deny the owner writing (a 0555 directory):
 * each directory is opened to us before its entries go. */
static void
remove_subtree (int dirfd, const char *name, guint depth)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (!S_ISDIR (st.st_mode) || depth > MAX_DEPTH + 1)
    {
      unlinkat (dirfd, name, 0);
      return;
    }
  fchmodat (dirfd, name, 0700, 0);
  int fd = open_dir_at (dirfd, name);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;
  if (d == NULL && fd >= 0)
    close (fd);
  while (d != NULL && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      remove_subtree (fd, de->d_name, depth + 1);
  if (d != NULL)
    closedir (d);
  unlinkat (dirfd, name, AT_REMOVEDIR);
}

/* Removes what the tree holds of @e and forgets @e's subtree. */
static void
unmirror (SbxSkeleton *sk, Entry *e)
{
  g_autofree char *parent = g_path_get_dirname (e->path);
  cleanup_fd int skel = open_skel (sk, parent);
  if (skel >= 0 && e->kind != 'S')
    {
      struct stat st;
      /* A directory without write permission for its owner (rare) is
       * opened to us for the time of the change. */
      gboolean locked = fstat (skel, &st) == 0 && (st.st_mode & 0300) != 0300;
      if (locked)
        fchmod (skel, st.st_mode | 0700);
      remove_subtree (skel, base_name (e), 0);
      if (locked)
        fchmod (skel, st.st_mode & 07777);
    }
  sk->changed++;
}

/* The host directory of @e has changed since it was mirrored (@st is how
 * it is now): mirrors it again as far as needed. */
static void
reconcile (SbxSkeleton *sk, Entry *e, const struct stat *st)
{
  g_autofree char *parent_path = g_path_get_dirname (e->path);
  cleanup_fd int host_parent = open_host (parent_path);
  cleanup_fd int skel_parent = open_skel (sk, parent_path);
  g_autofree char *name = g_strdup (base_name (e));
  char kind = 0;
  sk->dirty = TRUE;
  if (e->parent != NULL && host_parent >= 0 && skel_parent >= 0)
    kind = classify (sk, host_parent, name, e->path, st, e->parent->dev);

  if (e->parent == NULL)
    kind = 'T'; /* the root itself, which the tree stands for */
  else if (kind != e->kind || e->dev != (guint64)st->st_dev || e->ino != (guint64)st->st_ino)
    {
      /* Another directory, or one to mirror another way: again from
       * scratch. */
      Entry *parent = e->parent;
      unmirror (sk, e);
      drop_entry (sk, e);
      if (kind == 0 || host_parent < 0 || skel_parent < 0)
        return;
      Entry *again = add_entry (sk, parent, child_path (parent->path, name), kind, st);
      struct stat pst;
      gboolean locked = fstat (skel_parent, &pst) == 0 && (pst.st_mode & 0300) != 0300;
      if (locked)
        fchmod (skel_parent, pst.st_mode | 0700);
      mirror (sk, again, host_parent, skel_parent, 1);
      if (locked)
        fchmod (skel_parent, pst.st_mode & 07777);
      return;
    }

  guint32 old_mode = e->mode;
  set_stat (e, st);
  if (e->parent != NULL && old_mode != e->mode && skel_parent >= 0 && kind != 'S')
    {
      set_mode (skel_parent, name, e->mode);
      sk->changed++;
    }
  if (kind != 'T')
    return;

  /* Its entries changed: subdirectories gone are removed, new ones made
   * (the others have entries of their own, checked on their own). */
  cleanup_fd int host = open_host (e->path);
  cleanup_fd int skel = open_skel (sk, e->path);
  if (host < 0 || skel < 0)
    return;
  for (guint i = 0; e->children != NULL && i < e->children->len;)
    {
      Entry *c = e->children->pdata[i];
      struct stat cst;
      if (fstatat (host, base_name (c), &cst, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) == 0
          && S_ISDIR (cst.st_mode))
        {
          i++;
          continue;
        }
      unmirror (sk, c);
      drop_entry (sk, c); /* moves the last child to i */
    }
  struct stat own;
  gboolean locked = e->parent != NULL && fstat (skel, &own) == 0 && (own.st_mode & 0300) != 0300;
  if (locked)
    fchmod (skel, own.st_mode | 0700);
  mirror_children (sk, e, host, skel, 1);
  if (locked)
    fchmod (skel, own.st_mode & 07777);
}

/* ---- the files ---------------------------------------------------------------- */

static void
append_entry (GString *out, const Entry *e)
{
  g_autofree char *path = g_strescape (e->path, NULL);
  g_string_append_printf (
      out, "%c %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %o %u %u %" G_GINT64_FORMAT " %u %s\n",
      e->kind, e->dev, e->ino, e->mode, e->uid, e->gid, e->ctime_sec, e->ctime_nsec, path);
}

/* Parses one line of append_entry(): the entry, with its path, or NULL. */
static Entry *
parse_entry (const char *line)
{
  char kind;
  guint64 dev, ino;
  guint32 mode, uid, gid, nsec;
  gint64 sec;
  int n = 0;
  if (sscanf (line,
              "%c %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %o %u %u %" G_GINT64_FORMAT " %u %n",
              &kind, &dev, &ino, &mode, &uid, &gid, &sec, &nsec, &n)
          != 8
      || n == 0 || strchr ("TLOS", kind) == NULL)
    return NULL;
  Entry *e = g_new0 (Entry, 1);
  e->path = g_strcompress (line + n);
  e->kind = kind;
  e->dev = dev;
  e->ino = ino;
  e->mode = mode;
  e->uid = uid;
  e->gid = gid;
  e->ctime_sec = sec;
  e->ctime_nsec = nsec;
  if (e->path[0] != '/')
    {
      entry_free (e);
      return NULL;
    }
  return e;
}

/* The depth of @path ("/" 0, "/usr" 1, "/usr/lib" 2). */
static guint
depth_of (const char *path)
{
  guint n = 0;
  for (const char *p = path; p[1] != '\0' && *p; p++)
    if (*p == '/')
      n++;
  return n;
}

/* What a start checks: the directories near the top, and those below
 * /usr/local and /opt one level further, where software is installed by
 * hand.  Deeper changes wait for the next full check, or for a package
 * manager's, which changes its database too. */
static gboolean
cheap_entry (const Entry *e)
{
  guint depth = depth_of (e->path);
  return e->kind == 'T'
         && (depth <= 2
             || (depth == 3
                 && (g_str_has_prefix (e->path, "/usr/local/")
                     || g_str_has_prefix (e->path, "/opt/"))));
}

/* The stamp's line for the host file @path: how @st says it is, or "-"
 * when it is not there (@st NULL). */
static void
append_file_line (GString *out, const char *tag, const char *path, const struct stat *st)
{
  if (st == NULL)
    g_string_append_printf (out, "%s - %s\n", tag, path);
  else
    g_string_append_printf (out,
                            "%s %" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT
                            ":%" G_GINT64_FORMAT ".%09ld %s\n",
                            tag, (guint64)st->st_dev, (guint64)st->st_ino, (gint64)st->st_size,
                            (gint64)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, path);
}

/* One line per file of @paths (NULL-terminated): how it is now, seen
 * through a symlink (@follow: a package database may be one) or not (a
 * stand-in's file, copied only when it is a regular file itself). */
static void
append_files (GString *out, const char *tag, const char *const *paths, gboolean follow)
{
  for (guint i = 0; paths[i] != NULL; i++)
    {
      struct stat st;
      gboolean there = (follow ? stat (paths[i], &st) : lstat (paths[i], &st)) == 0;
      append_file_line (out, tag, paths[i], there ? &st : NULL);
    }
}

/* Replaces the stand-in @name of the tree's directory @skel with a copy of
 * @src (@st; -1 for an empty one), made aside and renamed into place: a
 * sandbox running meanwhile sees the old one or the new one. */
static void
write_standin (SbxSkeleton *sk, int skel, const char *name, int src, const struct stat *st)
{
  cleanup_fd int copy = openat (sk->dir_fd, "standin.new",
                                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (copy < 0 || (src >= 0 && !sbx_util_copy_data (src, copy, st->st_size))
      || fchmod (copy, st->st_mode & 0777) < 0 || futimens (copy, times) < 0
      || renameat (sk->dir_fd, "standin.new", skel, name) < 0)
    {
      /* None rather than an old one: the host's file shows through. */
      unlinkat (sk->dir_fd, "standin.new", 0);
      unlinkat (skel, name, 0);
    }
}

/* Makes the tree's stand-ins those of the host's files now, and records
 * how those files were when copied, for the stamp: one changed or replaced
 * since makes the next start come here again. */
static void
refresh_standins (SbxSkeleton *sk)
{
  g_string_truncate (sk->standins, 0);
  for (guint i = 0; standins[i] != NULL; i++)
    {
      const char *path = standins[i];
      g_autofree char *dir = g_path_get_dirname (path);
      const char *name = strrchr (path, '/') + 1;
      struct stat st;
      cleanup_fd int src = -1;
      gboolean there = lstat (path, &st) == 0;
      if (there && S_ISREG (st.st_mode) && st.st_size > 0)
        {
          src = sbx_util_openat2 (AT_FDCWD, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC,
                                  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
          /* The file copied, which a change after this open will differ from. */
          if (src >= 0 && fstat (src, &st) < 0)
            sbx_util_close_fdp (&src);
        }
      append_file_line (sk->standins, "file", path, there ? &st : NULL);
      cleanup_fd int skel = open_skel (sk, dir);
      if (skel < 0)
        continue; /* not mirrored: the caller's, or closed */
      gboolean wanted = there && S_ISREG (st.st_mode) && !in_ranges (sk->uids, st.st_uid)
                        && (st.st_size == 0 || (src >= 0 && st.st_size <= STANDIN_MAX));
      if (wanted)
        write_standin (sk, skel, name, st.st_size > 0 ? src : -1, &st);
      else
        unlinkat (skel, name, 0);
    }
}

/* Writes @name in the skeleton's directory, whole or not at all. */
static gboolean
write_file (SbxSkeleton *sk, const char *name, const GString *text)
{
  g_autofree char *tmp = g_strconcat (name, ".new", NULL);
  cleanup_fd int fd
      = openat (sk->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || !sbx_util_write_all (fd, text->str, text->len))
    return FALSE;
  return renameat (sk->dir_fd, tmp, sk->dir_fd, name) == 0;
}

static char *
read_file (SbxSkeleton *sk, const char *name)
{
  cleanup_fd int fd = openat (sk->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > 256 * 1024 * 1024)
    return NULL;
  char *text = g_malloc ((gsize)st.st_size + 1);
  if (!sbx_util_read_all (fd, text, (size_t)st.st_size))
    {
      g_free (text);
      return NULL;
    }
  text[st.st_size] = '\0';
  return text;
}

/* The stamp: the format, the ids, the package databases, when the last
 * full check was, and the directories a start checks. */
static GString *
make_stamp (SbxSkeleton *sk, gint64 verified)
{
  GString *out = g_string_new (FORMAT "\n");
  g_string_append_printf (out, "ids %s\n", sk->ids);
  append_files (out, "db", package_databases, TRUE);
  g_string_append (out, sk->standins->str);
  g_string_append_printf (out, "verified %" G_GINT64_FORMAT "\n", verified);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sk->entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (cheap_entry (value))
      append_entry (out, value);
  return out;
}

/* Depth-first, parents before children. */
static void
append_subtree (GString *out, const Entry *e)
{
  append_entry (out, e);
  for (guint i = 0; e->children != NULL && i < e->children->len; i++)
    append_subtree (out, e->children->pdata[i]);
}

static gboolean
save (SbxSkeleton *sk)
{
  g_autoptr (GString) manifest = g_string_new (FORMAT "\n");
  append_subtree (manifest, sk->root);
  g_autoptr (GString) stamp = make_stamp (sk, g_get_real_time () / G_USEC_PER_SEC);
  /* The manifest first: a stamp always describes a manifest as new. */
  return write_file (sk, "manifest", manifest) && write_file (sk, "stamp", stamp);
}

/* Reads the manifest into sk->entries. */
static gboolean
load (SbxSkeleton *sk)
{
  g_autofree char *text = read_file (sk, "manifest");
  if (text == NULL || !g_str_has_prefix (text, FORMAT "\n"))
    return FALSE;
  char *line = text + strlen (FORMAT "\n");
  while (*line != '\0')
    {
      char *end = strchr (line, '\n');
      if (end == NULL)
        return FALSE;
      *end = '\0';
      Entry *e = parse_entry (line);
      line = end + 1;
      if (e == NULL)
        return FALSE;
      if (strcmp (e->path, "/") == 0 && sk->root == NULL)
        sk->root = e;
      else
        {
          g_autofree char *parent = g_path_get_dirname (e->path);
          e->parent = g_hash_table_lookup (sk->entries, parent);
          if (e->parent == NULL || e->parent->kind != 'T'
              || g_hash_table_contains (sk->entries, e->path))
            {
              entry_free (e);
              return FALSE;
            }
          if (e->parent->children == NULL)
            e->parent->children = g_ptr_array_new ();
          g_ptr_array_add (e->parent->children, e);
        }
      g_hash_table_replace (sk->entries, e->path, e);
    }
  return sk->root != NULL;
}

/* Whether the stamp says the tree needs no check now. */
static gboolean
stamp_fresh (SbxSkeleton *sk, guint *checked)
{
  g_autofree char *text = read_file (sk, "stamp");
  if (text == NULL)
    return FALSE;
  g_autoptr (GString) want = g_string_new (FORMAT "\n");
  g_string_append_printf (want, "ids %s\n", sk->ids);
  append_files (want, "db", package_databases, TRUE);
  append_files (want, "file", standins, FALSE);
  if (!g_str_has_prefix (text, want->str))
    return FALSE;
  gint64 verified = 0;
  char *line = text + want->len;
  if (sscanf (line, "verified %" G_GINT64_FORMAT, &verified) != 1)
    return FALSE;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  if (verified > now || now - verified >= CHECK_PERIOD)
    return FALSE;
  for (line = strchr (line, '\n'); line != NULL && line[1] != '\0'; line = strchr (line, '\n'))
    {
      char *end = strchr (++line, '\n');
      if (end == NULL)
        return FALSE;
      *end = '\0';
      Entry *e = parse_entry (line);
      *end = '\n';
      struct stat st;
      gboolean same = e != NULL && lstat (e->path, &st) == 0 && same_stat (e, &st);
      if (e != NULL)
        entry_free (e);
      if (!same)
        return FALSE;
      (*checked)++;
    }
  return TRUE;
}

/* ---- opening --------------------------------------------------------------------- */

/* The directory @name of @parent_fd, made 0700 when missing, opened without
 * following a symlink, and refused unless it is the caller's alone. */
static int
private_dir (int parent_fd, const char *name, const char *path, GError **error)
{
  if (mkdirat (parent_fd, name, 0700) < 0 && errno != EEXIST)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s",
                   path, sbx_util_strerror (errno));
      return -1;
    }
  int fd = open_dir_at (parent_fd, name);
  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
                   sbx_util_strerror (errno));
      return -1;
    }
  /* Others who could write there could plant files the sandbox would run
   * (the tree is a lower layer of every --map-root sandbox). */
  if (!sbx_util_dir_is_private (fd))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "%s is not yours alone (its owner or mode let others write there)", path);
      return -1;
    }
  return fd;
}

/* The mapped host ids of @lines, as ranges. */
static GArray *
mapped_ranges (const GArray *lines)
{
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (SbxIdRange));
  for (guint i = 0; lines != NULL && i < lines->len; i++)
    {
      const SbxIdMapLine *l = &g_array_index (lines, SbxIdMapLine, i);
      SbxIdRange r = { l->outside, l->count };
      g_array_append_val (ranges, r);
    }
  return ranges;
}

/* The ids the classification depends on: the caller's, its groups (which
 * decide what it can read) and the mapped ranges. */
static char *
describe_ids (SbxSkeleton *sk)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "uid=%u groups=%u", (guint)sk->uid, (guint)getgid ());
  int n = getgroups (0, NULL);
  g_autofree gid_t *groups = g_new0 (gid_t, n > 0 ? n : 1);
  n = getgroups (n, groups);
  for (int i = 0; i < n; i++)
    g_string_append_printf (s, ",%u", (guint)groups[i]);
  for (guint k = 0; k < 2; k++)
    {
      const GArray *r = k == 0 ? sk->uids : sk->gids;
      g_string_append (s, k == 0 ? " uids=" : " gids=");
      for (guint i = 0; i < r->len; i++)
        g_string_append_printf (s, "%s%u+%u", i ? "," : "", g_array_index (r, SbxIdRange, i).start,
                                g_array_index (r, SbxIdRange, i).count);
    }
  return g_string_free (s, FALSE);
}

/* A new tree from scratch. */
static gboolean
build (SbxSkeleton *sk, GError **error)
{
  struct stat st;
  if (sk->tree_fd >= 0)
    close (sk->tree_fd);
  sk->tree_fd = -1;
  g_hash_table_remove_all (sk->entries);
  sk->root = NULL;
  remove_subtree (sk->dir_fd, "tree", 0);
  cleanup_fd int tree = private_dir (sk->dir_fd, "tree", sk->tree_path, error);
  cleanup_fd int host = open_host ("/");
  if (tree < 0)
    return FALSE;
  if (host < 0 || fstat (host, &st) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "/: %s",
                   sbx_util_strerror (errno));
      return FALSE;
    }
  sk->tree_fd = sbx_util_openat2 (tree, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  sk->root = add_entry (sk, NULL, g_strdup ("/"), 'T', &st);
  mirror_children (sk, sk->root, host, tree, 1);
  sk->dirty = TRUE;
  return TRUE;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Checks every directory of the manifest and mirrors again what changed. */
static guint
check_all (SbxSkeleton *sk)
{
  /* Parents first: a directory gone takes its subtree with it. */
  g_autoptr (GPtrArray) copies = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, sk->entries);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (copies, g_strdup (key));
  g_ptr_array_sort (copies, compare_paths);
  for (guint i = 0; i < copies->len; i++)
    {
      Entry *e = g_hash_table_lookup (sk->entries, copies->pdata[i]);
      struct stat st;
      if (e == NULL)
        continue; /* gone with its parent */
      if (lstat (e->path, &st) < 0 || !S_ISDIR (st.st_mode))
        {
          if (e->parent == NULL)
            continue;
          unmirror (sk, e);
          drop_entry (sk, e);
          sk->dirty = TRUE;
          continue;
        }
      if (!same_stat (e, &st))
        reconcile (sk, e, &st);
    }
  return copies->len;
}

SbxSkeleton *
sbx_skeleton_open (const SbxIdMapPlan *plan, GError **error)
{
  g_autoptr (SbxSkeleton) sk = g_new0 (SbxSkeleton, 1);
  gint64 start = g_get_monotonic_time ();
  sk->dir_fd = sk->tree_fd = -1;
  sk->uid = getuid ();
  sk->uids = mapped_ranges (plan->uid_lines);
  sk->gids = mapped_ranges (plan->gid_lines);
  sk->ids = describe_ids (sk);
  sk->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  sk->report = g_string_new (NULL);
  sk->standins = g_string_new (NULL);

  const char *cache = g_get_user_cache_dir ();
  g_autofree char *sbx_path = g_build_filename (cache, "sbx", NULL);
  sk->dir = g_build_filename (sbx_path, "skeleton", NULL);
  sk->tree_path = g_build_filename (sk->dir, "tree", NULL);
  if (!g_path_is_absolute (cache))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not an absolute path", sbx_path);
      return NULL;
    }
  if (g_mkdir_with_parents (cache, 0700) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s",
                   cache, sbx_util_strerror (errno));
      return NULL;
    }
  cleanup_fd int cache_fd = open (cache, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_fd int sbx_fd = cache_fd >= 0 ? private_dir (cache_fd, "sbx", sbx_path, error) : -1;
  if (cache_fd < 0)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", cache,
                 sbx_util_strerror (errno));
  if (sbx_fd < 0)
    return NULL;
  sk->dir_fd = private_dir (sbx_fd, "skeleton", sk->dir, error);
  if (sk->dir_fd < 0)
    return NULL;

  /* The common case: nothing to do but a few stats, without the lock (a
   * stamp is replaced whole). */
  guint checked = 0;
  cleanup_fd int tree = open_dir_at (sk->dir_fd, "tree");
  if (tree >= 0 && sbx_util_dir_is_private (tree) && stamp_fresh (sk, &checked))
    {
      sk->tree_fd = sbx_util_openat2 (tree, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      g_string_printf (sk->report, "skeleton %s: checked %u directories in %.1f ms", sk->tree_path,
                       checked, (double)(g_get_monotonic_time () - start) / 1000.0);
      return g_steal_pointer (&sk);
    }

  /* One sbx at a time makes or updates it; the others wait, then find it
   * up to date. */
  cleanup_fd int lock
      = openat (sk->dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s/lock: %s", sk->dir,
                   sbx_util_strerror (errno));
      return NULL;
    }
  sbx_util_close_fdp (&tree);
  tree = open_dir_at (sk->dir_fd, "tree");
  checked = 0;
  if (tree >= 0 && sbx_util_dir_is_private (tree) && stamp_fresh (sk, &checked))
    {
      sk->tree_fd = sbx_util_openat2 (tree, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      g_string_printf (sk->report, "skeleton %s: updated by another sbx", sk->tree_path);
      return g_steal_pointer (&sk);
    }
  /* Made anew when it cannot be trusted to describe itself: no manifest,
   * another format or other ids, or an update that did not finish (the
   * stamp goes first and comes back last). */
  g_autofree char *stamp = read_file (sk, "stamp");
  g_autofree char *ids_line = g_strdup_printf (FORMAT "\nids %s\n", sk->ids);
  gboolean rebuilt = tree < 0 || stamp == NULL || !g_str_has_prefix (stamp, ids_line)
                     || !sbx_util_dir_is_private (tree) || !load (sk);
  unlinkat (sk->dir_fd, "stamp", 0);
  if (rebuilt)
    {
      if (!build (sk, error))
        return NULL;
      checked = 0;
    }
  else
    {
      sk->tree_fd = sbx_util_openat2 (tree, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      checked = check_all (sk);
    }
  refresh_standins (sk);
  if (!save (sk))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot write %s: %s",
                   sk->dir, sbx_util_strerror (errno));
      return NULL;
    }
  if (rebuilt)
    g_string_printf (sk->report, "skeleton %s: made %u directories in %.1f ms", sk->tree_path,
                     sk->changed, (double)(g_get_monotonic_time () - start) / 1000.0);
  else
    g_string_printf (
        sk->report, "skeleton %s: checked %u directories, mirrored %u again, in %.1f ms",
        sk->tree_path, checked, sk->changed, (double)(g_get_monotonic_time () - start) / 1000.0);
  /* Only the monitor needs the entries; the child gets an fd. */
  g_hash_table_remove_all (sk->entries);
  sk->root = NULL;
  return g_steal_pointer (&sk);
}

const char *const *
sbx_skeleton_standins (void)
{
  return standins;
}

int
sbx_skeleton_tree_fd (const SbxSkeleton *sk)
{
  return sk->tree_fd;
}

const char *
sbx_skeleton_tree_path (const SbxSkeleton *sk)
{
  return sk->tree_path;
}

const char *
sbx_skeleton_report (const SbxSkeleton *sk)
{
  return sk->report->str;
}

void
sbx_skeleton_free (SbxSkeleton *sk)
{
  if (sk == NULL)
    return;
  if (sk->dir_fd >= 0)
    close (sk->dir_fd);
  if (sk->tree_fd >= 0)
    close (sk->tree_fd);
  g_free (sk->dir);
  g_free (sk->tree_path);
  g_free (sk->ids);
  if (sk->uids != NULL)
    g_array_unref (sk->uids);
  if (sk->gids != NULL)
    g_array_unref (sk->gids);
  if (sk->entries != NULL)
    g_hash_table_unref (sk->entries);
  if (sk->report != NULL)
    g_string_free (sk->report, TRUE);
  if (sk->standins != NULL)
    g_string_free (sk->standins, TRUE);
  g_free (sk);
}
