/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patch.c: `sbx diff`: the list, the patch (-p) and the diffstat (--stat).
 *
 * Text is compared by GNU diff (diffutils, Essential in Debian), run from
 * an fd opened on the host as `diff -u -a` over two fds: the lower file
 * (opened here, by the caller, as /dev/fd/3) and the layer's file, which
 * only the reader may open (layer.c) and which is handed to diff as its
 * standard input: a file of a subordinate id with mode 0600 cannot be
 * opened again by path, not even as /dev/fd/N, but read through the fd it
 * can.  sbx writes the headers itself, as git does, and colours the lines. */
#include "config.h"

#include "patch.h"
#include "ext.h"
#include "helper.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* git's colours (color.diff.*): meta bold, frag cyan, old red, new green. */
#define C_META  "\033[1m"
#define C_FRAG  "\033[36m"
#define C_OLD   "\033[31m"
#define C_NEW   "\033[32m"
#define C_RESET "\033[m"

/* As git: a NUL in the first 8000 bytes makes a file binary. */
#define SNIFF_BYTES 8000

gboolean
sbx_patch_parse_color (const char *value, SbxColor *out)
{
  if (value == NULL || strcmp (value, "always") == 0 || strcmp (value, "yes") == 0
      || strcmp (value, "true") == 0)
    *out = SBX_COLOR_ALWAYS;
  else if (strcmp (value, "never") == 0 || strcmp (value, "no") == 0
           || strcmp (value, "false") == 0)
    *out = SBX_COLOR_NEVER;
  else if (strcmp (value, "auto") == 0)
    *out = SBX_COLOR_AUTO;
  else
    return FALSE;
  return TRUE;
}

gboolean
sbx_patch_want_color (SbxColor color, FILE *out)
{
  if (color != SBX_COLOR_AUTO)
    return color == SBX_COLOR_ALWAYS;
  const char *term = g_getenv ("TERM");
  const char *no_color = g_getenv ("NO_COLOR");
  return isatty (fileno (out)) && (term == NULL || strcmp (term, "dumb") != 0)
         && (no_color == NULL || no_color[0] == '\0');
}

/* @path (absolute, canonical) with the symlinks of its existing
 * directories resolved, the last component kept. */
static char *
resolve_parents (const char *path)
{
  if (strcmp (path, "/") == 0)
    return g_strdup (path);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *rest = g_strdup ("");
  for (;;)
    {
      char *real = realpath (dir, NULL);
      if (real != NULL)
        {
          g_autofree char *joined = g_build_filename (real, rest, base, NULL);
          free (real);
          return g_canonicalize_filename (joined, "/");
        }
      if (strcmp (dir, "/") == 0)
        return g_strdup (path);
      g_autofree char *name = g_path_get_basename (dir);
      char *up = g_path_get_dirname (dir);
      char *longer = g_build_filename (name, rest, NULL);
      g_free (rest);
      rest = longer;
      g_free (dir);
      dir = up;
    }
}

char **
sbx_patch_canonical_paths (char **args, gboolean host)
{
  if (args == NULL || args[0] == NULL)
    return NULL;
  /* getcwd(), not $PWD: the kernel's view, without the shell's symlinks. */
  char *cwd = getcwd (NULL, 0);
  GPtrArray *v = g_ptr_array_new ();
  for (char **a = args; *a != NULL; a++)
    {
      g_autofree char *abs = g_canonicalize_filename (*a, cwd != NULL ? cwd : "/");
      g_ptr_array_add (v, host ? resolve_parents (abs) : g_steal_pointer (&abs));
    }
  free (cwd);
  g_ptr_array_add (v, NULL);
  return (char **)g_ptr_array_free (v, FALSE);
}

GArray *
sbx_patch_select (GPtrArray *changes, char **paths)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < changes->len; i++)
    {
      const SbxChange *c = changes->pdata[i];
      gboolean in = paths == NULL;
      for (char **p = paths; !in && *p != NULL; p++)
        in = sbx_diff_path_under (c->path, *p);
      if (in)
        g_array_append_val (out, i);
    }
  return out;
}

