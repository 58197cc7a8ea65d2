/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply.c: `sbx apply`: a kept layer's changes written to the host.
 *
 * Two processes.  The reader (layer.c), in the user namespace where the
 * caller's ranges are mapped, alone resolves paths in the layer, through
 * fds, and hands each file over as an open fd; afterwards it removes what
 * was applied from the layer.  This process, the caller's own with no
 * capability, writes the host: each parent directory is opened from / one
 * component at a time with openat2(RESOLVE_NO_SYMLINKS) (the layer records
 * real paths: a symlink on the way means the host changed), and every
 * operation is relative to that fd.  A file is written to a new, unnamed
 * file beside its place (O_TMPFILE, or O_CREAT | O_EXCL | O_NOFOLLOW under
 * a temporary name), linked and renamed over: the host's file is the old
 * one or the new one, never half of each. */
#include "config.h"

#include "apply.h"
#include "diff.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The host's paths are resolved without symlinks, magic links or "..". */
#define HOST_RESOLVE (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH)

/* Deeper than this, a host tree to delete is not looked through. */
#define MAX_DEPTH 256

typedef struct
{
  const SbxApplyOptions *o;
  SbxLayer *layer;
  GPtrArray *changes;
  SbxPatch *patch; /* for 'd' */
  const SbxLayerRecord *record;
  GHashTable *by_path;  /* path -> index + 1 */
  GHashTable *has_kids; /* paths of directories with a selected change below */
  gboolean *is_item;    /* per change: asked about and applied on its own */
  gboolean *done;       /* per change: in place on the host now */
  GArray *fixups;       /* Fixup, directories whose mode and time are set last */
  guint n_items, at_item;
  gboolean all_rest; /* 'a' */
  gboolean quit;     /* 'q' */
  guint failed;      /* changes asked for and not applied (exit 1) */
  guint left;        /* changes of the default scope skipped (the caller cannot write there) */
} Apply;

typedef struct
{
  char *path;
  mode_t mode;
  gboolean set_time;
  struct timespec mtime;
} Fixup;

static void
fixup_clear (gpointer data)
{
  g_free (((Fixup *)data)->path);
}

const char *
sbx_apply_conflict (char kind, mode_t layer_mode, const struct timespec *since,
                    const struct stat *host)
{
  if (host == NULL)
    return kind == 'C' ? "it is gone from the host" : NULL;
  if (kind == 'A')
    return S_ISDIR (layer_mode) && S_ISDIR (host->st_mode) ? NULL : "it appeared on the host";
  if (since == NULL)
    return "nothing records when the sandbox made it, so a change on the host cannot be ruled out";
  /* At or after: the kernel stamps both with the same coarse clock, and a
   * change in the same tick cannot be ordered; better asked than lost. */
  if (host->st_ctim.tv_sec > since->tv_sec
      || (host->st_ctim.tv_sec == since->tv_sec && host->st_ctim.tv_nsec >= since->tv_nsec))
    return kind == 'D' ? "changed on the host since the sandbox deleted it"
                       : "changed on the host since the sandbox changed it";
  return NULL;
}

/* When the sandbox made @c's entry: its birth time, else the layer's. */
static gboolean
entry_time (Apply *a, const SbxChange *c, struct timespec *ts)
{
  if (c->has_btime)
    {
      ts->tv_sec = c->btime_sec;
      ts->tv_nsec = c->btime_nsec;
      return TRUE;
    }
  if (a->record != NULL && a->record->has_created)
    {
      ts->tv_sec = a->record->created_sec;
      ts->tv_nsec = a->record->created_nsec;
      return TRUE;
    }
  return FALSE;
}

static const SbxChange *
change_at (Apply *a, const char *path, int *index)
{
  gpointer v = g_hash_table_lookup (a->by_path, path);
  if (index != NULL)
    *index = GPOINTER_TO_INT (v) - 1;
  return v != NULL ? a->changes->pdata[GPOINTER_TO_INT (v) - 1] : NULL;
}

static void report (const SbxChange *c, const char *what, const char *fmt, ...) SBX_PRINTF (3, 4);

