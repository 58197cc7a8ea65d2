/* SPDX-License-Identifier: GPL-2.0-or-later */
/* init.c: PID 1 inside the sandbox. */
#include "config.h"

#include "init.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void
sbx_init_forwarded_signals (sigset_t *set)
{
  /* Every signal a user may send to sbx that would otherwise end it (or be
   * lost) reaches the command instead: the terminal's, the user ones, the
   * timers' and limits' (timeout(1) and shells send SIGALRM, ulimit SIGXCPU)
   * and the real-time ones.  Not the job control signals (the pty and the
   * shell handle them), SIGCHLD, SIGWINCH or what the kernel raises for a
   * fault. */
  static const int relayed[] = {
    SIGHUP,  SIGINT,    SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE,
    SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR,
  };
  sigemptyset (set);
  for (guint i = 0; i < G_N_ELEMENTS (relayed); i++)
    sigaddset (set, relayed[i]);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
    sigaddset (set, sig);
}
gboolean
sbx_init_signal_is_own (const struct signalfd_siginfo *si)
{
  /* A write to a pipe whose reader is gone raises SIGPIPE in the writer,
   * as if it had sent it to itself. */
  return si->ssi_signo == SIGPIPE && si->ssi_pid == (guint32)getpid ();
}

/* Reaps every child that has exited; returns TRUE once the command has. */
static gboolean
reap (pid_t command_pid, int *command_status)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        return FALSE;
      if (pid == command_pid)
        {
          *command_status = status;
          return TRUE;
        }
    }
}

/* One socket for sbx-net, made here because a socket belongs to the network
 * namespace of its creator: it is then connected inside the sandbox.  PID 1
 * only creates it; connecting (which could block) is sbx-net's business. */
static gboolean
serve_socket (int net_fd)
{
  SbxMsg msg;
  if (!sbx_msg_recv (net_fd, &msg, NULL, NULL))
    return FALSE;
  if (msg.type != SBX_MSG_SOCKET_REQUEST || (msg.value != AF_INET && msg.value != AF_INET6))
    return TRUE;
  int type = msg.code == SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket ((int)msg.value, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sbx_msg_send (net_fd, SBX_MSG_SOCKET, fd < 0 ? errno : 0, 0, NULL, fd);
  if (fd >= 0)
    close (fd);
  return TRUE;
}

void
sbx_init_run (pid_t command_pid, gboolean to_group, int sync_fd, int signal_fd, int net_fd)
{
  struct pollfd fds[] = {
    { .fd = signal_fd, .events = POLLIN },
    { .fd = sync_fd, .events = 0 }, /* only POLLHUP: the monitor is gone */
    { .fd = net_fd, .events = POLLIN },
  };
  int status = 0;

  for (;;)
    {
      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          _exit (SBX_EXIT_FAILURE);
        }
      if (fds[1].revents & (POLLHUP | POLLERR))
        _exit (SBX_EXIT_FAILURE); /* the kernel kills the rest of the PID namespace */
      if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) && !serve_socket (net_fd))
        fds[2].fd = -1; /* sbx-net is gone */

      struct signalfd_siginfo si;
      if (!(fds[0].revents & POLLIN) || read (signal_fd, &si, sizeof si) != sizeof si)
        continue;
      if (si.ssi_signo == SIGCHLD)
        {
          if (reap (command_pid, &status))
            break;
          continue;
        }
      /* A signal the terminal sent (SI_KERNEL) reached the command directly
       * when it shares our process group; only relay those sent to us.  The
       * command leads its process group (it called setsid()) and cannot
       * leave it, and it is our child: the group is its until we reap it. */
      if (si.ssi_code != SI_KERNEL)
        kill (to_group ? -command_pid : command_pid, (int)si.ssi_signo);
    }

  sbx_msg_send (sync_fd, SBX_MSG_EXIT, 0, status, NULL, -1);
  _exit (sbx_util_exit_code (status));
}
