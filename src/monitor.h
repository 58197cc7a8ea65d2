/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.h: the parent side of `sbx run`. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <signal.h>

/* How a run ended, for what follows it in the same process (`sbx run
 * --review`). */
typedef struct
{
  gboolean started;     /* the command started: the layer holds what it did */
  sigset_t caller_mask; /* sbx's signal mask before the run; the monitor's signals stay blocked */
} SbxRunEnd;

/* Clones the sandbox, maps its ids, releases it, relays signals and waits.
 * Returns the exit status of the contract: the command's own, 128+N for a
 * signal, 125/126/127 for sbx's own failures.  By then the sandbox is gone:
 * its processes reaped, its helpers ended, its name and layer released.
 * @end (or NULL) tells how it ended. */
int sbx_monitor_run (const SbxSpec *spec, SbxRunEnd *end);

/* Where the sandbox is, as far as the monitor knows. */
typedef enum
{
  SBX_RUN_SETUP,    /* cloned; its ids are being mapped */
  SBX_RUN_BUILDING, /* released: PID 1 builds the root, sbx's own code */
  SBX_RUN_STARTED,  /* the command runs: PID 1 is as untrusted as it is */
  SBX_RUN_EXITED,   /* PID 1 reported the command's status */
} SbxRunState;

/* What a run asks of the monitor, which the sandbox may then request. */
typedef struct
{
  gboolean slirp; /* tap0 and sbx-net */
  gboolean fuse;  /* fuse-overlayfs may be started */
  gboolean named; /* a named sandbox reports its namespaces */
  gboolean pty;   /* the command gets a pty, whose master PID 1 sends */
} SbxRunNeeds;

/* Whether PID 1 may send a message of @type (SbxMsgType) in @state, @seen
 * holding the types it sent so far as bits.  Before the command starts PID
 * 1 runs only sbx's code and asks for what the setup needs, each once;
 * after that it is as untrusted as the command (it could have been taken
 * over through what it shares with it), and may only report the command's
 * status.  Above all, fuse-overlayfs is started only while PID 1 builds the
 * root: the monitor enters PID 1's mount namespace for it, which is the
 * sandbox's own tree after pivot_root.  Anything else ends the sandbox. */
gboolean sbx_monitor_message_expected (SbxRunState state, guint32 seen, guint32 type,
                                       const SbxRunNeeds *needs);
