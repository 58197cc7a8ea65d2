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
  SBX_STATUS_EXITING, /* the monitor holds the lock; the command has ended or is being stopped */
  SBX_STATUS_STALE,   /* a state file, but its monitor is gone */
  SBX_STATUS_STOPPED, /* no state file; a kept layer */
} SbxStatus;

/* What the registry knows about one sandbox. */
typedef struct
{
  char *name;
  SbxStatus status;
  gboolean exiting;       /* the state file says so */
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

/* The registry's errors that are not errors of a file. */
typedef enum
{
  SBX_STATE_ERROR_IN_USE,      /* a sandbox holds the name or the layer */
  SBX_STATE_ERROR_NOT_FOUND,   /* no sandbox of that name */
  SBX_STATE_ERROR_NOT_RUNNING, /* the sandbox is not (or no longer) running */
  SBX_STATE_ERROR_NO_RUNTIME,  /* $XDG_RUNTIME_DIR is not set */
  SBX_STATE_ERROR_INVALID,     /* a bad name; a directory that is not a layer */
  SBX_STATE_ERROR_FAILED,
} SbxStateErrorCode;

#define SBX_STATE_ERROR (sbx_state_error_quark ())
GQuark sbx_state_error_quark (void);

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
 * The lock is the monitor's, held until it exits; a new claim waits for the
 * PID 1 of a stale state to be gone. */
SbxStateClaim *sbx_state_claim (const char *name, GError **error);

/* Takes the kept layer in @dir (DIR of --upper DIR, or a named sandbox's
 * data directory) for this run: one sandbox at a time may write a layer
 * (the kernel calls two overlays on one upper "undefined behavior").  Holds
 * an OFD lock on DIR/lock, released when the returned fd is closed (at the
 * latest when the monitor exits); fails naming the sandbox that holds it
 * (@holder: "--name NAME" or the command, recorded in the lock file).
 * `sbx apply` takes it too: no sandbox writes a layer while its changes
 * are applied, nor is one applied while a sandbox writes it. */
int sbx_state_lock_layer (const char *dir, const char *holder, GError **error);

/* Marks the kept layer whose work directory is @work (DIR/work) as being
 * written without a sync at its end (its kernel overlays are volatile:
 * docs/rootfs.md): the directory WORK/unsynced-BOOT_ID, made before any
 * overlay is mounted.  One left by this boot (a monitor that was killed) is
 * kept; one left by an earlier boot means the machine went down while a
 * sandbox wrote the layer: FALSE with an error that says so and what to
 * remove.  Sets *@mark to the mark's path for sbx_state_unmark_unsynced(). */
gboolean sbx_state_mark_unsynced (const char *work, char **mark, GError **error);

/* Removes @mark once the sandbox's overlays are unmounted: the layer's
 * writes are then all in the page cache, left to the kernel's writeback as
 * the host's own files are. */
void sbx_state_unmark_unsynced (const char *mark);

/* Whether @dir holds a layer sbx made, or nothing: only `upper` and `work`
 * (directories), `lock` and `layers` (files) and the temporary files of
 * writing `layers`.  Else FALSE with an error (SBX_STATE_ERROR_INVALID)
 * naming the first other entry (in name order): a run must not make
 * `upper` and `work` beside the caller's files (--upper $HOME), nor
 * `sbx rm --upper` remove them. */
gboolean sbx_state_check_layer_dir (const char *dir, GError **error);

/* Writes the state file atomically (rename), once PID 1 @pid has started the
 * command. */
gboolean sbx_state_publish (SbxStateClaim *claim, const SbxSpec *spec, pid_t pid, pid_t command_pid,
                            guint64 caps, uid_t inside_uid, gid_t inside_gid,
                            const char *scope_unit, const char *namespaces, GError **error);

/* What a kept layer lies on and when it was made: the key file `layers`
 * in the directory DIR that holds DIR/upper and DIR/work (a named
 * sandbox's data directory, or --upper DIR), see docs/rootfs.md. */
typedef struct
{
  char *rootfs;  /* --rootfs, or NULL for the host's / */
  char **layers; /* --layer dirs, lowest first (may be NULL) */
  gboolean has_created;
  gint64 created_sec; /* when sbx made DIR/upper */
  guint32 created_nsec;
} SbxLayerRecord;

void sbx_layer_record_clear (SbxLayerRecord *record);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SbxLayerRecord, sbx_layer_record_clear)

/* Records beside the kept layer spec->upper what it lies on (--rootfs,
 * --layer), for `sbx diff` and `sbx apply` of a stopped sandbox, and when
 * the layer was made (kept from an earlier run). */
gboolean sbx_state_record_layers (const SbxSpec *spec, GError **error);

/* Reads DIR/layers; FALSE (and an empty @record) when there is none. */
gboolean sbx_state_read_layer_record (const char *dir, SbxLayerRecord *record);

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

/* Records that the sandbox is on its way out (its command's status came, or
 * it is being stopped): `sbx ps` says "exiting" and `sbx exec` refuses it
 * from now on.  No-op before the state was published. */
void sbx_state_set_exiting (SbxStateClaim *claim);

/* Whether a monitor still holds the name (running, starting or exiting). */
gboolean sbx_state_is_claimed (const char *name);

/* Removes what a run killed before its command started may leave of the
 * name @name: its runtime directory with the lock alone (no state), when
 * no monitor holds it.  TRUE when there was such a thing. */
gboolean sbx_state_remove_leftover (const char *name);

/* Removes the runtime state of a stale or stopped sandbox. */
gboolean sbx_state_remove_runtime (const char *name, GError **error);

const char *sbx_status_name (SbxStatus status);
