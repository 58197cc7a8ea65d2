/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sbx-net.h: what the parts of helpers/sbx-net share: its fixed fds, the
 * published ports (ports.c) and its isolation (isolate.c). */
#pragma once

#include <glib.h>
#include <poll.h>

/* The fds the monitor hands over (src/net.c, sbx_net_start). */
#define SBX_NET_TAP_FD     3 /* the sandbox's tap0 (IFF_TAP|IFF_NO_PI) */
#define SBX_NET_FACTORY_FD 4 /* SOCK_SEQPACKET to PID 1: sockets of the sandbox's netns */
#define SBX_NET_READY_FD   5 /* a byte once libslirp runs and the isolation is done */
#define SBX_NET_ALIVE_FD   6 /* EOF when the monitor is gone */
#define SBX_NET_EVENTS_FD  7 /* --net-log: SbxNetEvent records to the monitor (with --log) */
#define SBX_NET_PORTS_FD   8 /* the host sockets of -p, from here on */

/* Prints "sbx-net: ..." and exits 1. */
G_NORETURN void sbx_net_fatal (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

/* CLOCK_MONOTONIC in milliseconds. */
gint64 sbx_net_now_ms (void);

/* ---- ports.c: published ports ------------------------------------------------ */

/* One -p: a host socket (TCP listening, UDP bound) and the port inside. */
typedef struct
{
  int fd;
  guint16 port;
} SbxForward;

typedef struct SbxPorts SbxPorts;

/* Takes @tcp and @udp (arrays of SbxForward). */
SbxPorts *sbx_ports_new (GArray *tcp, GArray *udp);

/* Adds what the ports wait for to @pfds (struct pollfd), and remembers
 * where: sbx_ports_dispatch() reads the answers from there. */
void sbx_ports_fill (SbxPorts *ports, GArray *pfds);

/* Takes the answer to a socket request from PID 1 (SBX_NET_FACTORY_FD is
 * readable); FALSE when PID 1 is gone. */
gboolean sbx_ports_receive_socket (SbxPorts *ports);

/* Serves what poll() reported in @pfds: accepts, relays, expiries.  Ends
 * no connection in between: a connection that is over is marked, and
 * sbx_ports_sweep() frees it. */
void sbx_ports_dispatch (SbxPorts *ports, const struct pollfd *pfds, gint64 now_ms);

/* Frees the connections and flows that are over, at the end of a round. */
void sbx_ports_sweep (SbxPorts *ports);

/* ---- isolate.c ------------------------------------------------------------------ */

/* After setup: a user and mount namespace of its own with an empty root,
 * no capabilities, not dumpable, no_new_privs, a seccomp allow-list.
 * Exits when that fails, or when the monitor is gone meanwhile. */
void sbx_isolate_self (void);
