/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c: the registry of named sandboxes, without a daemon.
 *
 * Liveness is an OFD lock, not a pid: the kernel drops it when the monitor
 * is gone, however it died, so a state file left by a SIGKILLed monitor is
 * recognised as stale, and a pid reused by an unrelated process is never
 * taken for the sandbox (its start time is checked too).  PID 1 does not
 * share the lock (it holds no host fd); a new claim waits for the PID 1 a
 * stale state names to be gone. */
#include "config.h"

#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE "state"
#define GROUP      "sandbox"
#define LOCK_FILE  "lock"

GQuark
sbx_state_error_quark (void)
{
  return g_quark_from_static_string ("sbx-state-error-quark");
}

struct SbxStateClaim
{
  char *dir;
  int lock_fd;
  GKeyFile *state; /* what was published, or NULL */
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
  g_strfreev (info->allow_net);
  g_strfreev (info->deny_net);
  g_free (info->net_log);
  g_free (info->scope);
  g_free (info->namespaces);
  g_free (info->upper);
  g_free (info->rootfs);
  g_strfreev (info->layers);
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
    case SBX_STATUS_EXITING:
      return "exiting";
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
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_NO_RUNTIME,
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

static gboolean read_state (const char *path, SbxSandboxInfo *info);

/* Waits, a few seconds at most, until the PID 1 recorded in the state file
 * @path is gone.  The lock of a name is held by the monitor alone (PID 1
 * holds no host fd: docs/security.md), and a monitor that was killed
 * releases it while its sandbox is still being torn down. */
static gboolean
wait_previous (const char *path)
{
  g_autoptr (SbxSandboxInfo) info = g_new0 (SbxSandboxInfo, 1);
  if (!read_state (path, info) || info->pid_start_time == 0)
    return TRUE;
  cleanup_fd int pidfd = (int)syscall (SYS_pidfd_open, info->pid, 0);
  /* Checked after opening, so that the pidfd is the recorded process. */
  if (pidfd < 0 || sbx_state_pid_start_time (info->pid) != info->pid_start_time)
    return TRUE;
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  int r;
  do
    r = poll (&p, 1, 10000);
  while (r < 0 && errno == EINTR);
  return r > 0;
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
                       dir, sbx_util_strerror (errno));
          return NULL;
        }
      int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot open %s: %s",
                       lock, sbx_util_strerror (errno));
          return NULL;
        }
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      if (fcntl (fd, F_OFD_SETLK, &fl) < 0)
        {
          int errsv = errno;
          close (fd);
          if (errsv == EAGAIN || errsv == EACCES)
            g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                         "a sandbox named %s is already running", name);
          else
            g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot lock %s: %s",
                         lock, sbx_util_strerror (errsv));
          return NULL;
        }
      if (!same_file (fd, lock))
        {
          close (fd);
          continue;
        }
      /* Ours now: whatever state a dead monitor left is stale.  Its PID 1
       * may still be on its way out (killed with the monitor), holding the
       * kept layer in its mounts: the name is free once it is gone. */
      g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
      if (!wait_previous (state))
        {
          close (fd);
          g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                       "a sandbox named %s is still shutting down", name);
          return NULL;
        }
      unlink (state);
      SbxStateClaim *claim = g_new0 (SbxStateClaim, 1);
      claim->dir = g_steal_pointer (&dir);
      claim->lock_fd = fd;
      return claim;
    }
  g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_FAILED, "cannot claim the name %s", name);
  return NULL;
}

int
sbx_state_lock_layer (const char *dir, const char *holder, GError **error)
{
  g_autofree char *path = g_build_filename (dir, LOCK_FILE, NULL);
  /* A run that made the lock file removes it again when it fails before
   * its command starts (monitor.c), and `sbx rm --upper` with the layer:
   * a lock taken on a file no longer at its path is taken again. */
  for (int attempt = 0; attempt < 10; attempt++)
    {
      cleanup_fd int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot open %s: %s",
                       path, sbx_util_strerror (errno));
          return -1;
        }
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      if (fcntl (fd, F_OFD_SETLK, &fl) < 0)
        {
          char who[256] = "";
          ssize_t n = pread (fd, who, sizeof who - 1, 0);
          who[n > 0 ? n : 0] = '\0';
          g_strchomp (who);
          g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                       "the layer in %s is in use (%s); one sandbox at a time may write a layer",
                       dir, who[0] != '\0' ? who : "by a sandbox whose sbx is running");
          return -1;
        }
      if (!same_file (fd, path))
        continue;
      g_autofree char *text = g_strdup_printf ("%s, pid %d\n", holder, (int)getpid ());
      if (ftruncate (fd, 0) == 0)
        sbx_util_write_all (fd, text, strlen (text));
      return sbx_steal_fd (&fd);
    }
  g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_FAILED, "cannot lock the layer in %s", dir);
  return -1;
}

