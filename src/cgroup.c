/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup.c: cgroup v2 limits through a transient scope of the systemd user
 * manager, over D-Bus (GDBus), as `systemd-run --user --scope` does.
 *
 * GDBus starts a worker thread: the monitor talks to systemd only after the
 * sandbox was cloned (STYLE.md 13), and forks nothing itself afterwards but
 * with posix_spawn() or a child that only makes system calls until exec. */
#include "config.h"

#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SYSTEMD_BUS     "org.freedesktop.systemd1"
#define SYSTEMD_PATH    "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_MS  10000

struct SbxScope
{
  GDBusConnection *bus;
  char *unit;
  char *path; /* /sys/fs/cgroup/... */
  int events_fd;
};

/* The user manager's bus, with advice when there is none. */
static GDBusConnection *
user_bus (GError **error)
{
  g_autoptr (GError) local = NULL;
  GDBusConnection *bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local);
  if (bus == NULL)
    g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NO_MANAGER,
                 "no D-Bus session bus, so no systemd user manager (%s); log in through "
                 "systemd-logind, or enable one with 'loginctl enable-linger %s'",
                 local->message, g_get_user_name ());
  return bus;
}

typedef struct
{
  const char *job;   /* the object path StartTransientUnit returned */
  char *result;      /* "done", "failed"... once JobRemoved names it */
  GHashTable *early; /* results of jobs that ended before we knew the path */
} JobWait;

static void
on_job_removed (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
                const char *signal, GVariant *params, gpointer data)
{
  JobWait *w = data;
  guint32 id;
  const char *job, *unit, *result;
  g_variant_get (params, "(u&o&s&s)", &id, &job, &unit, &result);
  if (w->job != NULL && strcmp (job, w->job) == 0)
    w->result = g_strdup (result);
  else
    g_hash_table_insert (w->early, g_strdup (job), g_strdup (result));
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

static GVariant *
scope_properties (const SbxScopeRequest *req)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sv)"));
  g_variant_builder_add (&b, "(sv)", "Description", g_variant_new_string (req->description));
  g_variant_builder_add (&b, "(sv)", "PIDs",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32,
                                                    &(guint32){ (guint32)req->pid }, 1,
                                                    sizeof (guint32)));
  /* Delegate=yes: the sandbox owns its part of the tree (its own cgroup
   * namespace shows only that). */
  g_variant_builder_add (&b, "(sv)", "Delegate", g_variant_new_boolean (TRUE));
  /* A scope killed by the OOM killer ends "failed"; it must not linger and
   * block the next sandbox of the same name. */
  g_variant_builder_add (&b, "(sv)", "CollectMode", g_variant_new_string ("inactive-or-failed"));
  /* An OOM kill ends only the process the kernel chose, as without a
   * limit: the command (a make, a shell) sees its child die and says so,
   * and sbx reports the kill (systemd's default would stop the scope). */
  g_variant_builder_add (&b, "(sv)", "OOMPolicy", g_variant_new_string ("continue"));
  if (req->memory)
    {
      g_variant_builder_add (&b, "(sv)", "MemoryMax", g_variant_new_uint64 (req->memory));
      /* --memory is all the memory the sandbox gets: no swap beyond it, so
       * that the limit holds the same way with or without swap. */
      g_variant_builder_add (&b, "(sv)", "MemorySwapMax", g_variant_new_uint64 (0));
    }
  if (req->cpu_quota)
    g_variant_builder_add (&b, "(sv)", "CPUQuotaPerSecUSec", g_variant_new_uint64 (req->cpu_quota));
  if (req->pids_limit)
    g_variant_builder_add (&b, "(sv)", "TasksMax", g_variant_new_uint64 (req->pids_limit));
  if (req->io_weight)
    g_variant_builder_add (&b, "(sv)", "IOWeight", g_variant_new_uint64 (req->io_weight));
  return g_variant_builder_end (&b);
}

/* A call to the manager whose answer does not matter: one message, no
 * round trip. */