/* "sbx: WHAT: K PATH: why" on stderr. */
static void
report (const SbxChange *c, const char *what, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *line = sbx_patch_line (c);
  fflush (stdout);
  fprintf (stderr, "sbx: %s: %s: %s\n", what, line, why);
}

/* ---- the host's side ------------------------------------------------------------- */

/* The host directory @dir opened from / one component at a time, none a
 * symlink: as far as it exists.  Returns the fd of the deepest existing
 * directory (O_PATH) with *@existing its path and *@missing the components
 * below it that do not exist; -1 with errno (ELOOP: a symlink on the way,
 * ENOTDIR: a file) and *@existing the path that stopped it. */
static int
open_host_dir (const char *dir, char **existing, GPtrArray *missing)
{
  int fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_auto (GStrv) parts = g_strsplit (dir + 1, "/", -1);
  g_autoptr (GString) path = g_string_new ("");
  for (guint i = 0; fd >= 0 && parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      if (missing->len > 0)
        {
          g_ptr_array_add (missing, g_strdup (parts[i]));
          continue;
        }
      int next = sbx_util_openat2 (fd, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                   HOST_RESOLVE);
      if (next < 0 && errno == ENOENT)
        {
          g_ptr_array_add (missing, g_strdup (parts[i]));
          continue;
        }
      g_string_append_printf (path, "/%s", parts[i]);
      if (next < 0)
        {
          int errsv = errno;
          struct stat st;
          /* O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR. */
          if (errsv == ENOTDIR && fstatat (fd, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0
              && S_ISLNK (st.st_mode))
            errsv = ELOOP;
          close (fd);
          *existing = g_strdup (path->str);
          errno = errsv;
          return -1;
        }
      close (fd);
      fd = next;
    }
  *existing = g_strdup (path->len ? path->str : "/");
  return fd;
}

/* The first entry at or below @name in @dirfd whose ctime is at or after
 * @since (what changed on the host after the sandbox deleted it), or
 * NULL. */
static char *
changed_below (int dirfd, const char *name, const char *path, const struct timespec *since,
               guint depth)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return NULL;
  if (sbx_apply_conflict ('D', 0, since, &st) != NULL)
    return g_strdup (path);
  if (!S_ISDIR (st.st_mode))
    return NULL;
  if (depth >= MAX_DEPTH)
    return g_strdup (path);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return g_strdup (path); /* cannot look inside: cannot rule it out */
    }
  struct dirent *e;
  char *found = NULL;
  while (found == NULL && (e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      g_autofree char *sub = g_build_filename (path, e->d_name, NULL);
      found = changed_below (fd, e->d_name, sub, since, depth + 1);
    }
  closedir (d);
  return found;
}

/* Writes the layer's file of change @index as @name in @dirfd: a new file
 * of the caller's, the layer's mode without setuid and setgid, its
 * modification time, renamed over whatever was there. */
