/* SPDX-License-Identifier: GPL-2.0-or-later */
/* skeleton.h: the caller's directory skeleton of the host's /, which lets
 * root inside a --map-root sandbox write into the host's system directories
 * through kernel overlayfs (docs/rootfs.md, "The directory skeleton"). */
#pragma once

#include "userns.h"

#include <glib.h>

typedef struct SbxSkeleton SbxSkeleton;

/* In the monitor, as the caller, on the host, before anything is cloned:
 * opens the skeleton in $XDG_CACHE_HOME/sbx/skeleton (building it on first
 * use), refuses it unless it is the caller's alone (as --upper DIR), and
 * brings it up to date with the host's tree when a cheap check says the
 * tree may have changed, or when the last full check is old.  @plan says
 * which host ids are mapped inside: their directories need no skeleton.
 * NULL with @error when there is none to use. */
SbxSkeleton *sbx_skeleton_open (const SbxIdMapPlan *plan, GError **error);

/* An O_PATH fd of the tree, a mirror of / of directories and stand-ins, for
 * the sandbox child (which closes it before the command starts). */
int sbx_skeleton_tree_fd (const SbxSkeleton *sk);

/* The tree's path on the host (the child keeps the overlays from holding
 * it as a lower layer of themselves). */
const char *sbx_skeleton_tree_path (const SbxSkeleton *sk);

/* The host files the tree holds a stand-in of, which the kernel copies up
 * when a sandbox writes one (the package managers' locks, databases and
 * logs): absolute paths, NULL-terminated. */
const char *const *sbx_skeleton_standins (void);

/* What opening it took, for --verbose ("checked 64 directories in 0.2 ms"). */
const char *sbx_skeleton_report (const SbxSkeleton *sk);

void sbx_skeleton_free (SbxSkeleton *sk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxSkeleton, sbx_skeleton_free)