#define UNSYNCED_PREFIX "unsynced-"

/* The directory @dir (a layer's, or its work directory), to list: not
 * through a symlink. */
static DIR *
open_listing (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      int errsv = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", dir,
                   sbx_util_strerror (errsv));
    }
  return d;
}

gboolean
sbx_state_mark_unsynced (const char *work, char **mark, GError **error)
{
  g_autofree char *boot = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot, NULL, &local))
    {
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_FAILED, "cannot tell this boot: %s",
                   local->message);
      return FALSE;
    }
  g_strstrip (boot);
  g_autofree char *name = g_strconcat (UNSYNCED_PREFIX, boot, NULL);
  DIR *d = open_listing (work, error);
  if (d == NULL)
    return FALSE;
  g_autofree char *earlier = NULL;
  for (struct dirent *e; earlier == NULL && (e = readdir (d)) != NULL;)
    if (g_str_has_prefix (e->d_name, UNSYNCED_PREFIX) && strcmp (e->d_name, name) != 0)
      earlier = g_strdup (e->d_name);
  int errsv = earlier == NULL && mkdirat (dirfd (d), name, 0700) < 0 && errno != EEXIST ? errno : 0;
  closedir (d);
  if (earlier != NULL)
    {
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_INVALID,
                   "the machine went down while a sandbox was writing this layer, and sbx does "
                   "not wait for a layer's writes to reach the disk: the last of them may be "
                   "missing or cut short.  Look at it (sbx diff), then remove %s/%s to use it "
                   "again",
                   work, earlier);
      return FALSE;
    }
  if (errsv != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "cannot create %s/%s: %s",
                   work, name, sbx_util_strerror (errsv));
      return FALSE;
    }
  *mark = g_build_filename (work, name, NULL);
  return TRUE;
}

void
sbx_state_unmark_unsynced (const char *mark)
{
  if (rmdir (mark) < 0 && errno != ENOENT)
    sbx_warn ("cannot remove %s: %s (the next run of this layer after a reboot will refuse it)",
              mark, sbx_util_strerror (errno));
}

/* Whether @name of type @mode is what sbx keeps in a layer's directory. */
static gboolean
layer_entry (const char *name, mode_t mode)
{
  if (strcmp (name, "upper") == 0 || strcmp (name, "work") == 0)
    return S_ISDIR (mode);
  if (strcmp (name, LOCK_FILE) == 0 || strcmp (name, "layers") == 0)
    return S_ISREG (mode);
  /* g_key_file_save_to_file() writes "layers.XXXXXX" and renames it: a
   * run killed in between leaves it. */
  return S_ISREG (mode) && g_str_has_prefix (name, "layers.") && strlen (name) == 13;
}

gboolean
sbx_state_check_layer_dir (const char *dir, GError **error)
{
  DIR *d = open_listing (dir, error);
  if (d == NULL)
    return FALSE;
  g_autofree char *first = NULL;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
          && layer_entry (e->d_name, st.st_mode))
        continue;
      /* The first in name order, so that the message does not depend on
       * the order of the directory. */
      if (first == NULL || strcmp (e->d_name, first) < 0)
        {
          g_free (first);
          first = g_strdup (e->d_name);
        }
    }
  closedir (d);
  if (first == NULL)
    return TRUE;
  g_autofree char *shown = g_strescape (first, NULL);
  g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_INVALID,
               "%s is not a layer sbx made: '%s' is in the way (a layer's directory holds only "
               "upper, work, lock and layers; give a new or empty directory)",
               dir, shown);
  return FALSE;
}