static void
send_no_reply (GDBusConnection *bus, const char *method, GVariant *params)
{
  g_autoptr (GDBusMessage) m
      = g_dbus_message_new_method_call (SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
  if (params != NULL)
    g_dbus_message_set_body (m, params);
  g_dbus_message_set_flags (m, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  g_dbus_connection_send_message (bus, m, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
}

/* StartTransientUnit, then wait for its job.  JobRemoved is subscribed to
 * before the call: the job may end before the reply arrives. */
static gboolean
start_unit (GDBusConnection *bus, const SbxScopeRequest *req, GError **error)
{
  JobWait w = { .early = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  g_autoptr (GError) local = NULL;
  gboolean ok = FALSE;

  /* The match first, then Subscribe (systemd emits job signals only to
   * subscribers); the bus keeps one connection's messages in order, so
   * neither needs its reply awaited before StartTransientUnit. */
  guint signal = g_dbus_connection_signal_subscribe (
      bus, SYSTEMD_BUS, SYSTEMD_MANAGER, "JobRemoved", SYSTEMD_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_job_removed, &w, NULL);
  send_no_reply (bus, "Subscribe", NULL);
  g_autoptr (GVariant) reply = NULL;
  for (int attempt = 0; attempt < 2 && reply == NULL; attempt++)
    {
      g_clear_error (&local);
      reply = g_dbus_connection_call_sync (
          bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit",
          g_variant_new ("(ss@a(sv)a(sa(sv)))", req->unit, "fail", scope_properties (req), NULL),
          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL, &local);
      /* A failed unit of the same name from before: reset it, try again. */
      if (reply == NULL && attempt == 0 && g_dbus_error_is_remote_error (local)
          && strstr (local->message, "UnitExists") != NULL)
        {
          g_autoptr (GVariant) r = g_dbus_connection_call_sync (
              bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "ResetFailedUnit",
              g_variant_new ("(s)", req->unit), NULL, G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL,
              NULL);
        }
      else if (reply == NULL)
        break;
    }
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (local);
      g_set_error (error, SBX_CGROUP_ERROR,
                   g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
                       ? SBX_CGROUP_ERROR_NO_MANAGER
                       : SBX_CGROUP_ERROR_FAILED,
                   "the systemd user manager could not start %s: %s", req->unit, local->message);
      goto out;
    }
  g_variant_get (reply, "(&o)", &w.job);
  w.result = g_strdup (g_hash_table_lookup (w.early, w.job));
  gboolean timed_out = FALSE;
  guint timer = g_timeout_add (JOB_TIMEOUT_MS, on_timeout, &timed_out);
  while (w.result == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timer);
  if (w.result == NULL || strcmp (w.result, "done") != 0)
    {
      g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_FAILED,
                   "the systemd user manager could not start %s (job %s)", req->unit,
                   w.result != NULL ? w.result : "timed out");
      goto out;
    }
  ok = TRUE;
out:
  g_dbus_connection_signal_unsubscribe (bus, signal);
  g_free (w.result);
  g_hash_table_unref (w.early);
  return ok;
}

/* The cgroup of @pid, from /proc (cgroup v2: "0::/path"). */
static char *
cgroup_of (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (g_str_has_prefix (*l, "0::"))
      return g_build_filename ("/sys/fs/cgroup", *l + 3, NULL);
  return NULL;
}

static char *
read_value (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/* Why a controller's file is missing from the scope. */
static void
not_in_force (GError **error, const char *option, const char *controller, const char *dir)
{
  g_autofree char *have = read_value (dir, "cgroup.controllers");
  g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
               "%s: the limit is not in force: the %s controller is not delegated to the "
               "systemd user manager (delegated: %s); on cgroup v2 add a drop-in "
               "/etc/systemd/system/user@.service.d/delegate.conf with \"[Service]\" and "
               "\"Delegate=cpu cpuset io memory pids\", then 'systemctl daemon-reload' and log in "
               "again",
               option, controller, have != NULL && *have ? have : "none");
}

/* Reads the limits back from the cgroup files: asked for means in force. */
static gboolean
check_limits (const SbxScopeRequest *req, const char *dir, GError **error)
{
  if (req->memory)
    {
      g_autofree char *v = read_value (dir, "memory.max");
      if (v == NULL)
        {
          not_in_force (error, "--memory", "memory", dir);
          return FALSE;
        }
      guint64 got = g_ascii_strtoull (v, NULL, 10);
      /* The kernel rounds down to a page. */
      if (got > req->memory || req->memory - got >= 65536)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--memory %s: memory.max of the scope is %s", req->memory_text, v);
          return FALSE;
        }
    }
  if (req->cpu_quota)
    {
      g_autofree char *v = read_value (dir, "cpu.max");
      guint64 quota = 0, period = 0;
      if (v == NULL)
        {
          not_in_force (error, "--cpus", "cpu", dir);
          return FALSE;
        }
      if (sscanf (v, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &quota, &period) != 2
          || period == 0)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--cpus: cpu.max of the scope is '%s'", v);
          return FALSE;
        }
      guint64 per_sec = quota * 1000000 / period;
      /* systemd raises tiny quotas to the kernel's 1 ms per period. */
      if (per_sec + per_sec / 50 + 10000 < req->cpu_quota
          || per_sec > req->cpu_quota + req->cpu_quota / 50 + 10000)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--cpus: cpu.max of the scope is '%s'", v);
          return FALSE;
        }
    }
  if (req->pids_limit)
    {
      g_autofree char *v = read_value (dir, "pids.max");
      if (v == NULL)
        {
          not_in_force (error, "--pids-limit", "pids", dir);
          return FALSE;
        }
      if (g_ascii_strtoull (v, NULL, 10) != req->pids_limit)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--pids-limit: pids.max of the scope is %s", v);
          return FALSE;
        }
    }
  if (req->io_weight)
    {
      g_autofree char *v = read_value (dir, "io.weight");
      if (v == NULL)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--io-weight: the limit is not in force: the scope has no io.weight "
                       "(the io controller is not delegated, or this kernel's block layer has "
                       "neither BFQ nor iocost)");
          return FALSE;
        }
      guint64 got = 0;
      if (sscanf (v, "default %" G_GUINT64_FORMAT, &got) != 1 || got != req->io_weight)
        {
          g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                       "--io-weight: io.weight of the scope is '%s'", v);
          return FALSE;
        }
    }
  return TRUE;
}

