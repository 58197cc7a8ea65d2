/* SPDX-License-Identifier: GPL-2.0-or-later */
/* security.h: what the command may do: capabilities (libcap), no_new_privs,
 * the session, and the refusal to run with privileges sbx must not carry. */
#pragma once

#include "spec.h"

#include <glib.h>
#include <linux/filter.h>
#include <sys/capability.h>

/* Refuses to run setuid, setgid or with file capabilities (AT_SECURE): sbx is
 * meant to need none of that, and with it a user could make it mount or map
 * what they could not themselves. */
void sbx_security_refuse_privileged (void);

/* The capability set the command gets, as a bit mask of CAP_* numbers:
 * none for keep-id, the documented default set for --map-root. */
guint64 sbx_security_command_caps (const SbxSpec *spec);

/* The libcap state of @caps, made in advance: applying it must not allocate
 * (the command's process shares PID 1's memory until execve()). */
cap_t sbx_security_caps_new (guint64 caps);

/* Applies @caps (@set from sbx_security_caps_new): bounding set first
 * (nothing outside @caps can ever come back), then permitted/effective/
 * inheritable, then ambient for a non-root uid so that the set survives
 * execve().  Allocates nothing.  Dies on failure. */
void sbx_security_caps_apply (cap_t set, guint64 caps, gboolean root_inside);

/* Both of the above. */
void sbx_security_apply_caps (guint64 caps, gboolean root_inside);

/* Gives up every capability (PID 1 keeps none after setup). */
void sbx_security_drop_all_caps (void);

/* Closes every fd above stderr.  An fd the caller's process happened to
 * hold (a host directory above all: openat(fd, "..") walks out) must not
 * reach the command; podman does the same, bwrap does not. */
void sbx_security_close_inherited_fds (void);

/* The default system call filter, compiled (at build time where possible):
 * denied calls fail with EPERM.  @prog points at static storage.  It
 * denies userfaultfd unless the host lets unprivileged users have it
 * anyway. */
void sbx_security_seccomp_program (struct sock_fprog *prog);

/* One of the two variants sbx_security_seccomp_program() picks from, with
 * userfaultfd denied or not: the unit test evaluates both, whatever this
 * host's setting.  @prog may point at storage the next call reuses. */
void sbx_security_seccomp_variant (struct sock_fprog *prog, gboolean deny_userfaultfd);

/* Installs @prog on this process.  Last before execve(), after
 * no_new_privs; allocates nothing.  Dies on failure. */
void sbx_security_load_seccomp (const struct sock_fprog *prog);

/* Both of the above. */
void sbx_security_install_seccomp (void);

/* The command's session: a new one unless --share-tty (TIOCSTI,
 * CVE-2017-5226).  Dies on failure. */
void sbx_security_new_session (gboolean share_tty);

/* no_new_privs: no execve() gains privileges from here on.  Dies on failure. */
void sbx_security_no_new_privs (void);

/* Both of the above. */
void sbx_security_isolate_process (const SbxSpec *spec);
