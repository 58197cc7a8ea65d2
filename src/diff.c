/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.c: what a writable layer added, changed and deleted. */
#include "config.h"

#include "diff.h"
#include "userns.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER   ".wh..wh..opq"
/* fuse-overlayfs marks the directories it creates with this one too. */
#define FUSE_OPAQUE_MARKER ".wh..opq"

/* The upper layer is read through fds, one directory at a time, never by
 * a path: a layer is hostile input (a running sandbox may change it under
 * the scan), and no symlink of it is followed. */
typedef struct
{
  const char *const *lowers;
  GPtrArray *changes;
  uid_t overflow_uid; /* how an unmapped owner shows in the scan's user namespace */
  gid_t overflow_gid;
} Scan;

void
sbx_change_free (SbxChange *change)
{
  if (change == NULL)
    return;
  g_free (change->path);
  g_free (change);
}

static void
emit (Scan *s, char kind, const char *path)
{
  SbxChange *c = g_new (SbxChange, 1);
  c->kind = kind;
  c->path = g_strdup (path);
  g_ptr_array_add (s->changes, c);
}

/* The highest lower entry at @path: its lstat and full path, or NULL.  The
 * lower layers are the caller's own trees (the host's /, --rootfs,
 * --layer). */
static char *
lower_entry (Scan *s, const char *path, struct stat *st)
{
  for (const char *const *l = s->lowers; *l != NULL; l++)
    {
      char *full = g_build_filename (*l, path, NULL);
      if (lstat (full, st) == 0)
        return full;
      g_free (full);
    }
  return NULL;
}

static gboolean
in_lower (Scan *s, const char *path)
{
  struct stat st;
  g_autofree char *full = lower_entry (s, path, &st);
  return full != NULL;
}

/* Opens a regular file for reading without following a symlink or
 * blocking on a fifo swapped in meanwhile. */
static int
open_regular (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)))
    sbx_util_close_fdp (&fd);
  return fd;
}

/* Whether the upper file @name in @dirfd holds the same bytes as @lower
 * (FALSE when either cannot be read: then nobody can tell they are the
 * same). */
static gboolean
same_bytes (int dirfd, const char *name, const char *lower, off_t size)
{
  if (size == 0)
    return TRUE;
  cleanup_fd int fa = open_regular (dirfd, name);
  cleanup_fd int fb = open_regular (AT_FDCWD, lower);
  char ba[65536], bb[sizeof ba];
  ssize_t na = 0;
  while (fa >= 0 && fb >= 0 && (na = read (fa, ba, sizeof ba)) > 0)
    if (!sbx_util_read_all (fb, bb, (size_t)na) || memcmp (ba, bb, (size_t)na) != 0)
      return FALSE;
  return fa >= 0 && fb >= 0 && na == 0;
}

static gboolean
same_target (int dirfd, const char *name, const char *lower)
{
  char ta[PATH_MAX];
  ssize_t n = readlinkat (dirfd, name, ta, sizeof ta - 1);
  g_autofree char *tb = g_file_read_link (lower, NULL);
  if (n < 0 || tb == NULL)
    return FALSE;
  ta[n] = '\0';
  return strcmp (ta, tb) == 0;
}

/* The same owner as the sandbox saw it: a lower file of an id not mapped
 * here (the host's root) was root's inside with --map-root (fuse-overlayfs'
 * squash_to_root), and an upper copy made by root inside is ours (0). */
static gboolean
same_id (guint upper, guint lower, guint overflow)
{
  return upper == lower || (lower == overflow && upper == 0);
}

/* Whether the upper entry @name of @dirfd (lstat @st), at @path, is what
 * the lower one was: same type, mode, owner, size, modification time and
 * content.  Such an entry was copied up but not changed: dpkg's and apt's
 * lock files, which sbx copies up before the sandbox starts (overlay.c),
 * or a file opened for writing and never written.  `podman diff` users
 * expect changes only. */
