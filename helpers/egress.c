/* SPDX-License-Identifier: GPL-2.0-or-later */
/* egress.c: the egress policy in sbx-net's loop (see egress.h). */
#include "config.h"

#include "bytes.h"
#include "egress.h"
#include "dns.h"
#include "packet.h"
#include "policy.h"
#include "tcpdns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_IPV4      0x0800
#define ETH_P_IPV6      0x86dd
#define DNS_PORT        53
#define MAX_RESOLVERS   3 /* glibc's MAXNS */
#define RESOLV_CHECK_MS 5000
#define REPORTED        1024 /* destinations and names said once; a lossy set */
#define ICMP_ECHO       8
#define ICMPV6_ECHO     128

typedef struct
{
  gboolean used;
  gboolean tcp; /* asked over TCP, and so asked upstream over TCP */
  guint32 conn; /* TCP: the sandbox's connection (tcpdns.c) */
  SbxPeer peer; /* UDP: where the answer goes */
  SbxDnsQuestion q;
  const SbxNetRule *rule; /* the --allow-net of the name, or NULL */
  guint8 *query;          /* as asked upstream: with upstream_id */
  size_t query_len;
  guint16 sandbox_id;
  guint16 upstream_id;
  guint resolver; /* the one asked */
  int fd;         /* to it; -1: none */
  int poll_index; /* fd's entry in this round's poll set; -1: none */
  gint64 deadline_ms;
  size_t sent;    /* TCP: bytes of the length and the query written */
  guint8 *answer; /* TCP: the length and the answer read so far */
  size_t answer_len;
} Query;

struct SbxEgress
{
  SbxEgressConfig config;
  SbxPolicy *policy;
  SbxTcpDns *tcpdns;
  Query queries[SBX_EGRESS_QUERIES];
  SbxNetAddr resolvers[MAX_RESOLVERS];
  guint n_resolvers;
  gint64 resolvers_read_ms;
  guint64 reported[REPORTED];
  gint64 tokens_ms; /* the rate limit of lines: when the bucket was last filled */
  guint tokens;
  guint suppressed;
  guint lost_events;
  guint8 frame[SBX_PACKET_BUILD_MAX];
  guint8 msg[2 + 65535]; /* a DNS message: an answer read, one being made */
};

static guint32
random32 (void)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  return 0x5b5b; /* the fuzzer must be able to follow */
#endif
  guint32 v = 0;
  if (getrandom (&v, sizeof v, 0) != sizeof v)
    {
      struct timespec ts;
      clock_gettime (CLOCK_MONOTONIC, &ts);
      v = (guint32)ts.tv_nsec * 2654435761u;
    }
  return v;
}

static void dns_query (gpointer user, guint32 conn, const SbxPeer *peer, const guint8 *msg,
                       size_t len, gint64 now_ms);

/* tcpdns.c's frames go out as ours. */
static void
send_frame (const guint8 *frame, size_t len, gpointer user)
{
  SbxEgress *e = user;
  e->config.send (frame, len, e->config.user);
}

SbxEgress *
sbx_egress_new (const SbxEgressConfig *config)
{
  SbxEgress *e = g_new0 (SbxEgress, 1);
  e->config = *config;
  e->config.allow = e->config.deny = NULL;
  e->policy = sbx_policy_new (config->allow, config->deny, random32 ());
  e->tcpdns = sbx_tcpdns_new (config->mtu, dns_query, send_frame, e);
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    e->queries[i].fd = -1;
  e->tokens = SBX_EGRESS_LINES_PER_S;
  return e;
}

static void
query_free (Query *qu)
{
  if (qu->fd >= 0)
    close (qu->fd);
  g_free (qu->query);
  g_free (qu->answer);
  memset (qu, 0, sizeof *qu);
  qu->fd = -1;
  qu->poll_index = -1;
}

void
sbx_egress_free (SbxEgress *e)
{
  if (e == NULL)
    return;
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    query_free (&e->queries[i]);
  sbx_tcpdns_free (e->tcpdns);
  sbx_policy_free (e->policy);
  g_free (e);
}

/* ---- what is said: stderr and --net-log ----------------------------------------- */

/* Whether @key is said for the first time (a lossy set: a destination
 * pushed out by many others may be said again). */
