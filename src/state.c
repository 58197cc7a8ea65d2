/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c: the registry of named sandboxes, without a daemon.
 *
 * Liveness is an OFD lock, not a pid: the kernel drops it when the monitor
 * and PID 1 are gone, however they died, so a state file left by a SIGKILLed
 * monitor is recognised as stale, and a pid reused by an unrelated process is
 * never taken for the sandbox (its start time is checked too). */
#include "config.h"

#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define LOCK_FILE  "lock"

struct SbxStateClaim
{
  char *dir;
  int lock_fd;
};

void
sbx_sandbox_info_free (SbxSandboxInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_strfreev (info->command);
  g_free (info->identity);
  g_free (info->network);
  g_free (info->workdir);
  g_strfreev (info->ports);
  g_strfreev (info->limits);
  g_free (info->upper);
  g_free (info->data_dir);
  g_free (info);
}

const char *
sbx_status_name (SbxStatus status)
{
  switch (status)
    {
    case SBX_STATUS_RUNNING:
      return "running";
    case SBX_STATUS_STALE:
      return "stale";
    case SBX_STATUS_STOPPED:
      return "stopped";
    default:
      return "unknown";
    }
}

gboolean
sbx_state_name_valid (const char *name)
{
  size_t len = strlen (name);
  if (len == 0 || len > 64 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '_' && *c != '.' && *c != '-')
      return FALSE;
  return TRUE;
}

char *
sbx_state_runtime_root (GError **error)
{
  const char *run = g_getenv ("XDG_RUNTIME_DIR");
  if (run == NULL || run[0] != '/')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "XDG_RUNTIME_DIR is not set (named sandboxes keep their state there)");
      return NULL;
    }
  return g_build_filename (run, "sbx", NULL);
}

char *
sbx_state_data_root (void)
{
  /* g_get_user_data_dir() caches; the environment is read each time so that
   * tests can point it elsewhere. */
  const char *data = g_getenv ("XDG_DATA_HOME");
  if (data != NULL && data[0] == '/')
    return g_build_filename (data, "sbx", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "share", "sbx", NULL);
}

/* Whether another open file description holds a lock on @fd's file. */
static gboolean
lock_is_held (int fd)
{
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  if (fcntl (fd, F_OFD_GETLK, &fl) < 0)
    return FALSE;
  return fl.l_type != F_UNLCK;
}

/* Whether @fd is still the file named @path (not unlinked by an `sbx rm`). */
static gboolean
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

SbxStateClaim *
sbx_state_claim (const char *name, GError **error)
{
  g_autofree char *root = sbx_state_runtime_root (error);
  if (root == NULL)
    return NULL;
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);

  /* A concurrent `sbx rm` may remove the directory between the steps; try
   * again a few times rather than fail on that race. */
  for (int attempt = 0; attempt < 10; attempt++)
    {
      if (g_mkdir_with_parents (dir, 0700) < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s",
                       dir, g_strerror (errno));
          return NULL;
        }
      int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot open %s: %s",
                       lock, g_strerror (errno));
          return NULL;
        }
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      if (fcntl (fd, F_OFD_SETLK, &fl) < 0)
        {
          int errsv = errno;
          close (fd);
          if (errsv == EAGAIN || errsv == EACCES)
            g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                         "a sandbox named %s is already running", name);
          else
            g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot lock %s: %s",
                         lock, g_strerror (errsv));
          return NULL;
        }
      if (!same_file (fd, lock))
        {
          close (fd);
          continue;
        }
      /* Ours now: whatever state a dead monitor left is stale. */
      g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
      unlink (state);
      SbxStateClaim *claim = g_new0 (SbxStateClaim, 1);
      claim->dir = g_steal_pointer (&dir);
      claim->lock_fd = fd;
      return claim;
    }
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_AGAIN, "cannot claim the name %s", name);
  return NULL;
}

guint64
sbx_state_pid_start_time (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* The command name (field 2) may contain spaces and parentheses: count
   * fields from the last ')'. Field 22 is the 20th after it. */
  const char *p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 20)
    return 0;
  return g_ascii_strtoull (fields[19], NULL, 10);
}

static void
add_strv (JsonBuilder *b, const char *key, char *const *v)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (; v != NULL && *v != NULL; v++)
    json_builder_add_string_value (b, *v);
  json_builder_end_array (b);
}

static const char *
identity_name (const SbxSpec *spec, uid_t inside_uid)
{
  if (spec->identity == SBX_ID_ROOT)
    return "map-root";
  return spec->no_subids ? "single" : "keep-id";
}