guint64
sbx_state_pid_start_time (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  g_auto (GStrv) fields = sbx_util_stat_fields (text);
  if (fields == NULL || g_strv_length (fields) < 20)
    return 0;
  return g_ascii_strtoull (fields[19], NULL, 10); /* field 22, the start time */
}

static const char *
identity_name (const SbxSpec *spec)
{
  if (spec->identity == SBX_ID_ROOT)
    return "map-root";
  return spec->no_subids ? "single" : "keep-id";
}

static void
set_strv (GKeyFile *kf, const char *key, char *const *v)
{
  g_key_file_set_string_list (kf, GROUP, key, (const char *const *)v,
                              v != NULL ? g_strv_length ((char **)v) : 0);
}

gboolean
sbx_state_publish (SbxStateClaim *claim, const SbxSpec *spec, pid_t pid, pid_t command_pid,
                   guint64 caps, uid_t inside_uid, gid_t inside_gid, const char *scope_unit,
                   const char *namespaces, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  g_key_file_set_integer (kf, GROUP, "version", 1);
  g_key_file_set_string (kf, GROUP, "name", spec->name);
  g_key_file_set_int64 (kf, GROUP, "pid", pid);
  g_key_file_set_uint64 (kf, GROUP, "pid_start_time", sbx_state_pid_start_time (pid));
  g_key_file_set_int64 (kf, GROUP, "command_pid", command_pid);
  g_key_file_set_uint64 (kf, GROUP, "command_start_time", sbx_state_pid_start_time (command_pid));
  g_key_file_set_int64 (kf, GROUP, "monitor_pid", getpid ());
  g_key_file_set_int64 (kf, GROUP, "created", (gint64)time (NULL));
  set_strv (kf, "command", spec->argv);
  g_key_file_set_string (kf, GROUP, "identity", identity_name (spec));
  g_key_file_set_uint64 (kf, GROUP, "uid", inside_uid);
  g_key_file_set_uint64 (kf, GROUP, "gid", inside_gid);
  g_key_file_set_uint64 (kf, GROUP, "caps", caps);
  g_key_file_set_boolean (kf, GROUP, "share_tty", spec->share_tty);
  g_key_file_set_boolean (kf, GROUP, "seccomp", !spec->seccomp_unconfined);
  g_key_file_set_string (kf, GROUP, "network",
                         spec->net == SBX_NET_HOST   ? "host"
                         : spec->net == SBX_NET_NONE ? "none"
                                                     : "slirp");
  g_key_file_set_boolean (kf, GROUP, "own_netns", spec->net != SBX_NET_HOST);
  if (sbx_spec_wanted_workdir (spec) != NULL)
    g_key_file_set_string (kf, GROUP, "workdir", sbx_spec_wanted_workdir (spec));
  if (spec->upper != NULL)
    g_key_file_set_string (kf, GROUP, "upper", spec->upper);
  g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < spec->publish->len; i++)
    {
      const SbxPublish *p = spec->publish->pdata[i];
      g_ptr_array_add (ports, g_strdup_printf ("%s%s%s:%u->%u/%s", p->family == AF_INET6 ? "[" : "",
                                               p->host_ip, p->family == AF_INET6 ? "]" : "",
                                               p->host_port, p->port, p->udp ? "udp" : "tcp"));
    }
  g_ptr_array_add (ports, NULL);
  set_strv (kf, "ports", (char **)ports->pdata);
  g_auto (GStrv) limits = sbx_spec_limits_strv (spec);
  set_strv (kf, "limits", limits);
  g_key_file_set_string_list (kf, GROUP, "allow_net", (const char *const *)spec->net_allow->pdata,
                              spec->net_allow->len);
  g_key_file_set_string_list (kf, GROUP, "deny_net", (const char *const *)spec->net_deny->pdata,
                              spec->net_deny->len);
  if (spec->net_log != NULL)
    g_key_file_set_string (kf, GROUP, "net_log", spec->net_log);
  if (scope_unit != NULL)
    g_key_file_set_string (kf, GROUP, "scope", scope_unit);
  if (namespaces != NULL)
    g_key_file_set_string (kf, GROUP, "namespaces", namespaces);

  g_key_file_set_string (kf, GROUP, "status", "running");

  /* g_key_file_save_to_file() writes a temporary file and renames it over
   * the old one: a reader sees the whole old state or the whole new one. */
  g_autofree char *path = g_build_filename (claim->dir, STATE_FILE, NULL);
  if (!g_key_file_save_to_file (kf, path, error))
    return FALSE;
  g_clear_pointer (&claim->state, g_key_file_unref);
  claim->state = g_steal_pointer (&kf);
  return TRUE;
}

