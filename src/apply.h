/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply.h: `sbx apply`: a kept layer's changes written to the host, as the
 * caller, file by file (docs/security.md, "apply"). */
#pragma once

#include "layer.h"
#include "patch.h"
#include "spec.h"

#include <glib.h>
#include <sys/stat.h>

typedef struct
{
  char **paths;         /* only these (canonical), or NULL: everything the caller can write */
  gboolean dry_run;     /* say what would be done, touch nothing */
  gboolean interactive; /* ask for each change (y, n, d, q, a) on stdin */
  gboolean force;       /* apply conflicts too */
  gboolean keep;        /* leave applied entries in the layer */
  SbxColor color;       /* of the diffs shown by 'd' */
} SbxApplyOptions;

/* `sbx apply NAME` or `sbx apply --upper DIR`: refuses (125) a layer that
 * does not lie on the host's / alone, and one whose sandbox runs; holds the
 * name and the layer meanwhile.  Returns the exit status: 0 when every
 * change asked for was applied (or declined), 1 when one was not (a
 * conflict, a type apply refuses, an error), 125 when sbx failed. */
int sbx_apply_command (const SbxSpec *caller, const char *name, const char *upper,
                       const SbxApplyOptions *options);

/* What a review left of the layer. */
typedef enum
{
  SBX_REVIEW_EMPTY,   /* it holds no change */
  SBX_REVIEW_SETTLED, /* every change was applied or declined */
  SBX_REVIEW_LEFT,    /* some are left for later (quit, skipped, failed, not asked) */
} SbxReviewOutcome;

/* For `sbx run --review`: whether the kept layer @source holds changes,
 * and, when @interactive, their summary (the diffstat) and the interactive
 * apply of all of them onto the host, answered on stdin.  The caller holds
 * the layer (no sandbox runs on it).  Returns the exit status as
 * sbx_apply_command(); *@outcome says what is left. */
int sbx_apply_review (const SbxSpec *caller, const SbxLayerSource *source, SbxColor color,
                      gboolean interactive, SbxReviewOutcome *outcome);

/* Why applying a change of @kind whose layer entry has type @layer_mode
 * over the host entry @host (NULL: none) would lose what was done on the
 * host, or NULL.  @since: when the sandbox made its entry (the entry's
 * birth time, else the layer's), NULL when unknown.  A host entry changed
 * (ctime) at or after @since, one that appeared for an A (unless both are
 * directories), one gone for a C, are conflicts. */
const char *sbx_apply_conflict (char kind, mode_t layer_mode, const struct timespec *since,
                                const struct stat *host);