static gboolean
first_time (SbxEgress *e, guint64 key)
{
  key |= 1; /* 0 is an empty slot */
  guint64 *slot = &e->reported[key % REPORTED];
  if (*slot == key)
    return FALSE;
  *slot = key;
  return TRUE;
}

static guint64
hash_text (guint64 h, const void *p, size_t len)
{
  const guint8 *b = p;
  for (size_t i = 0; i < len; i++)
    h = (h ^ b[i]) * 1099511628211u;
  return h;
}

/* One line on stderr, at most SBX_EGRESS_LINES_PER_S a second (a sandbox
 * trying a thousand addresses must not flood the caller's terminal). */
static void G_GNUC_PRINTF (3, 4) say (SbxEgress *e, gint64 now_ms, const char *fmt, ...)
{
  if (e->config.report_fd < 0)
    return;
  gint64 elapsed = now_ms - e->tokens_ms;
  if (elapsed >= 1000 / SBX_EGRESS_LINES_PER_S)
    {
      e->tokens = (guint)MIN ((gint64)SBX_EGRESS_LINES_PER_S,
                              e->tokens + elapsed * SBX_EGRESS_LINES_PER_S / 1000);
      e->tokens_ms = now_ms;
    }
  if (e->tokens == 0)
    {
      e->suppressed++;
      return;
    }
  e->tokens--;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *text
      = e->suppressed > 0 ? g_strdup_printf (
            "sbx: net: (%u more denied, not shown)\nsbx: net: %s\n", e->suppressed, line)
                          : g_strdup_printf ("sbx: net: %s\n", line);
  e->suppressed = 0;
  /* Unbuffered, and a short write lost: stderr is the caller's. */
  if (write (e->config.report_fd, text, strlen (text)) < 0)
    return;
}

/* "not in --allow-net", or the rule that denied. */
static char *
denial_reason (const SbxNetRule *rule)
{
  return rule != NULL ? g_strdup_printf ("--deny-net %s", rule->text)
                      : g_strdup ("not in --allow-net");
}

static const char *
proto_name (guint proto)
{
  switch (proto)
    {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    default:
      return "ip";
    }
}

