/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pty.h: a pty of the sandbox's own for the command, and the proxy between
 * it and the caller's terminal.
 *
 * The command never holds the caller's terminal: where sbx's stdin, stdout
 * or stderr is a terminal, the command gets the slave of a pty made in the
 * sandbox's own devpts instance, as its controlling terminal in a session of
 * its own, and sbx copies bytes between the master and the caller's
 * terminal, which it puts in raw mode meanwhile.  TIOCSTI and TIOCLINUX
 * inside reach only that pty; Ctrl-C, Ctrl-Z and job control work through
 * its line discipline. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>

/* What the parent side (the monitor, the `sbx exec` parent) found, copied
 * into the sandbox's side by the clone or fork. */
typedef struct
{
  gboolean active;        /* the command gets a pty */
  guint std_fds;          /* bit N: fd N (0..2) is the caller's terminal; the slave goes there */
  int term;               /* parent side: a fd of the caller's terminal of our own, else -1 */
  gboolean keyboard;      /* sbx takes the keyboard (raw mode) when in the foreground: its
                           * stdout is no pipe into another program that may want it */
  struct termios termios; /* the caller's terminal's, given to the pty */
  struct winsize winsize;
} SbxPtyRequest;

/* Fills @req: a pty when one of fds 0..2 is a terminal, unless --share-tty
 * or --no-pty.  Opens the caller's terminal again for the proxy (on the
 * host: call it before entering any namespace) and makes sure its modes
 * come back however sbx exits (atexit, sbx_die).  Returns @req->active. */
gboolean sbx_pty_request (const SbxSpec *spec, SbxPtyRequest *req);

/* Adds the signals the proxy handles itself (SIGWINCH, SIGCONT, SIGTSTP)
 * to @set; sbx_pty_owns_signal() tells them apart from the relayed ones. */
void sbx_pty_add_signals (sigset_t *set);
gboolean sbx_pty_owns_signal (int signo);

/* ---- the sandbox's side ---------------------------------------------------- */

/* A new pty master from the devpts instance whose root is @devpts (a fresh
 * mount of PID 1's own: nothing in it can have been swapped), unlocked. */
int sbx_pty_open_master_at (int devpts, GError **error);

/* A new pty master from /dev/pts/ptmx of the sandbox (`sbx exec`): resolved
 * without symlinks or magic links, opened non-blocking, and refused unless
 * it is a ptmx of a devpts instance (sbx_pty_is_master). */
int sbx_pty_open_master_inside (GError **error);

/* Whether @fd is a pty master: the ptmx character device of a devpts. */
gboolean sbx_pty_is_master (int fd);

/* The slave of @master (TIOCGPTPEER: no path is looked up), with the
 * caller's terminal modes and window size.  -1 with @error set. */
int sbx_pty_open_slave (int master, const SbxPtyRequest *req, GError **error);

/* In the command's process, after setsid(): @slave becomes its controlling
 * terminal and takes the place of the fds in @std_fds.  Allocates nothing
 * (the process may share PID 1's memory).  Dies on failure. */
void sbx_pty_attach (int slave, guint std_fds);

/* ---- the proxy ----------------------------------------------------------------- */

typedef struct SbxPtyProxy SbxPtyProxy;

typedef enum
{
  SBX_PTY_GOING_ON,
  SBX_PTY_HANGUP, /* the caller's terminal is gone: the pty was hung up */
  SBX_PTY_END,    /* the user typed the escape ~. : end the sandbox */
} SbxPtyEvent;

/* Starts proxying between the caller's terminal (@req->term, borrowed) and
 * @master (owned): raw mode when sbx is in the terminal's foreground, the
 * window size sent again. */
SbxPtyProxy *sbx_pty_proxy_new (const SbxPtyRequest *req, int master);

/* The two pollfds the proxy needs now (master, terminal); fd -1 when it
 * waits for nothing there. */
void sbx_pty_proxy_poll (SbxPtyProxy *proxy, struct pollfd fds[2]);

/* Acts on what poll() found on those two. */
SbxPtyEvent sbx_pty_proxy_handle (SbxPtyProxy *proxy, const struct pollfd fds[2]);

/* SIGWINCH (the size to the pty), SIGCONT (raw again, if in the
 * foreground), SIGTSTP (the caller's terminal back, then stop).  @proxy may
 * be NULL before the pty exists. */
void sbx_pty_proxy_signal (SbxPtyProxy *proxy, int signo);

/* The command is gone: copies what it wrote up to the end (until the
 * master reports that no slave is left, or nothing more comes), gives the
 * caller's terminal its modes back and frees @proxy. */
void sbx_pty_proxy_finish (SbxPtyProxy *proxy);

/* Gives the caller's terminal its modes back, if sbx changed them and is
 * still in its foreground.  Safe to call at any time, more than once. */
void sbx_pty_restore (void);
