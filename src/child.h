/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child.h: the sandbox side: from the clone to the exec of the command. */
#pragma once

#include "pty.h"
#include "spec.h"

#include <glib.h>
#include <signal.h>
#include <sys/types.h>

typedef struct
{
  const SbxSpec *spec;
  uid_t inside_uid; /* the caller's ids as mapped inside */
  gid_t inside_gid;
  gboolean root_mapped;      /* uid 0 exists inside (map-root or subordinate ranges) */
  guint64 caps;              /* the command's capability set (security.c) */
  int sync_fd;               /* SOCK_SEQPACKET to the monitor */
  int net_fd;                /* socket factory for sbx-net (--net slirp), else -1 */
  sigset_t caller_mask;      /* the signal mask the command starts with */
  SbxPtyRequest pty;         /* the command's own pty, when sbx runs on a terminal */
  int skeleton_fd;           /* the caller's directory skeleton (skeleton.h), or -1 */
  const char *skeleton_path; /* ... its path, or NULL */
} SbxChildConfig;

/* The command's environment: the caller's (or none with --clearenv)
 * without the variables that point at the caller's session, with root's
 * PATH when @root_inside and the caller's PATH has no sbin directory, then
 * every -e in order, and PWD.  Shared with `sbx exec`, run inside the
 * sandbox. */
char **sbx_child_build_environment (const SbxSpec *spec, gboolean root_inside, const char *workdir);

/* Runs in the cloned child (PID 1 of the new namespaces): waits until the
 * monitor has mapped the ids, sets up the namespaces and the root, forks the
 * command and becomes its init.  Every failure goes to the monitor as a
 * message and ends the child with 125 (126/127 for exec failures). */
G_NORETURN void sbx_child_run (const SbxChildConfig *config);
