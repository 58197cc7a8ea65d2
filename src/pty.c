/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pty.c: a pty of the sandbox's own for the command, and the proxy between
 * it and the caller's terminal (see pty.h). */
#include "config.h"

#include "pty.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/major.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The escape character, as ssh's: recognized after a newline only. */
#define ESCAPE '~'
#define CTRL_Z 0x1a

/* The caller's terminal as sbx found it, while sbx has it in raw mode:
 * process state, not an option, for the atexit handler and sbx_die(). */
static int raw_fd = -1;
static pid_t raw_pid;
static struct termios raw_saved;

struct SbxPtyProxy
{
  int master;           /* the pty's master, non-blocking; -1 once hung up */
  int term;             /* the caller's terminal (borrowed) */
  gboolean keyboard;    /* raw mode and input when in the foreground (SbxPtyRequest) */
  gboolean master_done; /* no slave is open any more (EIO) */
  gboolean term_gone;   /* the caller's terminal hung up */
  gboolean line_start;  /* the last byte typed ended a line: an escape may follow */
  gboolean escape;      /* ~ was typed at the start of a line */
  size_t in_len, in_off;
  char in[4096];   /* typed, for the master; two bytes at most for each one read */
  char out[65536]; /* from the master, for the terminal */
};

/* ---- the caller's terminal ------------------------------------------------- */

/* Whether sbx may change the terminal's modes and read from it: it is in
 * the terminal's foreground process group.  A terminal that is not sbx's
 * controlling terminal has no job control to respect. */
static gboolean
in_foreground (int term)
{
  pid_t fg = tcgetpgrp (term);
  return fg == getpgrp () || (fg < 0 && errno == ENOTTY);
}

/* Raw mode, as ssh and script(1) set it: every byte goes to the sandbox's
 * pty, whose own line discipline makes Ctrl-C a SIGINT of its foreground
 * process group.  Not from the background: a job that changed the
 * terminal under the shell's feet would break the shell's line editing (it
 * would also stop on SIGTTOU); SIGCONT brings sbx here again.  Not when
 * sbx feeds a pipe either (sbx_pty_request): the keyboard is then the
 * pipeline's end's, and the caller's Ctrl-C reaches sbx as a signal, which
 * it relays. */
static void
enter_raw (const SbxPtyProxy *p)
{
  int term = p->term;
  if (!p->keyboard || p->term_gone || raw_fd >= 0 || !in_foreground (term))
    return;
  struct termios raw;
  if (tcgetattr (term, &raw_saved) < 0)
    return;
  raw = raw_saved;
  cfmakeraw (&raw);
  if (tcsetattr (term, TCSANOW, &raw) < 0)
    return;
  raw_fd = term;
  raw_pid = getpid ();
}

void
sbx_pty_restore (void)
{
  /* Only in the process that made it raw (not in a child that inherited
   * the variables), and only while sbx still has the terminal: once the
   * shell has it back, its modes are the shell's. */
  if (raw_fd < 0 || raw_pid != getpid ())
    return;
  if (in_foreground (raw_fd))
    tcsetattr (raw_fd, TCSANOW, &raw_saved);
  raw_fd = -1;
}

/* A fd of the caller's terminal of our own: opened again through
 * /proc/self/fd (the host's /proc: the caller calls this before entering
 * any namespace), so that it can be read even when the standard stream was
 * opened write-only; else a duplicate. */
