/* SPDX-License-Identifier: GPL-2.0-or-later */
/* named.c: `sbx ps`, `sbx stop` and `sbx rm` on named sandboxes (`sbx diff`
 * and `sbx apply`: patch.c, apply.c). */
#include "config.h"

#include "named.h"
#include "ext.h"
#include "state.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "3d4h", "5m12s": the two largest units. */
static char *
format_uptime (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds >= 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT "d%" G_GINT64_FORMAT "h", seconds / 86400,
                            seconds % 86400 / 3600);
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT "m", seconds / 3600,
                            seconds % 3600 / 60);
  if (seconds >= 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s", seconds / 60,
                            seconds % 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT "s", seconds);
}

static char *
join_or_dash (char **v, const char *sep)
{
  return v != NULL && v[0] != NULL ? g_strjoinv (sep, v) : g_strdup ("-");
}

/* The NET column: the network, and "+policy" when sbx-net enforces rules
 * ("+log" when it only logs). */
static char *
net_column (const SbxSandboxInfo *s)
{
  gboolean rules = (s->allow_net != NULL && s->allow_net[0] != NULL)
                   || (s->deny_net != NULL && s->deny_net[0] != NULL);
  return g_strdup_printf ("%s%s", s->network != NULL ? s->network : "-",
                          rules                ? "+policy"
                          : s->net_log != NULL ? "+log"
                                               : "");
}

static void
print_table (GPtrArray *list)
{
  printf ("%-20s %-8s %-8s %-8s %-32s %-13s %-24s %s\n", "NAME", "PID", "STATUS", "UPTIME",
          "COMMAND", "NET", "PORTS", "LIMITS");
  for (guint i = 0; i < list->len; i++)
    {
      SbxSandboxInfo *s = list->pdata[i];
      gboolean has_state = s->status != SBX_STATUS_STOPPED;
      g_autofree char *pid = has_state ? g_strdup_printf ("%d", (int)s->pid) : g_strdup ("-");
      g_autofree char *uptime = s->status == SBX_STATUS_RUNNING
                                    ? format_uptime ((gint64)time (NULL) - s->created)
                                    : g_strdup ("-");
      g_autofree char *command = join_or_dash (s->command, " ");
      g_autofree char *ports = join_or_dash (s->ports, ",");
      g_autofree char *limits = join_or_dash (s->limits, ",");
      if (strlen (command) > 32)
        strcpy (command + 29, "...");
      g_autofree char *net = has_state ? net_column (s) : g_strdup ("-");
      printf ("%-20s %-8s %-8s %-8s %-32s %-13s %-24s %s\n", s->name, pid,
              sbx_status_name (s->status), uptime, command, net, ports, limits);
    }
}

int
sbx_named_ps (gboolean all, gboolean json)
{
  g_autoptr (GPtrArray) list = sbx_state_list (all);
  if (!json)
    {
      print_table (list);
      return 0;
    }
  g_autoptr (GError) error = NULL;
  const SbxExt *ext = sbx_ext_load (&error);
  if (ext == NULL)
    sbx_die ("%s", error->message);
  g_autofree char *text = ext->ps_json (list);
  printf ("%s\n", text);
  return 0;
}

/* Waits up to @ms for @pidfd to become readable (the process exited). */
static gboolean
wait_exit (int pidfd, int ms)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  int r;
  do
    r = poll (&p, 1, ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

/* After PID 1 is gone its monitor removes the state and drops the lock; wait
 * for that so that `sbx ps` or `sbx rm` right after `sbx stop` no longer see
 * it.  If the monitor is gone too, nobody will: remove the state ourselves. */
static void
wait_state_gone (const SbxSandboxInfo *info)
{
  for (int i = 0; i < 500 && sbx_state_is_claimed (info->name); i++)
    {
      if (info->monitor_pid <= 0 || kill (info->monitor_pid, 0) < 0)
        break;
      g_usleep (2000);
    }
  if (!sbx_state_is_claimed (info->name))
    sbx_state_remove_runtime (info->name, NULL);
}

gboolean
sbx_named_stop (const char *name, guint grace_seconds, GError **error)
{
  g_autoptr (SbxSandboxInfo) info = sbx_state_lookup (name, error);
  if (info == NULL)
    return FALSE;
  if (info->status == SBX_STATUS_EXITING)
    {
      /* On its way out already: stopped once it is gone. */
      wait_state_gone (info);
      return TRUE;
    }
  if (info->status != SBX_STATUS_RUNNING)
    return TRUE; /* as podman: stopping a stopped sandbox is not an error */

  cleanup_fd int pidfd = sbx_state_open_pidfd (info, FALSE, NULL);
  if (pidfd < 0)
    return TRUE; /* it exited meanwhile */
  /* PID 1 relays SIGTERM to the command and exits with it. */
  sbx_util_pidfd_send_signal (pidfd, SIGTERM);
  if (!wait_exit (pidfd, (int)MIN (grace_seconds, 24u * 3600) * 1000))
    {
      /* SIGKILL from outside the PID namespace always kills its init, and
       * with it everything inside. */
      sbx_util_pidfd_send_signal (pidfd, SIGKILL);
      wait_exit (pidfd, -1);
    }
  wait_state_gone (info);
  return TRUE;
}

/* In the mapped user namespace: files of subordinate ids are ours there. */
static int
remove_tree (gpointer data)
{
  return sbx_util_remove_tree (data, TRUE) ? 0 : 1;
}

/* Takes the name as `sbx run --name` does, so that no sandbox of that name
 * can start (or be starting: its state file comes only once the command
 * runs, so a lookup reports it stopped until then) while its kept layer is
 * removed under it.  NULL without a runtime directory: then no sandbox can
 * hold a name either. */
static gboolean
claim_for_rm (const char *name, SbxStateClaim **claim, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *root = sbx_state_runtime_root (NULL);
  *claim = NULL;
  if (root == NULL)
    return TRUE;
  *claim = sbx_state_claim (name, &local);
  if (*claim != NULL)
    return TRUE;
  if (g_error_matches (local, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE))
    g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                 "cannot remove %s: it is in use (a sandbox of that name is running or starting)",
                 name);
  else
    g_set_error (error, local->domain, local->code, "cannot remove %s: %s", name, local->message);
  return FALSE;
}

