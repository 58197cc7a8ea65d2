/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c: the egress policy's decisions (see policy.h).
 *
 * Two tables, both fixed arrays chained through bucket heads and allocated
 * once: the pinned addresses (an address, the --allow-net that pinned it,
 * until when, the name) and the flows (a flow's key, its verdict, when it
 * was last seen, in least-recently-used order).  The hashes are seeded, so
 * that a sandbox cannot aim its flows at one bucket. */
#include "config.h"

#include "policy.h"
#include "packet.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define BUCKETS 4096 /* a power of two, at least the entries of a table */
#define NONE    (-1)

typedef struct
{
  SbxNetAddr addr;
  gint32 rule; /* the allow rule's index; NONE: only the name is remembered */
  gint32 next; /* in its bucket */
  gint64 expire_ms;
  char name[256];
} Pin;

typedef struct
{
  SbxFlowKey key;
  gboolean allowed;
  const SbxNetRule *rule;
  gint64 last_ms;
  gint32 next;        /* in its bucket */
  gint32 prev, newer; /* least-recently-used list: prev is older */
} Flow;

struct SbxPolicy
{
  GPtrArray *allow; /* SbxNetRule* */
  GPtrArray *deny;
  gboolean allow_names; /* an --allow-net names a name: pins are looked up */
  guint32 seed;

  Pin pins[SBX_POLICY_PINS];
  gint32 pin_heads[BUCKETS];
  gint32 pin_free; /* chained through next */

  Flow flows[SBX_POLICY_FLOWS];
  gint32 flow_heads[BUCKETS];
  guint n_flows;
  gint32 oldest, newest;
};

/* ---- hashing ------------------------------------------------------------------- */

