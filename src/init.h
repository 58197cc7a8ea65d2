/* SPDX-License-Identifier: GPL-2.0-or-later */
/* init.h: PID 1 inside the sandbox. */
#pragma once

#include <glib.h>
#include <signal.h>
#include <sys/types.h>

/* The signals PID 1 forwards to the command (the monitor forwards the same
 * to PID 1). */
void sbx_init_forwarded_signals (sigset_t *set);

struct signalfd_siginfo;
/* Whether @si is a SIGPIPE this process raised itself (a write to a pipe
 * nobody reads any more): not one to relay. */
gboolean sbx_init_signal_is_own (const struct signalfd_siginfo *si);

/* Runs PID 1 after the command @command_pid was forked: reaps orphans,
 * forwards signals to the command (to its process group with @to_group:
 * the command leads one, so that `bash -c`, make and their children all
 * get them), and exits when the command does, after
 * sending its wait status to the monitor over @sync_fd.  When the monitor
 * goes away (@sync_fd hangs up), it exits at once, and the kernel kills
 * everything left in the PID namespace.  @signal_fd is a signalfd for the
 * forwarded signals and SIGCHLD, created before the fork so that no signal
 * is lost.  @net_fd (or -1): sbx-net's requests for sockets of the sandbox's
 * network namespace, for published ports. */
G_NORETURN void sbx_init_run (pid_t command_pid, gboolean to_group, int sync_fd, int signal_fd,
                              int net_fd);
