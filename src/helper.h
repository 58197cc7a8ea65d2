/* SPDX-License-Identifier: GPL-2.0-or-later */
/* helper.h: the one way sbx starts a helper program (newuidmap, newgidmap,
 * sbx-net, fuse-overlayfs).
 *
 * A helper is opened on the host, by the monitor, before anything is
 * created, and started from that fd (execveat(AT_EMPTY_PATH)): joining a
 * sandbox's namespaces on the way can never make sbx run a program of the
 * sandbox's tree.  Its process gets exactly the fds it is given, an empty
 * signal mask (or the one asked for), default signal dispositions, and dies
 * with the monitor. */
#pragma once

#include <glib.h>
#include <signal.h>
#include <sys/types.h>

typedef struct
{
  int exe;           /* sbx_helper_open()'s fd of the program */
  const char *name;  /* for messages: "fuse-overlayfs" */
  char *const *argv; /* argv[0] included */
  char *const *envp; /* its environment; NULL: sbx's own */
  /* Namespaces to join first, through a pidfd of a process in them; -1:
   * none.  The helper then runs as root there when @become_root, else
   * keeps CAP_SYS_ADMIN of the joined user namespace across execve()
   * when @keep_sys_admin. */
  int join_pidfd;
  int join_flags;
  gboolean become_root;
  gboolean keep_sys_admin;
  gboolean own_pgrp;       /* a process group of its own: the caller's ^C is not for it */
  const sigset_t *blocked; /* its signal mask; NULL: none blocked */
  /* fds[i] becomes fd i of the helper; -1 in 0..2 keeps what sbx has there.
   * Every other fd is closed at its execve(). */
  const int *fds;
  guint n_fds;
} SbxHelper;

/* Opens the program at @path (found on the host) for sbx_helper_spawn(). */
int sbx_helper_open (const char *path, GError **error);

/* Starts @spawn; returns its pid (and a pidfd in *@pidfd when not NULL)
 * once it has exec'd, or -1 with an error naming the step that failed. */
pid_t sbx_helper_spawn (const SbxHelper *spawn, int *pidfd, GError **error);
