/* SPDX-License-Identifier: GPL-2.0-or-later */
/* join.c: `sbx exec`: a command in a running named sandbox. */
#include "config.h"

#include "join.h"
#include "child.h"
#include "ext.h"
#include "init.h"
#include "pty.h"
#include "security.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Enters the namespaces of the sandbox through a pidfd of its command: one
 * setns() enters all of them atomically, the user namespace first, so the
 * caller's capabilities come from the sandbox's user namespace and nothing
 * else.  The command's time namespace is the sandbox's (PID 1 stays in the
 * parent one), and unlike PID 1 the command is dumpable, which setns() by
 * pidfd requires of an unprivileged caller. */
static void
enter_namespaces (const SbxSandboxInfo *info, int pidfd)
{
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC
              | CLONE_NEWCGROUP | (info->own_netns ? CLONE_NEWNET : 0);
  /* `sbx run` makes a time namespace wherever the kernel has them. */
  if (access ("/proc/self/ns/time", F_OK) == 0)
    flags |= CLONE_NEWTIME;
  if (setns (pidfd, flags) < 0)
    sbx_die_errno ("cannot enter the namespaces of %s", info->name);
}

/* Puts this process into the sandbox's systemd scope before it enters the
 * namespaces, so that what exec starts counts against the sandbox's limits.
 * The D-Bus call is made by a short-lived child: GDBus starts threads, and a
 * process with threads can no longer setns() into a user namespace.  A
 * sandbox with limits refuses an exec that cannot join them. */
static void
join_scope (const SbxSandboxInfo *info)
{
  gboolean limits = info->limits != NULL && info->limits[0] != NULL;
  if (info->scope == NULL)
    return;
  pid_t self = getpid ();
  pid_t pid = fork ();
  if (pid < 0)
    sbx_die_errno ("fork");
  if (pid == 0)
    {
      g_autoptr (GError) error = NULL;
      const SbxExt *ext = sbx_ext_load (&error);
      if (ext != NULL && ext->scope_attach (info->scope, self, &error))
        _exit (0);
      if (limits)
        fprintf (stderr, "sbx: %s (the limits of %s)\n", error->message, info->name);
      _exit (SBX_EXIT_FAILURE);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (limits && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    _exit (SBX_EXIT_FAILURE);
}

/* The value of namespace @type ("user") in @list ("user:[1] mnt:[2]"). */
static char *
namespace_in (const char *list, const char *type)
{
  g_auto (GStrv) items = g_strsplit (list, " ", -1);
  for (char **i = items; *i != NULL; i++)
    if (g_str_has_prefix (*i, type) && (*i)[strlen (type)] == ':')
      return g_strdup (*i);
  return NULL;
}

/* We joined the command's namespaces (PID 1 is not dumpable, so setns()
 * through its pidfd is refused); the command may since have made others of
 * its own (unshare -Urm) and dressed them up.  Only the sandbox's, as PID 1
 * reported them at the start, are entered. */
static void
check_namespaces (const SbxSandboxInfo *info, int nsdir)
{
  static const char *const types[]
      = { "user", "mnt", "net", "uts", "ipc", "cgroup", "pid", "time" };
  if (info->namespaces == NULL)
    return; /* a state file from before the check */
  g_autofree char *now = sbx_state_read_namespaces (nsdir);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      if (strcmp (types[i], "net") == 0 && !info->own_netns)
        continue;
      g_autofree char *want = namespace_in (info->namespaces, types[i]);
      g_autofree char *got = namespace_in (now, types[i]);
      if (want != NULL && g_strcmp0 (want, got) != 0)
        {
          /* _exit: inside the sandbox's namespaces now (see the end of
           * sbx_join_exec). */
          fprintf (stderr,
                   "sbx: cannot exec in %s: its command has left the sandbox's %s namespace "
                   "(%s, not %s); exec joins only the sandbox's own\n",
                   info->name, types[i], got != NULL ? got : "none", want);
          _exit (SBX_EXIT_FAILURE);
        }
    }
}

/* In the child, a session leader inside the sandbox: a pty of the
 * sandbox's own becomes its controlling terminal, in place of the caller's
 * terminal among its standard streams, and the master goes to our parent,
 * which proxies it.  The master is looked up in the sandbox's tree, which
 * the command controls: checked (pty.c) before anything is done with it. */
static void
take_pty (const SbxSandboxInfo *info, const SbxPtyRequest *pty, int sock)
{
  g_autoptr (GError) error = NULL;
  int master = sbx_pty_open_master_inside (&error);
  int slave = master >= 0 ? sbx_pty_open_slave (master, pty, &error) : -1;
  if (slave < 0)
    sbx_die ("cannot exec in %s: %s (--no-pty runs the command on sbx's own streams)", info->name,
             error->message);
  /* Sent before the slave takes our stderr: from then on our messages go
   * through the pty, which the parent must be reading. */
  if (!sbx_msg_send (sock, SBX_MSG_PTY, 0, 0, NULL, master))
    _exit (SBX_EXIT_FAILURE);
  close (master);
  close (sock);
  sbx_pty_attach (slave, pty->std_fds);
  close (slave);
}

/* The command's process, below the reaper: a process group of its own
 * (the foreground one of the pty), then the same last steps as `sbx run`'s
 * command, so that exec can do no more than the sandbox's own command. */
static G_NORETURN void
run_command (const SbxSandboxInfo *info, const SbxSpec *spec, const sigset_t *mask, gboolean on_pty)
{
  if (!spec->share_tty)
    {
      /* SIGTTOU stays blocked (as inherited) while we take the terminal's
       * foreground from our own background group, as a shell does. */
      setpgid (0, 0);
      for (int fd = 0; on_pty && fd <= 2; fd++)
        if (isatty (fd) && tcsetpgrp (fd, getpid ()) == 0)
          break;
    }
  sbx_security_no_new_privs ();
  sbx_security_apply_caps (info->caps, info->inside_uid == 0);
  /* Last before exec: die with the reaper, our parent. */
  pid_t reaper = getppid ();
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != reaper)
    _exit (SBX_EXIT_FAILURE);
  sigprocmask (SIG_SETMASK, mask, NULL);
  sbx_security_close_inherited_fds ();
  if (info->seccomp)
    sbx_security_install_seccomp ();

  execvp (spec->argv[0], spec->argv);
  int errsv = errno;
  /* As run's command does (child.c): with the command's privileges. */
  char interpreter[256];
  if (errsv == ENOENT
      && sbx_util_missing_interpreter (spec->argv[0], interpreter, sizeof interpreter))
    sbx_die_code (SBX_EXIT_CANNOT_EXEC, "cannot run '%s': its interpreter %s is missing",
                  spec->argv[0], interpreter);
  sbx_die_code (errsv == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_CANNOT_EXEC, "cannot run '%s': %s",
                spec->argv[0], sbx_util_strerror (errsv));
}

