/* SPDX-License-Identifier: GPL-2.0-or-later */
/* net.h: the sandbox's network namespace. */
#pragma once

#include "spec.h"

/* Brings `lo` up in the child's new network namespace.  Dies on failure. */
void sbx_net_setup_loopback (void);
