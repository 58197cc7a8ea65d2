/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns.h: the DNS messages sbx-net answers and forwards for the egress
 * policy: the sandbox's queries (read by hand, a bounded label walk: only
 * the question matters), the answers of the host's resolvers (read with
 * c-ares: addresses, TTLs and the CNAME chain), and the few answers
 * sbx-net makes itself (NXDOMAIN, SERVFAIL, a truncated one). */
#pragma once

#include "netpolicy.h"

#include <glib.h>

#define SBX_DNS_HEADER    12
#define SBX_DNS_TYPE_A    1
#define SBX_DNS_TYPE_AAAA 28
#define SBX_DNS_NOERROR   0
#define SBX_DNS_FORMERR   1
#define SBX_DNS_SERVFAIL  2
#define SBX_DNS_NXDOMAIN  3
#define SBX_DNS_REFUSED   5
/* Addresses taken from one answer, per family; more are counted. */
#define SBX_DNS_MAX_ADDRS 64

typedef struct
{
  guint16 id;
  guint16 qtype;
  guint16 qclass;
  /* Lower case, labels joined by '.', no final dot ("" for the root). */
  char name[256];
  /* Every label only letters, digits, '-' and '_': the only names a rule
   * can allow (a label holding a '.' would make "a.b" of "a\.b"). */
  gboolean plain;
  size_t question_len; /* the question's bytes after the header */
} SbxDnsQuestion;

/* Reads a query: a header with QR clear and opcode QUERY, exactly one
 * question of a name without compression, nothing else read.  FALSE when
 * it is not one (*q->id is still set when the header was there). */
gboolean sbx_dns_parse_query (const guint8 *msg, size_t len, SbxDnsQuestion *q);

/* Whether @msg answers @query (which was sent with @id): QR set, that id,
 * one question, the same as @query's (names compared without case). */
gboolean sbx_dns_is_answer_to (const guint8 *msg, size_t len, const guint8 *query,
                               const SbxDnsQuestion *q, guint16 id);

/* An answer to @query (its header and question, @q) with @rcode and no
 * records, into @out (at least SBX_DNS_HEADER + 260 bytes); returns its
 * length.  With @truncated, TC is set: the sandbox asks again over TCP. */
size_t sbx_dns_build_reply (const guint8 *query, const SbxDnsQuestion *q, guint rcode,
                            gboolean truncated, guint8 *out);

typedef struct
{
  guint rcode;
  guint n_addrs; /* in addrs and ttls */
  SbxNetAddr addrs[2 * SBX_DNS_MAX_ADDRS];
  guint32 ttls[2 * SBX_DNS_MAX_ADDRS];
  char **chain; /* the names of the CNAME chain, lower case, the asked one first */
} SbxDnsAnswer;

/* Reads an answer with c-ares: the A and AAAA addresses of the asked name,
 * following CNAMEs, each with its TTL (the smallest along the chain).
 * FALSE when it cannot be read; an answer without addresses is read. */
gboolean sbx_dns_parse_answer (const guint8 *msg, size_t len, SbxDnsAnswer *a);
void sbx_dns_answer_clear (SbxDnsAnswer *a);

/* "A", "AAAA", "MX"... or the number. */
const char *sbx_dns_type_name (guint qtype, char buf[8]);