/* Kills what the command left below the reaper: its process group, then
 * every descendant, which, the reaper being a child subreaper, are its
 * children once their parents are gone. */
static void
kill_descendants (pid_t command)
{
  kill (-command, SIGKILL);
  for (int round = 0; round < 100; round++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%d/children", (int)getpid ());
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL) || text[0] == '\0')
        return;
      g_auto (GStrv) pids = g_strsplit (g_strstrip (text), " ", -1);
      for (char **p = pids; *p != NULL; p++)
        kill ((pid_t)g_ascii_strtoll (*p, NULL, 10), SIGKILL);
      while (waitpid (-1, NULL, 0) > 0)
        ;
    }
}

/* The reaper stays beside the command, no more privileged than it, and
 * relays what `sbx exec` relays to it; when `sbx exec` is gone (its pipe
 * ends: killed, or ~. on the pty) it kills what the command left, which a
 * parent-death signal on the command alone would not reach (make's
 * compilers, a shell's pipeline).  Exits with the command's status. */
static G_NORETURN void
reap_command (const SbxSandboxInfo *info, const SbxSpec *spec, pid_t command, int signal_fd,
              int parent_alive)
{
  /* Nothing of the caller's streams or the pty: the proxy sees the end of
   * the command's output when the command's own fds close. */
  for (int fd = 0; fd <= 2; fd++)
    close (fd);
  sbx_security_drop_all_caps ();
  sbx_security_no_new_privs ();
  if (info->seccomp)
    sbx_security_install_seccomp ();
  prctl (PR_SET_NAME, "sbx-exec", 0, 0, 0);

  struct pollfd fds[] = {
    { .fd = signal_fd, .events = POLLIN },
    { .fd = parent_alive, .events = POLLIN },
  };
  for (;;)
    {
      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0 && errno != EINTR)
        _exit (SBX_EXIT_FAILURE);
      if (fds[1].revents)
        {
          kill_descendants (command);
          _exit (SBX_EXIT_FAILURE);
        }
      struct signalfd_siginfo si;
      if (!(fds[0].revents & POLLIN) || read (signal_fd, &si, sizeof si) != sizeof si)
        continue;
      if (si.ssi_signo != SIGCHLD)
        {
          if (spec->share_tty || kill (-command, (int)si.ssi_signo) < 0)
            kill (command, (int)si.ssi_signo);
          continue;
        }
      int status;
      pid_t pid;
      while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        if (pid == command)
          _exit (WIFEXITED (status)     ? WEXITSTATUS (status)
                 : WIFSIGNALED (status) ? 128 + WTERMSIG (status)
                                        : SBX_EXIT_FAILURE);
    }
}