static gboolean
write_file (Apply *a, guint index, int dirfd, const char *name, GError **error)
{
  const SbxChange *c = a->changes->pdata[index];
  cleanup_fd int src = sbx_layer_open_file (a->layer, index, error);
  if (src < 0)
    return FALSE;
  char tmp[32] = "";
  gboolean linked = FALSE; /* @tmp names it */
  /* Unnamed until it is whole: an interrupted apply leaves nothing. */
  cleanup_fd int out = openat (dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  for (int tries = 0; out < 0 && tries < 100; tries++)
    {
      /* No O_TMPFILE on this filesystem: a new name of ours. */
      g_snprintf (tmp, sizeof tmp, ".sbx-apply-%08x", g_random_int ());
      out = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      linked = out >= 0;
      if (out < 0 && errno != EEXIST)
        break;
    }
  if (out < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create a file: %s",
                   sbx_util_strerror (errno));
      return FALSE;
    }

  const char *failed = NULL;
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (src, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        failed = "cannot read the layer's file";
      else if (n > 0 && !sbx_util_write_all (out, buf, (size_t)n))
        failed = "cannot write";
      if (n <= 0 || failed != NULL)
        break;
    }
  struct timespec times[2]
      = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = c->mtime_sec, .tv_nsec = c->mtime_nsec } };
  if (failed == NULL && fchmod (out, c->mode & 01777) < 0)
    failed = "cannot set its mode";
  if (failed == NULL && futimens (out, times) < 0)
    failed = "cannot set its time";
  /* On disk before it replaces the host's file. */
  if (failed == NULL && fdatasync (out) < 0)
    failed = "cannot write";
  if (failed == NULL && !linked)
    {
      g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", out);
      for (int tries = 0; tries < 100 && !linked; tries++)
        {
          g_snprintf (tmp, sizeof tmp, ".sbx-apply-%08x", g_random_int ());
          linked = linkat (AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) == 0;
          if (!linked && errno != EEXIST)
            break;
        }
      if (!linked)
        failed = "cannot link it";
    }
  if (failed == NULL && renameat (dirfd, tmp, dirfd, name) < 0)
    failed = "cannot rename it into place";
  if (failed == NULL)
    return TRUE;
  int errsv = errno;
  if (linked)
    unlinkat (dirfd, tmp, 0);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", failed,
               sbx_util_strerror (errsv));
  return FALSE;
}

/* Makes the symlink of @c as @name in @dirfd, renamed over what was there. */
static gboolean
write_symlink (const SbxChange *c, int dirfd, const char *name, GError **error)
{
  char tmp[32];
  int errsv = EEXIST;
  for (int tries = 0; tries < 100 && errsv == EEXIST; tries++)
    {
      g_snprintf (tmp, sizeof tmp, ".sbx-apply-%08x", g_random_int ());
      errsv = symlinkat (c->target, dirfd, tmp) == 0 ? 0 : errno;
    }
  struct timespec times[2]
      = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = c->mtime_sec, .tv_nsec = c->mtime_nsec } };
  if (errsv == 0)
    {
      utimensat (dirfd, tmp, times, AT_SYMLINK_NOFOLLOW);
      if (renameat (dirfd, tmp, dirfd, name) == 0)
        return TRUE;
      errsv = errno;
      unlinkat (dirfd, tmp, 0);
    }
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s",
               sbx_util_strerror (errsv));
  return FALSE;
}

/* Sets the mode (and time) of the directory @name of @dirfd, without
 * following a symlink: through an O_PATH fd of it. */
static gboolean
set_dir_attrs (int dirfd, const char *name, const Fixup *f)
{
  cleanup_fd int fd
      = sbx_util_openat2 (dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, HOST_RESOLVE);
  if (fd < 0)
    return FALSE;
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, f->mtime };
  return chmod (proc, f->mode) == 0 && (!f->set_time || utimensat (AT_FDCWD, proc, times, 0) == 0);
}

static void
add_fixup (Apply *a, const char *path, const SbxChange *c, gboolean set_time)
{
  /* A directory's setuid bit means nothing; setgid and sticky stay. */
  Fixup f = { .path = g_strdup (path),
              .mode = c->mode & 03777,
              .set_time = set_time,
              .mtime = { .tv_sec = c->mtime_sec, .tv_nsec = c->mtime_nsec } };
  g_array_append_val (a->fixups, f);
}

/* Creates the missing directories @missing below @fd (the host's @existing),
 * each as the layer has it (mode and time set at the end; 0700 until then,
 * so that its entries can be made).  Returns the fd of the last one. */
static int
make_dirs (Apply *a, int fd, const char *existing, GPtrArray *missing, GError **error)
{
  g_autofree char *path = g_strdup (existing);
  int dir = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  for (guint i = 0; dir >= 0 && i < missing->len; i++)
    {
      const char *name = missing->pdata[i];
      char *longer = g_build_filename (path, name, NULL);
      g_free (path);
      path = longer;
      int index;
      const SbxChange *c = change_at (a, path, &index);
      if (mkdirat (dir, name, 0700) < 0 && errno != EEXIST)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s",
                       path, sbx_util_strerror (errno));
          close (dir);
          return -1;
        }
      add_fixup (a, path, c, TRUE);
      a->done[index] = TRUE;
      int next = sbx_util_openat2 (dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                   HOST_RESOLVE);
      close (dir);
      dir = next;
      if (dir < 0)
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
                     sbx_util_strerror (errno));
    }
  return dir;
}