static guint32
hash_bytes (guint32 h, const guint8 *p, size_t len)
{
  /* FNV-1a from a random basis. */
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static guint
addr_len (const SbxNetAddr *a)
{
  return a->family == AF_INET ? 4 : 16;
}

static gboolean
addr_equal (const SbxNetAddr *a, const SbxNetAddr *b)
{
  return a->family == b->family && memcmp (a->addr, b->addr, addr_len (a)) == 0;
}

static guint
hash_addr (const SbxPolicy *p, const SbxNetAddr *a)
{
  guint32 h = hash_bytes (p->seed ^ 2166136261u, &a->family, 1);
  return hash_bytes (h, a->addr, addr_len (a)) & (BUCKETS - 1);
}

static guint
hash_flow (const SbxPolicy *p, const SbxFlowKey *k)
{
  guint8 rest[5] = { (guint8)(k->sport >> 8), (guint8)k->sport, (guint8)(k->dport >> 8),
                     (guint8)k->dport, k->proto };
  guint32 h = hash_bytes (p->seed ^ 0x811c9dc5u, &k->src.family, 1);
  h = hash_bytes (h, k->src.addr, addr_len (&k->src));
  h = hash_bytes (h, &k->dst.family, 1);
  h = hash_bytes (h, k->dst.addr, addr_len (&k->dst));
  return hash_bytes (h, rest, sizeof rest) & (BUCKETS - 1);
}

static gboolean
flow_key_equal (const SbxFlowKey *a, const SbxFlowKey *b)
{
  return a->proto == b->proto && a->sport == b->sport && a->dport == b->dport
         && addr_equal (&a->src, &b->src) && addr_equal (&a->dst, &b->dst);
}

/* ---- life ----------------------------------------------------------------------- */

SbxPolicy *
sbx_policy_new (GPtrArray *allow, GPtrArray *deny, guint32 seed)
{
  SbxPolicy *p = g_new0 (SbxPolicy, 1);
  p->allow = allow;
  p->deny = deny;
  p->seed = seed;
  for (guint i = 0; i < allow->len; i++)
    if (((const SbxNetRule *)allow->pdata[i])->kind != SBX_NETRULE_NETWORK)
      p->allow_names = TRUE;
  for (guint i = 0; i < BUCKETS; i++)
    p->pin_heads[i] = p->flow_heads[i] = NONE;
  for (gint32 i = 0; i < SBX_POLICY_PINS; i++)
    p->pins[i].next = i + 1 < SBX_POLICY_PINS ? i + 1 : NONE;
  p->pin_free = 0;
  p->oldest = p->newest = NONE;
  return p;
}

void
sbx_policy_free (SbxPolicy *p)
{
  if (p == NULL)
    return;
  g_ptr_array_unref (p->allow);
  g_ptr_array_unref (p->deny);
  g_free (p);
}

gboolean
sbx_policy_has_rules (const SbxPolicy *p)
{
  return p->allow->len > 0 || p->deny->len > 0;
}

const GPtrArray *
sbx_policy_allow_rules (const SbxPolicy *p)
{
  return p->allow;
}

/* ---- names ------------------------------------------------------------------------- */

SbxVerdict
sbx_policy_decide_name (const SbxPolicy *p, const char *name, gboolean plain)
{
  /* A name that is not plain is shown with '?' for its odd bytes; a deny
   * rule may still name what is around them, an allow rule never. */
  for (guint i = 0; i < p->deny->len; i++)
    if (sbx_netrule_match_name (p->deny->pdata[i], name))
      return (SbxVerdict){ FALSE, p->deny->pdata[i] };
  if (p->allow->len == 0)
    return (SbxVerdict){ TRUE, NULL };
  for (guint i = 0; plain && i < p->allow->len; i++)
    if (sbx_netrule_match_name (p->allow->pdata[i], name))
      return (SbxVerdict){ TRUE, p->allow->pdata[i] };
  return (SbxVerdict){ FALSE, NULL };
}

const SbxNetRule *
sbx_policy_denied_chain (const SbxPolicy *p, char **chain)
{
  for (char **n = chain; n != NULL && *n != NULL; n++)
    for (guint i = 0; i < p->deny->len; i++)
      if (sbx_netrule_match_name (p->deny->pdata[i], *n))
        return p->deny->pdata[i];
  return NULL;
}

/* ---- pinned addresses -------------------------------------------------------------- */

/* Unlinks pin @i from its bucket and frees it. */
static void
pin_drop (SbxPolicy *p, gint32 i)
{
  gint32 *link = &p->pin_heads[hash_addr (p, &p->pins[i].addr)];
  while (*link != i)
    link = &p->pins[*link].next;
  *link = p->pins[i].next;
  p->pins[i].next = p->pin_free;
  p->pin_free = i;
}

/* A free pin: when none is, the one that expires first goes (a scan of the
 * table, only when an answer comes and the table is full). */
static gint32
pin_alloc (SbxPolicy *p)
{
  if (p->pin_free == NONE)
    {
      gint32 victim = 0;
      for (gint32 i = 1; i < SBX_POLICY_PINS; i++)
        if (p->pins[i].expire_ms < p->pins[victim].expire_ms)
          victim = i;
      pin_drop (p, victim);
    }
  gint32 i = p->pin_free;
  p->pin_free = p->pins[i].next;
  return i;
}

static void
pin (SbxPolicy *p, const SbxNetAddr *addr, gint32 rule, const char *name, gint64 expire_ms)
{
  guint b = hash_addr (p, addr);
  for (gint32 i = p->pin_heads[b]; i != NONE; i = p->pins[i].next)
    if (p->pins[i].rule == rule && addr_equal (&p->pins[i].addr, addr))
      {
        p->pins[i].expire_ms = MAX (p->pins[i].expire_ms, expire_ms);
        g_strlcpy (p->pins[i].name, name, sizeof p->pins[i].name);
        return;
      }
  gint32 i = pin_alloc (p);
  Pin *e = &p->pins[i];
  memset (&e->addr, 0, sizeof e->addr);
  e->addr.family = addr->family;
  memcpy (e->addr.addr, addr->addr, addr_len (addr));
  e->rule = rule;
  e->expire_ms = expire_ms;
  g_strlcpy (e->name, name, sizeof e->name);
  e->next = p->pin_heads[b];
  p->pin_heads[b] = i;
}

void
sbx_policy_learn (SbxPolicy *p, const char *name, const SbxNetAddr *addr, guint32 ttl_s,
                  gint64 now_ms)
{
  gint64 expire = now_ms + (gint64)MAX (ttl_s, SBX_POLICY_TTL_FLOOR_S) * 1000;
  for (guint i = 0; i < p->allow->len; i++)
    if (sbx_netrule_match_name (p->allow->pdata[i], name))
      pin (p, addr, (gint32)i, name, expire);
  pin (p, addr, NONE, name, expire);
}

const char *
sbx_policy_name_of (const SbxPolicy *p, const SbxNetAddr *addr)
{
  for (gint32 i = p->pin_heads[hash_addr (p, addr)]; i != NONE; i = p->pins[i].next)
    if (p->pins[i].rule == NONE && addr_equal (&p->pins[i].addr, addr))
      return p->pins[i].name;
  return NULL;
}

/* An --allow-net naming a name that resolved to @dst, still pinned, and
 * admitting @proto to @port. */
static const SbxNetRule *
pinned_rule (const SbxPolicy *p, const SbxNetAddr *dst, guint proto, guint port, gint64 now_ms)
{
  for (gint32 i = p->pin_heads[hash_addr (p, dst)]; i != NONE; i = p->pins[i].next)
    {
      const Pin *e = &p->pins[i];
      if (e->rule != NONE && e->expire_ms > now_ms && addr_equal (&e->addr, dst)
          && sbx_netrule_match_port (p->allow->pdata[e->rule], proto, port))
        return p->allow->pdata[e->rule];
    }
  return NULL;
}

/* ---- flows ---------------------------------------------------------------------- */

/* The first network rule of @rules that holds @dst (or the IPv4 address it
 * stands for, @dst4) and admits @proto to @port. */
static const SbxNetRule *
network_rule (const GPtrArray *rules, const SbxNetAddr *dst, const SbxNetAddr *dst4, guint proto,
              guint port)
{
  for (guint i = 0; i < rules->len; i++)
    {
      const SbxNetRule *r = rules->pdata[i];
      if (r->kind == SBX_NETRULE_NETWORK && sbx_netrule_match_port (r, proto, port)
          && (sbx_netrule_match_addr (r, dst->family, dst->addr)
              || (dst4 != NULL && sbx_netrule_match_addr (r, AF_INET, dst4->addr))))
        return r;
    }
  return NULL;
}

SbxVerdict
sbx_policy_decide (SbxPolicy *p, const SbxNetAddr *dst, guint proto, guint port, gint64 now_ms)
{
  /* An IPv6 address that reaches an IPv4 one (mapped, NAT64) is judged as
   * both: a deny of either wins, an allow of either admits. */
  SbxNetAddr v4 = { .family = AF_INET };
  const SbxNetAddr *dst4 = NULL;
  const guint8 *e = dst->family == AF_INET6 ? sbx_packet_embedded_ipv4 (dst->addr) : NULL;
  if (e != NULL)
    {
      memcpy (v4.addr, e, 4);
      dst4 = &v4;
    }
  const SbxNetRule *r = network_rule (p->deny, dst, dst4, proto, port);
  if (r != NULL)
    return (SbxVerdict){ FALSE, r };
  if (p->allow->len == 0)
    return (SbxVerdict){ TRUE, NULL };
  if ((r = network_rule (p->allow, dst, dst4, proto, port)) != NULL)
    return (SbxVerdict){ TRUE, r };
  if (p->allow_names
      && ((r = pinned_rule (p, dst, proto, port, now_ms)) != NULL
          || (dst4 != NULL && (r = pinned_rule (p, dst4, proto, port, now_ms)) != NULL)))
    return (SbxVerdict){ TRUE, r };
  return (SbxVerdict){ FALSE, NULL };
}

static void
lru_unlink (SbxPolicy *p, gint32 i)
{
  Flow *f = &p->flows[i];
  if (f->prev != NONE)
    p->flows[f->prev].newer = f->newer;
  else
    p->oldest = f->newer;
  if (f->newer != NONE)
    p->flows[f->newer].prev = f->prev;
  else
    p->newest = f->prev;
}

static void
lru_push (SbxPolicy *p, gint32 i)
{
  Flow *f = &p->flows[i];
  f->prev = p->newest;
  f->newer = NONE;
  if (p->newest != NONE)
    p->flows[p->newest].newer = i;
  else
    p->oldest = i;
  p->newest = i;
}

/* A flow entry for @key, new: a free one, or the least recently used. */
static gint32
flow_alloc (SbxPolicy *p, const SbxFlowKey *key)
{
  gint32 i;
  if (p->n_flows < SBX_POLICY_FLOWS)
    i = (gint32)p->n_flows++;
  else
    {
      i = p->oldest;
      lru_unlink (p, i);
      gint32 *link = &p->flow_heads[hash_flow (p, &p->flows[i].key)];
      while (*link != i)
        link = &p->flows[*link].next;
      *link = p->flows[i].next;
    }
  Flow *f = &p->flows[i];
  f->key = *key;
  guint b = hash_flow (p, key);
  f->next = p->flow_heads[b];
  p->flow_heads[b] = i;
  lru_push (p, i);
  return i;
}

SbxVerdict
sbx_policy_decide_flow (SbxPolicy *p, const SbxFlowKey *key, gint64 now_ms, gboolean *is_new)
{
  gint32 i = p->flow_heads[hash_flow (p, key)];
  while (i != NONE && !flow_key_equal (&p->flows[i].key, key))
    i = p->flows[i].next;
  gint64 idle = key->proto == IPPROTO_TCP ? SBX_POLICY_TCP_IDLE_MS : SBX_POLICY_UDP_IDLE_MS;
  gboolean fresh = i != NONE && now_ms - p->flows[i].last_ms <= idle;
  SbxVerdict v;
  /* A UDP or ICMP flow that was allowed stays so while it goes on; a TCP
   * SYN is decided each time (the connection itself is libslirp's). */
  if (fresh && p->flows[i].allowed && key->proto != IPPROTO_TCP)
    v = (SbxVerdict){ TRUE, p->flows[i].rule };
  else
    v = sbx_policy_decide (p, &key->dst, key->proto, key->dport, now_ms);
  *is_new = !fresh || p->flows[i].allowed != v.allowed;
  if (i == NONE)
    i = flow_alloc (p, key);
  else
    {
      lru_unlink (p, i);
      lru_push (p, i);
    }
  p->flows[i].allowed = v.allowed;
  p->flows[i].rule = v.rule;
  p->flows[i].last_ms = now_ms;
  return v;
}
