/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netpolicy.h: the egress policy's rules (--allow-net, --deny-net) and the
 * record sbx-net sends the monitor for --net-log.
 *
 * One pure parser, shared by sbx (which refuses a bad rule before anything
 * exists) and helpers/sbx-net (which gets the rules as typed, parses them
 * again and enforces them), so both read a rule the same way.
 *
 *   RULE    = TARGET [":" PORTS] ["/tcp" | "/udp"]
 *   TARGET  = ADDRESS ["/" PREFIX]      an IPv4 or IPv6 network
 *           | "[" ADDRESS ["/" PREFIX] "]"   (IPv6 with PORTS goes in brackets)
 *           | NAME | "*." NAME          a DNS name, or the names under it
 *           | "private" | "host"        presets
 *   PORTS   = PORT | PORT "-" PORT      1..65535
 */
#pragma once

#include <glib.h>

typedef enum
{
  SBX_NETRULE_NETWORK,    /* an address block (CIDR) */
  SBX_NETRULE_NAME,       /* exactly this DNS name */
  SBX_NETRULE_SUBDOMAINS, /* "*.NAME": every name below NAME, not NAME itself */
} SbxNetRuleKind;

/* One rule; a preset is several, each with the preset's text. */
typedef struct
{
  SbxNetRuleKind kind;
  int family;        /* NETWORK: AF_INET or AF_INET6 */
  guint8 addr[16];   /* NETWORK: the first address, host bits cleared */
  guint prefix;      /* NETWORK: the prefix length in bits */
  char *name;        /* NAME, SUBDOMAINS: lower case, without a final dot */
  guint16 port_lo;   /* 0..65535 when no port is given: any port */
  guint16 port_hi;   /* */
  gboolean any_port; /* no PORTS given: ICMP matches too */
  guint8 proto;      /* 0: any; IPPROTO_TCP or IPPROTO_UDP */
  gboolean host;     /* from the preset "host": needs --allow-host-loopback */
  guint index;       /* which --allow-net or --deny-net of its list (0, 1, ...) */
  char *text;        /* the rule as typed */
} SbxNetRule;

void sbx_netrule_free (SbxNetRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxNetRule, sbx_netrule_free)

/* Parses @text, a rule of @option ("--allow-net", "--deny-net"), into one
 * rule or, for a preset, several, appended to @out (SbxNetRule*, which
 * should free them) with @index.  FALSE with a message naming the option
 * and the rule. */
gboolean sbx_netrule_parse (const char *option, const char *text, guint index, GPtrArray *out,
                            GError **error);

/* Whether @rule's network holds @addr (of @family; an IPv4 address is 4
 * bytes).  FALSE for a name rule. */
gboolean sbx_netrule_match_addr (const SbxNetRule *rule, int family, const guint8 *addr);

/* Whether @rule admits @proto (IPPROTO_*) to @port (ignored for ICMP,
 * which only a rule without ports and protocol admits). */
gboolean sbx_netrule_match_port (const SbxNetRule *rule, guint proto, guint port);

/* Whether @rule names @name (lower case, no final dot). */
gboolean sbx_netrule_match_name (const SbxNetRule *rule, const char *name);

/* ---- --net-log: what sbx-net tells the monitor ---------------------------- */

/* Addresses of one DNS answer carried in one record; more are counted. */
#define SBX_NET_EVENT_ANSWERS 16

typedef enum
{
  SBX_NET_EVENT_CONNECT = 1, /* a new flow: a TCP SYN, a UDP or ICMP flow's first packet */
  SBX_NET_EVENT_DNS,         /* a query to 10.0.2.3 (fd00::3) answered */
} SbxNetEventKind;

typedef enum
{
  SBX_NET_LIST_NONE,  /* decided by default: nothing matched */
  SBX_NET_LIST_ALLOW, /* rule is an --allow-net */
  SBX_NET_LIST_DENY,  /* rule is a --deny-net */
} SbxNetList;

typedef struct
{
  guint8 family; /* AF_INET or AF_INET6 */
  guint8 addr[16];
} SbxNetAddr;

/* One event, written whole to a packet-mode pipe (O_DIRECT) whose other
 * end the monitor reads; well under PIPE_BUF, so never split. */
typedef struct
{
  gint64 time_us; /* CLOCK_REALTIME */
  guint8 kind;    /* SbxNetEventKind */
  guint8 proto;   /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6; DNS: its transport */
  guint8 allowed;
  guint8 list;          /* SbxNetList of the deciding rule */
  guint16 rule;         /* its index in that list */
  guint16 port;         /* CONNECT: the destination port (0 for ICMP) */
  SbxNetAddr dst;       /* CONNECT: the destination */
  guint16 qtype;        /* DNS: the query's type */
  guint8 rcode;         /* DNS: the answer's */
  guint8 n_answers;     /* DNS: addresses in answers[] */
  guint16 more_answers; /* DNS: addresses that did not fit */
  guint32 ttl;          /* DNS: the smallest TTL of the addresses, seconds */
  SbxNetAddr answers[SBX_NET_EVENT_ANSWERS];
  char name[256]; /* DNS: the name asked for; CONNECT: a name that resolved to dst, or "" */
} SbxNetEvent;