gboolean
sbx_state_publish (SbxStateClaim *claim, const SbxSpec *spec, pid_t pid, pid_t command_pid,
                   guint64 caps, uid_t inside_uid, gid_t inside_gid, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *caps_text = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", caps);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, spec->name);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, pid);
  json_builder_set_member_name (b, "pid_start_time");
  json_builder_add_int_value (b, (gint64)sbx_state_pid_start_time (pid));
  json_builder_set_member_name (b, "command_pid");
  json_builder_add_int_value (b, command_pid);
  json_builder_set_member_name (b, "command_start_time");
  json_builder_add_int_value (b, (gint64)sbx_state_pid_start_time (command_pid));
  json_builder_set_member_name (b, "monitor_pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, (gint64)time (NULL));
  add_strv (b, "command", spec->argv);
  json_builder_set_member_name (b, "identity");
  json_builder_add_string_value (b, identity_name (spec, inside_uid));
  json_builder_set_member_name (b, "uid");
  json_builder_add_int_value (b, inside_uid);
  json_builder_set_member_name (b, "gid");
  json_builder_add_int_value (b, inside_gid);
  json_builder_set_member_name (b, "caps");
  json_builder_add_string_value (b, caps_text);
  json_builder_set_member_name (b, "share_tty");
  json_builder_add_boolean_value (b, spec->share_tty);
  json_builder_set_member_name (b, "network");
  json_builder_add_string_value (b, spec->net == SBX_NET_HOST ? "host" : "none");
  json_builder_set_member_name (b, "own_netns");
  json_builder_add_boolean_value (b, spec->net != SBX_NET_HOST);
  json_builder_set_member_name (b, "workdir");
  json_builder_add_string_value (b, sbx_spec_wanted_workdir (spec));
  add_strv (b, "ports", NULL);
  add_strv (b, "limits", NULL);
  json_builder_set_member_name (b, "upper");
  json_builder_add_string_value (b, NULL);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *text = json_generator_to_data (gen, NULL);

  /* g_file_set_contents() writes a temporary file and renames it over the
   * old one: a reader sees the whole old state or the whole new one. */
  g_autofree char *path = g_build_filename (claim->dir, STATE_FILE, NULL);
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static void
remove_runtime_dir (const char *dir)
{
  g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);
  unlink (state);
  unlink (lock);
  rmdir (dir);
}

void
sbx_state_release (SbxStateClaim *claim)
{
  if (claim == NULL)
    return;
  /* Unlink while still holding the lock, so that a new claim either sees the
   * lock or a fresh file. */
  remove_runtime_dir (claim->dir);
  close (claim->lock_fd);
  g_free (claim->dir);
  g_free (claim);
}

static char **
member_strv (JsonObject *o, const char *key)
{
  JsonArray *a = json_object_has_member (o, key) ? json_object_get_array_member (o, key) : NULL;
  GPtrArray *v = g_ptr_array_new ();
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      const char *s = json_array_get_string_element (a, i);
      if (s != NULL)
        g_ptr_array_add (v, g_strdup (s));
    }
  g_ptr_array_add (v, NULL);
  return (char **)g_ptr_array_free (v, FALSE);
}

static char *
member_string (JsonObject *o, const char *key)
{
  return g_strdup (json_object_get_string_member_with_default (o, key, NULL));
}

/* Fills @info from a state file; FALSE when it is unreadable or half
 * written (cannot happen with the rename, but a reader must not crash). */
static gboolean
read_state (const char *path, SbxSandboxInfo *info)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, NULL))
    return FALSE;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  JsonObject *o = json_node_get_object (root);

  info->pid = (pid_t)json_object_get_int_member_with_default (o, "pid", 0);
  info->pid_start_time = (guint64)json_object_get_int_member_with_default (o, "pid_start_time", 0);
  info->monitor_pid = (pid_t)json_object_get_int_member_with_default (o, "monitor_pid", 0);
  info->command_pid = (pid_t)json_object_get_int_member_with_default (o, "command_pid", 0);
  info->command_start_time
      = (guint64)json_object_get_int_member_with_default (o, "command_start_time", 0);
  info->created = json_object_get_int_member_with_default (o, "created", 0);
  info->command = member_strv (o, "command");
  info->identity = member_string (o, "identity");
  info->inside_uid = (guint32)json_object_get_int_member_with_default (o, "uid", 0);
  info->inside_gid = (guint32)json_object_get_int_member_with_default (o, "gid", 0);
  const char *caps = json_object_get_string_member_with_default (o, "caps", "0");
  info->caps = g_ascii_strtoull (caps, NULL, 0);
  info->share_tty = json_object_get_boolean_member_with_default (o, "share_tty", FALSE);
  info->network = member_string (o, "network");
  info->own_netns = json_object_get_boolean_member_with_default (o, "own_netns", TRUE);
  info->workdir = member_string (o, "workdir");
  info->ports = member_strv (o, "ports");
  info->limits = member_strv (o, "limits");
  info->upper = member_string (o, "upper");
  return info->pid > 0;
}

