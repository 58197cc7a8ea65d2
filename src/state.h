/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.h: the registry of named sandboxes, without a daemon.
 *
 * A running named sandbox has $XDG_RUNTIME_DIR/sbx/NAME/ with `lock` (an OFD
 * lock held by its monitor and PID 1 for as long as they live) and
 * `state` (a GKeyFile, written atomically once the command has started).  Its kept
 * writable layer lives in $XDG_DATA_HOME/sbx/NAME/. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <sys/types.h>

typedef enum
{
  SBX_STATUS_RUNNING, /* the monitor holds the lock and PID 1 is who it was */
  SBX_STATUS_STALE,   /* a state file, but its monitor is gone or the pid was reused */
  SBX_STATUS_STOPPED, /* no state file; a kept layer */
} SbxStatus;

/* What the registry knows about one sandbox. */
typedef struct
{
  char *name;
  SbxStatus status;
  pid_t pid;              /* PID 1 of the sandbox, in the host's PID namespace */
  guint64 pid_start_time; /* its start time (clock ticks after boot, /proc/PID/stat) */
  pid_t monitor_pid;
  pid_t command_pid; /* the command (PID 2), in the host's PID namespace */
  guint64 command_start_time;
  gint64 created; /* seconds since the epoch */
  char **command;
  char *identity; /* "keep-id", "map-root" or "single" */
  guint32 inside_uid;
  guint32 inside_gid;
  guint64 caps; /* the command's capability set */
  gboolean share_tty;
  gboolean seccomp; /* the default filter is in force */
  char *network;    /* "none", "host", ... */
  gboolean own_netns;
  char *workdir;    /* the command's working directory inside */
  char **ports;     /* published ports, as typed */
  char **allow_net; /* the egress policy: --allow-net rules, as typed */
  char **deny_net;  /* --deny-net rules */
  char *net_log;    /* --net-log FILE, or NULL */
  char **limits;    /* "memory=64M", ... */
  char *scope;      /* its systemd user scope ("sbx-NAME.scope"), or NULL */
  char *namespaces; /* sbx_state_read_namespaces() of PID 1 at the start, or NULL */
  char *upper;      /* the kept writable layer, or NULL */
  char *rootfs;     /* the lowest layer it ran on, NULL for the host's / */
  char **layers;    /* its --layer dirs, lowest first */
  char *data_dir;   /* $XDG_DATA_HOME/sbx/NAME, or NULL when none exists */
} SbxSandboxInfo;

void sbx_sandbox_info_free (SbxSandboxInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxSandboxInfo, sbx_sandbox_info_free)

/* [a-zA-Z0-9][a-zA-Z0-9_.-]{0,63} */
gboolean sbx_state_name_valid (const char *name);

/* $XDG_RUNTIME_DIR/sbx (NULL with an error when there is no runtime dir) and
 * $XDG_DATA_HOME/sbx (~/.local/share/sbx). */
char *sbx_state_runtime_root (GError **error);
char *sbx_state_data_root (void);

/* The claim of a name by a running `sbx run --name`. */
typedef struct SbxStateClaim SbxStateClaim;

/* Takes the name: creates the runtime directory and locks it, or fails when a
 * sandbox of that name runs (whatever stale state was there is replaced).
 * The lock fd is close-on-exec but shared with the sandbox's PID 1, so the
 * lock lives exactly as long as the sandbox. */
SbxStateClaim *sbx_state_claim (const char *name, GError **error);

/* Writes the state file atomically (rename), once PID 1 @pid has started the
 * command. */
gboolean sbx_state_publish (SbxStateClaim *claim, const SbxSpec *spec, pid_t pid, pid_t command_pid,
                            guint64 caps, uid_t inside_uid, gid_t inside_gid,
                            const char *scope_unit, const char *namespaces, GError **error);

/* Records beside a named sandbox's kept layer what it lies on (--rootfs,
 * --layer), for `sbx diff` of a stopped sandbox. */
gboolean sbx_state_record_layers (const SbxSpec *spec, GError **error);

/* The namespaces of the process whose /proc/PID/ns is the directory fd
 * @nsdir, as "user:[N] mnt:[N] ..." (those of its children for pid and
 * time): what `sbx exec` must find itself in after joining. */
char *sbx_state_read_namespaces (int nsdir);

/* Removes the runtime state and drops the lock (the kept layer stays). */
void sbx_state_release (SbxStateClaim *claim);

/* One sandbox by name; NULL with an error when there is none. */
SbxSandboxInfo *sbx_state_lookup (const char *name, GError **error);

/* Every named sandbox with runtime state, and with @all also those with only
 * a kept layer; sorted by name. */
GPtrArray *sbx_state_list (gboolean all);

/* The start time of @pid from /proc/PID/stat (field 22), 0 when gone. */
guint64 sbx_state_pid_start_time (pid_t pid);

/* A pidfd for the sandbox's PID 1 (or, with @command, for its command),
 * checked to be the process that was recorded (not a reuse of its pid); -1
 * with an error otherwise. */
int sbx_state_open_pidfd (const SbxSandboxInfo *info, gboolean command, GError **error);

/* Whether a monitor still holds the name (running, starting or exiting). */
gboolean sbx_state_is_claimed (const char *name);

/* Removes the runtime state of a stale or stopped sandbox. */
gboolean sbx_state_remove_runtime (const char *name, GError **error);

const char *sbx_status_name (SbxStatus status);