/* ---- asking ---------------------------------------------------------------------- */

typedef enum
{
  ANSWER_YES,
  ANSWER_NO,
  ANSWER_QUIT,
} Answer;

/* As `git add -p`: y, n, d (the diff, then ask again), q, a, ?. */
static Answer
ask (Apply *a, guint index)
{
  const SbxChange *c = a->changes->pdata[index];
  g_autofree char *line = sbx_patch_line (c);
  if (a->all_rest)
    return ANSWER_YES;
  for (;;)
    {
      gboolean color = sbx_patch_want_color (a->o->color, stdout);
      printf ("%s(%u/%u) Apply %s [y,n,d,q,a,?]? %s", color ? "\033[1;34m" : "", a->at_item,
              a->n_items, line, color ? "\033[m" : "");
      fflush (stdout);
      g_autofree char *answer = NULL;
      size_t size = 0;
      if (getline (&answer, &size, stdin) < 0)
        {
          printf ("\n");
          return ANSWER_QUIT;
        }
      switch (g_ascii_tolower (answer[strspn (answer, " \t")]))
        {
        case 'y':
          return ANSWER_YES;
        case 'n':
          return ANSWER_NO;
        case 'q':
          return ANSWER_QUIT;
        case 'a':
          a->all_rest = TRUE;
          return ANSWER_YES;
        case 'd':
          sbx_patch_print (a->patch, index);
          break;
        default:
          printf ("y - apply this change\n"
                  "n - do not apply this change\n"
                  "d - show the diff of this change\n"
                  "q - quit; do not apply this change or any of the remaining ones\n"
                  "a - apply this change and all the remaining ones\n"
                  "? - print help\n");
          break;
        }
    }
}

/* ---- one change ------------------------------------------------------------------ */

/* Whether @c is of a type apply does not make (said so). */
static gboolean
refused_type (const SbxChange *c)
{
  if (c->kind == 'D' || S_ISREG (c->mode) || S_ISDIR (c->mode) || S_ISLNK (c->mode))
    return FALSE;
  const char *what = S_ISFIFO (c->mode)   ? "a fifo"
                     : S_ISSOCK (c->mode) ? "a socket"
                     : S_ISCHR (c->mode)  ? "a character device"
                     : S_ISBLK (c->mode)  ? "a block device"
                                          : "of an unknown type";
  report (c, "not applied", "it is %s; sbx apply makes only files, directories and symlinks", what);
  return TRUE;
}