static int
open_terminal (int std_fd)
{
  char path[32];
  snprintf (path, sizeof path, "/proc/self/fd/%d", std_fd);
  int fd = open (path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct stat a, b;
  if (fd >= 0
      && (fstat (fd, &a) < 0 || fstat (std_fd, &b) < 0 || a.st_rdev != b.st_rdev || !isatty (fd)))
    sbx_util_close_fdp (&fd);
  if (fd < 0)
    fd = fcntl (std_fd, F_DUPFD_CLOEXEC, 3);
  return fd;
}

gboolean
sbx_pty_request (const SbxSpec *spec, SbxPtyRequest *req)
{
  static gboolean hooked;
  int first = -1;

  memset (req, 0, sizeof *req);
  req->term = -1;
  /* --share-tty hands the caller's terminal in on purpose; --no-pty gives
   * the command sbx's own streams (in a new session without a controlling
   * terminal). */
  if (spec->share_tty || spec->no_pty)
    return FALSE;
  for (int fd = 0; fd <= 2; fd++)
    if (isatty (fd))
      {
        req->std_fds |= 1u << fd;
        if (first < 0)
          first = fd;
      }
  if (first < 0 || tcgetattr (first, &req->termios) < 0)
    return FALSE;
  if (ioctl (first, TIOCGWINSZ, &req->winsize) < 0)
    memset (&req->winsize, 0, sizeof req->winsize);
  req->term = open_terminal (first);
  if (req->term < 0)
    return FALSE;
  /* In `sbx run -- make | less` the terminal is less's: sbx reading the
   * keyboard in raw mode would take keys from it and, exiting first, give
   * it back the modes it had before less changed them.  A program that
   * feeds a pipe is not the one the keyboard is for (sudo's use_pty leaves
   * the terminal cooked then too, until the command asks for it); at the
   * end of a pipeline, or with its output in a file, sbx takes it. */
  struct stat out;
  req->keyboard = !(fstat (1, &out) == 0 && (S_ISFIFO (out.st_mode) || S_ISSOCK (out.st_mode)));
  if (!hooked)
    {
      /* The terminal's modes come back on every way out: a return from
       * main(), exit(), sbx_die() (which prints first: the hook runs
       * before). */
      atexit (sbx_pty_restore);
      sbx_util_set_exit_hook (sbx_pty_restore);
      hooked = TRUE;
    }
  req->active = TRUE;
  return TRUE;
}

void
sbx_pty_add_signals (sigset_t *set)
{
  sigaddset (set, SIGWINCH);
  sigaddset (set, SIGCONT);
  sigaddset (set, SIGTSTP);
}

gboolean
sbx_pty_owns_signal (int signo)
{
  return signo == SIGWINCH || signo == SIGCONT || signo == SIGTSTP;
}

/* ---- the sandbox's side ----------------------------------------------------------- */

gboolean
sbx_pty_is_master (int fd)
{
  struct statfs sfs;
  struct stat st;
  /* The ptmx node of a devpts instance (5:2 there): a fresh master of that
   * instance.  A 5:2 node elsewhere (a tmpfs, an overlay) is refused: its
   * open looks for a devpts by path. */
  return fstatfs (fd, &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC && fstat (fd, &st) == 0
         && S_ISCHR (st.st_mode) && major (st.st_rdev) == TTYAUX_MAJOR && minor (st.st_rdev) == 2;
}

/* Checks and unlocks a new master (the slave cannot be opened before). */
static int
check_master (int fd, const char *what, GError **error)
{
  int unlock = 0;
  if (!sbx_pty_is_master (fd))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "%s is not the ptmx device of a devpts filesystem", what);
      return -1;
    }
  if (ioctl (fd, TIOCSPTLCK, &unlock) < 0)
    {
      int errsv = errno;
      close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", what,
                   sbx_util_strerror (errsv));
      return -1;
    }
  return fd;
}

/* @fd, just opened as the sandbox's /dev/pts/ptmx (or -1 with errno),
 * checked to be a devpts master. */
static int
take_master (int fd, GError **error)
{
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot open the sandbox's /dev/pts/ptmx: %s", sbx_util_strerror (errsv));
      return -1;
    }
  return check_master (fd, "the sandbox's /dev/pts/ptmx", error);
}