/* In the child, inside the sandbox: it becomes the reaper of the command,
 * which it forks once the terminal and the environment are ready. */
static G_NORETURN void
exec_inside (const SbxSandboxInfo *info, const SbxSpec *spec, const sigset_t *mask,
             int parent_alive, const SbxPtyRequest *pty, int pty_sock)
{
  /* First, before anything can fail and print: out of the caller's
   * session (TIOCSTI), and nothing of the host's in hand but the pipe to
   * our parent (the host's /proc/self/ns and the command's pidfd are open
   * in it).  We hold every capability of the sandbox's user namespace and
   * stand in its tree until execve(). */
  sbx_util_die_with_exit ();
  sbx_security_new_session (spec->share_tty);
  int keep[] = { parent_alive, pty_sock };
  sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
  /* Not ptraceable by the sandbox's processes while we hold the user
   * namespace's full capabilities (and the reaper never execs). */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (pty->active)
    take_pty (info, pty, pty_sock);

  const char *workdir = spec->workdir != NULL ? spec->workdir : info->workdir;
  if (workdir == NULL || chdir (workdir) < 0)
    {
      if (spec->workdir != NULL)
        sbx_die_errno ("--workdir %s", spec->workdir);
      workdir = "/";
      if (chdir ("/") < 0)
        sbx_die_errno ("chdir /");
    }
  environ = sbx_child_build_environment (spec, info->inside_uid == 0, workdir);

  /* The relayed signals are still blocked, as our parent blocked them
   * before the clone: none sent meanwhile is lost. */
  sigset_t relayed, blocked;
  sbx_init_forwarded_signals (&relayed);
  sigaddset (&relayed, SIGCHLD);
  blocked = relayed;
  sigaddset (&blocked, SIGTTOU); /* for the command's tcsetpgrp() */
  sigprocmask (SIG_BLOCK, &blocked, NULL);
  int signal_fd = signalfd (-1, &relayed, SFD_CLOEXEC);
  if (signal_fd < 0)
    sbx_die_errno ("signalfd");
  if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    sbx_die_errno ("cannot become a subreaper");
  /* Checked on the pipe: our parent is outside the PID namespace. */
  struct pollfd p = { .fd = parent_alive, .events = POLLIN };
  if (poll (&p, 1, 0) != 0)
    _exit (SBX_EXIT_FAILURE);
  pid_t command = fork ();
  if (command < 0)
    sbx_die_errno ("fork");
  if (command == 0)
    {
      close (signal_fd);
      close (parent_alive);
      run_command (info, spec, mask, pty->active);
    }
  reap_command (info, spec, command, signal_fd, parent_alive);
}

/* A signal for the command of `sbx exec`: to our child, its reaper, which
 * relays it to the command's process group. */
static void
relay_signal (int pidfd, int signo)
{
  sbx_util_pidfd_send_signal (pidfd, signo);
}