void
sbx_state_set_exiting (SbxStateClaim *claim)
{
  if (claim == NULL || claim->state == NULL)
    return;
  g_key_file_set_string (claim->state, GROUP, "status", "exiting");
  g_autofree char *path = g_build_filename (claim->dir, STATE_FILE, NULL);
  g_key_file_save_to_file (claim->state, path, NULL);
}

char *
sbx_state_read_namespaces (int nsdir)
{
  /* For pid and time, the namespaces children go into: PID 1's are its
   * own pid namespace and the command's time namespace, and they are what
   * setns() gives `sbx exec` for its child. */
  static const char *const names[] = {
    "user", "mnt", "net", "uts", "ipc", "cgroup", "pid_for_children", "time_for_children",
  };
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char link[64];
      ssize_t n = readlinkat (nsdir, names[i], link, sizeof link - 1);
      if (n < 0)
        continue; /* a kernel without time namespaces */
      link[n] = '\0';
      g_string_append_printf (text, "%s%s", text->len ? " " : "", link);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

#define LAYERS_FILE  "layers"
#define LAYERS_GROUP "layers"

/* "SECONDS.NANOSECONDS" of the creation time in a layers file. */
static gboolean
parse_created (const char *text, SbxLayerRecord *record)
{
  g_auto (GStrv) parts = text != NULL ? g_strsplit (text, ".", 2) : NULL;
  guint64 sec, nsec = 0;
  if (parts == NULL || !sbx_util_parse_u64 (parts[0], G_MAXINT64, &sec)
      || (parts[1] != NULL && !sbx_util_parse_u64 (parts[1], 999999999, &nsec)))
    return FALSE;
  record->has_created = TRUE;
  record->created_sec = (gint64)sec;
  record->created_nsec = (guint32)nsec;
  return TRUE;
}

gboolean
sbx_state_read_layer_record (const char *dir, SbxLayerRecord *record)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (dir, LAYERS_FILE, NULL);
  memset (record, 0, sizeof *record);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  g_autofree char *rootfs = g_key_file_get_string (kf, LAYERS_GROUP, "rootfs", NULL);
  if (rootfs != NULL && strcmp (rootfs, "/") != 0)
    record->rootfs = g_steal_pointer (&rootfs);
  record->layers = g_key_file_get_string_list (kf, LAYERS_GROUP, "layers", NULL, NULL);
  g_autofree char *created = g_key_file_get_string (kf, LAYERS_GROUP, "created", NULL);
  parse_created (created, record);
  return TRUE;
}

void
sbx_layer_record_clear (SbxLayerRecord *record)
{
  g_clear_pointer (&record->rootfs, g_free);
  g_clear_pointer (&record->layers, g_strfreev);
}

gboolean
sbx_state_record_layers (const SbxSpec *spec, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *dir = g_path_get_dirname (spec->upper);
  g_autofree char *path = g_build_filename (dir, LAYERS_FILE, NULL);
  g_auto (SbxLayerRecord) old = { 0 };

  g_key_file_set_string (kf, LAYERS_GROUP, "rootfs", spec->rootfs != NULL ? spec->rootfs : "/");
  g_key_file_set_string_list (kf, LAYERS_GROUP, "layers", (const char *const *)spec->layers->pdata,
                              spec->layers->len);
  /* When the layer was made: what `sbx apply` compares the host's files
   * with where the layer's filesystem keeps no birth time.  Set when this
   * run made the upper directory, kept otherwise; a layer older than the
   * record has none (apply then takes every host change for a conflict).
   * The coarse clock is the one the kernel stamps files with, so a host
   * file changed after this moment has a ctime no earlier. */
  gboolean made = FALSE;
  for (guint i = 0; i < spec->created->len && !made; i++)
    made = strcmp (spec->created->pdata[i], spec->upper) == 0;
  sbx_state_read_layer_record (dir, &old);
  if (made)
    {
      struct timespec now;
      clock_gettime (CLOCK_REALTIME_COARSE, &now);
      old.has_created = TRUE;
      old.created_sec = now.tv_sec;
      old.created_nsec = (guint32)now.tv_nsec;
    }
  if (old.has_created)
    {
      g_autofree char *created
          = g_strdup_printf ("%" G_GINT64_FORMAT ".%09u", old.created_sec, old.created_nsec);
      g_key_file_set_string (kf, LAYERS_GROUP, "created", created);
    }
  return g_key_file_save_to_file (kf, path, error);
}

