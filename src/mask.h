/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mask.h: the kernel interfaces and host paths the sandbox must not reach,
 * masked or made read-only in the new root before pivot_root. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Masks and write-protects inside the new root @newroot (an O_PATH fd):
 * /proc files that leak host state or let root inside poke the kernel, parts
 * of /sys, and the host's per-user runtime directories under /run/user (the
 * caller's D-Bus session bus, Wayland and agent sockets: a socket can be
 * connected to even on a read-only mount).  @host_run: /run is the host's.
 * @inside_uid/@inside_gid own the fresh /run/user/UID.  Dies on failure. */
void sbx_mask_apply (int newroot, gboolean host_run, uid_t inside_uid, gid_t inside_gid);

/* The environment variables that point at the caller's session (bus,
 * display, agents): the sandbox cannot reach those, so they are dropped
 * unless set with -e.  NULL-terminated. */
const char *const *sbx_mask_session_variables (void);