static void
emit (SbxEgress *e, SbxNetEvent *ev, gint64 now_ms)
{
  if (e->config.events_fd < 0)
    return;
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  ev->time_us = (gint64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
  /* The pipe is the monitor's and never blocks sbx-net: a record that
   * does not fit is lost, and said once. */
  if (write (e->config.events_fd, ev, sizeof *ev) != (ssize_t)sizeof *ev && e->lost_events++ == 0)
    say (e, now_ms, "--net-log: records lost (the log does not keep up)");
}

static void
set_rule (SbxNetEvent *ev, gboolean allowed, const SbxNetRule *rule)
{
  ev->allowed = allowed;
  ev->list = rule == NULL ? SBX_NET_LIST_NONE : allowed ? SBX_NET_LIST_ALLOW : SBX_NET_LIST_DENY;
  ev->rule = rule != NULL ? (guint16)rule->index : 0;
}

/* A new flow: to the log, and when denied to stderr (once per
 * destination). */
static void
note_flow (SbxEgress *e, const SbxNetAddr *dst, guint proto, guint port, SbxVerdict v,
           gint64 now_ms)
{
  const char *name = sbx_policy_name_of (e->policy, dst);
  if (e->config.events_fd >= 0)
    {
      SbxNetEvent ev = { .kind = SBX_NET_EVENT_CONNECT, .proto = (guint8)proto };
      set_rule (&ev, v.allowed, v.rule);
      ev.port = (guint16)port;
      ev.dst = *dst;
      if (name != NULL)
        g_strlcpy (ev.name, name, sizeof ev.name);
      emit (e, &ev, now_ms);
    }
  if (v.allowed)
    return;
  guint8 key[20] = { (guint8)proto, (guint8)(port >> 8), (guint8)port, dst->family };
  memcpy (key + 4, dst->addr, 16);
  if (!first_time (e, hash_text (14695981039346656037u, key, sizeof key)))
    return;
  char text[INET6_ADDRSTRLEN];
  inet_ntop (dst->family, dst->addr, text, sizeof text);
  g_autofree char *where = proto != IPPROTO_TCP && proto != IPPROTO_UDP ? g_strdup (text)
                           : dst->family == AF_INET6 ? g_strdup_printf ("[%s]:%u", text, port)
                                                     : g_strdup_printf ("%s:%u", text, port);
  g_autofree char *why = denial_reason (v.rule);
  g_autofree char *named = name != NULL ? g_strdup_printf (" (%s)", name) : g_strdup ("");
  say (e, now_ms, "denied %s %s%s — %s", proto_name (proto), where, named, why);
}

/* A DNS answer: to the log, and when denied to stderr (once per name). */
static void
note_name (SbxEgress *e, gboolean tcp, const SbxDnsQuestion *q, gboolean allowed,
           const SbxNetRule *rule, guint rcode, const SbxDnsAnswer *a, gint64 now_ms)
{
  if (e->config.events_fd >= 0)
    {
      SbxNetEvent ev = { .kind = SBX_NET_EVENT_DNS, .proto = tcp ? IPPROTO_TCP : IPPROTO_UDP };
      set_rule (&ev, allowed, rule);
      ev.qtype = q->qtype;
      ev.rcode = (guint8)rcode;
      g_strlcpy (ev.name, q->name, sizeof ev.name);
      for (guint i = 0; a != NULL && i < a->n_addrs; i++)
        {
          if (ev.n_answers == SBX_NET_EVENT_ANSWERS)
            {
              ev.more_answers++;
              continue;
            }
          ev.ttl = ev.n_answers == 0 ? a->ttls[i] : MIN (ev.ttl, a->ttls[i]);
          ev.answers[ev.n_answers++] = a->addrs[i];
        }
      emit (e, &ev, now_ms);
    }
  if (allowed || !first_time (e, hash_text (1469598103934665603u, q->name, strlen (q->name))))
    return;
  g_autofree char *why = denial_reason (rule);
  say (e, now_ms, "dns: denied name %s — %s", q->name[0] != '\0' ? q->name : ".", why);
}

/* ---- DNS: answers to the sandbox --------------------------------------------------- */

/* Hands @msg (an answer to a query over @tcp / @conn, or UDP from @peer) to
 * the sandbox.  Over UDP an answer the MTU cannot carry in one datagram is
 * cut to its question with TC set: the sandbox asks again over TCP. */
static void
deliver (SbxEgress *e, gboolean tcp, guint32 conn, const SbxPeer *peer, const SbxDnsQuestion *q,
         guint8 *msg, size_t len, gint64 now_ms)
{
  if (tcp)
    {
      sbx_tcpdns_answer (e->tcpdns, conn, msg, len, now_ms);
      return;
    }
  size_t room = e->config.mtu - (peer->family == AF_INET ? 20 : 40) - 8;
  if (len > room)
    len = sbx_dns_build_reply (msg, q, msg[3] & 0xf, TRUE, msg);
  size_t n = sbx_packet_build_udp (peer, msg, len, e->frame);
  if (n > 0)
    e->config.send (e->frame, n, e->config.user);
}

/* An answer of our own (@rcode, no records) to @query. */
static void
reply (SbxEgress *e, gboolean tcp, guint32 conn, const SbxPeer *peer, const guint8 *query,
       const SbxDnsQuestion *q, guint rcode, gint64 now_ms)
{
  guint8 buf[SBX_DNS_HEADER + 260];
  size_t n = sbx_dns_build_reply (query, q, rcode, FALSE, buf);
  deliver (e, tcp, conn, peer, q, buf, n, now_ms);
}

/* ---- DNS: the host's resolvers -------------------------------------------------------- */

/* The nameservers of /etc/resolv.conf (read again every few seconds, as
 * libslirp does), or 127.0.0.1 as glibc when there is none. */
static void
read_resolvers (SbxEgress *e, gint64 now_ms)
{
  if (e->resolvers_read_ms != 0 && now_ms - e->resolvers_read_ms < RESOLV_CHECK_MS)
    return;
  e->resolvers_read_ms = now_ms;
  char text[8192];
  ssize_t len = -1;
  int fd = open (e->config.resolv_conf, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0)
    {
      len = read (fd, text, sizeof text - 1);
      close (fd);
    }
  e->n_resolvers = 0;
  text[len > 0 ? len : 0] = '\0';
  for (char *line = text, *next; line != NULL && e->n_resolvers < MAX_RESOLVERS; line = next)
    {
      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      line += strspn (line, " \t");
      if (strncmp (line, "nameserver", 10) != 0 || (line[10] != ' ' && line[10] != '\t'))
        continue;
      char *addr = line + 10 + strspn (line + 10, " \t");
      addr[strcspn (addr, " \t\r#;")] = '\0';
      SbxNetAddr *r = &e->resolvers[e->n_resolvers];
      memset (r, 0, sizeof *r);
      if (inet_pton (AF_INET, addr, r->addr) == 1)
        r->family = AF_INET;
      else if (inet_pton (AF_INET6, addr, r->addr) == 1)
        r->family = AF_INET6;
      else
        continue; /* a scoped address (fe80::1%eth0) among them */
      e->n_resolvers++;
    }
  if (e->n_resolvers == 0)
    {
      memset (&e->resolvers[0], 0, sizeof e->resolvers[0]);
      e->resolvers[0].family = AF_INET;
      inet_pton (AF_INET, "127.0.0.1", e->resolvers[0].addr);
      e->n_resolvers = 1;
    }
}

/* Asks resolver qu->resolver, or the next ones when a socket to it cannot
 * even be made; FALSE when none is left. */
static gboolean
query_send (SbxEgress *e, Query *qu, gint64 now_ms)
{
  for (; qu->resolver < e->n_resolvers; qu->resolver++)
    {
      const SbxNetAddr *r = &e->resolvers[qu->resolver];
      struct sockaddr_storage ss = { 0 };
      socklen_t sslen;
      if (r->family == AF_INET)
        {
          struct sockaddr_in *a = (struct sockaddr_in *)&ss;
          a->sin_family = AF_INET;
          a->sin_port = htons (e->config.upstream_port);
          memcpy (&a->sin_addr, r->addr, 4);
          sslen = sizeof *a;
        }
      else
        {
          struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
          a->sin6_family = AF_INET6;
          a->sin6_port = htons (e->config.upstream_port);
          memcpy (&a->sin6_addr, r->addr, 16);
          sslen = sizeof *a;
        }
      if (qu->fd >= 0)
        close (qu->fd);
      qu->sent = qu->answer_len = 0;
      /* A socket of its own per query: the kernel keeps answers from
       * anywhere but the resolver out (connect), and the source port is
       * random. */
      qu->fd = socket (r->family,
                       (qu->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (qu->fd < 0)
        continue;
      if (connect (qu->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS)
        continue;
      if (!qu->tcp && send (qu->fd, qu->query, qu->query_len, 0) != (ssize_t)qu->query_len)
        continue;
      qu->deadline_ms = now_ms + (qu->tcp ? SBX_EGRESS_TCP_TRY_MS : SBX_EGRESS_UDP_TRY_MS);
      return TRUE;
    }
  return FALSE;
}

/* No resolver answered: SERVFAIL. */
static void
query_fail (SbxEgress *e, Query *qu, gint64 now_ms)
{
  sbx_put16 (qu->query, qu->sandbox_id);
  reply (e, qu->tcp, qu->conn, &qu->peer, qu->query, &qu->q, SBX_DNS_SERVFAIL, now_ms);
  note_name (e, qu->tcp, &qu->q, TRUE, qu->rule, SBX_DNS_SERVFAIL, NULL, now_ms);
  query_free (qu);
}

/* The next resolver, after a refusal or a timeout. */
static void
query_next (SbxEgress *e, Query *qu, gint64 now_ms)
{
  qu->resolver++;
  if (!query_send (e, qu, now_ms))
    query_fail (e, qu, now_ms);
}

/* @msg (in e->msg) answers @qu: the addresses of its name are pinned, and
 * the answer goes to the sandbox, unless a --deny-net names a name of its
 * CNAME chain. */
static void
query_answered (SbxEgress *e, Query *qu, guint8 *msg, size_t len, gint64 now_ms)
{
  SbxDnsAnswer a;
  gboolean readable = sbx_dns_parse_answer (msg, len, &a);
  const SbxNetRule *deny = readable ? sbx_policy_denied_chain (e->policy, a.chain) : NULL;
  sbx_put16 (qu->query, qu->sandbox_id);
  if (!readable)
    {
      /* Records c-ares cannot read, the sandbox's resolver might: it gets
       * none of them. */
      reply (e, qu->tcp, qu->conn, &qu->peer, qu->query, &qu->q, SBX_DNS_SERVFAIL, now_ms);
      note_name (e, qu->tcp, &qu->q, TRUE, qu->rule, SBX_DNS_SERVFAIL, NULL, now_ms);
    }
  else if (deny != NULL)
    {
      reply (e, qu->tcp, qu->conn, &qu->peer, qu->query, &qu->q, SBX_DNS_NXDOMAIN, now_ms);
      note_name (e, qu->tcp, &qu->q, FALSE, deny, SBX_DNS_NXDOMAIN, NULL, now_ms);
    }
  else
    {
      for (guint i = 0; i < a.n_addrs; i++)
        sbx_policy_learn (e->policy, qu->q.name, &a.addrs[i], a.ttls[i], now_ms);
      note_name (e, qu->tcp, &qu->q, TRUE, qu->rule, a.rcode, &a, now_ms);
      sbx_put16 (msg, qu->sandbox_id);
      deliver (e, qu->tcp, qu->conn, &qu->peer, &qu->q, msg, len, now_ms);
    }
  sbx_dns_answer_clear (&a);
  query_free (qu);
}

/* A query of the sandbox (over UDP, or over TCP on @conn): answered NXDOMAIN
 * when its name is denied, else asked of the host's resolvers.  Also
 * tcpdns.c's on_query. */
static void
dns_query (gpointer user, guint32 conn, const SbxPeer *peer, const guint8 *msg, size_t len,
           gint64 now_ms)
{
  SbxEgress *e = user;
  gboolean tcp = conn != G_MAXUINT32; /* UDP: no connection */
  SbxDnsQuestion q;
  if (!sbx_dns_parse_query (msg, len, &q))
    {
      /* Not a query: dropped (over TCP, the connection goes). */
      if (tcp)
        sbx_tcpdns_answer (e->tcpdns, conn, NULL, 0, now_ms);
      return;
    }
  SbxVerdict v = sbx_policy_decide_name (e->policy, q.name, q.plain);
  if (!v.allowed)
    {
      reply (e, tcp, conn, peer, msg, &q, SBX_DNS_NXDOMAIN, now_ms);
      note_name (e, tcp, &q, FALSE, v.rule, SBX_DNS_NXDOMAIN, NULL, now_ms);
      return;
    }
  Query *qu = NULL;
  for (guint i = 0; i < SBX_EGRESS_QUERIES && qu == NULL; i++)
    if (!e->queries[i].used)
      qu = &e->queries[i];
  if (qu == NULL)
    {
      reply (e, tcp, conn, peer, msg, &q, SBX_DNS_SERVFAIL, now_ms);
      return;
    }
  read_resolvers (e, now_ms);
  qu->used = TRUE;
  qu->tcp = tcp;
  qu->conn = conn;
  qu->peer = *peer;
  qu->q = q;
  qu->rule = v.rule;
  qu->sandbox_id = q.id;
  qu->upstream_id = (guint16)random32 ();
  qu->query = g_memdup2 (msg, len);
  qu->query_len = len;
  qu->poll_index = -1;
  /* Its own id upstream: the sandbox's is the sandbox's choice. */
  sbx_put16 (qu->query, qu->upstream_id);
  if (!query_send (e, qu, now_ms))
    query_fail (e, qu, now_ms);
}

/* ---- frames ------------------------------------------------------------------------------ */

static gboolean
is_dns_server (const SbxEgress *e, int family, const guint8 *dst)
{
  static const guint8 v4[4] = { 10, 0, 2, 3 };
  static const guint8 v6[16] = { 0xfd, [15] = 3 };
  return family == AF_INET ? memcmp (dst, v4, 4) == 0 : e->config.ipv6 && memcmp (dst, v6, 16) == 0;
}

static void
addr_of (SbxNetAddr *a, int family, const guint8 *addr)
{
  memset (a, 0, sizeof *a);
  a->family = (guint8)family;
  memcpy (a->addr, addr, family == AF_INET ? 4 : 16);
}

/* Whether the frame is a TCP segment without SYN to anything but the DNS
 * server: libslirp's, undecided.  The test most frames of a transfer take,
 * before anything else is read. */
static gboolean
plain_tcp (const SbxEgress *e, const guint8 *frame)
{
  const guint8 *ip = frame + SBX_PACKET_ETH_HLEN;
  const guint8 *l4, *dst;
  int family;
  switch (sbx_get16 (frame + 12))
    {
    case ETH_P_IPV4:
      if (ip[9] != IPPROTO_TCP)
        return FALSE;
      l4 = ip + (ip[0] & 0xf) * 4;
      dst = ip + 16;
      family = AF_INET;
      break;
    case ETH_P_IPV6:
      if (ip[6] != IPPROTO_TCP)
        return FALSE;
      l4 = ip + 40;
      dst = ip + 24;
      family = AF_INET6;
      break;
    default:
      return FALSE;
    }
  /* frame.c let no TCP datagram through without its 20-byte header. */
  return !(l4[13] & SBX_TCP_SYN)
         && !(sbx_get16 (l4 + 2) == DNS_PORT && is_dns_server (e, family, dst));
}

SbxEgressAction
sbx_egress_input (SbxEgress *e, const guint8 *frame, size_t len, gint64 now_ms)
{
  if (plain_tcp (e, frame))
    return SBX_EGRESS_PASS;
  SbxPacket p;
  if (!sbx_packet_parse (frame, len, &p))
    return p.family == 0 ? SBX_EGRESS_PASS : SBX_EGRESS_TAKEN; /* ARP is libslirp's */

  if (p.dport == DNS_PORT && (p.proto == IPPROTO_UDP || p.proto == IPPROTO_TCP)
      && is_dns_server (e, p.family, p.dst))
    {
      if (p.proto == IPPROTO_TCP)
        sbx_tcpdns_input (e->tcpdns, &p, now_ms);
      else
        {
          SbxPeer peer;
          sbx_packet_peer (&p, &peer);
          dns_query (e, G_MAXUINT32, &peer, p.data, p.data_len, now_ms);
        }
      return SBX_EGRESS_TAKEN;
    }

  SbxFlowKey key;
  memset (&key, 0, sizeof key);
  addr_of (&key.src, p.family, p.src);
  addr_of (&key.dst, p.family, p.dst);
  key.proto = p.proto;
  guint port = 0;
  switch (p.proto)
    {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
      key.sport = p.sport;
      key.dport = p.dport;
      port = p.dport;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      /* Only an echo request leaves: libslirp sends nothing else of ICMP
       * anywhere (errors the sandbox's kernel sends it are dropped,
       * neighbour discovery is answered on the link). */
      if (p.icmp_type != (p.proto == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO))
        return SBX_EGRESS_PASS;
      if (p.l4_len >= 6)
        key.sport = (guint16)sbx_get16 (p.l4 + 4); /* the echo's identifier */
      break;
    default:
      return SBX_EGRESS_TAKEN;
    }
  gboolean is_new;
  SbxVerdict v = sbx_policy_decide_flow (e->policy, &key, now_ms, &is_new);
  if (is_new)
    note_flow (e, &key.dst, p.proto, port, v, now_ms);
  if (v.allowed)
    return SBX_EGRESS_PASS;

  /* Refused at once, as a closed port or a filtering router would: a SYN
   * gets a reset (ECONNREFUSED), a datagram or an echo "administratively
   * prohibited".  Not for a reset or an ICMP error (no error answers an
   * error), nor to a group address (RFC 1122). */
  size_t n = 0;
  if (p.proto == IPPROTO_TCP)
    n = (p.tcp_flags & (SBX_TCP_RST | SBX_TCP_ACK)) ? 0 : sbx_packet_build_rst (&p, e->frame);
  else if (!sbx_packet_is_group (p.family, p.dst))
    n = sbx_packet_build_unreachable (&p, e->frame);
  if (n > 0)
    e->config.send (e->frame, n, e->config.user);
  return SBX_EGRESS_TAKEN;
}

/* ---- the loop ----------------------------------------------------------------------------- */

void
sbx_egress_fill (SbxEgress *e, GArray *pfds)
{
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    {
      Query *qu = &e->queries[i];
      qu->poll_index = -1;
      if (!qu->used || qu->fd < 0)
        continue;
      struct pollfd p = { .fd = qu->fd, .events = POLLIN };
      if (qu->tcp && qu->sent < 2 + qu->query_len)
        p.events = POLLOUT;
      qu->poll_index = (int)pfds->len;
      g_array_append_val (pfds, p);
    }
}

/* TCP to a resolver: the length and the query out, then the length and the
 * answer in. */
static void
tcp_upstream (SbxEgress *e, Query *qu, short revents, gint64 now_ms)
{
  if (qu->sent < 2 + qu->query_len)
    {
      int err = 0;
      socklen_t elen = sizeof err;
      if ((revents & (POLLERR | POLLHUP))
          || getsockopt (qu->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
        {
          query_next (e, qu, now_ms);
          return;
        }
      guint8 prefix[2] = { (guint8)(qu->query_len >> 8), (guint8)qu->query_len };
      struct iovec iov[2] = {
        { prefix + MIN (qu->sent, 2), 2 - MIN (qu->sent, 2) },
        { qu->query + (qu->sent > 2 ? qu->sent - 2 : 0),
          qu->query_len - (qu->sent > 2 ? qu->sent - 2 : 0) },
      };
      struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
      ssize_t n = sendmsg (qu->fd, &mh, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        query_next (e, qu, now_ms);
      else if (n > 0)
        qu->sent += (size_t)n;
      return;
    }
  if (qu->answer == NULL)
    qu->answer = g_malloc (2 + 65535);
  size_t want = qu->answer_len < 2 ? 2 : 2 + sbx_get16 (qu->answer);
  ssize_t n = recv (qu->fd, qu->answer + qu->answer_len, want - qu->answer_len, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      query_next (e, qu, now_ms);
      return;
    }
  qu->answer_len += (size_t)n;
  if (qu->answer_len < 2 || qu->answer_len < 2 + (size_t)sbx_get16 (qu->answer))
    return;
  size_t len = sbx_get16 (qu->answer);
  if (!sbx_dns_is_answer_to (qu->answer + 2, len, qu->query, &qu->q, qu->upstream_id))
    {
      query_next (e, qu, now_ms);
      return;
    }
  memcpy (e->msg, qu->answer + 2, len);
  query_answered (e, qu, e->msg, len, now_ms);
}

void
sbx_egress_dispatch (SbxEgress *e, const struct pollfd *pfds, gint64 now_ms)
{
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    {
      Query *qu = &e->queries[i];
      if (!qu->used || qu->poll_index < 0 || pfds[qu->poll_index].revents == 0)
        continue;
      short revents = pfds[qu->poll_index].revents;
      if (qu->tcp)
        {
          tcp_upstream (e, qu, revents, now_ms);
          continue;
        }
      ssize_t n = recv (qu->fd, e->msg, sizeof e->msg, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (n < 0)
        query_next (e, qu, now_ms); /* refused: nobody listens there */
      else if (sbx_dns_is_answer_to (e->msg, (size_t)n, qu->query, &qu->q, qu->upstream_id))
        query_answered (e, qu, e->msg, (size_t)n, now_ms);
      /* else not ours: the answer may still come */
    }
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    if (e->queries[i].used && e->queries[i].deadline_ms <= now_ms)
      query_next (e, &e->queries[i], now_ms);
  sbx_tcpdns_run_timers (e->tcpdns, now_ms);
}

void
sbx_egress_inject_answer (SbxEgress *e, const guint8 *msg, size_t len, gint64 now_ms)
{
  Query *oldest = NULL;
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    if (e->queries[i].used && (oldest == NULL || e->queries[i].deadline_ms < oldest->deadline_ms))
      oldest = &e->queries[i];
  if (oldest == NULL || len < 2 || len > sizeof e->msg)
    return;
  memcpy (e->msg, msg, len);
  sbx_put16 (e->msg, oldest->upstream_id);
  if (sbx_dns_is_answer_to (e->msg, len, oldest->query, &oldest->q, oldest->upstream_id))
    query_answered (e, oldest, e->msg, len, now_ms);
}

int
sbx_egress_timeout (const SbxEgress *e, gint64 now_ms)
{
  int t = sbx_tcpdns_timeout (e->tcpdns, now_ms);
  for (guint i = 0; i < SBX_EGRESS_QUERIES; i++)
    if (e->queries[i].used)
      {
        int q = (int)CLAMP (e->queries[i].deadline_ms - now_ms, 0, G_MAXINT);
        t = t < 0 ? q : MIN (t, q);
      }
  return t;
}