/* Applies change @index (an item), as far as the options let it. */
static void
apply_item (Apply *a, guint index)
{
  const SbxChange *c = a->changes->pdata[index];
  g_autofree char *parent = g_path_get_dirname (c->path);
  g_autofree char *name = g_path_get_basename (c->path);
  g_autoptr (GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *existing = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_dir = S_ISDIR (c->mode);
  g_autofree char *line = sbx_patch_line (c);

  a->at_item++;
  if (refused_type (c))
    {
      a->failed++;
      return;
    }
  cleanup_fd int fd = open_host_dir (parent, &existing, missing);
  if (fd < 0)
    {
      int errsv = errno;
      g_autofree char *q = sbx_diff_quote ("", existing);
      report (c, "conflict", "%s is %s on the host: the host changed", q,
              errsv == ELOOP     ? "a symlink"
              : errsv == ENOTDIR ? "not a directory"
                                 : sbx_util_strerror (errsv));
      a->failed++;
      return;
    }
  struct stat host;
  gboolean has_host = missing->len == 0 && fstatat (fd, name, &host, AT_SYMLINK_NOFOLLOW) == 0;
  if (c->kind == 'D' && !has_host)
    {
      /* Gone from the host already: nothing to do but forget it. */
      a->done[index] = TRUE;
      if (!a->o->interactive)
        printf ("%s\n", line);
      return;
    }
  /* The directories to make must be the layer's own new ones; one that
   * the sandbox saw (C) and the host no longer has was deleted there. */
  g_autofree char *path = g_strdup (existing);
  for (guint i = 0; i < missing->len; i++)
    {
      char *longer = g_build_filename (path, missing->pdata[i], NULL);
      g_free (path);
      path = longer;
      const SbxChange *d = change_at (a, path, NULL);
      g_autofree char *q = sbx_diff_quote ("", path);
      if (d == NULL || !S_ISDIR (d->mode))
        {
          report (c, "not applied", "the layer holds no directory %s", q);
          a->failed++;
          return;
        }
      if (d->kind == 'C' && !a->o->force)
        {
          report (c, "conflict",
                  "its directory %s is gone from the host; not applied (--force applies it)", q);
          a->failed++;
          return;
        }
    }
  /* Only below directories the caller can write; the rest is the default
   * scope's to skip. */
  if (faccessat (fd, "", W_OK | X_OK, AT_EACCESS | AT_EMPTY_PATH) < 0)
    {
      g_autofree char *q = sbx_diff_quote ("", existing);
      report (c, "skipped", "you cannot write %s", q);
      if (a->o->paths != NULL)
        a->failed++;
      a->left++;
      return;
    }

  struct timespec since;
  gboolean known = entry_time (a, c, &since);
  const char *conflict
      = sbx_apply_conflict (c->kind, c->mode, known ? &since : NULL, has_host ? &host : NULL);
  /* Deleting a directory, or replacing one by something else, deletes what
   * it holds: none of that may have changed since either. */
  g_autofree char *below = NULL;
  if (conflict == NULL && has_host && S_ISDIR (host.st_mode) && !is_dir && known)
    below = changed_below (fd, name, c->path, &since, 0);
  if ((conflict != NULL || below != NULL) && !a->o->force)
    {
      g_autofree char *qb = below != NULL ? sbx_diff_quote ("", below) : NULL;
      if (conflict != NULL)
        report (c, "conflict", "%s; not applied (--force applies it)", conflict);
      else
        report (c, "conflict", "%s changed on the host since; not applied (--force applies it)",
                qb);
      a->failed++;
      return;
    }
  /* A directory's mode is the owner's to change. */
  gboolean mode_change = is_dir && c->kind == 'C' && has_host && S_ISDIR (host.st_mode)
                         && (host.st_mode & 03777) != (c->mode & 03777);
  if (mode_change && host.st_uid != geteuid ())
    {
      report (c, "skipped", "the directory is not yours: its mode cannot be changed");
      if (a->o->paths != NULL)
        a->failed++;
      a->left++;
      return;
    }

  if (a->o->interactive && !a->quit)
    switch (ask (a, index))
      {
      case ANSWER_QUIT:
        a->quit = TRUE;
        return;
      case ANSWER_NO:
        return;
      case ANSWER_YES:
      default:
        break;
      }
  if (a->quit)
    return;

  g_autofree char *qpath = sbx_diff_quote ("", c->path);
  fflush (stdout); /* the lines before come first */
  if (S_ISREG (c->mode) && (c->mode & (S_ISUID | S_ISGID)))
    fprintf (stderr, "sbx: warning: %s: %s dropped (mode %04o applied as %04o)\n", qpath,
             (c->mode & S_ISUID) ? "setuid bit" : "setgid bit", (guint)(c->mode & 07777),
             (guint)(c->mode & 01777));
  if (c->xattrs != NULL && c->kind != 'D')
    fprintf (stderr, "sbx: warning: %s: extended attributes not copied: %s\n", qpath, c->xattrs);
  if (a->o->dry_run)
    {
      if (!a->o->interactive || a->all_rest)
        printf ("%s\n", line);
      return;
    }

  gboolean ok = TRUE;
  if (missing->len > 0)
    {
      int made = make_dirs (a, fd, existing, missing, &error);
      sbx_util_close_fdp (&fd);
      fd = made;
      ok = fd >= 0;
      has_host = FALSE;
    }
  /* What is there goes first when the type changes (a directory cannot be
   * renamed over); a file or symlink is replaced by the rename itself. */
  if (ok && has_host && (c->kind == 'D' || (S_ISDIR (host.st_mode) && !is_dir)))
    {
      ok = sbx_util_remove_tree_at (fd, name, c->path, FALSE);
      if (!ok)
        g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot remove what is there");
      has_host = FALSE;
    }
  else if (ok && has_host && is_dir && !S_ISDIR (host.st_mode))
    {
      ok = unlinkat (fd, name, 0) == 0;
      if (!ok)
        g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s",
                     sbx_util_strerror (errno));
      has_host = FALSE;
    }
  if (ok && c->kind != 'D')
    {
      if (S_ISREG (c->mode))
        ok = write_file (a, index, fd, name, &error);
      else if (S_ISLNK (c->mode))
        ok = write_symlink (c, fd, name, &error);
      else if (!has_host)
        {
          ok = mkdirat (fd, name, 0700) == 0;
          if (!ok)
            g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s",
                         sbx_util_strerror (errno));
          else
            add_fixup (a, c->path, c, TRUE);
        }
      else if (mode_change)
        add_fixup (a, c->path, c, FALSE);
    }
  if (!ok)
    {
      report (c, "cannot apply", "%s", error != NULL ? error->message : "failed");
      a->failed++;
      return;
    }
  a->done[index] = TRUE;
  /* Asked about, the change was on the screen; after 'a' it is said. */
  if (!a->o->interactive || a->all_rest)
    printf ("%s\n", line);
}

