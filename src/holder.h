/* SPDX-License-Identifier: GPL-2.0-or-later */
/* holder.h: the caller's holder, a long-lived process whose user namespace
 * maps the caller's id and subordinate ranges to themselves, so that a run
 * writes its own sandbox's id maps instead of running newuidmap and
 * newgidmap (docs/decisions.md, docs/security.md). */
#pragma once
#include "userns.h"
#include <glib.h>
#include <sys/types.h>

typedef struct SbxHolder SbxHolder;

/* The caller's holder for @plan's ranges, when one runs and checks out:
 * its pid and start time, that its user namespace is a child of ours owned
 * by us, its maps.  NULL with @error otherwise, and *@start_one TRUE when
 * runs of @plan's want one (not with SBX_HOLDER=0, a single mapping, or no
 * $XDG_RUNTIME_DIR).  Without one, a run maps its ids as before. */
SbxHolder *sbx_holder_find (const SbxIdMapPlan *plan, gboolean *start_one, GError **error);
/* Starts a holder for the next runs, off this one's path: a detached
 * process that waits until the returned fd is closed (when the run is
 * under way), then, one at a time, starts a holder with newuidmap and
 * newgidmap unless a good one runs by then, and tells a stale one to go.
 * Returns that fd, or -1 when no process could be started. */
int sbx_holder_start (const SbxIdMapPlan *plan);
void sbx_holder_free (SbxHolder *holder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxHolder, sbx_holder_free)

/* Like sbx_util_clone3(@flags, @pidfd_out) with CLONE_NEWUSER among @flags,
 * except that the new user namespace is a child of the holder's and its
 * maps (@plan's lines) are written before this returns.  The child, our
 * child as with a plain clone, runs @child(@data), which must not return.
 * A forked process of ours joins the holder, clones and writes the maps,
 * then exits.  Returns the pid, or -1 with @error (and *@joined FALSE when
 * the holder could not even be joined: nothing was created). */
pid_t sbx_holder_clone (const SbxHolder *holder, const SbxIdMapPlan *plan, guint64 flags,
                        int *pidfd_out, void (*child) (gpointer data), gpointer data,
                        gboolean *joined, GError **error);

/* `sbx __holder`, what the holder execs once it is mapped: it waits, holding
 * its user namespace, until its watch (fd 3, inotify) reports that its
 * record is gone.  Refused with 125 unless fd 3 is such a watch. */
int sbx_holder_wait (int argc, char **argv);

/* For `sbx doctor`: one line about the caller's holder ("pid N, user
 * namespace I; uids ...; gids ...") or why there is none. */
char *sbx_holder_describe (void);