char *
sbx_patch_line (const SbxChange *change)
{
  g_autofree char *quoted = sbx_diff_quote ("", change->path);
  return g_strdup_printf ("%c %s", change->kind, quoted);
}

/* ---- the two sides of a change ---------------------------------------------------- */

struct SbxPatch
{
  SbxLayer *layer;
  GArray *lower_fds; /* int: the lower layers' roots, O_PATH (-1: missing) */
  gboolean color;
  FILE *out;
  int diff_exe; /* GNU diff, opened on first use; -1 */
  gboolean diff_missing;
};

/* One side of a change: the lower entry (old) or the layer's (new). */
typedef struct
{
  mode_t mode; /* 0: none */
  int fd;      /* a regular file's, or -1 when it cannot be read */
  char *target;
  guint64 size;
  char *error; /* why @fd is -1 */
} Side;

static void
side_clear (Side *s)
{
  sbx_util_close_fdp (&s->fd);
  g_clear_pointer (&s->target, g_free);
  g_clear_pointer (&s->error, g_free);
}

SbxPatch *
sbx_patch_new (SbxLayer *layer, char **lowers, gboolean color, FILE *out)
{
  SbxPatch *p = g_new0 (SbxPatch, 1);
  p->layer = layer;
  p->lower_fds = g_array_new (FALSE, FALSE, sizeof (int));
  for (char **l = lowers; l != NULL && *l != NULL; l++)
    {
      int fd = open (*l, O_PATH | O_DIRECTORY | O_CLOEXEC);
      g_array_append_val (p->lower_fds, fd);
    }
  p->color = color;
  p->out = out;
  p->diff_exe = -1;
  return p;
}

void
sbx_patch_free (SbxPatch *p)
{
  if (p == NULL)
    return;
  sbx_util_close_fdp (&p->diff_exe);
  for (guint i = 0; i < p->lower_fds->len; i++)
    sbx_util_close_fdp (&g_array_index (p->lower_fds, int, i));
  g_array_unref (p->lower_fds);
  g_free (p);
}

/* The lower entry of @c as it is now, read as the caller, found as the
 * scan found it (no symlink followed on the way). */
static void
read_old (SbxPatch *p, const SbxChange *c, Side *s)
{
  *s = (Side){ .fd = -1 };
  if (c->lower < 0 || (guint)c->lower >= p->lower_fds->len)
    return;
  struct stat st;
  g_autofree char *name = NULL;
  cleanup_fd int dir
      = sbx_diff_open_lower (g_array_index (p->lower_fds, int, c->lower), c->path, &name, &st);
  if (dir < 0)
    return;
  s->mode = st.st_mode;
  s->size = (guint64)st.st_size;
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (dir, name, target, sizeof target - 1);
      if (n >= 0)
        s->target = g_strndup (target, (gsize)n);
    }
  else if (S_ISREG (st.st_mode))
    {
      struct stat fst;
      s->fd = openat (dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (s->fd < 0)
        s->error = g_strdup (sbx_util_strerror (errno));
      else if (fstat (s->fd, &fst) < 0 || fst.st_ino != st.st_ino || fst.st_dev != st.st_dev)
        {
          sbx_util_close_fdp (&s->fd);
          s->error = g_strdup ("it changed while being read");
        }
    }
}

/* The layer's entry of change @index; its file opened by the reader. */
static void
read_new (SbxPatch *p, guint index, Side *s)
{
  const SbxChange *c = sbx_layer_changes (p->layer)->pdata[index];
  *s = (Side){ .fd = -1 };
  if (c->kind == 'D')
    return;
  s->mode = c->mode;
  s->size = c->size;
  s->target = g_strdup (c->target);
  if (S_ISREG (c->mode))
    {
      g_autoptr (GError) error = NULL;
      s->fd = sbx_layer_open_file (p->layer, index, &error);
      if (s->fd < 0)
        s->error = g_strdup (error->message);
    }
}

