/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup.h: cgroup v2 limits through a transient scope of the systemd user
 * manager, over D-Bus (GDBus).  Built into sbx-ext.so: sbx loads it only
 * when limits are asked for or a session bus is there (ext.h). */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct
{
  pid_t pid;               /* the sandbox's PID 1 */
  const char *unit;        /* "sbx-NAME.scope" */
  const char *description; /* "sbx: COMMAND" */
  guint64 memory;          /* bytes; 0: none */
  guint64 cpu_quota;       /* microseconds of CPU per second; 0: none */
  guint64 pids_limit;      /* 0: none */
  guint64 io_weight;       /* 0: none */
  const char *memory_text; /* as typed */
} SbxScopeRequest;

typedef struct SbxScope SbxScope;

typedef enum
{
  SBX_CGROUP_ERROR_NO_MANAGER,   /* no session bus, no systemd user manager */
  SBX_CGROUP_ERROR_FAILED,       /* the scope could not be made */
  SBX_CGROUP_ERROR_NOT_IN_FORCE, /* a limit asked for is not in the cgroup */
} SbxCgroupError;

/* Inline: sbx, which does not link cgroup.c (it lives in sbx-ext.so), tells
 * these errors apart too. */
#define SBX_CGROUP_ERROR (sbx_cgroup_error_quark ())
static inline GQuark
sbx_cgroup_error_quark (void)
{
  return g_quark_from_static_string ("sbx-cgroup-error-quark");
}

/* Asks the user manager for the transient scope @req->unit holding
 * @req->pid, with the limits and Delegate=yes; subscribes to JobRemoved
 * before the call and waits for the job; then reads the limits back from
 * the scope's cgroup files.  A limit asked for and not in force is an
 * error naming it and why. */
SbxScope *sbx_cgroup_scope_start (const SbxScopeRequest *req, GError **error);

/* An fd of the scope's memory.events (for the OOM count), or -1. */
int sbx_cgroup_scope_events_fd (SbxScope *scope);

/* The scope's cgroup directory (/sys/fs/cgroup/...). */
const char *sbx_cgroup_scope_path (SbxScope *scope);

/* Stops the scope if systemd has not already (it does once it is empty),
 * and frees it. */
void sbx_cgroup_scope_stop (SbxScope *scope);

/* The controllers delegated to the user manager ("cpu memory pids"), or
 * NULL with an error saying what is missing (`sbx doctor`). */
char *sbx_cgroup_probe (GError **error);

/* Moves @pid into the running scope @unit (sbx exec), through the manager:
 * a process outside the user manager's tree cannot move itself there. */
gboolean sbx_cgroup_attach (const char *unit, pid_t pid, GError **error);