/* Whether the directory change @c is more than the parent of others: its
 * type or its mode changed. */
static gboolean
own_change (const SbxChange *c)
{
  return c->kind == 'C' && S_ISDIR (c->mode)
         && (!S_ISDIR (c->lower_mode) || (c->flags & SBX_CHANGE_DIR_MODE));
}

/* Marks the directories above every applied change as in place (they are
 * on the host now), unless they are items not applied (a mode change
 * declined). */
static void
mark_parents (Apply *a)
{
  for (guint i = 0; i < a->changes->len; i++)
    {
      const SbxChange *c = a->changes->pdata[i];
      if (!a->done[i])
        continue;
      g_autofree char *p = g_path_get_dirname (c->path);
      while (strcmp (p, "/") != 0)
        {
          int j;
          const SbxChange *d = change_at (a, p, &j);
          if (d != NULL && !own_change (d))
            a->done[j] = TRUE;
          char *up = g_path_get_dirname (p);
          g_free (p);
          p = up;
        }
    }
}

static gint
deepest_first (gconstpointer x, gconstpointer y)
{
  return -strcmp (((const Fixup *)x)->path, ((const Fixup *)y)->path);
}

/* The modes and times of the directories made or changed, deepest first
 * (a directory's time after its entries are made). */
static void
fix_dirs (Apply *a)
{
  g_array_sort (a->fixups, deepest_first);
  for (guint i = 0; i < a->fixups->len; i++)
    {
      const Fixup *f = &g_array_index (a->fixups, Fixup, i);
      g_autofree char *parent = g_path_get_dirname (f->path);
      g_autofree char *name = g_path_get_basename (f->path);
      g_autofree char *existing = NULL;
      g_autoptr (GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
      cleanup_fd int fd = open_host_dir (parent, &existing, missing);
      if (fd < 0 || missing->len > 0 || !set_dir_attrs (fd, name, f))
        {
          g_autofree char *q = sbx_diff_quote ("", f->path);
          fprintf (stderr, "sbx: cannot set the mode of %s: %s\n", q, sbx_util_strerror (errno));
          a->failed++;
        }
    }
}

/* Which changes are asked about and applied on their own: every deletion,
 * file and symlink; a directory when it is new and empty, or its type or
 * mode changed.  The others are the parents of changes, made when one
 * below is applied. */
static void
find_items (Apply *a, GArray *selected)
{
  for (guint k = 0; k < selected->len; k++)
    {
      const SbxChange *c = a->changes->pdata[g_array_index (selected, guint, k)];
      g_autofree char *p = g_path_get_dirname (c->path);
      while (strcmp (p, "/") != 0 && !g_hash_table_contains (a->has_kids, p))
        {
          char *up = g_path_get_dirname (p);
          g_hash_table_add (a->has_kids, p);
          p = up;
        }
    }
  for (guint k = 0; k < selected->len; k++)
    {
      guint i = g_array_index (selected, guint, k);
      const SbxChange *c = a->changes->pdata[i];
      gboolean item = TRUE;
      if (c->kind != 'D' && S_ISDIR (c->mode))
        {
          if (c->kind == 'A')
            item = !g_hash_table_contains (a->has_kids, c->path);
          else
            item = own_change (c);
        }
      a->is_item[i] = item;
      a->n_items += item;
    }
}

/* Applies the changes @o selects; *@settled (or NULL): every one of them
 * was applied or declined, none left for later (quit, skipped, failed). */
static int
apply_layer (SbxLayer *layer, const SbxLayerSource *source, const SbxApplyOptions *o,
             gboolean *settled)
{
  GPtrArray *changes = sbx_layer_changes (layer);
  g_autoptr (GArray) selected = sbx_patch_select (changes, o->paths);
  g_autoptr (SbxPatch) patch
      = sbx_patch_new (layer, source->lowers, sbx_patch_want_color (o->color, stdout), stdout);
  Apply a = { .o = o,
              .layer = layer,
              .changes = changes,
              .patch = patch,
              .record = &source->record,
              .by_path = g_hash_table_new (g_str_hash, g_str_equal),
              .has_kids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
              .is_item = g_new0 (gboolean, changes->len + 1),
              .done = g_new0 (gboolean, changes->len + 1),
              .fixups = g_array_new (FALSE, FALSE, sizeof (Fixup)) };
  g_array_set_clear_func (a.fixups, fixup_clear);
  for (guint i = 0; i < changes->len; i++)
    g_hash_table_insert (a.by_path, ((SbxChange *)changes->pdata[i])->path,
                         GINT_TO_POINTER (i + 1));
  find_items (&a, selected);
  /* A PATH with nothing of the layer at or below it is most likely a typo. */
  for (char **p = o->paths; p != NULL && *p != NULL; p++)
    {
      gboolean any = FALSE;
      for (guint k = 0; k < selected->len && !any; k++)
        any = sbx_diff_path_under (
            ((SbxChange *)changes->pdata[g_array_index (selected, guint, k)])->path, *p);
      if (!any)
        {
          g_autofree char *q = sbx_diff_quote ("", *p);
          fprintf (stderr, "sbx: warning: the layer holds no change at or below %s\n", q);
        }
    }

  for (guint k = 0; k < selected->len && !a.quit; k++)
    {
      guint i = g_array_index (selected, guint, k);
      if (a.is_item[i])
        apply_item (&a, i);
    }
  int status = 0;
  if (!o->dry_run)
    {
      fix_dirs (&a);
      mark_parents (&a);
      g_autoptr (GArray) applied = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint i = 0; i < changes->len; i++)
        if (a.done[i])
          g_array_append_val (applied, i);
      g_autoptr (GError) error = NULL;
      guint failed = 0;
      if (!o->keep && applied->len > 0 && !sbx_layer_forget (layer, applied, &failed, &error))
        {
          fflush (stdout);
          fprintf (stderr, "sbx: applied, but %u %s stayed in the layer: %s\n", failed,
                   failed == 1 ? "entry" : "entries", error->message);
          status = 1;
        }
    }
  if (a.failed > 0)
    status = 1;
  if (settled != NULL)
    *settled = status == 0 && !a.quit && a.left == 0;
  g_hash_table_unref (a.by_path);
  g_hash_table_unref (a.has_kids);
  g_free (a.is_item);
  g_free (a.done);
  g_array_unref (a.fixups);
  return fflush (stdout) == 0 ? status : SBX_EXIT_FAILURE;
}

