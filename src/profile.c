/* SPDX-License-Identifier: GPL-2.0-or-later */
/* profile.c: `sbx run --profile NAME` (sbx.conf(5)): a GLib key file of one
 * group, [run], whose keys are the long options of `sbx run`, each value
 * set through the same setter as the command line's. */
#include "config.h"

#include "profile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A profile is a few lines: more than this is no profile (a symlink to
 * /dev/zero or to a log file), and reading it all would take the memory
 * and time of a mistake. */
#define PROFILE_MAX_BYTES (1024 * 1024)

char *
sbx_profile_path (const char *name)
{
  g_autofree char *file = g_strconcat (name, ".conf", NULL);
  return g_build_filename (g_get_user_config_dir (), "sbx", file, NULL);
}

/* Returns FALSE with "PATH:LINE: what" (or "PATH: what" without a line). */
static gboolean SBX_PRINTF (4, 5)
    profile_error (GError **error, const char *path, guint line, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (line > 0)
    g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_PROFILE, "%s:%u: %s", path, line, what);
  else
    g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_PROFILE, "%s: %s", path, what);
  return FALSE;
}

/* The text of the profile at @path: a regular file (a FIFO would block the
 * read forever, a device never end: opened without blocking, checked on
 * the fd), of at most PROFILE_MAX_BYTES, without a NUL byte. */