/* ---- comparing two regular files ------------------------------------------------- */

typedef struct
{
  gboolean binary;
  gboolean differ;
  guint ins, del;
  GString *hunks; /* diff's output after its ---/+++ lines */
  char *error;
} FileDiff;

static void
file_diff_clear (FileDiff *d)
{
  if (d->hunks != NULL)
    g_string_free (d->hunks, TRUE);
  g_free (d->error);
  *d = (FileDiff){ 0 };
}

static gboolean
has_nul (int fd)
{
  char buf[SNIFF_BYTES];
  ssize_t n = fd >= 0 ? pread (fd, buf, sizeof buf, 0) : 0;
  return n > 0 && memchr (buf, '\0', (size_t)n) != NULL;
}

/* Whether two files (-1: empty) hold the same bytes. */
static gboolean
same_content (int a, int b)
{
  char ba[65536], bb[sizeof ba];
  off_t off = 0;
  for (;;)
    {
      ssize_t na = a >= 0 ? pread (a, ba, sizeof ba, off) : 0;
      ssize_t nb = b >= 0 ? pread (b, bb, sizeof bb, off) : 0;
      if (na < 0 || nb < 0 || na != nb || memcmp (ba, bb, (size_t)na) != 0)
        return FALSE;
      if (na == 0)
        return TRUE;
      off += na;
    }
}

static gboolean
open_diff (SbxPatch *p, GError **error)
{
  if (p->diff_exe >= 0)
    return TRUE;
  g_autofree char *path = p->diff_missing ? NULL : sbx_userns_find_helper ("diff");
  if (path != NULL)
    p->diff_exe = sbx_helper_open (path, NULL);
  if (p->diff_exe >= 0)
    return TRUE;
  p->diff_missing = TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "GNU diff not found (install diffutils)");
  return FALSE;
}

/* Runs `diff -u -a` on @old (as /dev/fd/3) and @new (as its standard
 * input), either -1 for none; its output in @out. */
static gboolean
run_diff (SbxPatch *p, int old, int new, GString *out, GError **error)
{
  if (!open_diff (p, error))
    return FALSE;
  int pipefd[2];
  cleanup_fd int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "diff: %s",
                   sbx_util_strerror (errno));
      return FALSE;
    }
  cleanup_fd int from = pipefd[0];
  if (new >= 0)
    lseek (new, 0, SEEK_SET);
  const int fds[] = { new >= 0 ? new : null, pipefd[1], -1, old };
  /* The C locale: "\ No newline at end of file" in English, as git. */
  char *const envp[] = { (char *)"LC_ALL=C", NULL };
  char *const argv[] = { (char *)"diff", (char *)"-u",
                         (char *)"-a",   (char *)"--label",
                         (char *)"a",    (char *)"--label",
                         (char *)"b",    (char *)(old >= 0 ? "/dev/fd/3" : "/dev/null"),
                         (char *)"-",    NULL };
  SbxHelper h = { .exe = p->diff_exe,
                  .name = "diff",
                  .argv = argv,
                  .envp = envp,
                  .join_pidfd = -1,
                  .fds = fds,
                  .n_fds = old >= 0 ? 4 : 3 };
  pid_t pid = sbx_helper_spawn (&h, NULL, error);
  close (pipefd[1]);
  if (pid < 0)
    return FALSE;
  char buf[65536];
  ssize_t n;
  while ((n = read (from, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      g_string_append_len (out, buf, n);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) > 1)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "diff failed");
      return FALSE;
    }
  return TRUE;
}