int
sbx_apply_review (const SbxSpec *caller, const SbxLayerSource *source, SbxColor color,
                  gboolean interactive, SbxReviewOutcome *outcome)
{
  g_autoptr (GError) error = NULL;
  *outcome = SBX_REVIEW_LEFT;
  g_autoptr (SbxLayer) layer = sbx_layer_open (caller, source, &error);
  if (layer == NULL)
    {
      fprintf (stderr, "sbx: %s\n", error->message);
      return SBX_EXIT_FAILURE;
    }
  GPtrArray *changes = sbx_layer_changes (layer);
  if (changes->len == 0)
    {
      *outcome = SBX_REVIEW_EMPTY;
      return 0;
    }
  if (!interactive)
    return 0;
  g_autoptr (GArray) all = sbx_patch_select (changes, NULL);
  g_autoptr (SbxPatch) patch
      = sbx_patch_new (layer, source->lowers, sbx_patch_want_color (color, stdout), stdout);
  sbx_patch_stat (patch, all);
  SbxApplyOptions o = { .interactive = TRUE, .color = color };
  gboolean settled = FALSE;
  int status = apply_layer (layer, source, &o, &settled);
  if (settled)
    *outcome = SBX_REVIEW_SETTLED;
  return status;
}

/* Takes the name as `sbx run --name` does, so that no sandbox of that name
 * starts while its layer is applied; refused while one runs. */
