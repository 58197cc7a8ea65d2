/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp-rules.h: the rules of the default system call filter, shared by
 * sbx (security.c) and the build-time generator of its compiled form
 * (seccomp-gen.c).  Plain C and libseccomp: the generator links nothing
 * else. */
#pragma once

#include <seccomp.h>

/* A new libseccomp filter with the default rules: the denied calls fail
 * with EPERM, so do foreign ABIs; userfaultfd too when @deny_userfaultfd.
 * NULL with *@err set (a negative errno) on failure. */
scmp_filter_ctx sbx_seccomp_rules_build (int deny_userfaultfd, int *err);

/* Writes the compiled (BPF) form of @ctx into @buf, at most @max
 * instructions' worth; returns the number of instructions, or a negative
 * errno. */
int sbx_seccomp_rules_export (scmp_filter_ctx ctx, void *buf, unsigned int max);
