/* SPDX-License-Identifier: GPL-2.0-or-later */
/* named.h: `sbx ps`, `sbx stop` and `sbx rm` on named sandboxes. */
#pragma once

#include "spec.h"
#include "state.h"

#include <glib.h>

/* Lists the named sandboxes (with @all also the stopped ones whose layer is
 * kept) as a table or a JSON array.  Returns the exit status. */
int sbx_named_ps (gboolean all, gboolean json);

/* SIGTERM to the sandbox's PID 1, SIGKILL after @grace_seconds, and waits
 * until it and its state are gone.  A stopped sandbox is no error; an
 * unknown name is. */
gboolean sbx_named_stop (const char *name, guint grace_seconds, GError **error);

/* Deletes a sandbox that is not running (or, with @force, stops it first):
 * its runtime state and its kept layer. */
gboolean sbx_named_rm (const SbxSpec *caller, const char *name, gboolean force, GError **error);

/* Deletes the kept layer @data_dir of a stopped sandbox whose name the
 * caller holds (@claim, released here with the runtime state): `sbx run
 * --review` removes what it reviewed without letting the name go between
 * the review and the removal. */
gboolean sbx_named_rm_claimed (const SbxSpec *caller, SbxStateClaim *claim, const char *data_dir,
                               GError **error);

/* `sbx rm --upper DIR`: deletes the kept layer in @dir (--upper DIR of
 * run) and @dir itself, whatever ids own its files, refusing a directory
 * that is not a layer (sbx_state_check_layer_dir) or one in use (its
 * lock held: a sandbox runs on it, or `sbx apply` reads it). */
gboolean sbx_named_rm_upper (const SbxSpec *caller, const char *dir, GError **error);
