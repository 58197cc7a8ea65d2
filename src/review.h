/* SPDX-License-Identifier: GPL-2.0-or-later */
/* review.h: `sbx run --review`: once the sandbox is gone, its kept layer
 * reviewed and applied on a terminal, else kept as a named sandbox. */
#pragma once

#include "monitor.h"
#include "spec.h"

#include <glib.h>

/* sbx's own program, opened on the host before the run (O_PATH): the
 * review starts from it.  Dies (125) when it cannot be opened. */
int sbx_review_open_self (void);

/* After the run of @spec (with --review) ended with @status: when its
 * command ran, replaces this process (@self, sbx_review_open_self()) by a
 * fresh sbx that reviews the layer (`sbx __review NAME STATUS`) and exits
 * with @status.  Returns @status when there is nothing to review, or when
 * the review cannot start (the sandbox is then kept, and said so). */
int sbx_review_after_run (const SbxSpec *spec, int self, const SbxRunEnd *end, int status);

/* `sbx __review NAME STATUS`, the fresh sbx: the named sandbox's layer is
 * reviewed (stdin and stdout a terminal) or kept, removed when it holds
 * nothing more to decide.  Returns @status, whatever the review did. */
int sbx_review_run (const SbxSpec *caller, const char *name, int status);
