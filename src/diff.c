/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.c: what a writable layer added, changed and deleted. */
#include "config.h"

#include "diff.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
  GArray *lower_fds; /* int: each lower layer's root, O_PATH */
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
  g_free (change->upper_rel);
  g_free (change->target);
  g_free (change->xattrs);
  g_free (change);
}

/* @rel ("/a/b") as a path relative to the upper directory ("a/b"). */
static const char *
relative (const char *rel)
{
  return rel[0] == '/' ? rel + 1 : rel;
}

static SbxChange *
emit (Scan *s, char kind, const char *path, const char *upper_rel)
{
  SbxChange *c = g_new0 (SbxChange, 1);
  c->kind = kind;
  c->path = g_strdup (path);
  c->upper_rel = g_strdup (upper_rel != NULL ? relative (upper_rel) : "");
  c->lower = -1;
  g_ptr_array_add (s->changes, c);
  return c;
}

int
sbx_diff_open_lower (int lower, const char *path, char **name, struct stat *st)
{
  g_autofree char *parent = g_path_get_dirname (path);
  *name = g_path_get_basename (path);
  int fd = sbx_util_openat2 (lower, parent[1] != '\0' ? parent + 1 : "",
                             O_PATH | O_DIRECTORY | O_CLOEXEC,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0 && fstatat (fd, *name, st, AT_SYMLINK_NOFOLLOW) == 0)
    return fd;
  if (fd >= 0)
    close (fd);
  g_clear_pointer (name, g_free);
  return -1;
}

/* The highest lower entry at @path: its lstat, the fd of its directory
 * (O_PATH) and its name there, and which layer; -1 when none has it. The
 * lower layers are the caller's own trees (the host's /, --rootfs,
 * --layer), looked up as overlayfs looks them up: no symlink followed on
 * the way, so that a directory the sandbox put where a lower symlink was
 * holds nothing of where the symlink points. */
static int
lower_entry (Scan *s, const char *path, struct stat *st, char **name, gint32 *index)
{
  for (guint i = 0; i < s->lower_fds->len; i++)
    {
      int fd = sbx_diff_open_lower (g_array_index (s->lower_fds, int, i), path, name, st);
      if (fd >= 0)
        {
          if (index != NULL)
            *index = (gint32)i;
          return fd;
        }
    }
  return -1;
}

/* Records which lower layer holds @c's path, and its type and mode. */
static void
note_lower (Scan *s, SbxChange *c)
{
  struct stat st;
  g_autofree char *name = NULL;
  cleanup_fd int fd = lower_entry (s, c->path, &st, &name, &c->lower);
  if (fd >= 0)
    c->lower_mode = st.st_mode;
}

/* Opens a regular file for reading without following a symlink or
 * blocking on a fifo swapped in meanwhile. */
static int
open_regular (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)))
    sbx_util_close_fdp (&fd);
  return fd;
}

/* The extended attributes of @fd that are not the overlay's own markers
 * (which say nothing about the file): a file capability, ACLs, user.*
 * attributes.  `sbx apply` copies none of them and says which. */
static char *
foreign_xattrs (int fd)
{
  static const char *const own[]
      = { "trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.", "security.selinux" };
  char list[4096];
  ssize_t n = flistxattr (fd, list, sizeof list - 1);
  if (n <= 0)
    return n < 0 && errno == ERANGE ? g_strdup ("(too many to list)") : NULL;
  list[n] = '\0';
  g_autoptr (GString) names = g_string_new (NULL);
  for (const char *x = list; x < list + n; x += strlen (x) + 1)
    {
      gboolean skip = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (own); i++)
        skip = skip || g_str_has_prefix (x, own[i]);
      if (!skip && *x != '\0')
        g_string_append_printf (names, "%s%s", names->len ? ", " : "", x);
    }
  return names->len ? g_string_free (g_steal_pointer (&names), FALSE) : NULL;
}

/* Fills @c's fields of the layer's entry @name in @dirfd ("": @dirfd
 * itself); with @times_only, those of a whiteout: its inode and birth. */
