/* SPDX-License-Identifier: GPL-2.0-or-later */
/* join.c: `sbx exec`: a command in a running named sandbox. */
#include "config.h"

#include "join.h"
#include "child.h"
#include "ext.h"
#include "init.h"
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

/* In the child, inside the sandbox: the same last steps as `sbx run`'s
 * command, so that exec can do no more than the sandbox's own command. */
static G_NORETURN void
exec_inside (const SbxSandboxInfo *info, const SbxSpec *spec, const sigset_t *mask,
             int parent_alive)
{
  /* First, before anything can fail and print: out of the caller's
   * session (TIOCSTI), and nothing of the host's in hand but the pipe to
   * our parent (the host's /proc/self/ns and the command's pidfd are open
   * in it).  We hold every capability of the sandbox's user namespace and
   * stand in its tree until execve(). */
  sbx_util_die_with_exit ();
  sbx_security_new_session (spec->share_tty);
  int keep[] = { parent_alive };
  sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
  /* Not ptraceable by the sandbox's processes while we still hold the
   * user namespace's full capabilities; execve() resets this. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  sigprocmask (SIG_SETMASK, mask, NULL);

  const char *workdir = spec->workdir != NULL ? spec->workdir : info->workdir;
  if (workdir == NULL || chdir (workdir) < 0)
    {
      if (spec->workdir != NULL)
        sbx_die_errno ("--workdir %s", spec->workdir);
      workdir = "/";
      if (chdir ("/") < 0)
        sbx_die_errno ("chdir /");
    }

  sbx_security_no_new_privs ();
  sbx_security_apply_caps (info->caps, info->inside_uid == 0);

  environ = sbx_child_build_environment (spec, info->inside_uid == 0, workdir);

  /* Last before exec: die with `sbx exec`.  Our parent is outside the PID
   * namespace (getppid() is 0), so its liveness is checked on a pipe. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    _exit (SBX_EXIT_FAILURE);
  struct pollfd p = { .fd = parent_alive, .events = POLLIN };
  if (poll (&p, 1, 0) != 0)
    _exit (SBX_EXIT_FAILURE);
  sbx_security_close_inherited_fds ();
  if (info->seccomp)
    sbx_security_install_seccomp ();

  execvp (spec->argv[0], spec->argv);
  int errsv = errno;
  sbx_die_code (errsv == ENOENT ? SBX_EXIT_NOT_FOUND : SBX_EXIT_CANNOT_EXEC, "cannot run '%s': %s",
                spec->argv[0], sbx_util_strerror (errsv));
}

static int
exit_code_of (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return SBX_EXIT_FAILURE;
}

G_NORETURN void
sbx_join_exec (const SbxSandboxInfo *info, const SbxSpec *spec)
{
  g_autoptr (GError) error = NULL;
  cleanup_fd int pidfd = sbx_state_open_pidfd (info, TRUE, &error);
  if (pidfd < 0)
    sbx_die ("%s", error->message);

  join_scope (info);
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

  int alive[2];
  if (pipe2 (alive, O_CLOEXEC) < 0)
    sbx_die_errno ("pipe");
  sigset_t forwarded, saved;
  sbx_init_forwarded_signals (&forwarded);
  sigprocmask (SIG_BLOCK, &forwarded, &saved);

  /* The child is the first of ours inside the sandbox's PID namespace. */
  int child_pidfd = -1;
  pid_t pid = sbx_util_clone3 (0, &child_pidfd);
  if (pid < 0)
    sbx_die_errno ("fork");
  if (pid == 0)
    {
      close (alive[1]);
      exec_inside (info, spec, &saved, alive[0]);
    }
  close (alive[0]);

  cleanup_fd int signal_fd = signalfd (-1, &forwarded, SFD_CLOEXEC);
  struct pollfd fds[] = {
    { .fd = child_pidfd, .events = POLLIN },
    { .fd = signal_fd, .events = POLLIN },
  };
  while (!(fds[0].revents & POLLIN))
    {
      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0 && errno != EINTR)
        sbx_die_errno ("poll");
      struct signalfd_siginfo si;
      if ((fds[1].revents & POLLIN) && read (signal_fd, &si, sizeof si) == sizeof si
          && !(spec->share_tty && si.ssi_code == SI_KERNEL))
        sbx_util_pidfd_send_signal (child_pidfd, (int)si.ssi_signo);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  close (child_pidfd);
  close (alive[1]);
  /* We live in the sandbox's namespaces now, where new threads cannot be
   * made (clone(CLONE_THREAD) fails once the PID namespace for children is
   * not ours): leave without running atexit handlers, which may need one (a
   * sanitizer's leak check does).  Nothing is left to flush: stderr is
   * unbuffered and nothing went to stdout. */
  _exit (exit_code_of (status));
}
