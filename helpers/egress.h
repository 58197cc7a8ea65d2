/* SPDX-License-Identifier: GPL-2.0-or-later */
/* egress.h: the egress policy in sbx-net's loop, between frame.c and
 * libslirp.
 *
 * Every frame that passed frame.c (a reassembled datagram too) comes here
 * before libslirp sees it.  A new flow is decided: a TCP SYN, a UDP
 * datagram or an ICMP echo to a destination (policy.c).  Allowed, it goes
 * on to libslirp; denied, sbx-net answers on tap0 itself (a TCP reset, an
 * ICMP or ICMPv6 "administratively prohibited") and drops it.  A TCP
 * segment that is not a SYN goes on undecided: libslirp opens a
 * connection only for a SYN, and answers anything else with a reset.
 *
 * DNS to 10.0.2.3:53 (fd00::3), over UDP and TCP (tcpdns.c), is answered
 * here: an allowed name is asked of the host's resolvers (those of
 * /etc/resolv.conf), the addresses of the answer pinned for its TTL; any
 * other gets NXDOMAIN.  DNS to another server is traffic like any.
 *
 * What is denied is said on stderr, once per destination and at most
 * SBX_EGRESS_LINES_PER_S lines a second; with --net-log every new flow and
 * every answer goes to the monitor as an SbxNetEvent. */
#pragma once

#include "netpolicy.h"

#include <glib.h>
#include <poll.h>

#define SBX_EGRESS_LINES_PER_S 10
/* DNS queries asked of the host's resolvers at once; more get SERVFAIL. */
#define SBX_EGRESS_QUERIES 32
/* How long one resolver has to answer before the next is asked. */
#define SBX_EGRESS_UDP_TRY_MS 2000
#define SBX_EGRESS_TCP_TRY_MS 5000

typedef void (*SbxEgressSendFn) (const guint8 *frame, size_t len, gpointer user);

typedef struct
{
  GPtrArray *allow; /* SbxNetRule*, taken */
  GPtrArray *deny;  /* taken */
  guint mtu;
  gboolean ipv6;
  int events_fd;           /* --net-log: the pipe to the monitor; -1: none */
  int report_fd;           /* where denials are said: stderr */
  const char *resolv_conf; /* the host's resolvers: "/etc/resolv.conf" */
  guint16 upstream_port;   /* 53; another for tests */
  SbxEgressSendFn send;    /* writes a frame to tap0 */
  gpointer user;
} SbxEgressConfig;

typedef struct SbxEgress SbxEgress;

SbxEgress *sbx_egress_new (const SbxEgressConfig *config);
void sbx_egress_free (SbxEgress *egress);

typedef enum
{
  SBX_EGRESS_PASS,  /* hand the frame to libslirp */
  SBX_EGRESS_TAKEN, /* answered or dropped here */
} SbxEgressAction;

/* One frame from tap0 that frame.c passed. */
SbxEgressAction sbx_egress_input (SbxEgress *egress, const guint8 *frame, size_t len,
                                  gint64 now_ms);

/* Adds the sockets to the host's resolvers to @pfds (struct pollfd). */
void sbx_egress_fill (SbxEgress *egress, GArray *pfds);

/* Serves what poll() reported for them, and the timers that are due. */
void sbx_egress_dispatch (SbxEgress *egress, const struct pollfd *pfds, gint64 now_ms);

/* Milliseconds until a timer is due; -1: none. */
int sbx_egress_timeout (const SbxEgress *egress, gint64 now_ms);

/* For the unit tests and tests/fuzz: @msg as the answer of a resolver to
 * the query that waits the longest, with that query's id, taken as an
 * answer read from its socket is. */
void sbx_egress_inject_answer (SbxEgress *egress, const guint8 *msg, size_t len, gint64 now_ms);