/* Compares two regular files (one may be missing: fd -1 and @missing). */
static void
file_diff (SbxPatch *p, const Side *old, const Side *new, FileDiff *d)
{
  *d = (FileDiff){ 0 };
  if ((old->mode != 0 && old->fd < 0) || (new->mode != 0 && new->fd < 0))
    {
      d->error = g_strdup (old->mode != 0 && old->fd < 0 ? old->error : new->error);
      return;
    }
  d->binary = has_nul (old->fd) || has_nul (new->fd);
  if (d->binary)
    {
      d->differ = !same_content (old->fd, new->fd);
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  if (!run_diff (p, old->fd, new->fd, out, &error))
    {
      d->error = g_strdup (error->message);
      return;
    }
  /* Its own ---/+++ lines go: sbx writes git's. */
  const char *s = out->str;
  for (int i = 0; i < 2 && *s != '\0'; i++)
    {
      const char *nl = strchr (s, '\n');
      s = nl != NULL ? nl + 1 : s + strlen (s);
    }
  d->hunks = g_string_new (s);
  d->differ = out->len > 0;
  for (const char *l = d->hunks->str; *l != '\0';)
    {
      if (*l == '+')
        d->ins++;
      else if (*l == '-')
        d->del++;
      const char *nl = strchr (l, '\n');
      l = nl != NULL ? nl + 1 : l + strlen (l);
    }
}

/* ---- the patch ------------------------------------------------------------------ */

static void meta (SbxPatch *p, const char *fmt, ...) SBX_PRINTF (2, 3);

/* A line of information, bold in colour as git's headers. */
static void
meta (SbxPatch *p, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (p->out, "%s%s%s\n", p->color ? C_META : "", line, p->color ? C_RESET : "");
}

static void
print_hunks (SbxPatch *p, const GString *hunks)
{
  for (const char *l = hunks->str; *l != '\0';)
    {
      const char *nl = strchr (l, '\n');
      int len = (int)(nl != NULL ? nl - l : (ptrdiff_t)strlen (l));
      const char *color = !p->color ? NULL : *l == '+' ? C_NEW : *l == '-' ? C_OLD : NULL;
      const char *end_frag = p->color && g_str_has_prefix (l, "@@ ") ? strstr (l + 3, " @@") : NULL;
      if (end_frag != NULL && end_frag < l + len)
        {
          int n = (int)(end_frag + 3 - l);
          fprintf (p->out, "%s%.*s%s%.*s\n", C_FRAG, n, l, C_RESET, len - n, l + n);
        }
      else if (color != NULL)
        fprintf (p->out, "%s%.*s%s\n", color, len, l, C_RESET);
      else
        fprintf (p->out, "%.*s\n", len, l);
      l = nl != NULL ? nl + 1 : l + len;
    }
}

static const char *
type_word (mode_t mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFREG:
      return "file";
    default:
      return "entry";
    }
}

/* A regular file, old and/or new, as git writes it. */
static gboolean
print_file (SbxPatch *p, const SbxChange *c, const Side *old, const Side *new)
{
  static const Side none = { .fd = -1 };
  g_autofree char *qa = sbx_diff_quote ("a/", c->path + 1);
  g_autofree char *qb = sbx_diff_quote ("b/", c->path + 1);
  g_autofree char *qpath = sbx_diff_quote ("", c->path);
  FileDiff d;
  file_diff (p, old != NULL ? old : &none, new != NULL ? new : &none, &d);
  gboolean mode_change = old != NULL && new != NULL && old->mode != new->mode;
  if (old != NULL && new != NULL && !mode_change && !d.differ && d.error == NULL)
    {
      meta (p, "touched %s (same content and mode)", qpath);
      return TRUE;
    }
  meta (p, "diff --git %s %s", qa, qb);
  if (old == NULL)
    meta (p, "new file mode %06o", (guint) new->mode);
  else if (new == NULL)
    meta (p, "deleted file mode %06o", (guint)old->mode);
  else if (mode_change)
    {
      meta (p, "old mode %06o", (guint)old->mode);
      meta (p, "new mode %06o", (guint) new->mode);
    }
  gboolean ok = d.error == NULL;
  if (!ok)
    meta (p, "cannot read %s: %s", qpath, d.error);
  else if (d.binary && d.differ)
    meta (p, "Binary files %s and %s differ", old != NULL ? qa : "/dev/null",
          new != NULL ? qb : "/dev/null");
  else if (d.differ)
    {
      meta (p, "--- %s", old != NULL ? qa : "/dev/null");
      meta (p, "+++ %s", new != NULL ? qb : "/dev/null");
      print_hunks (p, d.hunks);
    }
  file_diff_clear (&d);
  return ok;
}