/* What a named sandbox's kept layer lies on, from its data directory. */
static void
read_layers (SbxSandboxInfo *info)
{
  g_autofree char *upper = g_build_filename (info->data_dir, "upper", NULL);
  g_auto (SbxLayerRecord) record = { 0 };

  if (info->upper == NULL && g_file_test (upper, G_FILE_TEST_IS_DIR))
    info->upper = g_steal_pointer (&upper);
  if (!sbx_state_read_layer_record (info->data_dir, &record))
    return;
  info->rootfs = g_steal_pointer (&record.rootfs);
  info->layers = g_steal_pointer (&record.layers);
}

/* Removes the temporary files g_key_file_save_to_file() writes the state
 * through ("state.XXXXXX", renamed over "state"): a monitor killed in
 * between leaves one, which would keep the directory from going. */
static void
remove_state_temporaries (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (g_str_has_prefix (e->d_name, STATE_FILE ".")
        && strlen (e->d_name) == strlen (STATE_FILE ".XXXXXX"))
      unlinkat (fd, e->d_name, 0);
  closedir (d);
}

static void
remove_runtime_dir (const char *dir)
{
  g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);
  unlink (state);
  remove_state_temporaries (dir);
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
  g_clear_pointer (&claim->state, g_key_file_unref);
  g_free (claim->dir);
  g_free (claim);
}

static char *
get_string (GKeyFile *kf, const char *key)
{
  return g_key_file_get_string (kf, GROUP, key, NULL);
}

static char **
get_strv (GKeyFile *kf, const char *key)
{
  char **v = g_key_file_get_string_list (kf, GROUP, key, NULL, NULL);
  return v != NULL ? v : g_new0 (char *, 1);
}

/* Fills @info from a state file; FALSE when it is unreadable or half
 * written (cannot happen with the rename, but a reader must not crash). */
static gboolean
read_state (const char *path, SbxSandboxInfo *info)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;

  info->pid = (pid_t)g_key_file_get_int64 (kf, GROUP, "pid", NULL);
  info->pid_start_time = g_key_file_get_uint64 (kf, GROUP, "pid_start_time", NULL);
  info->command_pid = (pid_t)g_key_file_get_int64 (kf, GROUP, "command_pid", NULL);
  info->command_start_time = g_key_file_get_uint64 (kf, GROUP, "command_start_time", NULL);
  info->monitor_pid = (pid_t)g_key_file_get_int64 (kf, GROUP, "monitor_pid", NULL);
  info->created = g_key_file_get_int64 (kf, GROUP, "created", NULL);
  info->command = get_strv (kf, "command");
  info->identity = get_string (kf, "identity");
  info->inside_uid = (guint32)g_key_file_get_uint64 (kf, GROUP, "uid", NULL);
  info->inside_gid = (guint32)g_key_file_get_uint64 (kf, GROUP, "gid", NULL);
  info->caps = g_key_file_get_uint64 (kf, GROUP, "caps", NULL);
  info->share_tty = g_key_file_get_boolean (kf, GROUP, "share_tty", NULL);
  /* A state without the key predates the filter: filter anyway. */
  info->seccomp = !g_key_file_has_key (kf, GROUP, "seccomp", NULL)
                  || g_key_file_get_boolean (kf, GROUP, "seccomp", NULL);
  info->network = get_string (kf, "network");
  info->own_netns = !g_key_file_has_key (kf, GROUP, "own_netns", NULL)
                    || g_key_file_get_boolean (kf, GROUP, "own_netns", NULL);
  info->workdir = get_string (kf, "workdir");
  info->ports = get_strv (kf, "ports");
  info->limits = get_strv (kf, "limits");
  info->allow_net = get_strv (kf, "allow_net");
  info->deny_net = get_strv (kf, "deny_net");
  info->net_log = get_string (kf, "net_log");
  info->scope = get_string (kf, "scope");
  info->namespaces = get_string (kf, "namespaces");
  info->upper = get_string (kf, "upper");
  g_autofree char *status = get_string (kf, "status");
  info->exiting = g_strcmp0 (status, "exiting") == 0;
  return info->pid > 0;
}

