/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.c: the parent side of `sbx run`: clone, sync, wait, signals, exit
 * status. */
#include "config.h"

#include "monitor.h"
#include "child.h"
#include "ext.h"
#include "fuse.h"
#include "helper.h"
#include "holder.h"
#include "net.h"
#include "init.h"
#include "pty.h"
#include "security.h"
#include "skeleton.h"
#include "state.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* What the monitor learns about the sandbox while it runs. */
typedef struct
{
  const SbxSpec *spec;
  const SbxChildConfig *config;
  SbxStateClaim *claim; /* a named sandbox's registration, or NULL */
  pid_t pid;
  int pidfd;
  int sock;
  SbxRunState state;
  guint32 seen;         /* the message types received, as bits */
  int fuse_exe;         /* fuse-overlayfs, opened on the host, or -1 */
  int layer_lock;       /* the kept layer's lock (sbx_state_lock_layer), or -1 */
  SbxFuse *fuse;        /* fuse-overlayfs, when the sandbox asked for it */
  SbxNet *net;          /* published ports and sbx-net (--net slirp) */
  const SbxExt *ext;    /* sbx-ext.so, once the scope needed it */
  SbxScope *scope;      /* the systemd user scope holding the sandbox, or NULL */
  char *scope_unit;     /* its name */
  char *namespaces;     /* the sandbox's, as PID 1 reported them */
  SbxPtyProxy *pty;     /* the command's pty and the caller's terminal, once PID 1 sent it */
  guint64 oom_kills;    /* memory.events oom_kill of the scope, last read */
  gboolean net_ready;   /* sbx-net said it runs */
  gboolean net_waiting; /* the sandbox waits for that */
  gboolean have_status; /* the command's wait status arrived */
  int status;
  int error_code; /* non-zero: the sandbox reported a failure */
  char *error_text;
  char *fuse_killed;       /* how fuse-overlayfs was killed while the sandbox lived, or NULL */
  GPtrArray *made_parents; /* missing parents of a named sandbox's data directory we made */
  char *lock_made;         /* the kept layer's lock file, when we made it in an existing DIR */
  char *unsynced;          /* the kept layer's mark of this boot (sbx_state_mark_unsynced) */
  gboolean reaped;         /* PID 1 is gone, and with it the sandbox's mounts */
} SbxRun;

static void verbose (const SbxSpec *spec, const char *fmt, ...) SBX_PRINTF (2, 3);

/* The run in progress and whether its command started: process state of
 * the monitor (not options), set by sbx_monitor_run(), for the one way out
 * of every failure, undo_run(). */
static SbxRun *current_run;
static pid_t monitor_pid;
static gboolean command_started;

static void release_run (SbxRun *run);

/* In a user namespace where the caller's subordinate ids are mapped: the
 * layer directories PID 1's setup made belong to those ids when it made
 * them as root inside.  System calls alone: the monitor may have threads
 * (GDBus) by now. */
static int
remove_created_mapped (gpointer data)
{
  const GPtrArray *created = data;
  int failed = 0;
  for (guint i = created->len; i > 0; i--)
    failed += !sbx_util_remove_tree_raw (created->pdata[i - 1]);
  return failed != 0;
}

/* Removes the directories made for the run (spec->created), with what
 * sbx's setup put in them: as the caller, and where that is not enough,
 * as the caller's subordinate ids too (as `sbx rm` does). */
static void
remove_created (const SbxSpec *spec)
{
  gboolean all = TRUE;
  for (guint i = spec->created->len; i > 0; i--)
    all &= sbx_util_remove_tree (spec->created->pdata[i - 1], FALSE);
  if (!all)
    sbx_userns_run_mapped (spec, remove_created_mapped, spec->created, NULL);
  g_ptr_array_set_size (spec->created, 0);
}

/* Ends the run, whichever way the monitor leaves: its return, an
 * sbx_die() anywhere (an atexit handler), a failure reported by the
 * sandbox.  Before the command started, nothing the run made survives it:
 * PID 1 is killed and reaped (its mounts hold the layer), the layer
 * directories and lock file made for it are removed; then the name, the
 * layer's lock, the helpers and the scope are released.  A layer that the
 * command has written is kept, as is one that existed before. */
static void
undo_run (void)
{
  SbxRun *run = current_run;
  /* Never in the sandbox's PID 1, a clone of the monitor (it leaves with
   * _exit(), but a clone is a copy of this state). */
  if (run == NULL || getpid () != monitor_pid)
    return;
  current_run = NULL;
  if (!command_started)
    {
      if (run->pidfd >= 0)
        {
          sbx_util_pidfd_send_signal (run->pidfd, SIGKILL);
          while (waitid (P_PIDFD, (id_t)run->pidfd, NULL, WEXITED) < 0 && errno == EINTR)
            ;
        }
      run->reaped = TRUE;
      remove_created (run->spec);
      if (run->lock_made != NULL)
        unlink (run->lock_made);
      for (guint i = run->made_parents->len; i > 0; i--)
        rmdir (run->made_parents->pdata[i - 1]); /* only if empty: another run's may be there */
    }
  /* Not while the sandbox may still write the layer: a monitor dying while
   * the command runs leaves the mark to the next run of this boot. */
  if (run->unsynced != NULL && run->reaped)
    sbx_state_unmark_unsynced (run->unsynced);
  g_clear_pointer (&run->unsynced, g_free);
  release_run (run);
  g_clear_pointer (&run->made_parents, g_ptr_array_unref);
  g_clear_pointer (&run->lock_made, g_free);
}