/* Running only when the lock is held and PID 1 is still the process that
 * was recorded: a pid reused by an unrelated process has another start time. */
static SbxStatus
live_status (const char *dir, const SbxSandboxInfo *info)
{
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);
  cleanup_fd int fd = open (lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || !lock_is_held (fd))
    return SBX_STATUS_STALE;
  guint64 start = sbx_state_pid_start_time (info->pid);
  if (start == 0 || start != info->pid_start_time)
    return SBX_STATUS_STALE;
  return SBX_STATUS_RUNNING;
}

SbxSandboxInfo *
sbx_state_lookup (const char *name, GError **error)
{
  g_autoptr (SbxSandboxInfo) info = g_new0 (SbxSandboxInfo, 1);
  g_autofree char *run_root = sbx_state_runtime_root (NULL);
  g_autofree char *data_root = sbx_state_data_root ();
  g_autofree char *data_dir = g_build_filename (data_root, name, NULL);
  gboolean have_state = FALSE;

  if (!sbx_state_name_valid (name))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "'%s' is not a valid sandbox name",
                   name);
      return NULL;
    }
  info->name = g_strdup (name);
  if (run_root != NULL)
    {
      g_autofree char *dir = g_build_filename (run_root, name, NULL);
      g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
      have_state = read_state (state, info);
      if (have_state)
        info->status = live_status (dir, info);
    }
  if (g_file_test (data_dir, G_FILE_TEST_IS_DIR))
    info->data_dir = g_steal_pointer (&data_dir);
  if (!have_state && info->data_dir == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no sandbox named %s", name);
      return NULL;
    }
  if (!have_state)
    info->status = SBX_STATUS_STOPPED;
  return g_steal_pointer (&info);
}

static void
add_names (GHashTable *names, const char *root)
{
  g_autoptr (GDir) d = root != NULL ? g_dir_open (root, 0, NULL) : NULL;
  const char *n;
  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    if (sbx_state_name_valid (n))
      g_hash_table_add (names, g_strdup (n));
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  const SbxSandboxInfo *x = *(SbxSandboxInfo *const *)a, *y = *(SbxSandboxInfo *const *)b;
  return strcmp (x->name, y->name);
}

GPtrArray *
sbx_state_list (gboolean all)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *run_root = sbx_state_runtime_root (NULL);
  g_autofree char *data_root = sbx_state_data_root ();
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_sandbox_info_free);

  add_names (names, run_root);
  if (all)
    add_names (names, data_root);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, names);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      SbxSandboxInfo *info = sbx_state_lookup (key, NULL);
      /* A sandbox still starting (no state file yet) is not listed: never
       * half a state. */
      if (info == NULL || (!all && info->status == SBX_STATUS_STOPPED))
        {
          sbx_sandbox_info_free (info);
          continue;
        }
      g_ptr_array_add (out, info);
    }
  g_ptr_array_sort (out, compare_names);
  return out;
}

int
sbx_state_open_pidfd (const SbxSandboxInfo *info, gboolean command, GError **error)
{
  pid_t pid = command ? info->command_pid : info->pid;
  guint64 start = command ? info->command_start_time : info->pid_start_time;

  if (info->status != SBX_STATUS_RUNNING)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not running (%s)", info->name,
                   sbx_status_name (info->status));
      return -1;
    }
  int fd = pid > 0 ? (int)syscall (SYS_pidfd_open, pid, 0) : -1;
  /* Checked after opening: if the start time still matches now, the pidfd
   * refers to the recorded process and cannot be redirected by a pid reuse. */
  if (fd >= 0 && start != 0 && sbx_state_pid_start_time (pid) == start)
    return fd;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s is not running (it just exited)",
               info->name);
  return -1;
}

gboolean
sbx_state_is_claimed (const char *name)
{
  g_autofree char *root = sbx_state_runtime_root (NULL);
  if (root == NULL)
    return FALSE;
  g_autofree char *lock = g_build_filename (root, name, LOCK_FILE, NULL);
  cleanup_fd int fd = open (lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  return fd >= 0 && lock_is_held (fd);
}

gboolean
sbx_state_remove_runtime (const char *name, GError **error)
{
  g_autofree char *root = sbx_state_runtime_root (error);
  if (root == NULL)
    return FALSE;
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);
  cleanup_fd int fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

  /* Take the lock while removing, so that a sandbox starting under the same
   * name at this moment either waits for us or is refused, never loses its
   * fresh state to us. */
  if (fd >= 0 && fcntl (fd, F_OFD_SETLK, &fl) < 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST, "%s is running", name);
      return FALSE;
    }
  remove_runtime_dir (dir);
  return TRUE;
}
