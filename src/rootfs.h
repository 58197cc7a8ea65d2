/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rootfs.h: the sandbox's root filesystem, /proc, /dev, /tmp and the user's
 * binds, assembled in the child's mount namespace, then pivot_root. */
#pragma once

#include "spec.h"

/* The mount sbx makes itself that a mount on @dst (absolute, canonical)
 * would cover or enter ("/proc", "/dev/pts", "/proc/sys"...), or NULL: a
 * --bind or --tmpfs there is refused (spec.c).  / itself, /proc, /dev and
 * /dev/shm may not be covered; /sys, /dev/pts, the device nodes and links
 * of /dev and what mask.c masks or makes read-only may not be entered
 * either.  Below /proc, /dev and /dev/shm a mount is the caller's business
 * (a /proc/cpuinfo of lxcfs, /dev/kvm, a directory in /dev/shm). */
const char *sbx_rootfs_reserved (const char *dst);

/* Everything taken from the host's view before the host's paths are covered:
 * detached mount trees (open_tree clones) of the root and every bind source. */
typedef struct SbxRootfs SbxRootfs;

/* Makes every mount private (nothing propagates to or from the host) and
 * clones the trees the sandbox will be built from.  Runs with the host's root
 * and the caller's cwd, so relative and symlinked sources resolve as the
 * caller sees them.  @tree_fd and @tree_path: the caller's directory
 * skeleton, or -1 and NULL (sbx_overlay_prepare).  Dies on failure. */
SbxRootfs *sbx_rootfs_prepare (const SbxSpec *spec, int tree_fd, const char *tree_path);

/* Assembles the new root: the layered root (overlay.c), /proc, /dev, /tmp,
 * /var/tmp, /sys, /run and the user's mounts in command-line order.
 * @root_mapped: uid/gid 0 exist inside, so /dev and /tmp can belong to
 * root.  @sync_fd: to the monitor (which starts fuse-overlayfs).  Dies on
 * failure. */
void sbx_rootfs_build (SbxRootfs *rootfs, const SbxSpec *spec, uid_t inside_uid, gid_t inside_gid,
                       gboolean root_mapped, int sync_fd);

/* A new pty master of the devpts instance mounted on the sandbox's
 * /dev/pts (after sbx_rootfs_build, before sbx_rootfs_enter).  Dies on
 * failure. */
int sbx_rootfs_open_pty (SbxRootfs *rootfs);

/* pivot_root into the new root and detach the old one, so nothing of the
 * host or of the setup is reachable.  Dies on failure. */
void sbx_rootfs_enter (SbxRootfs *rootfs);
