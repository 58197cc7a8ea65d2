/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuse.h: fuse-overlayfs, started by the monitor inside the sandbox's user and
 * mount namespaces but outside its PID namespace.
 *
 * The daemon holds fds of host directories (the lower layers, often the
 * host's /).  Were it a process of the sandbox, a command with the same uid
 * and no fewer capabilities (keep-id: none at all) could ptrace it, or open
 * /proc/PID/fd/N and /proc/PID/root, and reach the host past the overlay.
 * With no pid in the sandbox's PID namespace it cannot even be named. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <sys/types.h>

/* Paths in the child's first mount namespace, where its staging tmpfs
 * covers the host's /sys (and only there: the sandbox gets a sysfs of its
 * own).  fuse-overlayfs, which runs in that namespace, turns the
 * /proc/self/fd/N it is given back into paths and opens those again, so the
 * staging directory must not cover any directory a user may keep layers in:
 * not /tmp, /var/tmp, /run/user/UID, /mnt or $HOME, all plausible.  Nobody
 * keeps a layer in sysfs, and nothing of the setup reads the host's /sys
 * after it is covered (rootfs.c clones it before, for --net host). */
#define SBX_STAGING       "/sys"
#define SBX_STAGING_ROOT  SBX_STAGING "/root"
#define SBX_STAGING_LAYER SBX_STAGING "/layer"
#define SBX_STAGING_FUSE  SBX_STAGING "/fuse"

typedef struct SbxFuse SbxFuse;

/* Monitor side: starts fuse-overlayfs (@exe, opened on the host) over
 * @spec's layers, joined to the user and mount namespaces of the sandbox
 * child @sandbox_pidfd, mounting on SBX_STAGING_FUSE there.  Only while the
 * child builds the root: its mount namespace is then the first one, where
 * / is the host's (see sbx_rootfs_enter()).  It runs as root inside when root is mapped
 * (fuse-overlayfs gives new files the ids of the process that makes them),
 * else as the caller with CAP_SYS_ADMIN kept for the mount.  The daemon dies
 * with the monitor (PDEATHSIG). */
SbxFuse *sbx_fuse_spawn (const SbxSpec *spec, int exe, int sandbox_pidfd, gboolean root_mapped,
                         GError **error);

/* The daemon's pidfd: readable once it has exited. */
int sbx_fuse_pidfd (const SbxFuse *fuse);

/* Whether the daemon is exiting (PF_EXITING in /proc/PID/stat: set when its
 * exit begins, before its files are closed, the command sees ENOTCONN or
 * SIGBUS, and long before its pidfd turns readable). */
gboolean sbx_fuse_exiting (const SbxFuse *fuse);

/* Why the daemon exited (its stderr), once it has. */
char *sbx_fuse_failure (SbxFuse *fuse);

/* Unmounts by ending the daemon, and waits for it. */
void sbx_fuse_stop (SbxFuse *fuse);

/* Child side: asks the monitor for fuse-overlayfs and waits until its mount
 * is up.  Dies with the daemon's own words if it fails. */
void sbx_fuse_request (int sync_fd);
