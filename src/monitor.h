/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.h: the parent side of `sbx run`. */
#pragma once

#include "spec.h"

/* Clones the sandbox, maps its ids, releases it, relays signals and waits.
 * Returns the exit status of the contract: the command's own, 128+N for a
 * signal, 125/126/127 for sbx's own failures. */
int sbx_monitor_run (const SbxSpec *spec);