/* Removes @dir (a kept layer's) as the caller in a user namespace where
 * the caller's subordinate ids are mapped: files of those ids are theirs
 * there, as `podman unshare rm -rf` does it.  Through fds, no symlink
 * followed (sbx_util_remove_tree). */
static gboolean
remove_mapped (const SbxSpec *caller, const char *dir, GError **error)
{
  g_autoptr (GError) local = NULL;
  int status = sbx_userns_run_mapped (caller, remove_tree, (gpointer)dir, &local);
  if (status < 0)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot remove %s: %s", dir,
                 local->message);
  else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot remove %s completely", dir);
  return status >= 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

gboolean
sbx_named_rm (const SbxSpec *caller, const char *name, gboolean force, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (SbxSandboxInfo) info = sbx_state_lookup (name, &local);
  if (info == NULL)
    {
      /* A run killed before its command started may leave the name's lock
       * alone (no state, no layer): nothing lists it, and rm takes it. */
      if (g_error_matches (local, SBX_STATE_ERROR, SBX_STATE_ERROR_NOT_FOUND)
          && sbx_state_remove_leftover (name))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (info->status == SBX_STATUS_RUNNING || info->status == SBX_STATUS_EXITING)
    {
      if (!force && info->status == SBX_STATUS_EXITING)
        {
          g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                       "%s is exiting; wait for it or use 'sbx rm -f %s'", name, name);
          return FALSE;
        }
      if (!force)
        {
          g_set_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_IN_USE,
                       "%s is running; stop it first or use 'sbx rm -f %s'", name, name);
          return FALSE;
        }
      if (!sbx_named_stop (name, 10, error))
        return FALSE;
    }
  /* Held from here to the end: the stale state and the kept layer go while
   * nobody can claim the name.  Releasing it removes the runtime state. */
  SbxStateClaim *claim;
  if (!claim_for_rm (name, &claim, error))
    return FALSE;
  gboolean ok = info->data_dir == NULL || remove_mapped (caller, info->data_dir, error);
  sbx_state_release (claim);
  return ok;
}

gboolean
sbx_named_rm_claimed (const SbxSpec *caller, SbxStateClaim *claim, const char *data_dir,
                      GError **error)
{
  gboolean ok = remove_mapped (caller, data_dir, error);
  sbx_state_release (claim);
  return ok;
}

gboolean
sbx_named_rm_upper (const SbxSpec *caller, const char *dir, GError **error)
{
  struct stat st;
  if (lstat (dir, &st) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "--upper %s: %s", dir,
                   sbx_util_strerror (errno));
      return FALSE;
    }
  /* The directory itself, not what a symlink leads to: the removal
   * follows none. */
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR, "--upper %s: not a directory", dir);
      return FALSE;
    }
  if (st.st_uid != caller->uid)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "--upper %s: belongs to uid %u, not to you", dir, (guint)st.st_uid);
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  if (!sbx_state_check_layer_dir (dir, &local))
    {
      g_set_error (error, local->domain, local->code, "--upper %s", local->message);
      return FALSE;
    }
  /* Held while the layer goes: no run starts on it meanwhile, and one
   * that holds it refuses us. */
  cleanup_fd int lock = sbx_state_lock_layer (dir, "sbx rm --upper", &local);
  if (lock < 0)
    {
      g_set_error (error, local->domain, local->code, "cannot remove %s: %s", dir, local->message);
      return FALSE;
    }
  return remove_mapped (caller, dir, error);
}