static void
verbose (const SbxSpec *spec, const char *fmt, ...)
{
  if (!spec->verbose)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sbx: %s\n", text);
}

static guint64
clone_flags (const SbxSpec *spec)
{
  /* The user namespace is created with the others in one clone(): the
   * kernel creates it first and makes it the owner of the rest, so every
   * other namespace is governed by the sandbox's ids, not the host's.  The
   * cgroup namespace follows once the sandbox is in its scope (child.c). */
  guint64 flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (spec->net != SBX_NET_HOST)
    flags |= CLONE_NEWNET;
  return flags;
}

/* Something the sandbox needs failed on our side: report it and end the
 * sandbox (it could not go on as asked). */
static void
fail_sandbox (SbxRun *run, const char *why)
{
  if (run->error_code == 0)
    {
      run->error_code = SBX_EXIT_FAILURE;
      run->error_text = g_strdup (why);
    }
  sbx_state_set_exiting (run->claim);
  sbx_util_pidfd_send_signal (run->pidfd, SIGKILL);
}

/* The sandbox gave us tap0: sbx-net goes on it. */
static void
start_network (SbxRun *run, int tap)
{
  g_autoptr (GError) error = NULL;
  if (tap < 0 || run->net == NULL || !sbx_net_start (run->net, run->spec, tap, &error))
    fail_sandbox (run, error != NULL ? error->message : "no tap0 from the sandbox");
  if (tap >= 0)
    close (tap);
}

static void
release_network (SbxRun *run)
{
  if (run->net_ready && run->net_waiting)
    {
      sbx_msg_send (run->sock, SBX_MSG_NET_READY, 0, 0, NULL, -1);
      run->net_waiting = FALSE;
    }
}

/* The sandbox needs fuse-overlayfs: start it in its namespaces (see fuse.h),
 * or tell it why not. */
static void
start_fuse (SbxRun *run)
{
  g_autoptr (GError) error = NULL;
  if (run->fuse == NULL)
    run->fuse
        = sbx_fuse_spawn (run->spec, run->fuse_exe, run->pidfd, run->config->root_mapped, &error);
  if (run->fuse == NULL)
    sbx_msg_send (run->sock, SBX_MSG_FUSE_FAILED, 0, 0, error->message, -1);
}

/* Remembers that fuse-overlayfs was killed (@why, sbx_fuse_failure()):
 * not the exit of its unmount when the sandbox's mount namespace goes, nor
 * a kill after the command succeeded.  A command that failed may have
 * failed of it even when its status came first (SIGBUS on a file the
 * daemon served, reported before the daemon's own exit). */
static void
note_fuse_death (SbxRun *run, const char *why)
{
  if (run->fuse_killed != NULL || strstr (why, "(killed by ") == NULL
      || (run->state == SBX_RUN_EXITED && sbx_util_exit_code (run->status) == 0))
    return;
  run->fuse_killed
      = run->state == SBX_RUN_STARTED
            ? g_strdup_printf ("%s, while the command ran; the sandbox was stopped", why)
            : g_strdup (why);
}

/* The sandbox's pty: the monitor proxies it from now on (pty.c). */
static void
start_pty (SbxRun *run, int master)
{
  if (master < 0 || !sbx_pty_is_master (master))
    {
      if (master >= 0)
        close (master);
      fail_sandbox (run, "the sandbox sent no pty master for the command's terminal");
      return;
    }
  run->pty = sbx_pty_proxy_new (&run->config->pty, master);
}

/* Whether a session bus is there to ask, without loading GDBus: the address
 * in the environment, or the socket systemd puts in the runtime directory
 * (where GLib looks when there is no address). */
static gboolean
session_bus_present (void)
{
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL)
    return TRUE;
  g_autofree char *bus = runtime != NULL ? g_build_filename (runtime, "bus", NULL) : NULL;
  return bus != NULL && g_file_test (bus, G_FILE_TEST_EXISTS);
}

