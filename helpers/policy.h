/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h: the egress policy's decisions, in sbx-net: which destination a
 * new flow may reach, which name the sandbox may resolve, and the
 * addresses those names resolved to (pinned for the answer's TTL).
 *
 * Pure: no I/O, no clock of its own (every call gets the time), and no
 * allocation once made, so that a decision costs a few compares and hash
 * lookups whatever the sandbox sends.
 *
 * Order: a --deny-net that matches wins; else, when there is any
 * --allow-net, one must match (an address rule, or a name rule whose name
 * resolved to the address within its TTL); else the flow is allowed. */
#pragma once

#include "netpolicy.h"

#include <glib.h>

/* The shortest time an address stays pinned after an answer, whatever its
 * TTL: a program connects a moment after it resolved, and a TTL of 0 must
 * not make that connection fail. */
#define SBX_POLICY_TTL_FLOOR_S 10

/* How many pinned addresses and flows are remembered; the oldest go first
 * when full. */
#define SBX_POLICY_PINS  2048
#define SBX_POLICY_FLOWS 2048

/* How long a UDP or ICMP flow is remembered after its last packet: while
 * it is, it keeps the verdict of its first packet (an allowed QUIC
 * connection outlives its name's TTL).  A TCP connection lives in
 * libslirp; its entry only keeps a retransmitted SYN from counting as a
 * new connection. */
#define SBX_POLICY_UDP_IDLE_MS (120 * 1000)
#define SBX_POLICY_TCP_IDLE_MS (10 * 1000)

typedef struct SbxPolicy SbxPolicy;

typedef struct
{
  gboolean allowed;
  const SbxNetRule *rule; /* the rule that decided; NULL: nothing matched */
} SbxVerdict;

/* Takes @allow and @deny (SbxNetRule*, from sbx_netrule_parse()); @seed
 * keys the hashes (random, so that no sandbox can aim its flows at one
 * bucket). */
SbxPolicy *sbx_policy_new (GPtrArray *allow, GPtrArray *deny, guint32 seed);
void sbx_policy_free (SbxPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxPolicy, sbx_policy_free)

/* Whether there is any rule (none: only --net-log, every flow allowed). */
gboolean sbx_policy_has_rules (const SbxPolicy *policy);

/* Whether the sandbox may resolve @name (lower case, no final dot);
 * @plain: every label of it could be a rule's.  A name that no rule
 * allows is denied once there is any --allow-net. */
SbxVerdict sbx_policy_decide_name (const SbxPolicy *policy, const char *name, gboolean plain);

/* The first of @chain (a CNAME chain, NULL-terminated) that a --deny-net
 * names, or NULL. */
const SbxNetRule *sbx_policy_denied_chain (const SbxPolicy *policy, char **chain);

/* Records that @name (allowed) resolved to @addr with @ttl_s: the address
 * is pinned for each --allow-net naming @name, and remembered as @name's
 * for messages and the log. */
void sbx_policy_learn (SbxPolicy *policy, const char *name, const SbxNetAddr *addr, guint32 ttl_s,
                       gint64 now_ms);

/* The decision for a new flow to @dst (@proto, @port; 0 for ICMP), from
 * the rules and the pinned addresses. */
SbxVerdict sbx_policy_decide (SbxPolicy *policy, const SbxNetAddr *dst, guint proto, guint port,
                              gint64 now_ms);

/* A flow: what the decision for a packet is kept under. */
typedef struct
{
  SbxNetAddr src;
  SbxNetAddr dst;
  guint16 sport;
  guint16 dport; /* ICMP: 0 */
  guint8 proto;
} SbxFlowKey;

/* The decision for a packet of the flow @key: a flow seen allowed within
 * its idle time stays allowed; otherwise sbx_policy_decide(), and the flow
 * is remembered.  *@is_new: this packet starts the flow, or turns its
 * verdict (to log and report, once). */
SbxVerdict sbx_policy_decide_flow (SbxPolicy *policy, const SbxFlowKey *key, gint64 now_ms,
                                   gboolean *is_new);

/* The last allowed name that resolved to @addr, or NULL. */
const char *sbx_policy_name_of (const SbxPolicy *policy, const SbxNetAddr *addr);

/* The rules, for messages: the allow list first. */
const GPtrArray *sbx_policy_allow_rules (const SbxPolicy *policy);