/* One side (or both, of the same type) of a change. */
static gboolean
print_part (SbxPatch *p, const SbxChange *c, const Side *old, const Side *new)
{
  mode_t mode = (new != NULL ? new : old)->mode;
  g_autofree char *q = sbx_diff_quote ("", c->path);
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      return print_file (p, c, old, new);
    case S_IFDIR:
      if (old == NULL)
        meta (p, "new directory %s (mode %04o)", q, (guint)(new->mode & 07777));
      else if (new == NULL)
        meta (p, "deleted directory %s", q);
      else if ((old->mode & 07777) != (new->mode & 07777))
        meta (p, "mode change %04o => %04o %s", (guint)(old->mode & 07777),
              (guint)(new->mode & 07777), q);
      return TRUE;
    case S_IFLNK:
      {
        g_autofree char *to = sbx_diff_quote ("", new != NULL &&new->target ? new->target : "");
        g_autofree char *was = sbx_diff_quote ("", old != NULL && old->target ? old->target : "");
        if (old == NULL)
          meta (p, "new symlink %s -> %s", q, to);
        else if (new == NULL)
          meta (p, "deleted symlink %s -> %s", q, was);
        else if (g_strcmp0 (old->target, new->target) != 0)
          meta (p, "changed symlink %s -> %s (was %s)", q, to, was);
        else
          meta (p, "touched %s (same target)", q);
        return TRUE;
      }
    default:
      meta (p, "%s %s %s",
            old == NULL   ? "new"
            : new == NULL ? "deleted"
                          : "changed",
            type_word (mode), q);
      return TRUE;
    }
}

gboolean
sbx_patch_print (SbxPatch *p, guint index)
{
  const SbxChange *c = sbx_layer_changes (p->layer)->pdata[index];
  Side old, new;
  read_old (p, c, &old);
  read_new (p, index, &new);
  gboolean ok;
  /* A type changed (a directory replaced by a file...): the old one goes,
   * the new one comes. */
  if (old.mode != 0 && new.mode != 0 && (old.mode & S_IFMT) != (new.mode &S_IFMT))
    ok = print_part (p, c, &old, NULL) & print_part (p, c, NULL, &new);
  else if (old.mode == 0 && new.mode == 0)
    {
      /* Deleted, and gone from the lower layer meanwhile. */
      g_autofree char *q = sbx_diff_quote ("", c->path);
      meta (p, "deleted %s (gone already)", q);
      ok = TRUE;
    }
  else
    ok = print_part (p, c, old.mode != 0 ? &old : NULL, new.mode != 0 ? &new : NULL);
  side_clear (&old);
  side_clear (&new);
  return ok;
}

/* ---- the diffstat --------------------------------------------------------------- */

typedef struct
{
  char *name;
  char *text; /* "Bin 0 -> 12 bytes", "new directory"...; NULL: counts */
  guint ins, del;
} StatLine;

static void
stat_line_clear (gpointer data)
{
  StatLine *l = data;
  g_free (l->name);
  g_free (l->text);
}

/* The stat of one change, or FALSE when it has nothing to show (a
 * directory that only holds changes). */