G_NORETURN void
sbx_join_exec (const SbxSandboxInfo *info, const SbxSpec *spec)
{
  g_autoptr (GError) error = NULL;
  cleanup_fd int pidfd = sbx_state_open_pidfd (info, TRUE, &error);
  if (pidfd < 0)
    sbx_die ("%s", error->message);

  join_scope (info);
  /* On a terminal, the command gets a pty of the sandbox's own; the
   * caller's terminal is read and opened again for the proxy here, where
   * /proc is still the host's. */
  SbxPtyRequest pty;
  sbx_pty_request (spec, &pty);
  /* The host's /proc/self/ns, opened before setns(): it shows what we
   * joined, whatever the sandbox mounted on its own /proc. */
  cleanup_fd int nsdir = open ("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (nsdir < 0)
    sbx_die_errno ("cannot open /proc/self/ns");
  enter_namespaces (info, pidfd);
  /* Inside the sandbox's namespaces, no atexit handler may run (see the
   * end of this function). */
  sbx_util_die_with_exit ();
  check_namespaces (info, nsdir);
  /* Of no use from here on, and host objects we must not carry around in
   * the sandbox's namespaces. */
  sbx_util_close_fdp (&nsdir);
  sbx_util_close_fdp (&pidfd);

  int alive[2], pty_sock[2] = { -1, -1 };
  if (pipe2 (alive, O_CLOEXEC) < 0)
    sbx_die_errno ("pipe");
  if (pty.active && socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pty_sock) < 0)
    sbx_die_errno ("socketpair");
  sigset_t forwarded, saved;
  sbx_init_forwarded_signals (&forwarded);
  if (pty.active)
    sbx_pty_add_signals (&forwarded);
  sigprocmask (SIG_BLOCK, &forwarded, &saved);

  /* The child is the first of ours inside the sandbox's PID namespace. */
  int child_pidfd = -1;
  pid_t pid = sbx_util_clone3 (0, &child_pidfd);
  if (pid < 0)
    sbx_die_errno ("fork");
  if (pid == 0)
    {
      close (alive[1]);
      sbx_util_close_fdp (&pty_sock[0]);
      exec_inside (info, spec, &saved, alive[0], &pty, pty_sock[1]);
    }
  close (alive[0]);
  sbx_util_close_fdp (&pty_sock[1]);

  cleanup_fd int signal_fd = signalfd (-1, &forwarded, SFD_CLOEXEC);
  SbxPtyProxy *proxy = NULL;
  enum
  {
    CHILD,
    SIGNALS,
    PTY_SOCK,
    PTY, /* two: the pty's master, the caller's terminal */
    N_FDS = PTY + 2,
  };
  struct pollfd fds[N_FDS] = {
    [CHILD] = { .fd = child_pidfd, .events = POLLIN },
    [SIGNALS] = { .fd = signal_fd, .events = POLLIN },
    [PTY_SOCK] = { .fd = -1, .events = POLLIN },
  };
  for (;;)
    {
      fds[PTY_SOCK].fd = pty_sock[0];
      sbx_pty_proxy_poll (proxy, &fds[PTY]);
      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0 && errno != EINTR)
        sbx_die_errno ("poll");
      /* ~. on the pty: the reaper kills all the command left once our
       * end of its pipe is closed. */
      if (sbx_pty_proxy_handle (proxy, &fds[PTY]) == SBX_PTY_END)
        sbx_util_close_fdp (&alive[1]);
      if (fds[PTY_SOCK].revents & (POLLIN | POLLHUP | POLLERR))
        {
          /* One master from our child while it runs sbx's code (it closes
           * this socket before execve), checked as run's monitor does. */
          SbxMsg msg;
          int master = -1;
          if (sbx_msg_recv (pty_sock[0], &msg, &master, NULL) && msg.type == SBX_MSG_PTY
              && master >= 0 && sbx_pty_is_master (master))
            proxy = sbx_pty_proxy_new (&pty, sbx_steal_fd (&master));
          sbx_util_close_fdp (&master);
          sbx_util_close_fdp (&pty_sock[0]);
        }
      struct signalfd_siginfo si;
      if ((fds[SIGNALS].revents & POLLIN) && read (signal_fd, &si, sizeof si) == sizeof si)
        {
          if (sbx_init_signal_is_own (&si))
            ;
          else if (pty.active && sbx_pty_owns_signal ((int)si.ssi_signo))
            sbx_pty_proxy_signal (proxy, (int)si.ssi_signo);
          else if (!(spec->share_tty && si.ssi_code == SI_KERNEL))
            relay_signal (child_pidfd, (int)si.ssi_signo);
        }
      if (fds[CHILD].revents & POLLIN)
        break;
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  close (child_pidfd);
  sbx_util_close_fdp (&alive[1]);
  sbx_util_close_fdp (&pty_sock[0]);
  /* What the command wrote last, then the caller's terminal as it was. */
  sbx_pty_proxy_finish (proxy);
  sbx_util_close_fdp (&pty.term);
  /* We live in the sandbox's namespaces now, where new threads cannot be
   * made (clone(CLONE_THREAD) fails once the PID namespace for children is
   * not ours): leave without running atexit handlers, which may need one (a
   * sanitizer's leak check does).  Nothing is left to flush: stderr is
   * unbuffered and nothing went to stdout. */
  _exit (sbx_util_exit_code (status));
}