/* The status of a sandbox whose state file @state was read into @info, as
 * of now.  The monitor writes "running" when the command starts and
 * "exiting" once PID 1 reported the command's status or the sandbox is
 * being stopped, and it removes the state file, then the lock, while it
 * holds the lock; so:
 *  - the lock held: running, or exiting when the file says so or PID 1 is
 *    no longer the recorded process (gone, its monitor still cleaning up);
 *  - the lock free with the state file still there: stale (the monitor
 *    died and nobody will remove it);
 *  - the lock or the state file gone since the state was read: gone (the
 *    monitor finished between our reads), reported as -1. */
static int
live_status (const char *dir, const char *state, const SbxSandboxInfo *info)
{
  g_autofree char *lock = g_build_filename (dir, LOCK_FILE, NULL);
  cleanup_fd int fd = open (lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    return -1;
  if (fd < 0 || !lock_is_held (fd))
    return access (state, F_OK) == 0 ? SBX_STATUS_STALE : -1;
  guint64 start = sbx_state_pid_start_time (info->pid);
  if (info->exiting || start == 0 || start != info->pid_start_time)
    return SBX_STATUS_EXITING;
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
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_INVALID,
                   "'%s' is not a valid sandbox name", name);
      return NULL;
    }
  info->name = g_strdup (name);
  if (run_root != NULL)
    {
      g_autofree char *dir = g_build_filename (run_root, name, NULL);
      g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
      have_state = read_state (state, info);
      int status = have_state ? live_status (dir, state, info) : -1;
      if (status < 0)
        {
          /* Gone meanwhile: whatever was read is of no use. */
          sbx_sandbox_info_free (g_steal_pointer (&info));
          info = g_new0 (SbxSandboxInfo, 1);
          info->name = g_strdup (name);
          have_state = FALSE;
        }
      else
        info->status = (SbxStatus)status;
    }
  if (g_file_test (data_dir, G_FILE_TEST_IS_DIR))
    {
      info->data_dir = g_steal_pointer (&data_dir);
      read_layers (info);
    }
  if (!have_state && info->data_dir == NULL)
    {
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_NOT_FOUND, "no sandbox named %s", name);
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
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_NOT_RUNNING, "%s is not running (%s)",
                   info->name, sbx_status_name (info->status));
      return -1;
    }
  int fd = pid > 0 ? (int)syscall (SYS_pidfd_open, pid, 0) : -1;
  /* Checked after opening: if the start time still matches now, the pidfd
   * refers to the recorded process and cannot be redirected by a pid reuse. */
  if (fd >= 0 && start != 0 && sbx_state_pid_start_time (pid) == start)
    return fd;
  if (fd >= 0)
    close (fd);
  g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_NOT_RUNNING,
               "%s is not running (it just exited)", info->name);
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
      g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE, "%s is running", name);
      return FALSE;
    }
  remove_runtime_dir (dir);
  return TRUE;
}

gboolean
sbx_state_remove_leftover (const char *name)
{
  g_autofree char *root = sbx_state_runtime_root (NULL);
  if (root == NULL || !sbx_state_name_valid (name))
    return FALSE;
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autofree char *state = g_build_filename (dir, STATE_FILE, NULL);
  struct stat st;
  if (lstat (dir, &st) < 0 || !S_ISDIR (st.st_mode) || access (state, F_OK) == 0
      || sbx_state_is_claimed (name))
    return FALSE;
  return sbx_state_remove_runtime (name, NULL);
}