static gboolean
stat_change (SbxPatch *p, guint index, StatLine *l)
{
  const SbxChange *c = sbx_layer_changes (p->layer)->pdata[index];
  Side old, new;
  read_old (p, c, &old);
  read_new (p, index, &new);
  *l = (StatLine){ .name = sbx_diff_quote ("", c->path) };
  gboolean shown = TRUE;
  mode_t t_old = old.mode & S_IFMT, t_new = new.mode &S_IFMT;
  /* A type change counts as what it became. */
  const Side *o = t_old != 0 && t_old == t_new ? &old : NULL;
  const Side *n = t_new != 0 ? &new : NULL;
  mode_t t = n != NULL ? t_new : t_old;
  if (n == NULL && t_old != 0)
    o = &old;
  if (t == S_IFREG)
    {
      static const Side none = { .fd = -1 };
      FileDiff d;
      file_diff (p, o != NULL ? o : &none, n != NULL ? n : &none, &d);
      if (d.error != NULL)
        l->text = g_strdup_printf ("cannot read: %s", d.error);
      else if (d.binary)
        l->text = g_strdup_printf ("Bin %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bytes",
                                   o != NULL ? o->size : 0, n != NULL ? n->size : 0);
      l->ins = d.ins;
      l->del = d.del;
      file_diff_clear (&d);
    }
  else if (t == S_IFLNK)
    {
      /* As git: the target is the symlink's one line. */
      gboolean same = o != NULL && n != NULL && g_strcmp0 (o->target, n->target) == 0;
      l->ins = n != NULL && !same;
      l->del = o != NULL && !same;
    }
  else if (t == S_IFDIR)
    {
      if (o == NULL || n == NULL)
        l->text = g_strdup (o == NULL ? "new directory" : "deleted directory");
      else if ((o->mode & 07777) != (n->mode & 07777))
        l->text = g_strdup_printf ("mode %04o => %04o", (guint)(o->mode & 07777),
                                   (guint)(n->mode & 07777));
      else
        shown = FALSE;
    }
  else if (t != 0)
    l->text = g_strdup_printf ("%s %s",
                               o == NULL   ? "new"
                               : n == NULL ? "deleted"
                                           : "changed",
                               type_word (t));
  else
    l->text = g_strdup ("deleted (gone already)");
  side_clear (&old);
  side_clear (&new);
  if (!shown)
    stat_line_clear (l);
  return shown;
}

/* git's scale_linear(): @it of @max on @width columns, at least 1. */
static guint
scale_linear (guint it, guint width, guint max)
{
  return it == 0 ? 0 : 1 + (guint)((guint64)it * (width - 1) / max);
}