static gboolean
same_as_lower (Scan *s, const char *path, int dirfd, const char *name, const struct stat *st)
{
  struct stat lst;
  g_autofree char *lower = lower_entry (s, path, &lst);
  if (lower == NULL || (st->st_mode & S_IFMT) != (lst.st_mode & S_IFMT)
      || (st->st_mode & 07777) != (lst.st_mode & 07777)
      || !same_id (st->st_uid, lst.st_uid, s->overflow_uid)
      || !same_id (st->st_gid, lst.st_gid, s->overflow_gid) || st->st_size != lst.st_size
      || st->st_mtim.tv_sec != lst.st_mtim.tv_sec || st->st_mtim.tv_nsec != lst.st_mtim.tv_nsec)
    return FALSE;
  if (S_ISREG (st->st_mode))
    return same_bytes (dirfd, name, lower, st->st_size);
  if (S_ISLNK (st->st_mode))
    return same_target (dirfd, name, lower);
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    return st->st_rdev == lst.st_rdev;
  return TRUE; /* fifos and sockets: nothing more to them */
}

/* Whether the upper directory @dirfd (opened O_RDONLY) is opaque. */
static gboolean
is_opaque (int dirfd)
{
  static const char *const xattrs[]
      = { "trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque" };
  char value[8];
  for (guint i = 0; i < G_N_ELEMENTS (xattrs); i++)
    {
      ssize_t n = fgetxattr (dirfd, xattrs[i], value, sizeof value);
      if (n >= 1 && value[0] == 'y')
        return TRUE;
    }
  struct stat st;
  return fstatat (dirfd, OPAQUE_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Whether @name in the upper directory @dirfd stands for itself (not a
 * marker). */
static gboolean
present_in_upper (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
         && !(S_ISCHR (st.st_mode) && st.st_rdev == 0);
}

/* An opaque directory hides everything below it: each lower entry not
 * re-created in the upper directory @upper_dir was deleted. */
static void
emit_hidden (Scan *s, const char *rel, int upper_dir)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (const char *const *l = s->lowers; *l != NULL; l++)
    {
      g_autofree char *dir = g_build_filename (*l, rel, NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          if (g_hash_table_contains (seen, name) || present_in_upper (upper_dir, name))
            continue;
          g_hash_table_add (seen, g_strdup (name));
          g_autofree char *path = g_build_filename (rel, name, NULL);
          emit (s, 'D', path);
        }
    }
}

/* Emits the changes below @rel, the upper directory @dirfd (which it
 * closes); returns how many. */
static guint
walk (Scan *s, int dirfd, const char *rel)
{
  DIR *d = fdopendir (dirfd);
  struct dirent *e;
  guint before = s->changes->len;

  if (d == NULL)
    {
      close (dirfd);
      return 0;
    }
  while ((e = readdir (d)) != NULL)
    {
      const char *name = e->d_name;
      struct stat st;

      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || strcmp (name, OPAQUE_MARKER) == 0
          || strcmp (name, FUSE_OPAQUE_MARKER) == 0
          || fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      g_autofree char *path = g_build_filename (rel, name, NULL);
      if (g_str_has_prefix (name, WHITEOUT_PREFIX))
        {
          g_autofree char *target = g_build_filename (rel, name + strlen (WHITEOUT_PREFIX), NULL);
          emit (s, 'D', target);
          continue;
        }
      if (S_ISCHR (st.st_mode) && major (st.st_rdev) == 0 && minor (st.st_rdev) == 0)
        {
          emit (s, 'D', path);
          continue;
        }
      gboolean existed = in_lower (s, path);
      if (!S_ISDIR (st.st_mode))
        {
          if (!existed || !same_as_lower (s, path, dirfd, name, &st))
            emit (s, existed ? 'C' : 'A', path);
          continue;
        }
      /* A directory that existed is changed only if something below it is,
       * or it was replaced (opaque): the upper holds every parent of a
       * change, and sbx creates some as mount points, unchanged. */
      guint at = s->changes->len;
      emit (s, existed ? 'C' : 'A', path);
      int sub = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      guint below = 0;
      if (sub >= 0 && existed && is_opaque (sub))
        {
          emit_hidden (s, path, sub);
          below++;
        }
      if (sub >= 0)
        below += walk (s, sub, path);
      if (existed && below == 0)
        g_ptr_array_remove_index (s->changes, at);
    }
  closedir (d);
  return s->changes->len - before;
}

static gint
compare_changes (gconstpointer a, gconstpointer b)
{
  const SbxChange *x = *(SbxChange *const *)a, *y = *(SbxChange *const *)b;
  return strcmp (x->path, y->path);
}

/* /proc/sys/kernel/overflow{uid,gid}: the id an unmapped one shows as. */
static guint
read_overflow_id (const char *which)
{
  g_autofree char *path = g_strdup_printf ("/proc/sys/kernel/overflow%s", which);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 65534;
  return (guint)g_ascii_strtoull (text, NULL, 10);
}

GPtrArray *
sbx_diff_scan_here (const char *upper, const char *const *lowers)
{
  static const char *const host_root[] = { "/", NULL };
  Scan s = { .lowers = (lowers != NULL && lowers[0] != NULL) ? lowers : host_root,
             .changes = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_change_free),
             .overflow_uid = read_overflow_id ("uid"),
             .overflow_gid = read_overflow_id ("gid") };
  int top = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top >= 0)
    walk (&s, top, "/");
  g_ptr_array_sort (s.changes, compare_changes);
  return s.changes;
}