/* "--memory 64M, --pids-limit 100": the limits asked for, for messages. */
static char *
limits_asked (const SbxSpec *spec)
{
  g_auto (GStrv) limits = sbx_spec_limits_strv (spec);
  g_autoptr (GString) text = g_string_new (NULL);
  for (char **l = limits; *l != NULL; l++)
    {
      char *eq = strchr (*l, '=');
      *eq = '\0';
      g_string_append_printf (text, "%s--%s %s", text->len ? ", " : "",
                              g_str_equal (*l, "pids") ? "pids-limit" : *l, eq + 1);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The command line, for the scope's description. */
static char *
describe_command (const SbxSpec *spec)
{
  g_autofree char *joined = g_strjoinv (" ", spec->argv);
  if (strlen (joined) > 200)
    joined[200] = '\0';
  return g_strdup_printf ("sbx: %s", joined);
}

/* Puts the sandbox's PID 1 into a transient scope of the systemd user
 * manager, before it is released, so that the command never runs outside
 * its limits.  Called after the clone: GDBus starts a thread (STYLE.md 13).
 * Without limits the scope only makes the sandbox visible to systemctl;
 * when there is no manager, that is silently skipped. */
static gboolean
start_scope (SbxRun *run, GError **error)
{
  const SbxSpec *spec = run->spec;
  gboolean limits = sbx_spec_has_limits (spec);
  g_autoptr (GError) local = NULL;

  if (!session_bus_present ())
    return !limits; /* sbx_monitor_run() said why before the clone */
  gint64 t0 = g_get_monotonic_time ();
  run->ext = sbx_ext_load (&local);
  verbose (spec, "sbx-ext.so (GDBus) loaded in %.1f ms",
           (double)(g_get_monotonic_time () - t0) / 1000.0);
  if (run->ext != NULL)
    {
      run->scope_unit = spec->name != NULL ? g_strdup_printf ("sbx-%s.scope", spec->name)
                                           : g_strdup_printf ("sbx-%d.scope", (int)run->pid);
      g_autofree char *description = describe_command (spec);
      SbxScopeRequest req = {
        .pid = run->pid,
        .unit = run->scope_unit,
        .description = description,
        .memory = spec->memory,
        .memory_text = spec->memory_text,
        .cpu_quota = spec->cpu_quota,
        .pids_limit = spec->pids_limit,
        .io_weight = spec->io_weight,
      };
      run->scope = run->ext->scope_start (&req, &local);
      if (run->scope != NULL)
        verbose (spec, "scope %s, ready in %.1f ms", run->scope_unit,
                 (double)(g_get_monotonic_time () - t0) / 1000.0);
    }
  if (run->scope != NULL || !limits)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* The scope's oom_kill count, from memory.events (0 when unreadable). */
static guint64
read_oom_kills (int fd)
{
  char buf[512];
  ssize_t n = fd >= 0 ? pread (fd, buf, sizeof buf - 1, 0) : -1;
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  const char *line = strstr (buf, "oom_kill ");
  return line != NULL ? g_ascii_strtoull (line + strlen ("oom_kill "), NULL, 10) : 0;
}

/* Keeps the highest count seen: the file goes away with the scope, which
 * systemd removes as soon as the sandbox is gone. */
static void
update_oom_kills (SbxRun *run)
{
  if (run->scope == NULL)
    return;
  guint64 n = read_oom_kills (run->ext->scope_events_fd (run->scope));
  run->oom_kills = MAX (run->oom_kills, n);
}

/* Says so when the OOM killer acted inside the memory limit. */
static void
report_oom (const SbxRun *run, int code)
{
  if (run->oom_kills == 0)
    return;
  if (code == 128 + SIGKILL)
    fprintf (stderr, "sbx: command killed: memory limit %s reached\n", run->spec->memory_text);
  else
    fprintf (stderr,
             "sbx: warning: memory limit %s reached: the OOM killer ended %" G_GUINT64_FORMAT
             " process(es) inside\n",
             run->spec->memory_text, run->oom_kills);
}

gboolean
sbx_monitor_message_expected (SbxRunState state, guint32 seen, guint32 type,
                              const SbxRunNeeds *needs)
{
  gboolean setup = state == SBX_RUN_SETUP || state == SBX_RUN_BUILDING;
  gboolean building = state == SBX_RUN_BUILDING;
  gboolean first = type < 32 && !(seen & (1u << type));
  switch ((SbxMsgType)type)
    {
    case SBX_MSG_ERROR:
    case SBX_MSG_WARNING:
    case SBX_MSG_INFO:
      return setup;
    case SBX_MSG_TAP_FD:
      return setup && first && needs->slirp;
    case SBX_MSG_NET_WAIT:
      return building && first && needs->slirp;
    case SBX_MSG_FUSE_START:
      return building && first && needs->fuse;
    case SBX_MSG_NAMESPACES:
      return building && first && needs->named;
    case SBX_MSG_PTY:
      /* Taken while PID 1 runs sbx's code only: after that a master from
       * it could be anything the command made. */
      return building && first && needs->pty;
    case SBX_MSG_STARTED:
      return building && first;
    case SBX_MSG_EXIT:
      return state == SBX_RUN_STARTED && first;
    case SBX_MSG_GO:
    case SBX_MSG_FUSE_FAILED:
    case SBX_MSG_NET_READY:
    case SBX_MSG_SOCKET_REQUEST:
    case SBX_MSG_SOCKET:
    default:
      return FALSE;
    }
}

static gboolean
message_expected (const SbxRun *run, guint32 type)
{
  SbxRunNeeds needs = {
    .slirp = run->spec->net == SBX_NET_SLIRP,
    .fuse = run->fuse_exe >= 0,
    .named = run->spec->name != NULL,
    .pty = run->config->pty.active,
  };
  return sbx_monitor_message_expected (run->state, run->seen, type, &needs);
}

/* Handles one message from the sandbox; FALSE on EOF. */
static gboolean
read_message (int sock, SbxRun *run)
{
  SbxMsg msg;
  pid_t sender = 0;
  int fd = -1;
  if (!sbx_msg_recv (sock, &msg, &fd, &sender))
    return FALSE;
  if (!message_expected (run, msg.type))
    {
      sbx_util_close_fdp (&fd);
      /* Once killed, whatever else is queued is of no interest. */
      if (run->error_code == 0)
        {
          g_autofree char *why
              = g_strdup_printf ("the sandbox broke sbx's protocol (message %u unexpected now); "
                                 "it was stopped",
                                 msg.type);
          fail_sandbox (run, why);
        }
      return TRUE;
    }
  if (msg.type < 32)
    run->seen |= 1u << msg.type;
  if (fd >= 0 && msg.type != SBX_MSG_TAP_FD && msg.type != SBX_MSG_PTY)
    sbx_util_close_fdp (&fd);
  switch ((SbxMsgType)msg.type)
    {
    case SBX_MSG_ERROR:
      if (run->error_code == 0)
        {
          run->error_code = msg.code != 0 ? msg.code : SBX_EXIT_FAILURE;
          run->error_text = g_strdup (msg.text);
        }
      break;
    case SBX_MSG_WARNING:
      fprintf (stderr, "sbx: warning: %s\n", msg.text);
      break;
    case SBX_MSG_INFO:
      fprintf (stderr, "sbx: %s\n", msg.text);
      break;
    case SBX_MSG_EXIT:
      run->state = SBX_RUN_EXITED;
      sbx_state_set_exiting (run->claim);
      run->have_status = TRUE;
      run->status = (int)msg.value;
      break;
    case SBX_MSG_NAMESPACES:
      g_free (run->namespaces);
      run->namespaces = g_strdup (msg.text);
      break;
    case SBX_MSG_STARTED:
      /* The root is entered and the command forked: from now on `sbx exec`
       * can join, so this is when a named sandbox becomes visible. */
      command_started = TRUE;
      run->state = SBX_RUN_STARTED;
      if (run->claim != NULL)
        {
          g_autoptr (GError) error = NULL;
          if (!sbx_state_publish (run->claim, run->spec, run->pid, sender, run->config->caps,
                                  run->config->inside_uid, run->config->inside_gid,
                                  run->scope != NULL ? run->scope_unit : NULL, run->namespaces,
                                  &error))
            fprintf (stderr, "sbx: warning: cannot record the state of %s: %s\n", run->spec->name,
                     error->message);
        }
      break;
    case SBX_MSG_FUSE_START:
      start_fuse (run);
      break;
    case SBX_MSG_TAP_FD:
      start_network (run, fd);
      break;
    case SBX_MSG_NET_WAIT:
      run->net_waiting = TRUE;
      release_network (run);
      break;
    case SBX_MSG_PTY:
      start_pty (run, fd);
      break;
    case SBX_MSG_GO:
    case SBX_MSG_FUSE_FAILED:
    case SBX_MSG_NET_READY:
    case SBX_MSG_SOCKET_REQUEST:
    case SBX_MSG_SOCKET:
    default:
      break;
    }
  return TRUE;
}

/* A signal for the monitor: the proxy's own (window size, job control of
 * sbx itself), else relayed to PID 1, which passes it on to the command's
 * process group. */
static void
handle_signal (const SbxSpec *spec, SbxRun *run, const struct signalfd_siginfo *si)
{
  int signo = (int)si->ssi_signo;
  if (sbx_init_signal_is_own (si))
    return;
  if (run->config->pty.active && sbx_pty_owns_signal (signo))
    sbx_pty_proxy_signal (run->pty, signo);
  /* With --share-tty the terminal's signals already reached the command
   * (same process group); relay only the others. */
  else if (!(spec->share_tty && si->ssi_code == SI_KERNEL))
    sbx_util_pidfd_send_signal (run->pidfd, signo);
}

/* Relays signals, proxies the command's terminal and collects messages
 * until PID 1 is gone. */
static int
wait_for_sandbox (const SbxSpec *spec, SbxRun *run, int sock, int signal_fd)
{
  enum
  {
    PIDFD,
    SOCK,
    SIGNALS,
    FUSE,
    NET,
    NET_EXIT,
    EVENTS,
    NET_LOG,
    PTY, /* two: the pty's master, the caller's terminal */
    N_FDS = PTY + 2,
  };
  struct pollfd fds[N_FDS] = {
    [PIDFD] = { .fd = run->pidfd, .events = POLLIN },
    [SOCK] = { .fd = sock, .events = POLLIN },
    [SIGNALS] = { .fd = signal_fd, .events = POLLIN },
    [FUSE] = { .fd = -1, .events = POLLIN },
    [NET] = { .fd = -1, .events = POLLIN },
    [NET_EXIT] = { .fd = -1, .events = POLLIN },
    /* cgroup v2 files signal a change with POLLPRI */
    [EVENTS]
    = { .fd = run->scope != NULL ? run->ext->scope_events_fd (run->scope) : -1, .events = POLLPRI },
    /* --net-log: sbx-net's records */
    [NET_LOG] = { .fd = -1, .events = POLLIN },
  };
  gboolean sock_open = TRUE;

  for (;;)
    {
      fds[SOCK].fd = sock_open ? sock : -1;
      fds[FUSE].fd = run->fuse != NULL ? sbx_fuse_pidfd (run->fuse) : -1;
      fds[NET].fd = run->net != NULL ? sbx_net_ready_fd (run->net) : -1;
      fds[NET_EXIT].fd = run->net != NULL ? sbx_net_pidfd (run->net) : -1;
      fds[NET_LOG].fd = sbx_net_events_fd (run->net);
      sbx_pty_proxy_poll (run->pty, &fds[PTY]);
      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          sbx_die_errno ("poll");
        }
      /* The command's output first: a message read below may end the
       * loop. */
      if (sbx_pty_proxy_handle (run->pty, &fds[PTY]) == SBX_PTY_END)
        sbx_util_pidfd_send_signal (run->pidfd, SIGKILL);
      if (fds[SOCK].revents & (POLLIN | POLLHUP | POLLERR))
        sock_open = read_message (sock, run);
      if (fds[SIGNALS].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (signal_fd, &si, sizeof si) == sizeof si)
            handle_signal (spec, run, &si);
        }
      if (fds[FUSE].revents & POLLIN)
        {
          /* The daemon is gone.  While the root is built the sandbox hears
           * why and reports it; once the command runs, every access to the
           * files it served fails (ENOTCONN): the sandbox is stopped, and
           * the caller hears why. */
          g_autofree char *why = sbx_fuse_failure (run->fuse);
          note_fuse_death (run, why);
          if (run->state == SBX_RUN_BUILDING || run->state == SBX_RUN_SETUP)
            sbx_msg_send (sock, SBX_MSG_FUSE_FAILED, 0, 0, why, -1);
          else if (run->state == SBX_RUN_STARTED)
            {
              g_autofree char *text
                  = g_strdup_printf ("%s, while the command ran; the sandbox was stopped", why);
              fail_sandbox (run, text);
            }
          sbx_fuse_stop (g_steal_pointer (&run->fuse));
        }
      if (fds[NET_EXIT].revents & POLLIN)
        {
          /* sbx-net ends by itself when the sandbox does; before that, a
           * dead network helper leaves the sandbox without a network and
           * its published ports without anyone behind them. */
          g_autofree char *how = sbx_net_reap (run->net);
          if (how != NULL && run->state != SBX_RUN_EXITED)
            {
              g_autofree char *text = g_strdup_printf (
                  "sbx-net, the network helper, died (%s); the sandbox was stopped", how);
              fail_sandbox (run, text);
            }
        }
      if (fds[NET].revents & (POLLIN | POLLHUP | POLLERR))
        {
          run->net_ready = sbx_net_check_ready (run->net);
          if (run->net_ready)
            release_network (run);
          else
            fail_sandbox (run,
                          "sbx-net, the network helper, failed to start (its message is above)");
        }
      if (fds[EVENTS].revents & (POLLPRI | POLLERR))
        update_oom_kills (run);
      if (fds[NET_LOG].revents & (POLLIN | POLLHUP | POLLERR))
        sbx_net_log_events (run->net);
      if (fds[PIDFD].revents & POLLIN)
        break;
    }

  siginfo_t info = { 0 };
  /* PID 1 is reaped before we return, whatever the kernel's teardown of
   * the namespaces costs (below what a run's timing shows): a caller that
   * is a subreaper must not collect a zombie per run. */
  while (waitid (P_PIDFD, (id_t)run->pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  run->reaped = TRUE;
  /* Messages sent just before PID 1 exited are still queued (none after
   * the command's status, the last one PID 1 sends). */
  while (sock_open)
    sock_open = read_message (sock, run);
  update_oom_kills (run);
  /* fuse-overlayfs killed a moment before PID 1 went, its death not yet
   * seen above: gone, or on its way (the kernel closes its /dev/fuse, and
   * the command sees ENOTCONN or SIGBUS, before its exit is reported). */
  struct pollfd fuse_gone
      = { .fd = run->fuse != NULL ? sbx_fuse_pidfd (run->fuse) : -1, .events = POLLIN };
  if (fuse_gone.fd >= 0 && poll (&fuse_gone, 1, sbx_fuse_exiting (run->fuse) ? 2000 : 0) > 0)
    {
      g_autofree char *why = sbx_fuse_failure (run->fuse);
      note_fuse_death (run, why);
    }
  /* Its death is the cause of whatever failed after it (a bind from it, the
   * command's execve() with ENOTCONN, the command's SIGBUS on a file it
   * served): said as such, 125. */
  if (run->fuse_killed != NULL)
    {
      g_free (run->error_text);
      run->error_code = SBX_EXIT_FAILURE;
      run->error_text = g_steal_pointer (&run->fuse_killed);
    }
  /* What the command wrote last, then the caller's terminal as it was,
   * before any message of ours. */
  sbx_pty_proxy_finish (g_steal_pointer (&run->pty));

  if (run->error_code != 0)
    {
      fprintf (stderr, "sbx: %s\n", run->error_text);
      return run->error_code;
    }
  int code = run->have_status             ? sbx_util_exit_code (run->status)
             : info.si_code == CLD_EXITED ? info.si_status
                                          : 128 + info.si_status;
  report_oom (run, code);
  return code;
}

/* Makes the missing parents of @path (a named sandbox's data directory),
 * remembered to be removed again while empty. */
static void
make_parents (SbxRun *run, const char *option, const char *path)
{
  g_autofree char *parent = g_path_get_dirname (path);
  if (strcmp (parent, path) == 0 || access (parent, F_OK) == 0)
    return;
  make_parents (run, option, parent);
  if (mkdir (parent, 0700) == 0)
    g_ptr_array_add (run->made_parents, g_strdup (parent));
  else if (errno != EEXIST)
    sbx_die ("%s: cannot create %s: %s", option, parent, sbx_util_strerror (errno));
}

/* mkdir, remembered in spec->created for undo_run(); an existing
 * directory is fine (validation checked it). */
static void
make_layer_dir (SbxRun *run, const char *option, const char *path, mode_t mode)
{
  if (mkdir (path, mode) == 0)
    g_ptr_array_add (run->spec->created, g_strdup (path));
  else if (errno != EEXIST)
    sbx_die ("%s: cannot create %s: %s", option, path, sbx_util_strerror (errno));
}

/* The kept layer, taken for this run: its directory DIR (with missing
 * parents for a named sandbox's), DIR/lock (held until we exit, released
 * however we die: no other sandbox and no `sbx apply` writes the layer
 * meanwhile), then DIR/upper and DIR/work.  Made here, when the run
 * starts: validation only checked them. */
static void
take_layer (SbxRun *run)
{
  const SbxSpec *spec = run->spec;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (spec->upper);
  const char *option = spec->name_generated ? "--review"
                       : spec->name != NULL ? "--name"
                                            : "--upper";
  g_autofree char *command = g_strjoinv (" ", spec->argv);
  g_autofree char *holder = spec->name != NULL ? g_strdup_printf ("--name %s", spec->name)
                                               : g_strdup_printf ("sbx run -- %.80s", command);
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);

  if (spec->name != NULL)
    make_parents (run, option, dir);
  gboolean made = mkdir (dir, 0700) == 0;
  if (!made && errno != EEXIST)
    sbx_die ("%s: cannot create %s: %s", option, dir, sbx_util_strerror (errno));
  /* The name's claim makes its directory ours at once; --upper DIR is
   * ours once its lock is: another run may have made it a moment before
   * us (a race for a new DIR) and hold it now. */
  /* The name --review chose was free when validation looked; another
   * run that took it meanwhile keeps it. */
  if (!made && spec->name_generated)
    sbx_die ("--review: %s was taken by another run meanwhile; run again", dir);
  if (made && spec->name != NULL)
    g_ptr_array_add (spec->created, g_strdup (dir));
  gboolean lock_existed = access (lock, F_OK) == 0;
  run->layer_lock = sbx_state_lock_layer (dir, holder, &error);
  if (run->layer_lock < 0)
    sbx_die ("%s %s: %s", option, spec->name != NULL ? spec->name : dir, error->message);
  if (made && spec->name == NULL)
    g_ptr_array_add (spec->created, g_strdup (dir));
  else if (!made && !lock_existed)
    run->lock_made = g_steal_pointer (&lock);
  make_layer_dir (run, option, spec->upper, 0755);
  make_layer_dir (run, option, spec->upper_work, 0700);
  if (!sbx_state_mark_unsynced (spec->upper_work, &run->unsynced, &error))
    sbx_die ("%s %s: %s", option, spec->name != NULL ? spec->name : dir, error->message);
  if (!sbx_state_record_layers (spec, &error))
    sbx_warn ("cannot record the layers of %s: %s", dir, error->message);
}

/* Ends what the monitor started beside the sandbox, once it is gone. */
static void
release_run (SbxRun *run)
{
  sbx_pty_proxy_finish (g_steal_pointer (&run->pty));
  sbx_fuse_stop (g_steal_pointer (&run->fuse));
  sbx_util_close_fdp (&run->fuse_exe);
  sbx_util_close_fdp (&run->layer_lock);
  sbx_net_free (g_steal_pointer (&run->net));
  sbx_state_release (g_steal_pointer (&run->claim));
  if (run->scope != NULL)
    run->ext->scope_stop (g_steal_pointer (&run->scope));
  g_clear_pointer (&run->scope_unit, g_free);
  g_clear_pointer (&run->namespaces, g_free);
  g_clear_pointer (&run->error_text, g_free);
  g_clear_pointer (&run->fuse_killed, g_free);
}

/* The maps could not be written: the child works meanwhile, and if it
 * failed first, its own message on @sock says why (the maps failed only
 * because it died).  (undo_run() ends the sandbox and what it made.) */
G_GNUC_NORETURN static void
die_mapping (SbxRun *run, int sock, const char *why)
{
  struct pollfd p = { .fd = sock, .events = POLLIN };
  while (poll (&p, 1, 0) > 0 && read_message (sock, run))
    ;
  sbx_die ("%s", run->error_code != 0 ? run->error_text : why);
}

/* What the clone's child runs: it is PID 1. */
typedef struct
{
  const SbxChildConfig *config;
  int monitor_end; /* the monitor's end of the sync socket */
} ChildStart;

G_GNUC_NORETURN static void
start_child (gpointer data)
{
  ChildStart *start = data;
  close (start->monitor_end);
  sbx_child_run (start->config);
}

int
sbx_monitor_run (const SbxSpec *spec, SbxRunEnd *end)
{
  g_autoptr (SbxIdMapPlan) plan = sbx_userns_plan (spec);
  SbxRun run = { .spec = spec,
                 .pidfd = -1,
                 .fuse_exe = -1,
                 .layer_lock = -1,
                 .made_parents = g_ptr_array_new_with_free_func (g_free) };
  sigset_t forwarded;
  int sv[2];

  current_run = &run;
  monitor_pid = getpid ();
  atexit (undo_run);

  /* Limits need the user manager: without a bus, say so before anything
   * exists. */
  if (sbx_spec_has_limits (spec) && !session_bus_present ())
    {
      g_autofree char *asked = limits_asked (spec);
      sbx_die ("%s: no systemd user manager to enforce them: no D-Bus session bus "
               "($DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist); "
               "log in through systemd-logind (a desktop or ssh session), or run "
               "'loginctl enable-linger %s' and log in again",
               asked, g_get_user_name ());
    }

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    sbx_die_errno ("socketpair");
  /* Credentials on every message: STARTED names the command's pid. */
  int one = 1;
  if (setsockopt (sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
    sbx_die_errno ("SO_PASSCRED");

  SbxChildConfig config = {
    .spec = spec,
    .inside_uid = plan->inside_uid,
    .inside_gid = plan->inside_gid,
    .root_mapped = plan->inside_uid == 0 || plan->newuidmap != NULL,
    .caps = sbx_security_command_caps (spec),
    .sync_fd = sv[1],
  };

  run.config = &config;
  config.net_fd = -1;
  if (spec->net == SBX_NET_SLIRP)
    {
      g_autoptr (GError) error = NULL;
      /* Ports are bound now: one in use stops everything before it starts. */
      run.net = sbx_net_prepare (spec, &error);
      if (run.net == NULL)
        sbx_die ("%s", error->message);
      config.net_fd = sbx_net_sandbox_fd (run.net);
    }
  /* fuse-overlayfs runs as root inside; with only the caller's own ids
   * mapped it cannot give new files their owner. */
  if (spec->overlay == SBX_OVERLAY_FUSE && !config.root_mapped)
    sbx_die ("--overlay fuse: needs root mapped inside (--map-root, or subordinate ranges)");
  /* Opened here, on the host, once: what runs is never found by path in a
   * namespace of the sandbox. */
  if (spec->fuse_overlayfs != NULL)
    {
      g_autoptr (GError) error = NULL;
      run.fuse_exe = sbx_helper_open (spec->fuse_overlayfs, &error);
      if (run.fuse_exe < 0 && spec->overlay == SBX_OVERLAY_FUSE)
        sbx_die ("--overlay fuse: %s", error->message);
    }
  if (spec->name != NULL)
    {
      g_autoptr (GError) error = NULL;
      /* Held until we exit: the kernel drops it however we die (and the
       * next claim waits for our PID 1, which dies with us). */
      run.claim = sbx_state_claim (spec->name, &error);
      if (run.claim == NULL)
        sbx_die ("%s %s: %s", spec->name_generated ? "--review" : "--name", spec->name,
                 error->message);
    }
  if (spec->upper != NULL)
    take_layer (&run);

  /* --map-root over the host's /: the caller's directory skeleton lets
   * root inside write into the host's system directories through the
   * kernel.  Made and checked here, as the caller on the host, never in
   * the sandbox.  Without one, fuse-overlayfs serves them, as before. */
  g_autoptr (SbxSkeleton) skeleton = NULL;
  config.skeleton_fd = -1;
  if (spec->overlay == SBX_OVERLAY_AUTO && spec->identity == SBX_ID_ROOT && spec->rootfs == NULL)
    {
      g_autoptr (GError) error = NULL;
      skeleton = sbx_skeleton_open (plan, &error);
      if (skeleton == NULL)
        sbx_warn ("no directory skeleton (%s); %s", error->message,
                  spec->fuse_overlayfs != NULL
                      ? "root inside writes into the host's system directories through "
                        "fuse-overlayfs (slower)"
                      : "the host's system directories stay read-only to root inside");
      else
        {
          config.skeleton_fd = sbx_skeleton_tree_fd (skeleton);
          config.skeleton_path = sbx_skeleton_tree_path (skeleton);
          verbose (spec, "%s", sbx_skeleton_report (skeleton));
        }
    }

  /* With subordinate ranges, the sandbox's user namespace is made in the
   * caller's holder, where this run writes the maps itself (holder.c).
   * Found or started now, before any thread exists (it forks). */
  g_autoptr (SbxHolder) holder = NULL;
  cleanup_fd int holder_after = -1;
  if (plan->newuidmap != NULL)
    {
      g_autoptr (GError) error = NULL;
      gboolean start_one;
      holder = sbx_holder_find (plan, &start_one, &error);
      if (holder == NULL)
        verbose (spec, "no holder (%s); newuidmap and newgidmap map this run", error->message);
      /* Started for the next runs once this one is under way: the first
       * run is no slower than one without a holder. */
      if (start_one)
        holder_after = sbx_holder_start (plan);
    }

  /* On a terminal the command gets a pty of the sandbox's own; its
   * settings are read here, on the host, before anything is cloned. */
  sbx_pty_request (spec, &config.pty);

  /* Blocked before the clone so that a signal arriving during setup waits
   * for the signalfd instead of killing the monitor and, with it, the
   * sandbox.  With a pty, the proxy's own signals too. */
  sbx_init_forwarded_signals (&forwarded);
  if (config.pty.active)
    sbx_pty_add_signals (&forwarded);
  sigprocmask (SIG_BLOCK, &forwarded, &config.caller_mask);

  g_autoptr (GError) error = NULL;
  ChildStart start = { .config = &config, .monitor_end = sv[0] };
  pid_t pid = -1;
  if (holder != NULL)
    {
      gboolean joined;
      pid = sbx_holder_clone (holder, plan, clone_flags (spec), &run.pidfd, start_child, &start,
                              &joined, &error);
      if (pid < 0 && joined)
        die_mapping (&run, sv[0], error->message);
      if (pid < 0)
        verbose (spec, "%s; newuidmap and newgidmap map this run", error->message);
      g_clear_error (&error);
    }
  gboolean mapped = pid > 0;
  if (pid < 0)
    pid = sbx_util_clone3 (clone_flags (spec), &run.pidfd);
  if (pid < 0)
    sbx_die_errno ("cannot create the namespaces (are unprivileged user namespaces allowed? "
                   "see 'sbx doctor')");
  if (pid == 0)
    start_child (&start);
  close (sv[1]);
  if (run.net != NULL)
    sbx_net_after_clone (run.net);
  run.pid = pid;
  cleanup_fd int sock = sv[0];
  run.sock = sock;
  cleanup_fd int pidfd = run.pidfd;
  verbose (spec, "sandbox pid %d", (int)pid);

  /* The scope is asked for while newuidmap and newgidmap run: loading GDBus,
   * connecting and the manager's job overlap their start instead of
   * following it (the helpers are spawned first, before GDBus's thread).
   * Through the holder, the maps are written already. */
  SbxMapWrite *maps = mapped ? NULL : sbx_userns_start_maps (plan, pid);
  g_autoptr (GError) scope_error = NULL;
  gboolean scoped = start_scope (&run, &scope_error);
  if (maps != NULL && !sbx_userns_finish_maps (maps, &error))
    die_mapping (&run, sock, error->message);
  if (!scoped)
    {
      g_propagate_error (&error, g_steal_pointer (&scope_error));
      g_autofree char *asked = limits_asked (spec);
      /* A limit not in force names itself; other failures concern them all. */
      if (g_error_matches (error, SBX_CGROUP_ERROR, SBX_CGROUP_ERROR_NOT_IN_FORCE))
        sbx_die ("%s", error->message);
      sbx_die ("%s: %s", asked, error->message);
    }
  run.state = SBX_RUN_BUILDING;
  sbx_util_close_fdp (&holder_after);
  if (!sbx_msg_send (sock, SBX_MSG_GO, 0, 0, NULL, -1))
    {
      /* It died while the maps were written: its message says why. */
      while (read_message (sock, &run))
        ;
      waitid (P_PIDFD, (id_t)run.pidfd, NULL, WEXITED);
      int code = run.error_code;
      if (code == 0)
        sbx_die ("cannot release the sandbox: it died");
      fprintf (stderr, "sbx: %s\n", run.error_text);
      undo_run ();
      if (end != NULL)
        *end = (SbxRunEnd){ .started = FALSE, .caller_mask = config.caller_mask };
      return code;
    }

  cleanup_fd int signal_fd = signalfd (-1, &forwarded, SFD_CLOEXEC);
  if (signal_fd < 0)
    sbx_die_errno ("signalfd");
  int code = wait_for_sandbox (spec, &run, sock, signal_fd);
  undo_run ();
  sbx_util_close_fdp (&config.pty.term);
  if (end != NULL)
    *end = (SbxRunEnd){ .started = command_started, .caller_mask = config.caller_mask };
  return code;
}