int
sbx_pty_open_master_at (int devpts, GError **error)
{
  /* O_NOCTTY: PID 1 must not make it its own controlling terminal. */
  return take_master (openat (devpts, "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC), error);
}

int
sbx_pty_open_master_inside (GError **error)
{
  /* The sandbox's tree, resolved by a process holding every capability of
   * its user namespace: no symlink, no magic link; non-blocking, so that a
   * FIFO put there cannot hold the open; and only a devpts's ptmx is
   * taken (a device node elsewhere could be anything; mounts are nodev
   * where the sandbox could make one). */
  return take_master (sbx_util_openat2 (AT_FDCWD, "/dev/pts/ptmx",
                                        O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
                                        RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
                      error);
}

int
sbx_pty_open_slave (int master, const SbxPtyRequest *req, GError **error)
{
  /* TIOCGPTPEER: the slave of this very master, without looking up
   * /dev/pts/N (Linux 4.13). */
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0 || tcsetattr (slave, TCSANOW, &req->termios) < 0
      || ioctl (slave, TIOCSWINSZ, &req->winsize) < 0)
    {
      int errsv = errno;
      if (slave >= 0)
        close (slave);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot set up the command's terminal: %s", sbx_util_strerror (errsv));
      return -1;
    }
  return slave;
}

void
sbx_pty_attach (int slave, guint std_fds)
{
  /* The process has just called setsid(): a session leader without a
   * controlling terminal, which takes this one. */
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    sbx_die_errno ("cannot make the pty the command's controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if ((std_fds & (1u << fd)) && dup2 (slave, fd) < 0)
      sbx_die_errno ("cannot give the command its terminal");
}

/* ---- the proxy ------------------------------------------------------------------------------ */

static void
send_winsize (SbxPtyProxy *p)
{
  struct winsize ws;
  /* The kernel sends SIGWINCH to the pty's foreground group on a change. */
  if (p->master >= 0 && ioctl (p->term, TIOCGWINSZ, &ws) == 0)
    ioctl (p->master, TIOCSWINSZ, &ws);
}

SbxPtyProxy *
sbx_pty_proxy_new (const SbxPtyRequest *req, int master)
{
  SbxPtyProxy *p = g_new0 (SbxPtyProxy, 1);
  p->master = master;
  p->term = req->term;
  p->keyboard = req->keyboard;
  p->line_start = TRUE;
  /* Ours alone: what the sandbox holds is the slave.  Writes must not
   * block on a command that reads no input. */
  int flags = fcntl (master, F_GETFL);
  if (flags >= 0)
    fcntl (master, F_SETFL, flags | O_NONBLOCK);
  enter_raw (p);
  send_winsize (p);
  return p;
}

/* Writes all of @buf to the caller's terminal.  The fd may share its file
 * description with the caller's shell, so it stays as it was (blocking,
 * usually): a full terminal holds the proxy here, as it would hold the
 * command writing to it directly. */
static gboolean
write_terminal (SbxPtyProxy *p, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (p->term, buf, len);
      if (n > 0)
        {
          buf += n;
          len -= (size_t)n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          struct pollfd w = { .fd = p->term, .events = POLLOUT };
          poll (&w, 1, -1);
          continue;
        }
      return FALSE;
    }
  return TRUE;
}

/* The caller's terminal is gone: closing the master hangs the pty up, and
 * the kernel sends SIGHUP to the sandbox's session, as a terminal's
 * hangup would. */
static void
hang_up (SbxPtyProxy *p)
{
  p->term_gone = TRUE;
  p->master_done = TRUE;
  sbx_util_close_fdp (&p->master);
}

/* Copies what the command wrote to the caller's terminal: reads until
 * nothing more is there (or the buffer is nearly full), then writes once.
 * Returns the number of bytes read. */
static size_t
copy_output (SbxPtyProxy *p)
{
  size_t len = 0;
  while (len < sizeof p->out)
    {
      ssize_t n = read (p->master, p->out + len, sizeof p->out - len);
      if (n > 0)
        {
          len += (size_t)n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      /* EIO: no slave is open any more.  The kernel hands out what was
       * written before that first (it flushes the pty's buffer before
       * saying so), so nothing written before the command exited is lost. */
      if (!(n < 0 && errno == EAGAIN))
        p->master_done = TRUE;
      break;
    }
  if (len > 0 && !write_terminal (p, p->out, len))
    hang_up (p);
  return len;
}

static void
flush_input (SbxPtyProxy *p)
{
  while (p->in_off < p->in_len && !p->master_done)
    {
      ssize_t n = write (p->master, p->in + p->in_off, p->in_len - p->in_off);
      if (n > 0)
        p->in_off += (size_t)n;
      else if (n < 0 && errno == EAGAIN)
        return; /* the command does not read: wait for POLLOUT */
      else if (!(n < 0 && errno == EINTR))
        break;
    }
  p->in_off = p->in_len = 0;
}

static void
suspend (SbxPtyProxy *p)
{
  sigset_t tstp, old;
  sigemptyset (&tstp);
  sigaddset (&tstp, SIGTSTP);
  /* The terminal as the shell gave it, then stop as any job does on
   * Ctrl-Z (SIGTSTP is blocked for the signalfd: raised first, it is
   * delivered when unblocked, and this thread stops there until SIGCONT). */
  sbx_pty_restore ();
  raise (SIGTSTP);
  sigprocmask (SIG_UNBLOCK, &tstp, &old);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (p != NULL && !p->term_gone)
    {
      enter_raw (p);
      send_winsize (p);
    }
}

static const char escape_help[] = "\r\nsbx escapes (after a newline):\r\n"
                                  "  ~.   end the sandbox (SIGKILL)\r\n"
                                  "  ~^Z  suspend sbx (fg brings it back)\r\n"
                                  "  ~~   send a ~\r\n"
                                  "  ~?   this help\r\n";

/* Reads what the user typed and passes it on, acting on the escapes. */
static SbxPtyEvent
copy_input (SbxPtyProxy *p)
{
  char buf[sizeof p->in / 2];
  ssize_t n = read (p->term, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return SBX_PTY_GOING_ON;
  if (n <= 0)
    {
      /* 0 or EIO: the terminal hung up (raw mode has no end of file). */
      hang_up (p);
      return SBX_PTY_HANGUP;
    }
  for (ssize_t i = 0; i < n; i++)
    {
      char c = buf[i];
      if (p->escape)
        {
          p->escape = FALSE;
          if (c == '.')
            return SBX_PTY_END;
          if (c == CTRL_Z)
            {
              flush_input (p);
              suspend (p);
              continue;
            }
          if (c == '?')
            {
              flush_input (p);
              write_terminal (p, escape_help, sizeof escape_help - 1);
              continue;
            }
          if (c != ESCAPE)
            p->in[p->in_len++] = ESCAPE;
          p->in[p->in_len++] = c;
          p->line_start = FALSE;
          continue;
        }
      if (p->line_start && c == ESCAPE)
        {
          p->escape = TRUE;
          continue;
        }
      p->in[p->in_len++] = c;
      p->line_start = c == '\r' || c == '\n';
    }
  if (p->master_done)
    p->in_len = 0; /* nobody reads it */
  flush_input (p);
  return SBX_PTY_GOING_ON;
}

void
sbx_pty_proxy_poll (SbxPtyProxy *p, struct pollfd fds[2])
{
  fds[0].fd = fds[1].fd = -1;
  fds[0].events = fds[1].events = fds[0].revents = fds[1].revents = 0;
  if (p == NULL)
    return;
  if (!p->master_done)
    {
      fds[0].fd = p->master;
      fds[0].events = POLLIN | (p->in_off < p->in_len ? POLLOUT : 0);
    }
  /* The terminal is read only in raw mode (in the foreground: reading
   * from the background would stop sbx), and only when what was read
   * before has gone. */
  if (!p->term_gone && raw_fd == p->term && p->in_len == 0)
    {
      fds[1].fd = p->term;
      fds[1].events = POLLIN;
    }
}

SbxPtyEvent
sbx_pty_proxy_handle (SbxPtyProxy *p, const struct pollfd fds[2])
{
  if (p == NULL)
    return SBX_PTY_GOING_ON;
  if (fds[0].fd >= 0 && (fds[0].revents & POLLOUT))
    flush_input (p);
  if (fds[0].fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
    copy_output (p);
  if (p->term_gone)
    return SBX_PTY_HANGUP;
  if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
    return copy_input (p);
  return SBX_PTY_GOING_ON;
}

void
sbx_pty_proxy_signal (SbxPtyProxy *p, int signo)
{
  switch (signo)
    {
    case SIGWINCH:
      if (p != NULL && !p->term_gone)
        send_winsize (p);
      break;
    case SIGCONT:
      /* fg (or bg, which leaves the terminal alone: not in the foreground). */
      if (p != NULL && !p->term_gone)
        {
          enter_raw (p);
          send_winsize (p);
        }
      break;
    case SIGTSTP:
      suspend (p);
      break;
    default:
      break;
    }
}

void
sbx_pty_proxy_finish (SbxPtyProxy *p)
{
  if (p == NULL)
    return;
  /* Everything the command wrote, up to EIO (no slave left).  EAGAIN
   * means a process outside the command (an `sbx exec`'s background job)
   * still holds the slave: what was written is read by then (the kernel
   * flushes the pty's buffer before EAGAIN), and waiting would hang. */
  while (!p->master_done && !p->term_gone && copy_output (p) > 0)
    ;
  sbx_util_close_fdp (&p->master);
  sbx_pty_restore ();
  g_free (p);
}
