/* SPDX-License-Identifier: GPL-2.0-or-later */
/* join.h: `sbx exec`: a command in a running named sandbox. */
#pragma once

#include "spec.h"
#include "state.h"

/* Joins every namespace of the running sandbox @info (through a pidfd of its
 * PID 1, user namespace first), its root and working directory (or
 * @spec->workdir), and runs @spec->argv with the sandbox command's
 * capability set, no_new_privs and session rules.  @spec carries -e,
 * --clearenv, -w and --share-tty.  Exits with the status of the contract
 * (it does not return: the process is inside the sandbox's namespaces). */
G_NORETURN void sbx_join_exec (const SbxSandboxInfo *info, const SbxSpec *spec);
