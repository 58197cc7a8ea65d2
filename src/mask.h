/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mask.h: the kernel interfaces and host paths the sandbox must not reach,
 * masked or made read-only in the new root before pivot_root. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Masks and write-protects inside the new root @newroot (an O_PATH fd):
 * /proc files that leak host state or let root inside poke the kernel, and
 * parts of /sys.  (The host's /run, with the session sockets, is not there
 * at all: rootfs.c mounts a fresh one.)  Dies on failure. */
void sbx_mask_apply (int newroot);

/* The masked or read-only path that @path (absolute, canonical) is or lies
 * below, or NULL: a --bind or --tmpfs there would fight the mask. */
const char *sbx_mask_reserved (const char *path);

/* The environment variables that point at the caller's session (bus,
 * display, agents): the sandbox cannot reach those, so they are dropped
 * unless set with -e.  NULL-terminated. */
const char *const *sbx_mask_session_variables (void);
