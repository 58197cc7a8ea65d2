/* SPDX-License-Identifier: GPL-2.0-or-later */
/* overlay.h: the layered root: the host's / (or --rootfs), --layer dirs and a
 * writable layer, through kernel overlayfs or fuse-overlayfs. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <sys/types.h>

typedef struct SbxOverlay SbxOverlay;

/* In the child, while it still sees the host: opens every layer (so that
 * nothing resolves a path again later) and reads the mount table, whose
 * mount points the kernel driver must not overlay across.  @tree_fd (or
 * -1) is the caller's directory skeleton (skeleton.h) at @tree_path, used
 * with --map-root over the host's /; the overlay keeps a dup of it.  Dies
 * on failure. */
SbxOverlay *sbx_overlay_prepare (const SbxSpec *spec, int tree_fd, const char *tree_path);

/* After the ids are mapped: assembles the layered root on the empty
 * directory @newroot of the staging tmpfs @staging.  Directories without a
 * mount below them become one overlay each (kernel, with the directory
 * skeleton where --map-root must write into directories whose owner is not
 * mapped, or a bind of the one fuse-overlayfs mount where there is no
 * skeleton); the directories above them form a small read-only tmpfs.  A --rootfs without mounts
 * inside is a single overlay.  The special directories proc, dev, sys, run and tmp are left empty
 * for the caller to mount.  fuse-overlayfs is asked of the monitor over @sync_fd. Dies on failure.
 */
void sbx_overlay_build (SbxOverlay *overlay, const SbxSpec *spec, const char *staging,
                        const char *newroot, gboolean root_mapped, int sync_fd);

/* Makes the skeleton read-only, once everything is mounted on it. */
void sbx_overlay_seal (SbxOverlay *overlay);

/* Whether a fuse-overlayfs daemon runs in this mount namespace: the sandbox
 * must then pivot in a mount namespace of its own, so that the daemon keeps
 * the host's root. */
gboolean sbx_overlay_uses_fuse (const SbxOverlay *overlay);

void sbx_overlay_free (SbxOverlay *overlay);

/* Whether @rel ("/var/tmp", "/proc/1") is one of the directories the sandbox
 * mounts itself, never part of the layers, or below one. */
gboolean sbx_overlay_is_special (const char *rel);

/* Whether @fd is the root of a kernel interface (procfs, sysfs, cgroupfs,
 * tracefs...), which no overlay takes as a layer. */
gboolean sbx_overlay_is_kernel_interface (int fd);

/* Unescapes a mount point from /proc/self/mountinfo ("\040" is a space).
 * Exported for the unit tests. */
char *sbx_overlay_unescape_mountinfo (const char *field);
