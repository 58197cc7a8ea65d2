/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patch.h: `sbx diff`: the list of changes, the patch (-p) and the
 * diffstat (--stat) of a kept layer against what it lies on. */
#pragma once

#include "diff.h"
#include "layer.h"
#include "spec.h"

#include <glib.h>
#include <stdio.h>

typedef enum
{
  SBX_COLOR_AUTO, /* on a terminal, unless NO_COLOR or TERM=dumb */
  SBX_COLOR_ALWAYS,
  SBX_COLOR_NEVER,
} SbxColor;

/* --color=WHEN: auto, always, never (and git's synonyms). */
gboolean sbx_patch_parse_color (const char *value, SbxColor *out);

/* Whether to colour what goes to @out. */
gboolean sbx_patch_want_color (SbxColor color, FILE *out);

/* The PATH arguments of `sbx diff` and `sbx apply` as the layer's paths:
 * absolute, relative ones from the current directory, `.` and `..` taken
 * away; with @host, symlinks of the host in the directories above the
 * last component resolved as the caller sees them (the layer records real
 * paths).  The last component itself is kept: it may be the layer's own
 * symlink, or gone from the host. */
char **sbx_patch_canonical_paths (char **args, gboolean host);

/* The indices of the changes at or below one of @paths (all with NULL). */
GArray *sbx_patch_select (GPtrArray *changes, char **paths);

typedef struct SbxPatch SbxPatch;

/* Renders changes of @layer, compared with @lowers (those it was scanned
 * against), on @out. */
SbxPatch *sbx_patch_new (SbxLayer *layer, char **lowers, gboolean color, FILE *out);
void sbx_patch_free (SbxPatch *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxPatch, sbx_patch_free)

/* The patch of change @index: for a regular file a unified diff against
 * the lower one as git writes it (`diff --git`, `new file mode`, `old mode`,
 * `--- a/PATH`, `+++ b/PATH`, hunks; a binary file in one line), for the
 * rest one line each (a directory made or deleted or its mode changed, a
 * symlink and its target, a fifo...).  FALSE when something could not be
 * read (said on the output). */
gboolean sbx_patch_print (SbxPatch *p, guint index);

/* The diffstat of the changes @indices, as `git diff --stat`. */
void sbx_patch_stat (SbxPatch *p, GArray *indices);

/* One line `K PATH` (the path quoted when it must be). */
char *sbx_patch_line (const SbxChange *change);

/* `sbx diff`: what to show of which layer. */
typedef struct
{
  const char *name;          /* a named sandbox, or NULL */
  const char *upper;         /* --upper DIR, or NULL */
  const char *const *lowers; /* --lower DIR..., or NULL */
  char **paths;              /* PATH arguments as given, or NULL */
  gboolean json, patch, stat;
  SbxColor color;
} SbxDiffOptions;

/* Runs `sbx diff`; returns its exit status. */
int sbx_patch_diff (const SbxSpec *caller, const SbxDiffOptions *options);
