/* SPDX-License-Identifier: GPL-2.0-or-later */
/* net.h: the sandbox's network: its namespace (child side), and the
 * published ports and helpers/sbx-net (monitor side). */
#pragma once

#include "spec.h"

#include <glib.h>

/* The addresses of the contract (slirp's defaults). */
#define SBX_NET_GUEST    "10.0.2.100"
#define SBX_NET_GATEWAY  "10.0.2.2"
#define SBX_NET_DNS      "10.0.2.3"
#define SBX_NET_GUEST6   "fd00::100"
#define SBX_NET_GATEWAY6 "fd00::2"
#define SBX_NET_DNS6     "fd00::3"

/* ---- child side (in the new network namespace) ---------------------------- */

/* Brings `lo` up.  Dies on failure. */
void sbx_net_setup_loopback (void);

/* Creates tap0 in the child's network namespace (IFF_TAP|IFF_NO_PI),
 * configures 10.0.2.100/24 via 10.0.2.2, the MTU, and fd00::100/64 via
 * fd00::2 unless --no-ipv6; returns its fd for the monitor.  Dies on
 * failure. */
int sbx_net_setup_tap (const SbxSpec *spec);

/* The sandbox's /etc/resolv.conf: slirp's DNS, and the host's search and
 * options lines. */
char *sbx_net_resolv_conf (const SbxSpec *spec);

/* ---- monitor side ----------------------------------------------------------------- */

typedef struct SbxNet SbxNet;

/* Before anything is created: binds the published TCP ports on the host
 * (a port in use is an error now, not once the command runs), checks the
 * UDP ones, and makes the socket pair over which sbx-net asks the sandbox
 * for sockets inside its network namespace. */
SbxNet *sbx_net_prepare (const SbxSpec *spec, GError **error);

/* The sandbox's end of that socket pair (PID 1 keeps it). */
int sbx_net_sandbox_fd (const SbxNet *net);

/* After the clone: closes what only the sandbox needs. */
void sbx_net_after_clone (SbxNet *net);

/* Starts helpers/sbx-net on the tap fd.  It writes a byte to its ready pipe
 * once libslirp runs and it has isolated itself. */
gboolean sbx_net_start (SbxNet *net, const SbxSpec *spec, int tap_fd, GError **error);

/* Readable once sbx-net is ready (a byte) or has died (EOF); -1 before it
 * started. */
int sbx_net_ready_fd (const SbxNet *net);

/* sbx-net's pidfd, readable once it exited; -1 before it runs and once
 * reaped. */
int sbx_net_pidfd (const SbxNet *net);

/* Reaps sbx-net once it exited; returns how it died ("killed by SIGSEGV",
 * "exit status 1") or NULL when it ended as it does at the sandbox's end
 * (exit status 0). */
char *sbx_net_reap (SbxNet *net);

/* Reads the ready pipe: TRUE when sbx-net is up. */
gboolean sbx_net_check_ready (SbxNet *net);

/* --net-log: the pipe sbx-net writes its records to (readable when some
 * came), -1 without --net-log. */
int sbx_net_events_fd (const SbxNet *net);

/* Writes the records that came to the --net-log file, a JSON line each. */
void sbx_net_log_events (SbxNet *net);

/* Ends sbx-net and waits for it (and writes its last records). */
void sbx_net_free (SbxNet *net);