static void
describe (SbxChange *c, int dirfd, const char *name, gboolean times_only)
{
  struct statx stx;
  int flags = AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
  if (statx (dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &stx) < 0)
    return;
  c->dev = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  c->ino = stx.stx_ino;
  c->nlink = stx.stx_nlink;
  /* ext4, btrfs, xfs and tmpfs keep it; elsewhere `sbx apply` falls back
   * on the time the layer was made. */
  c->has_btime = (stx.stx_mask & STATX_BTIME) != 0;
  c->btime_sec = stx.stx_btime.tv_sec;
  c->btime_nsec = stx.stx_btime.tv_nsec;
  if (times_only)
    return;
  c->mode = stx.stx_mode;
  c->uid = stx.stx_uid;
  c->gid = stx.stx_gid;
  c->size = stx.stx_size;
  c->mtime_sec = stx.stx_mtime.tv_sec;
  c->mtime_nsec = stx.stx_mtime.tv_nsec;
  if (S_ISLNK (c->mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      if (n > 0)
        c->target = g_strndup (target, (gsize)n);
    }
  else if (S_ISREG (c->mode) || S_ISDIR (c->mode))
    {
      cleanup_fd int fd
          = name[0] == '\0' ? fcntl (dirfd, F_DUPFD_CLOEXEC, 0)
            : S_ISREG (c->mode)
                ? open_regular (dirfd, name)
                : openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        c->xattrs = foreign_xattrs (fd);
    }
}

/* Whether the upper file @name in @dirfd holds the same bytes as @lower
 * (FALSE when either cannot be read: then nobody can tell they are the
 * same). */
static gboolean
same_bytes (int dirfd, const char *name, int lower_dir, const char *lower, off_t size)
{
  if (size == 0)
    return TRUE;
  cleanup_fd int fa = open_regular (dirfd, name);
  cleanup_fd int fb = open_regular (lower_dir, lower);
  char ba[65536], bb[sizeof ba];
  ssize_t na = 0;
  while (fa >= 0 && fb >= 0 && (na = read (fa, ba, sizeof ba)) > 0)
    if (!sbx_util_read_all (fb, bb, (size_t)na) || memcmp (ba, bb, (size_t)na) != 0)
      return FALSE;
  return fa >= 0 && fb >= 0 && na == 0;
}

static gboolean
same_target (int dirfd, const char *name, int lower_dir, const char *lower)
{
  char ta[PATH_MAX], tb[PATH_MAX];
  ssize_t n = readlinkat (dirfd, name, ta, sizeof ta - 1);
  ssize_t m = readlinkat (lower_dir, lower, tb, sizeof tb - 1);
  return n >= 0 && n == m && memcmp (ta, tb, (size_t)n) == 0;
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
  g_autofree char *lower = NULL;
  cleanup_fd int lower_dir = lower_entry (s, path, &lst, &lower, NULL);
  if (lower_dir < 0 || (st->st_mode & S_IFMT) != (lst.st_mode & S_IFMT)
      || (st->st_mode & 07777) != (lst.st_mode & 07777)
      || !same_id (st->st_uid, lst.st_uid, s->overflow_uid)
      || !same_id (st->st_gid, lst.st_gid, s->overflow_gid) || st->st_size != lst.st_size
      || st->st_mtim.tv_sec != lst.st_mtim.tv_sec || st->st_mtim.tv_nsec != lst.st_mtim.tv_nsec)
    return FALSE;
  if (S_ISREG (st->st_mode))
    return same_bytes (dirfd, name, lower_dir, lower, st->st_size);
  if (S_ISLNK (st->st_mode))
    return same_target (dirfd, name, lower_dir, lower);
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
 * re-created in the upper directory @upper_dir was deleted, when the
 * directory was made (its birth time). */
static void
emit_hidden (Scan *s, const char *rel, int upper_dir)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < s->lower_fds->len; i++)
    {
      int fd = sbx_util_openat2 (g_array_index (s->lower_fds, int, i), relative (rel),
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
      DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
      struct dirent *e;
      if (d == NULL && fd >= 0)
        close (fd);
      while (d != NULL && (e = readdir (d)) != NULL)
        {
          const char *name = e->d_name;
          if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0
              || g_hash_table_contains (seen, name) || present_in_upper (upper_dir, name))
            continue;
          g_hash_table_add (seen, g_strdup (name));
          g_autofree char *path = g_build_filename (rel, name, NULL);
          SbxChange *c = emit (s, 'D', path, NULL);
          c->flags |= SBX_CHANGE_HIDDEN;
          describe (c, upper_dir, "", TRUE);
          c->ino = c->dev = c->nlink = 0;
          note_lower (s, c);
        }
      if (d != NULL)
        closedir (d);
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
          SbxChange *c = emit (s, 'D', target, path);
          describe (c, dirfd, name, TRUE);
          note_lower (s, c);
          continue;
        }
      if (S_ISCHR (st.st_mode) && major (st.st_rdev) == 0 && minor (st.st_rdev) == 0)
        {
          SbxChange *c = emit (s, 'D', path, path);
          describe (c, dirfd, name, TRUE);
          note_lower (s, c);
          continue;
        }
      struct stat lst;
      gint32 index = -1;
      gboolean existed;
      {
        /* Not held across the walk below: an fd per level is enough. */
        g_autofree char *lower_name = NULL;
        cleanup_fd int lower_dir = lower_entry (s, path, &lst, &lower_name, &index);
        existed = lower_dir >= 0;
      }
      if (!S_ISDIR (st.st_mode))
        {
          if (!existed || !same_as_lower (s, path, dirfd, name, &st))
            {
              SbxChange *c = emit (s, existed ? 'C' : 'A', path, path);
              describe (c, dirfd, name, FALSE);
              c->lower = index;
              c->lower_mode = existed ? lst.st_mode : 0;
            }
          continue;
        }
      /* A directory that existed is changed only if something below it is,
       * or it was replaced (opaque), or its mode changed: the upper holds
       * every parent of a change, and sbx creates some as mount points,
       * unchanged. */
      guint at = s->changes->len;
      SbxChange *c = emit (s, existed ? 'C' : 'A', path, path);
      describe (c, dirfd, name, FALSE);
      c->lower = index;
      c->lower_mode = existed ? lst.st_mode : 0;
      int sub = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      guint below = 0;
      if (sub >= 0 && is_opaque (sub))
        {
          c->flags |= SBX_CHANGE_OPAQUE;
          if (existed)
            {
              emit_hidden (s, path, sub);
              below++;
            }
        }
      /* A chmod of the directory is a change too; not the write bits sbx
       * takes from the directories it makes above an owner nobody maps
       * (overlay.c), nor any mode of such a directory: nobody but its
       * owner could apply it. */
      if (existed && S_ISDIR (lst.st_mode) && lst.st_uid != s->overflow_uid
          && (lst.st_mode & 07777) != (st.st_mode & 07777))
        {
          c->flags |= SBX_CHANGE_DIR_MODE;
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
sbx_diff_scan_fd (int top, const char *const *lowers)
{
  static const char *const host_root[] = { "/", NULL };
  Scan s = { .lowers = (lowers != NULL && lowers[0] != NULL) ? lowers : host_root,
             .lower_fds = g_array_new (FALSE, FALSE, sizeof (int)),
             .changes = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_change_free),
             .overflow_uid = read_overflow_id ("uid"),
             .overflow_gid = read_overflow_id ("gid") };
  /* Each lower layer's root is found by its path, as the caller gave it
   * (as `sbx run` opens it); below it, nothing is. A missing one holds
   * nothing (an fd of -1 finds no entry). */
  for (const char *const *l = s.lowers; *l != NULL; l++)
    {
      int lfd = open (*l, O_PATH | O_DIRECTORY | O_CLOEXEC);
      g_array_append_val (s.lower_fds, lfd);
    }
  int fd = top >= 0 ? fcntl (top, F_DUPFD_CLOEXEC, 0) : -1;
  if (fd >= 0)
    {
      /* walk() reads through its own description: the caller's keeps its
       * offset. */
      int again = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close (fd);
      if (again >= 0)
        walk (&s, again, "/");
    }
  g_ptr_array_sort (s.changes, compare_changes);
  for (guint i = 0; i < s.lower_fds->len; i++)
    if (g_array_index (s.lower_fds, int, i) >= 0)
      close (g_array_index (s.lower_fds, int, i));
  g_array_unref (s.lower_fds);
  return s.changes;
}

GPtrArray *
sbx_diff_scan_here (const char *upper, const char *const *lowers)
{
  cleanup_fd int top = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return sbx_diff_scan_fd (top, lowers);
}

/* ---- serialization ----------------------------------------------------- */

/* The type of one change, and its format strings: byte strings for the
 * paths, which need not be UTF-8. */
#define CHANGE_TYPE "(yayayuuuutxubxutttayayiu)"
#define CHANGE_NEW  "(y^ay^ayuuuutxubxuttt^ay^ayiu)"
#define CHANGE_GET  "(y^&ay^&ayuuuutxubxuttt^&ay^&ayiu)"

GBytes *
sbx_diff_serialize (GPtrArray *changes)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a" CHANGE_TYPE));
  for (guint i = 0; i < changes->len; i++)
    {
      const SbxChange *c = changes->pdata[i];
      g_variant_builder_add (&b, CHANGE_NEW, (guchar)c->kind, c->path, c->upper_rel, c->flags,
                             c->mode, c->uid, c->gid, c->size, c->mtime_sec, c->mtime_nsec,
                             c->has_btime, c->btime_sec, c->btime_nsec, c->dev, c->ino, c->nlink,
                             c->target != NULL ? c->target : "", c->xattrs != NULL ? c->xattrs : "",
                             c->lower, c->lower_mode);
    }
  g_autoptr (GVariant) v = g_variant_ref_sink (g_variant_builder_end (&b));
  return g_variant_get_data_as_bytes (v);
}