static SbxStateClaim *
claim_name (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = sbx_state_runtime_root (NULL);
  if (root == NULL)
    return NULL;
  SbxStateClaim *claim = sbx_state_claim (name, &error);
  if (claim != NULL)
    return claim;
  if (g_error_matches (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE))
    sbx_die ("%s is running: applying its changes while it writes them would race with it; "
             "stop it first ('sbx stop %s')",
             name, name);
  sbx_die ("cannot apply %s: %s", name, error->message);
}

int
sbx_apply_command (const SbxSpec *caller, const char *name, const char *upper,
                   const SbxApplyOptions *o)
{
  g_autoptr (GError) error = NULL;
  if (name != NULL)
    {
      g_autoptr (SbxSandboxInfo) info = sbx_state_lookup (name, &error);
      if (info == NULL)
        sbx_die ("%s", error->message);
      if (info->status == SBX_STATUS_RUNNING)
        sbx_die ("%s is running: applying its changes while it writes them would race with it; "
                 "stop it first ('sbx stop %s')",
                 name, name);
    }
  SbxStateClaim *claim = name != NULL ? claim_name (name) : NULL;
  g_autoptr (SbxLayerSource) source = sbx_layer_source_new (name, upper, NULL, &error);
  if (source == NULL)
    sbx_die ("%s", error->message);
  if (!source->over_host)
    {
      const char *what = name != NULL ? name : upper;
      if (source->record.rootfs != NULL)
        sbx_die ("%s lies on --rootfs %s, not on the host's /: sbx apply writes changes of the "
                 "host's / only ('sbx diff' shows them)",
                 what, source->record.rootfs);
      sbx_die ("%s lies on --layer directories: its changes are not changes of the host's / "
               "alone, and sbx apply writes only those ('sbx diff' shows them)",
               what);
    }
  /* The layer is taken as a run takes it: no sandbox runs on it or starts
   * meanwhile. */
  cleanup_fd int lock = sbx_state_lock_layer (source->dir != NULL ? source->dir : source->upper,
                                              "sbx apply", &error);
  if (lock < 0)
    {
      if (g_error_matches (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE))
        sbx_die ("%s: %s: applying its changes while it is written would race with the writer; "
                 "stop it first",
                 name != NULL ? name : upper, error->message);
      sbx_die ("%s", error->message);
    }
  g_autoptr (SbxLayer) layer = sbx_layer_open (caller, source, &error);
  if (layer == NULL)
    sbx_die ("%s", error->message);
  int status = apply_layer (layer, source, o, NULL);
  g_clear_pointer (&layer, sbx_layer_close);
  sbx_state_release (claim);
  return status;
}