static char *
read_profile (const char *path, GError **error)
{
  struct stat st;
  cleanup_fd int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    {
      /* The one profile error a user meets first: where the examples are. */
      g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_PROFILE,
                   "--profile: %s: %s (example profiles are in %s)", path,
                   sbx_util_strerror (errno), SBX_PROFILES_DIR);
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      profile_error (error, path, 0, "%s", sbx_util_strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      profile_error (error, path, 0, "not a regular file (a profile is a text file)");
      return NULL;
    }
  g_autoptr (GString) text = g_string_sized_new (MIN ((gsize)st.st_size, PROFILE_MAX_BYTES) + 1);
  char buf[16384];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          profile_error (error, path, 0, "%s", sbx_util_strerror (errno));
          return NULL;
        }
      if (n == 0)
        break;
      /* Counted as read: the size fstat() gave may have grown since. */
      if (text->len + (gsize)n > PROFILE_MAX_BYTES)
        {
          profile_error (error, path, 0, "larger than %d bytes (a profile is a short text file)",
                         PROFILE_MAX_BYTES);
          return NULL;
        }
      g_string_append_len (text, buf, n);
    }
  const char *nul = memchr (text->str, '\0', text->len);
  if (nul != NULL)
    {
      guint line = 1;
      for (const char *c = text->str; c < nul; c++)
        line += *c == '\n';
      profile_error (error, path, line, "a NUL byte (a profile is a text file)");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* A line for a message: C escapes for what is not printable, and not
 * too long. */
static char *
shown_line (const char *line)
{
  g_autofree char *cut = g_strndup (line, 60);
  g_autofree char *escaped = g_strescape (cut, NULL);
  return g_strdup_printf ("%s%s", escaped, strlen (line) > 60 ? "..." : "");
}

/* Where each key of [run] and each group stands, counting from 1: GKeyFile
 * keeps no line numbers. */
typedef struct
{
  GHashTable *keys;   /* key of [run] -> its line */
  GHashTable *groups; /* group -> the line of its first header */
} ProfileLines;

static void
profile_lines_clear (ProfileLines *lines)
{
  g_clear_pointer (&lines->keys, g_hash_table_unref);
  g_clear_pointer (&lines->groups, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ProfileLines, profile_lines_clear)

/* Reads @text line by line as GKeyFile does (leading and trailing blanks
 * ignored, "#" comments, "[group]" headers, "key = value"), for the line
 * of each key and group and for what GKeyFile does not say: which line is
 * wrong, and a key given twice (GKeyFile keeps the last, silently:
 * `net=none` then `net=host` would be the host's network). */
static gboolean
scan_profile (const char *path, const char *text, ProfileLines *lines, GError **error)
{
  g_auto (GStrv) v = g_strsplit (text, "\n", -1);
  g_autofree char *group = NULL;

  lines->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  lines->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; v[i] != NULL; i++)
    {
      guint n = i + 1;
      g_autofree char *l = g_strstrip (g_strdup (v[i]));
      g_autofree char *shown = shown_line (l);
      size_t len = strlen (l);
      if (len == 0 || l[0] == '#')
        continue;
      if (l[0] == '[')
        {
          if (len < 3 || l[len - 1] != ']')
            return profile_error (error, path, n, "'%s' is not a [group] header", shown);
          g_free (group);
          group = g_strndup (l + 1, len - 2);
          if (!g_hash_table_contains (lines->groups, group))
            g_hash_table_insert (lines->groups, g_strdup (group), GUINT_TO_POINTER (n));
          continue;
        }
      const char *eq = strchr (l, '=');
      if (eq == NULL)
        return profile_error (error, path, n,
                              "'%s' is not key=value, a [group] header or a # comment", shown);
      g_autofree char *key = g_strstrip (g_strndup (l, (gsize)(eq - l)));
      if (key[0] == '\0')
        return profile_error (error, path, n, "'%s': no key before '='", shown);
      if (group == NULL)
        return profile_error (error, path, n,
                              "%s: a key before any group (a profile starts with [run])", key);
      if (strcmp (group, "run") != 0)
        continue;
      gpointer first = g_hash_table_lookup (lines->keys, key);
      if (first != NULL)
        return profile_error (error, path, n,
                              "%s: given twice (first on line %u); a repeatable key takes a list "
                              "separated by ';'",
                              key, GPOINTER_TO_UINT (first));
      g_hash_table_insert (lines->keys, g_steal_pointer (&key), GUINT_TO_POINTER (n));
    }
  return TRUE;
}

/* The first line GKeyFile refuses, for its messages that name none: the
 * shortest prefix of whole lines it does not load (a line that fails
 * makes every longer prefix fail too). */
static guint
refused_line (const char *text)
{
  g_auto (GStrv) v = g_strsplit (text, "\n", -1);
  guint lo = 1, hi = g_strv_length (v);
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autoptr (GString) p = g_string_new (NULL);
      for (guint i = 0; i < mid; i++)
        g_string_append_printf (p, "%s\n", v[i]);
      if (g_key_file_load_from_data (kf, p->str, p->len, G_KEY_FILE_NONE, NULL))
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* "PATH:LINE: KEY: what" from a message "OPTION: what" of a setter (which
 * names the option as on the command line: "--bind", "-p"). */
static gboolean
profile_fail (GError **error, const char *path, const ProfileLines *lines, const char *key,
              const char *what)
{
  guint line = GPOINTER_TO_UINT (g_hash_table_lookup (lines->keys, key));
  const char *sep = strstr (what, ": ");
  if (what[0] == '-' && sep != NULL && memchr (what, ' ', (size_t)(sep - what)) == NULL)
    what = sep + 2;
  /* GKeyFile's own ("Key file contains escape sequence...") start with a
   * capital; ours follow "sbx: ". */
  g_autofree char *text = g_strdup (what);
  if (g_ascii_isupper (text[0]) && g_ascii_islower (text[1]))
    text[0] = g_ascii_tolower (text[0]);
  return profile_error (error, path, line, "%s: %s", key, text);
}

/* One key of [run]: an on/off option takes the command line's words
 * (true, false, yes, no, 1, 0), a repeatable option a list (GKeyFile's:
 * values separated by ';'), any other option one value. */
static gboolean
profile_apply_key (SbxSpec *spec, GKeyFile *kf, const char *key, const char *where, GError **error)
{
  const SbxOption *o = sbx_spec_find_option (key);
  g_autoptr (GError) local = NULL;

  if (o == NULL)
    {
      g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_PROFILE,
                   "unknown key (the keys are the long options of sbx run)");
      return FALSE;
    }
  if (strcmp (key, "profile") == 0)
    {
      g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_PROFILE,
                   "a profile cannot load another profile");
      return FALSE;
    }
  if (o->repeatable)
    {
      g_auto (GStrv) values = g_key_file_get_string_list (kf, "run", key, NULL, &local);
      if (values == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      for (char **v = values; *v != NULL; v++)
        {
          guint mounts = spec->mounts->len;
          if (!o->set (spec, *v, error))
            return FALSE;
          /* A mount says where it came from in the messages about it
           * (a bind source that is missing, a mount point refused). */
          if (spec->mounts->len > mounts)
            {
              SbxMount *m = spec->mounts->pdata[spec->mounts->len - 1];
              g_free (m->option);
              m->option = g_strdup_printf ("%s: %s %s", where, key, *v);
            }
        }
      return TRUE;
    }
  g_autofree char *value = g_key_file_get_string (kf, "run", key, &local);
  if (value == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return o->set (spec, value, error);
}

gboolean
sbx_profile_load (SbxSpec *spec, const char *name, GHashTable *origins, GError **error)
{
  g_autofree char *path = sbx_profile_path (name);
  g_autoptr (GError) local = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (ProfileLines) lines = { NULL, NULL };

  g_autofree char *text = read_profile (path, error);
  if (text == NULL || !scan_profile (path, text, &lines, error))
    return FALSE;
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, &local))
    {
      /* What the scan let through and GKeyFile does not (an invalid group
       * or key name): GKeyFile's message, at the line it stopped at.  Its
       * messages start with a capital; ours follow "sbx: ". */
      local->message[0] = g_ascii_tolower (local->message[0]);
      return profile_error (error, path, refused_line (text), "%s", local->message);
    }
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g != NULL; g++)
    if (strcmp (*g, "run") != 0)
      return profile_error (error, path, GPOINTER_TO_UINT (g_hash_table_lookup (lines.groups, *g)),
                            "[%s]: unknown group (a profile has only [run])", *g);
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "run", NULL, NULL);
  for (char **k = keys; k != NULL && *k != NULL; k++)
    {
      guint line = GPOINTER_TO_UINT (g_hash_table_lookup (lines.keys, *k));
      g_autofree char *where = g_strdup_printf ("%s:%u", path, line);
      if (!profile_apply_key (spec, kf, *k, where, &local))
        return profile_fail (error, path, &lines, *k, local->message);
      if (origins != NULL)
        g_hash_table_insert (origins, g_strdup (*k), g_steal_pointer (&where));
    }
  return TRUE;
}