typedef struct
{
  const char *upper;
  const char *const *lowers;
  int out;
} MappedScan;

/* In the mapped user namespace: scan and send "K path\0" records. */
static int
scan_mapped (gpointer data)
{
  MappedScan *m = data;
  g_autoptr (GPtrArray) changes = sbx_diff_scan_here (m->upper, m->lowers);
  for (guint i = 0; i < changes->len; i++)
    {
      SbxChange *c = changes->pdata[i];
      g_autofree char *rec = g_strdup_printf ("%c %s", c->kind, c->path);
      if (!sbx_util_write_all (m->out, rec, strlen (rec) + 1))
        return 1;
    }
  return 0;
}

GPtrArray *
sbx_diff_scan (const SbxSpec *caller, const char *upper, const char *const *lowers, GError **error)
{
  struct stat st;
  int errsv = stat (upper, &st) < 0 ? errno : !S_ISDIR (st.st_mode) ? ENOTDIR : 0;
  if (errsv != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", upper,
                   sbx_util_strerror (errsv));
      return NULL;
    }

  /* The records go to a memfd rather than a pipe: the child may write more
   * than a pipe holds before we read, and we only read once it is done. */
  cleanup_fd int out = memfd_create ("sbx-diff", MFD_CLOEXEC);
  if (out < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "memfd_create: %s",
                   sbx_util_strerror (errno));
      return NULL;
    }
  MappedScan m = { .upper = upper, .lowers = lowers, .out = out };
  int status = sbx_userns_run_mapped (caller, scan_mapped, &m, error);
  if (status < 0)
    return NULL;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot read the layer %s", upper);
      return NULL;
    }

  off_t size = lseek (out, 0, SEEK_END);
  g_autofree char *buf = g_malloc (size > 0 ? (gsize)size : 1);
  if (size < 0 || pread (out, buf, (size_t)size, 0) != size)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot read the changes of %s", upper);
      return NULL;
    }
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_change_free);
  for (off_t off = 0; off < size;)
    {
      const char *rec = buf + off;
      size_t len = strnlen (rec, (size_t)(size - off));
      if (len >= 3)
        {
          SbxChange *c = g_new (SbxChange, 1);
          c->kind = rec[0];
          c->path = g_strndup (rec + 2, len - 2);
          g_ptr_array_add (changes, c);
        }
      off += (off_t)len + 1;
    }
  return changes;
}
