/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpdns.h: DNS over TCP to 10.0.2.3:53 (fd00::3), answered by sbx-net.
 *
 * Under a policy sbx-net answers the sandbox's DNS itself, and a resolver
 * asks over TCP when an answer over UDP came truncated (or always, with
 * `options use-vc`).  libslirp would carry such a connection to the host's
 * resolver, out of sbx-net's sight; so sbx-net ends it itself, with the
 * least of TCP a request and its answer need: the handshake, in-order
 * data (a segment out of order is dropped and acknowledged again, the
 * sender repeats it), the peer's window, retransmission of what is not
 * acknowledged (the time doubling, then a reset), and both FINs.  No
 * window scaling, no SACK, no urgent data: the sandbox's kernel does
 * without them when the SYN-ACK offers none.
 *
 * Each DNS message read from a connection goes to @on_query; its answer
 * comes back through sbx_tcpdns_answer(), now or later. */
#pragma once

#include "packet.h"

#include <glib.h>

/* Connections at once; a SYN beyond them is refused. */
#define SBX_TCPDNS_CONNS 16
/* Queries of one connection being answered at once; the next ones wait in
 * the connection until one is. */
#define SBX_TCPDNS_QUERIES 4
/* A connection with nothing to do for this long is reset. */
#define SBX_TCPDNS_IDLE_MS (30 * 1000)

typedef struct SbxTcpDns SbxTcpDns;

/* A DNS message (without its length prefix) read from connection @conn. */
typedef void (*SbxTcpDnsQueryFn) (gpointer user, guint32 conn, const SbxPeer *peer,
                                  const guint8 *msg, size_t len, gint64 now_ms);
/* Writes a frame to the sandbox. */
typedef void (*SbxTcpDnsSendFn) (const guint8 *frame, size_t len, gpointer user);

SbxTcpDns *sbx_tcpdns_new (guint mtu, SbxTcpDnsQueryFn on_query, SbxTcpDnsSendFn send,
                           gpointer user);
void sbx_tcpdns_free (SbxTcpDns *t);

/* A TCP segment from the sandbox to the DNS server's port. */
void sbx_tcpdns_input (SbxTcpDns *t, const SbxPacket *p, gint64 now_ms);

/* The answer to a query of @conn, or NULL: no answer will come (the query
 * was not one), and the connection is reset.  FALSE when @conn is gone. */
gboolean sbx_tcpdns_answer (SbxTcpDns *t, guint32 conn, const guint8 *msg, size_t len,
                            gint64 now_ms);

/* Milliseconds until sbx_tcpdns_run_timers() has something to do; -1:
 * nothing. */
int sbx_tcpdns_timeout (const SbxTcpDns *t, gint64 now_ms);

/* Retransmissions and idle connections. */
void sbx_tcpdns_run_timers (SbxTcpDns *t, gint64 now_ms);

/* Open connections (for tests). */
guint sbx_tcpdns_count (const SbxTcpDns *t);
