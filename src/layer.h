/* SPDX-License-Identifier: GPL-2.0-or-later */
/* layer.h: a kept layer as `sbx diff` and `sbx apply` read it: where it
 * is, what it lies on, and the reader process that alone touches it.
 *
 * The reader runs as root of a user namespace where the caller's ranges are
 * mapped (so files of subordinate ids, mode 0600 ones too, can be read and
 * removed) and resolves every path of the layer itself, through fds, never
 * following a symlink; sbx's own process gets the list of changes and, per
 * file, an open fd over a socket (SCM_RIGHTS).  A layer is hostile input
 * (docs/security.md). */
#pragma once

#include "spec.h"
#include "state.h"

#include <glib.h>

/* Where a layer is and what it lies on: a named sandbox's, or --upper DIR. */
typedef struct
{
  char *name;         /* the named sandbox, or NULL */
  char *dir;          /* DIR holding upper/, work/ and layers, or NULL (a bare upper directory) */
  char *upper;        /* the overlay upper directory */
  char **lowers;      /* what it is compared with, highest first */
  gboolean over_host; /* its only lower is the host's / */
  SbxLayerRecord record; /* DIR/layers (empty without one) */
} SbxLayerSource;

void sbx_layer_source_free (SbxLayerSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxLayerSource, sbx_layer_source_free)

/* The layer of the named sandbox @name, or @upper (DIR with DIR/upper and
 * DIR/work, or an upper directory itself), compared with @lowers when
 * given, else with what DIR/layers records, else with the host's /. */
SbxLayerSource *sbx_layer_source_new (const char *name, const char *upper,
                                      const char *const *lowers, GError **error);

typedef struct SbxLayer SbxLayer;

/* Starts the reader on @source's upper directory; it scans the layer and
 * hands over its changes (sbx_layer_changes()). */
SbxLayer *sbx_layer_open (const SbxSpec *caller, const SbxLayerSource *source, GError **error);

/* The changes (SbxChange, sorted by path); owned by @layer. */
GPtrArray *sbx_layer_changes (SbxLayer *layer);

/* An fd of the layer's regular file of change @index, read-only, opened by
 * the reader relative to the layer's directory fds (RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, O_NOFOLLOW, O_NONBLOCK) and checked to be the
 * regular file the scan saw; -1 with an error otherwise. */
int sbx_layer_open_file (SbxLayer *layer, guint index, GError **error);

/* Removes the layer's entries of the changes @indices (applied to the host)
 * from the layer: files, symlinks and whiteouts, the opaque marks of
 * directories whose hidden entries all went, and directories left empty.
 * An entry below a directory that stays opaque stays (removed, it would be
 * hidden).  *@failed: how many could not be removed. */
gboolean sbx_layer_forget (SbxLayer *layer, GArray *indices, guint *failed, GError **error);

/* Ends the reader. */
void sbx_layer_close (SbxLayer *layer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxLayer, sbx_layer_close)