/* The scope's directory once @pid is in it.  The job is done before the move
 * when the user manager may not move the process itself (it is in a login
 * session's scope, which belongs to the system manager) and asks the system
 * manager to; so look for a while. */
static char *
wait_for_move (pid_t pid, const char *unit)
{
  g_autofree char *suffix = g_strconcat ("/", unit, NULL);
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *dir = cgroup_of (pid);
      if (dir != NULL && g_str_has_suffix (dir, suffix))
        return g_steal_pointer (&dir);
      g_usleep (1000);
    }
  return NULL;
}

SbxScope *
sbx_cgroup_scope_start (const SbxScopeRequest *req, GError **error)
{
  g_autoptr (GDBusConnection) bus = user_bus (error);
  if (bus == NULL || !start_unit (bus, req, error))
    return NULL;

  SbxScope *scope = g_new0 (SbxScope, 1);
  scope->bus = g_steal_pointer (&bus);
  scope->unit = g_strdup (req->unit);
  scope->events_fd = -1;
  scope->path = wait_for_move (req->pid, req->unit);
  if (scope->path == NULL)
    {
      g_autofree char *dir = cgroup_of (req->pid);
      g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_FAILED,
                   "the systemd user manager did not move the sandbox into %s (it is in %s)",
                   req->unit, dir != NULL ? dir : "no cgroup v2 hierarchy");
      sbx_cgroup_scope_stop (scope);
      return NULL;
    }
  g_autofree char *events = g_build_filename (scope->path, "memory.events", NULL);
  scope->events_fd = open (events, O_RDONLY | O_CLOEXEC);
  if (!check_limits (req, scope->path, error))
    {
      sbx_cgroup_scope_stop (scope);
      return NULL;
    }
  return scope;
}

int
sbx_cgroup_scope_events_fd (SbxScope *scope)
{
  return scope->events_fd;
}

const char *
sbx_cgroup_scope_path (SbxScope *scope)
{
  return scope->path;
}

void
sbx_cgroup_scope_stop (SbxScope *scope)
{
  if (scope == NULL)
    return;
  /* Empty scopes stop by themselves; this is for the case where something
   * is left.  Errors (the unit is gone already) do not matter, so sbx does
   * not wait for the answer, only until the request is sent. */
  send_no_reply (scope->bus, "StopUnit", g_variant_new ("(ss)", scope->unit, "replace"));
  g_dbus_connection_flush_sync (scope->bus, NULL, NULL);
  if (scope->events_fd >= 0)
    close (scope->events_fd);
  g_object_unref (scope->bus);
  g_free (scope->unit);
  g_free (scope->path);
  g_free (scope);
}

gboolean
sbx_cgroup_attach (const char *unit, pid_t pid, GError **error)
{
  g_autoptr (GDBusConnection) bus = user_bus (error);
  if (bus == NULL)
    return FALSE;
  g_autoptr (GError) local = NULL;
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "AttachProcessesToUnit",
      g_variant_new ("(ss@au)", unit, "",
                     g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, &(guint32){ (guint32)pid },
                                                1, sizeof (guint32))),
      NULL, G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL, &local);
  if (r == NULL)
    {
      g_dbus_error_strip_remote_error (local);
      g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_FAILED, "cannot join %s: %s", unit,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

char *
sbx_cgroup_probe (GError **error)
{
  g_autoptr (GDBusConnection) bus = user_bus (error);
  if (bus == NULL)
    return NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      bus, SYSTEMD_BUS, SYSTEMD_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", SYSTEMD_MANAGER, "ControlGroup"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL, &local);
  if (r == NULL)
    {
      g_dbus_error_strip_remote_error (local);
      g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NO_MANAGER,
                   "no systemd user manager on the session bus (%s); enable one with "
                   "'loginctl enable-linger %s'",
                   local->message, g_get_user_name ());
      return NULL;
    }
  g_autoptr (GVariant) v = NULL;
  g_variant_get (r, "(v)", &v);
  const char *group = g_variant_get_string (v, NULL);
  g_autofree char *dir = g_build_filename ("/sys/fs/cgroup", group, NULL);
  char *have = *group != '\0' ? read_value (dir, "cgroup.controllers") : NULL;
  if (have == NULL)
    g_set_error (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE,
                 "the user manager has no cgroup v2 directory (%s): cgroup v2 is not mounted "
                 "at /sys/fs/cgroup; boot with systemd.unified_cgroup_hierarchy=1",
                 *group != '\0' ? dir : "none");
  return have;
}
