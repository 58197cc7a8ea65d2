/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.h: what a writable layer added, changed and deleted. */
#pragma once

#include "spec.h"

#include <glib.h>

typedef struct
{
  char kind; /* 'A' added, 'C' changed, 'D' deleted */
  char *path;
} SbxChange;

/* The changes recorded in the overlay upper directory @upper over the lower
 * layers @lowers (the host's / when empty), sorted by path.  Whiteouts of
 * both drivers are read: 0/0 character devices (kernel overlay) and `.wh.`
 * files (fuse-overlayfs without mknod), and opaque directories marked by the
 * trusted./user.overlay.opaque or user.fuseoverlayfs.opaque xattrs or a
 * `.wh..wh..opq` file.  Runs as root of a user namespace with the caller's
 * ranges mapped, so that files owned by subordinate ids can be read. */
GPtrArray *sbx_diff_scan (const SbxSpec *caller, const char *upper, const char *const *lowers,
                          GError **error);

/* The same walk in the calling process, exported for the unit tests. */
GPtrArray *sbx_diff_scan_here (const char *upper, const char *const *lowers);

void sbx_change_free (SbxChange *change);