static guint
columns (FILE *out)
{
  struct winsize ws;
  if (isatty (fileno (out)) && ioctl (fileno (out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
    return ws.ws_col;
  return 80;
}

void
sbx_patch_stat (SbxPatch *p, GArray *indices)
{
  g_autoptr (GArray) lines = g_array_new (FALSE, FALSE, sizeof (StatLine));
  g_array_set_clear_func (lines, stat_line_clear);
  guint name_width = 0, max_change = 0, total_ins = 0, total_del = 0;
  for (guint i = 0; i < indices->len; i++)
    {
      StatLine l;
      if (!stat_change (p, g_array_index (indices, guint, i), &l))
        continue;
      name_width = MAX (name_width, (guint)g_utf8_strlen (l.name, -1));
      if (l.text == NULL)
        max_change = MAX (max_change, l.ins + l.del);
      total_ins += l.ins;
      total_del += l.del;
      g_array_append_val (lines, l);
    }
  guint width = columns (p->out);
  g_autofree char *max_text = g_strdup_printf ("%u", max_change);
  guint number_width = (guint)strlen (max_text);
  /* The names take at most 5/8 of the line; longer ones lose their
   * beginning to "...", as in git. */
  name_width = MIN (name_width, width * 5 / 8);
  guint graph_width
      = width > name_width + number_width + 6 ? width - name_width - number_width - 6 : 6;
  graph_width = MAX (graph_width, 6u);
  for (guint i = 0; i < lines->len; i++)
    {
      StatLine *l = &g_array_index (lines, StatLine, i);
      const char *name = l->name;
      glong len = g_utf8_strlen (name, -1);
      g_autofree char *shown = NULL;
      if ((guint)len > name_width)
        {
          shown = g_strconcat ("...", g_utf8_offset_to_pointer (name, len - name_width + 3), NULL);
          name = shown;
          len = name_width;
        }
      fprintf (p->out, " %s%*s | ", name, (int)(name_width - (guint)len), "");
      if (l->text != NULL)
        {
          fprintf (p->out, "%s\n", l->text);
          continue;
        }
      guint add = l->ins, del = l->del;
      if (max_change > graph_width)
        {
          guint total = scale_linear (add + del, graph_width, max_change);
          if (total < 2 && add > 0 && del > 0)
            total = 2;
          if (add < del)
            {
              add = scale_linear (add, graph_width, max_change);
              del = total - add;
            }
          else
            {
              del = scale_linear (del, graph_width, max_change);
              add = total - del;
            }
        }
      g_autofree char *plus = g_strnfill (add, '+');
      g_autofree char *minus = g_strnfill (del, '-');
      /* As git: no space after a 0 (a change of mode alone). */
      fprintf (p->out, "%*u%s%s%s%s%s%s%s\n", (int)number_width, l->ins + l->del,
               l->ins + l->del ? " " : "", p->color && add ? C_NEW : "", plus,
               p->color && add ? C_RESET : "", p->color && del ? C_OLD : "", minus,
               p->color && del ? C_RESET : "");
    }
  /* As git's summary: insertions or deletions left out when zero, unless
   * both are. */
  fprintf (p->out, " %u file%s changed", lines->len, lines->len == 1 ? "" : "s");
  if (total_ins > 0 || total_del == 0)
    fprintf (p->out, ", %u insertion%s(+)", total_ins, total_ins == 1 ? "" : "s");
  if (total_del > 0 || total_ins == 0)
    fprintf (p->out, ", %u deletion%s(-)", total_del, total_del == 1 ? "" : "s");
  fputc ('\n', p->out);
}

/* ---- sbx diff -------------------------------------------------------------------- */

int
sbx_patch_diff (const SbxSpec *caller, const SbxDiffOptions *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbxLayerSource) source = sbx_layer_source_new (o->name, o->upper, o->lowers, &error);
  if (source == NULL)
    sbx_die ("%s", error->message);
  g_autoptr (SbxLayer) layer = sbx_layer_open (caller, source, &error);
  if (layer == NULL)
    sbx_die ("%s", error->message);
  GPtrArray *changes = sbx_layer_changes (layer);
  /* PATHs are the sandbox's: the host's, with its symlinks, over the
   * host's / alone. */
  g_auto (GStrv) paths = sbx_patch_canonical_paths (o->paths, source->over_host);
  g_autoptr (GArray) selected = sbx_patch_select (changes, paths);

  if (o->json)
    {
      g_autoptr (GPtrArray) subset = g_ptr_array_new ();
      for (guint i = 0; i < selected->len; i++)
        g_ptr_array_add (subset, changes->pdata[g_array_index (selected, guint, i)]);
      const SbxExt *ext = sbx_ext_load (&error);
      if (ext == NULL)
        sbx_die ("%s", error->message);
      g_autofree char *text = ext->diff_json (subset);
      printf ("%s\n", text);
      return 0;
    }
  if (!o->patch && !o->stat)
    {
      for (guint i = 0; i < selected->len; i++)
        {
          g_autofree char *line
              = sbx_patch_line (changes->pdata[g_array_index (selected, guint, i)]);
          printf ("%s\n", line);
        }
      return 0;
    }
  g_autoptr (SbxPatch) p
      = sbx_patch_new (layer, source->lowers, sbx_patch_want_color (o->color, stdout), stdout);
  gboolean ok = TRUE;
  if (o->stat)
    sbx_patch_stat (p, selected);
  if (o->stat && o->patch && selected->len > 0)
    fputc ('\n', stdout);
  for (guint i = 0; o->patch && i < selected->len; i++)
    ok &= sbx_patch_print (p, g_array_index (selected, guint, i));
  if (fflush (stdout) != 0)
    return SBX_EXIT_FAILURE;
  return ok ? 0 : SBX_EXIT_FAILURE;
}