/* A path as the scan makes them: absolute, no empty, "." or ".."
 * component, no trailing slash. */
static gboolean
path_is_canonical (const char *path)
{
  if (path[0] != '/')
    return FALSE;
  if (path[1] == '\0')
    return TRUE;
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    if (**p == '\0' || strcmp (*p, ".") == 0 || strcmp (*p, "..") == 0)
      return FALSE;
  return TRUE;
}

GPtrArray *
sbx_diff_deserialize (GBytes *bytes, GError **error)
{
  g_autoptr (GVariant) v = g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE ("a" CHANGE_TYPE), bytes, FALSE));
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_change_free);
  GVariantIter it;
  guchar kind;
  const char *path, *upper_rel, *target, *xattrs;
  SbxChange tmp = { 0 };

  g_variant_iter_init (&it, v);
  while (g_variant_iter_next (&it, CHANGE_GET, &kind, &path, &upper_rel, &tmp.flags, &tmp.mode,
                              &tmp.uid, &tmp.gid, &tmp.size, &tmp.mtime_sec, &tmp.mtime_nsec,
                              &tmp.has_btime, &tmp.btime_sec, &tmp.btime_nsec, &tmp.dev, &tmp.ino,
                              &tmp.nlink, &target, &xattrs, &tmp.lower, &tmp.lower_mode))
    {
      if ((kind != 'A' && kind != 'C' && kind != 'D') || !path_is_canonical (path)
          || strcmp (path, "/") == 0 || tmp.mtime_nsec >= 1000000000
          || tmp.btime_nsec >= 1000000000)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "a malformed change of the layer");
          return NULL;
        }
      SbxChange *c = g_new (SbxChange, 1);
      *c = tmp;
      c->kind = (char)kind;
      c->path = g_strdup (path);
      c->upper_rel = g_strdup (upper_rel);
      c->target = target[0] != '\0' ? g_strdup (target) : NULL;
      c->xattrs = xattrs[0] != '\0' ? g_strdup (xattrs) : NULL;
      g_ptr_array_add (changes, c);
    }
  return g_steal_pointer (&changes);
}

/* ---- names in output --------------------------------------------------- */

/* Whether the character @c must not reach a terminal as it is: C0 and C1
 * controls, DEL, and the invisible format characters (bidirectional
 * overrides) and line separators that change how a line reads. */
static gboolean
unprintable (gunichar c)
{
  GUnicodeType t = g_unichar_type (c);
  return c < 0x20 || (c >= 0x7f && c < 0xa0) || t == G_UNICODE_FORMAT
         || t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

char *
sbx_diff_quote (const char *prefix, const char *name)
{
  g_autofree char *word = g_strconcat (prefix, name, NULL);
  gboolean utf8 = g_utf8_validate (word, -1, NULL);
  gboolean plain = utf8;
  for (const char *p = word; plain && *p != '\0'; p = g_utf8_next_char (p))
    plain = *p != '"' && *p != '\\' && !unprintable (g_utf8_get_char (p));
  if (plain)
    return g_steal_pointer (&word);

  GString *q = g_string_new ("\"");
  for (const char *p = word; *p != '\0';)
    {
      static const char escapes[] = "\aa\bb\tt\nn\vv\ff\rr\"\"\\\\";
      const char *e = strchr (escapes, *p);
      if (e != NULL && ((e - escapes) % 2) == 0)
        {
          g_string_append_c (q, '\\');
          g_string_append_c (q, e[1]);
          p++;
          continue;
        }
      if (utf8 && (guchar)*p >= 0x80 && !unprintable (g_utf8_get_char (p)))
        {
          const char *next = g_utf8_next_char (p);
          g_string_append_len (q, p, next - p);
          p = next;
          continue;
        }
      if ((guchar)*p < 0x20 || (guchar)*p >= 0x7f)
        {
          /* An unprintable character (or a byte of one that is not UTF-8):
           * each byte in octal, as git writes them. */
          const char *next = utf8 ? g_utf8_next_char (p) : p + 1;
          for (; p < next; p++)
            g_string_append_printf (q, "\\%03o", (guchar)*p);
          continue;
        }
      g_string_append_c (q, *p++);
    }
  g_string_append_c (q, '"');
  return g_string_free (q, FALSE);
}

gboolean
sbx_diff_path_under (const char *path, const char *filter)
{
  size_t n = strlen (filter);
  if (n == 1 && filter[0] == '/')
    return TRUE;
  return strncmp (path, filter, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
