/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-netpolicy.c: the egress policy.  The rule parser (src/netpolicy.c),
 * the decisions (helpers/policy.c: rules, pinned addresses, flows), the
 * DNS messages (helpers/dns.c: queries by hand, answers through c-ares),
 * the frames sbx-net answers with (helpers/packet.c), and egress.c and
 * tcpdns.c driven with frames as sbx-net's loop drives them, a UDP and a
 * TCP resolver on the loopback standing for the host's. */
#include "config.h"

#include "bytes.h"
#include "dns.h"
#include "egress.h"
#include "netpolicy.h"
#include "packet.h"
#include "policy.h"
#include "tcpdns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH 14

/* ---- helpers ---------------------------------------------------------------------- */

static guint32
sum_bytes (guint32 sum, const guint8 *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += sbx_get16 (p + i);
  if (len & 1)
    sum += (guint)p[len - 1] << 8;
  return sum;
}

static guint
fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

static GPtrArray *
rules (const char *option, ...)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  va_list ap;
  va_start (ap, option);
  guint i = 0;
  for (const char *t; (t = va_arg (ap, const char *)) != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      if (!sbx_netrule_parse (option, t, i, out, &error))
        g_error ("%s", error->message);
    }
  va_end (ap);
  return out;
}

static SbxNetAddr
addr (const char *text)
{
  SbxNetAddr a = { 0 };
  if (inet_pton (AF_INET, text, a.addr) == 1)
    a.family = AF_INET;
  else
    {
      g_assert_cmpint (inet_pton (AF_INET6, text, a.addr), ==, 1);
      a.family = AF_INET6;
    }
  return a;
}

/* ---- the rule parser --------------------------------------------------------------- */

static SbxNetRule *
parse_one (const char *text, guint *count)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  g_autoptr (GError) error = NULL;
  if (!sbx_netrule_parse ("--allow-net", text, 0, out, &error))
    g_error ("'%s': %s", text, error->message);
  *count = out->len;
  return g_ptr_array_steal_index (out, 0);
}

static char *
parse_error (const char *text)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  g_autoptr (GError) error = NULL;
  g_assert_false (sbx_netrule_parse ("--deny-net", text, 0, out, &error));
  g_assert_cmpuint (out->len, ==, 0);
  return g_strdup (error->message);
}

static void
test_parse (void)
{
  guint n;
  g_autoptr (SbxNetRule) a = parse_one ("192.0.2.0/24", &n);
  g_assert_cmpint (a->kind, ==, SBX_NETRULE_NETWORK);
  g_assert_cmpint (a->family, ==, AF_INET);
  g_assert_cmpuint (a->prefix, ==, 24);
  g_assert_true (a->any_port && a->proto == 0 && a->port_lo == 0 && a->port_hi == 65535);
  g_assert_cmpstr (a->text, ==, "192.0.2.0/24");

  g_autoptr (SbxNetRule) b = parse_one ("192.0.2.77/24:443/tcp", &n);
  g_assert_cmpuint (b->addr[3], ==, 0); /* host bits cleared */
  g_assert_true (!b->any_port && b->port_lo == 443 && b->port_hi == 443);
  g_assert_cmpuint (b->proto, ==, IPPROTO_TCP);

  g_autoptr (SbxNetRule) c = parse_one ("198.51.100.7:8000-8100/udp", &n);
  g_assert_cmpuint (c->prefix, ==, 32);
  g_assert_true (c->port_lo == 8000 && c->port_hi == 8100 && c->proto == IPPROTO_UDP);

  g_autoptr (SbxNetRule) d = parse_one ("2001:db8::/32", &n);
  g_assert_cmpint (d->family, ==, AF_INET6);
  g_assert_cmpuint (d->prefix, ==, 32);
  g_autoptr (SbxNetRule) e = parse_one ("[2001:db8::1]:443", &n);
  g_assert_true (e->prefix == 128 && e->port_lo == 443);
  g_autoptr (SbxNetRule) f = parse_one ("[2001:db8::/48]:53/udp", &n);
  g_assert_true (f->prefix == 48 && f->port_lo == 53 && f->proto == IPPROTO_UDP);
  g_autoptr (SbxNetRule) g = parse_one ("[2001:db8::]/48:80-81", &n);
  g_assert_true (g->prefix == 48 && g->port_hi == 81);
  g_autoptr (SbxNetRule) h = parse_one ("2001:db8::/32/udp", &n);
  g_assert_true (h->prefix == 32 && h->proto == IPPROTO_UDP && h->any_port);

  g_autoptr (SbxNetRule) i = parse_one ("Registry.NPMJS.org.:443", &n);
  g_assert_cmpint (i->kind, ==, SBX_NETRULE_NAME);
  g_assert_cmpstr (i->name, ==, "registry.npmjs.org");
  g_autoptr (SbxNetRule) j = parse_one ("*.pythonhosted.org", &n);
  g_assert_cmpint (j->kind, ==, SBX_NETRULE_SUBDOMAINS);
  g_assert_cmpstr (j->name, ==, "pythonhosted.org");
  g_autoptr (SbxNetRule) k = parse_one ("*.corp", &n);
  g_assert_cmpstr (k->name, ==, "corp");
  g_autoptr (SbxNetRule) l = parse_one ("intranet.", &n);
  g_assert_cmpstr (l->name, ==, "intranet");
  g_autoptr (SbxNetRule) m = parse_one ("_dmarc.example.org", &n);
  g_assert_cmpstr (m->name, ==, "_dmarc.example.org");

  g_autoptr (SbxNetRule) p = parse_one ("private", &n);
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmpstr (p->text, ==, "private");
  g_autoptr (SbxNetRule) q = parse_one ("host:8080/tcp", &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (q->host && q->port_lo == 8080 && q->proto == IPPROTO_TCP);

  /* Errors name the option and the rule. */
  g_autofree char *e1 = parse_error ("");
  g_assert_nonnull (strstr (e1, "--deny-net: '': an empty rule"));
  g_autofree char *e2 = parse_error ("privat");
  g_assert_nonnull (strstr (e2, "'privat': not a rule"));
  g_autofree char *e3 = parse_error ("10.0.0.0/33");
  g_assert_nonnull (strstr (e3, "prefix"));
  g_autofree char *e4 = parse_error ("example.org:0");
  g_assert_nonnull (strstr (e4, "1 to 65535"));
  g_autofree char *e5 = parse_error ("example.org:90-80");
  g_assert_nonnull (strstr (e5, "backwards"));
  g_autofree char *e6 = parse_error ("127.0.0.1");
  g_assert_nonnull (strstr (e6, "loopback"));
  g_autofree char *e7 = parse_error ("::1");
  g_assert_nonnull (strstr (e7, "loopback"));
  const char *bad[] = {
    "10.1",
    "*",
    "*.",
    "a..b",
    "-a.org",
    "a-.org",
    "a.*.org",
    "**.org",
    "ex ample.org",
    "[2001:db8::1",
    "[2001:db8::1]x",
    "[example.org]:80",
    "example.org:http",
    "example.org:1-",
    "1.2.3.4/",
    "1.2.3.4/x",
    "example.org/tcp/udp",
    "x.org:65536",
    "[::1]/64/64",
    "[2001:db8::/32]/32",
    "foo:bar:baz",
  };
  for (guint x = 0; x < G_N_ELEMENTS (bad); x++)
    g_free (parse_error (bad[x]));
  char longname[300];
  memset (longname, 'a', sizeof longname);
  for (guint x = 60; x < sizeof longname; x += 61)
    longname[x] = '.';
  longname[254] = '\0';
  g_free (parse_error (longname));
}

static void
test_match (void)
{
  guint n;
  g_autoptr (SbxNetRule) net = parse_one ("192.0.2.128/25:1000-2000/tcp", &n);
  SbxNetAddr in = addr ("192.0.2.200"), out = addr ("192.0.2.127");
  g_assert_true (sbx_netrule_match_addr (net, AF_INET, in.addr));
  g_assert_false (sbx_netrule_match_addr (net, AF_INET, out.addr));
  g_assert_true (sbx_netrule_match_port (net, IPPROTO_TCP, 1000));
  g_assert_true (sbx_netrule_match_port (net, IPPROTO_TCP, 2000));
  g_assert_false (sbx_netrule_match_port (net, IPPROTO_TCP, 2001));
  g_assert_false (sbx_netrule_match_port (net, IPPROTO_UDP, 1500));
  g_assert_false (sbx_netrule_match_port (net, IPPROTO_ICMP, 0));
  g_autoptr (SbxNetRule) all = parse_one ("0.0.0.0/0", &n);
  g_assert_true (sbx_netrule_match_addr (all, AF_INET, out.addr));
  g_assert_true (sbx_netrule_match_port (all, IPPROTO_ICMP, 0));
  g_autoptr (SbxNetRule) v6 = parse_one ("2001:db8:8000::/33", &n);
  SbxNetAddr a6 = addr ("2001:db8:ffff::1"), b6 = addr ("2001:db8:7fff::1");
  g_assert_true (sbx_netrule_match_addr (v6, AF_INET6, a6.addr));
  g_assert_false (sbx_netrule_match_addr (v6, AF_INET6, b6.addr));
  g_assert_false (sbx_netrule_match_addr (v6, AF_INET, in.addr));

  g_autoptr (SbxNetRule) name = parse_one ("pypi.org", &n);
  g_autoptr (SbxNetRule) sub = parse_one ("*.pypi.org", &n);
  g_assert_true (sbx_netrule_match_name (name, "pypi.org"));
  g_assert_false (sbx_netrule_match_name (name, "x.pypi.org"));
  g_assert_false (sbx_netrule_match_name (sub, "pypi.org"));
  g_assert_true (sbx_netrule_match_name (sub, "files.pypi.org"));
  g_assert_true (sbx_netrule_match_name (sub, "a.b.pypi.org"));
  g_assert_false (sbx_netrule_match_name (sub, "evilpypi.org"));
  g_assert_false (sbx_netrule_match_name (sub, "pypi.org.evil"));
  g_assert_false (sbx_netrule_match_name (net, "pypi.org"));
}

/* ---- decisions ------------------------------------------------------------------------ */

static void
test_decide (void)
{
  g_autoptr (SbxPolicy) p = sbx_policy_new (
      rules ("--allow-net", "192.0.2.0/24", "198.51.100.0/24:443", "2001:db8::/32/udp", NULL),
      rules ("--deny-net", "192.0.2.128/25", "private", NULL), 1);
  SbxNetAddr a = addr ("192.0.2.5"), b = addr ("192.0.2.200"), c = addr ("198.51.100.9"),
             d = addr ("203.0.113.1"), e = addr ("10.1.2.3"), f = addr ("2001:db8::5");
  SbxVerdict v = sbx_policy_decide (p, &a, IPPROTO_TCP, 80, 0);
  g_assert_true (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "192.0.2.0/24");
  /* deny wins over allow */
  v = sbx_policy_decide (p, &b, IPPROTO_TCP, 80, 0);
  g_assert_false (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "192.0.2.128/25");
  /* ports */
  g_assert_true (sbx_policy_decide (p, &c, IPPROTO_TCP, 443, 0).allowed);
  g_assert_true (sbx_policy_decide (p, &c, IPPROTO_UDP, 443, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &c, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &c, IPPROTO_ICMP, 0, 0).allowed);
  g_assert_true (sbx_policy_decide (p, &a, IPPROTO_ICMP, 0, 0).allowed);
  /* not in the allow list: no rule */
  v = sbx_policy_decide (p, &d, IPPROTO_TCP, 80, 0);
  g_assert_false (v.allowed);
  g_assert_null (v.rule);
  /* the preset */
  v = sbx_policy_decide (p, &e, IPPROTO_TCP, 80, 0);
  g_assert_false (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "private");
  SbxNetAddr meta = addr ("169.254.169.254"), ula = addr ("fd12::1"), ll = addr ("fe80::1"),
             cgnat = addr ("100.100.1.1");
  g_assert_false (sbx_policy_decide (p, &meta, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &ula, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &ll, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &cgnat, IPPROTO_TCP, 80, 0).allowed);
  /* protocol */
  g_assert_true (sbx_policy_decide (p, &f, IPPROTO_UDP, 443, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &f, IPPROTO_TCP, 443, 0).allowed);

  /* An IPv6 address reaching an IPv4 one is judged as that one too. */
  SbxNetAddr mapped = addr ("::ffff:10.1.2.3"), nat64 = addr ("64:ff9b::a01:203"),
             mapped_ok = addr ("::ffff:192.0.2.5");
  g_assert_false (sbx_policy_decide (p, &mapped, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (p, &nat64, IPPROTO_TCP, 80, 0).allowed);
  g_assert_true (sbx_policy_decide (p, &mapped_ok, IPPROTO_TCP, 80, 0).allowed);

  /* Without allow rules everything not denied goes. */
  g_autoptr (SbxPolicy) deny_only
      = sbx_policy_new (rules ("--allow-net", NULL), rules ("--deny-net", "private", NULL), 1);
  g_assert_true (sbx_policy_decide (deny_only, &d, IPPROTO_TCP, 80, 0).allowed);
  g_assert_false (sbx_policy_decide (deny_only, &e, IPPROTO_TCP, 80, 0).allowed);
  g_assert_true (sbx_policy_has_rules (deny_only));
  g_autoptr (SbxPolicy) none
      = sbx_policy_new (rules ("--allow-net", NULL), rules ("--deny-net", NULL), 1);
  g_assert_false (sbx_policy_has_rules (none));
  g_assert_true (sbx_policy_decide (none, &e, IPPROTO_UDP, 53, 0).allowed);
}

static void
test_names (void)
{
  g_autoptr (SbxPolicy) p = sbx_policy_new (
      rules ("--allow-net", "good.example", "*.cdn.example:443", "192.0.2.0/24", NULL),
      rules ("--deny-net", "bad.cdn.example", NULL), 1);
  SbxVerdict v = sbx_policy_decide_name (p, "good.example", TRUE);
  g_assert_true (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "good.example");
  g_assert_false (sbx_policy_decide_name (p, "other.example", TRUE).allowed);
  g_assert_null (sbx_policy_decide_name (p, "other.example", TRUE).rule);
  g_assert_true (sbx_policy_decide_name (p, "x.cdn.example", TRUE).allowed);
  g_assert_false (sbx_policy_decide_name (p, "cdn.example", TRUE).allowed);
  v = sbx_policy_decide_name (p, "bad.cdn.example", TRUE);
  g_assert_false (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "bad.cdn.example");
  /* A name with an odd byte is never allowed by a rule. */
  g_assert_false (sbx_policy_decide_name (p, "x?y.cdn.example", FALSE).allowed);

  char *chain[] = { "a.example", "b.cdn.example", "bad.cdn.example", NULL };
  const SbxNetRule *r = sbx_policy_denied_chain (p, chain);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->text, ==, "bad.cdn.example");
  char *clean[] = { "a.example", "b.cdn.example", NULL };
  g_assert_null (sbx_policy_denied_chain (p, clean));

  /* Pinned: the name's address, for its rule's ports, until the TTL (at
   * least the floor). */
  SbxNetAddr a = addr ("203.0.113.5"), b = addr ("203.0.113.6"), c = addr ("2001:db8::9");
  g_assert_false (sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 0).allowed);
  sbx_policy_learn (p, "x.cdn.example", &a, 60, 1000);
  sbx_policy_learn (p, "good.example", &b, 0, 1000);
  sbx_policy_learn (p, "good.example", &c, 30, 1000);
  v = sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 2000);
  g_assert_true (v.allowed);
  g_assert_cmpstr (v.rule->text, ==, "*.cdn.example:443");
  g_assert_false (sbx_policy_decide (p, &a, IPPROTO_TCP, 80, 2000).allowed);
  g_assert_true (sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 60999).allowed);
  g_assert_false (sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 61000).allowed);
  g_assert_true (
      sbx_policy_decide (p, &b, IPPROTO_UDP, 9, 1000 + SBX_POLICY_TTL_FLOOR_S * 1000 - 1).allowed);
  g_assert_false (
      sbx_policy_decide (p, &b, IPPROTO_UDP, 9, 1000 + SBX_POLICY_TTL_FLOOR_S * 1000).allowed);
  g_assert_true (sbx_policy_decide (p, &c, IPPROTO_TCP, 22, 5000).allowed);
  g_assert_cmpstr (sbx_policy_name_of (p, &a), ==, "x.cdn.example");
  g_assert_cmpstr (sbx_policy_name_of (p, &b), ==, "good.example");
  SbxNetAddr unknown = addr ("203.0.113.99");
  g_assert_null (sbx_policy_name_of (p, &unknown));
  /* A name of no rule is remembered for its name, pins nothing. */
  sbx_policy_learn (p, "learnt.example", &unknown, 60, 1000);
  g_assert_cmpstr (sbx_policy_name_of (p, &unknown), ==, "learnt.example");
  g_assert_false (sbx_policy_decide (p, &unknown, IPPROTO_TCP, 443, 2000).allowed);
  /* A later answer with a longer TTL extends the pin. */
  sbx_policy_learn (p, "y.cdn.example", &a, 600, 50000);
  g_assert_true (sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 600000).allowed);
  g_assert_cmpstr (sbx_policy_name_of (p, &a), ==, "y.cdn.example");

  /* Full: the pins that expire first go. */
  for (guint i = 0; i < SBX_POLICY_PINS * 2; i++)
    {
      SbxNetAddr x = { .family = AF_INET6 };
      x.addr[0] = 0x20;
      x.addr[1] = 0x01;
      sbx_put32 (x.addr + 12, i);
      sbx_policy_learn (p, "good.example", &x, 3600, 1000);
    }
  g_assert_false (sbx_policy_decide (p, &a, IPPROTO_TCP, 443, 100000).allowed);
}

static SbxFlowKey
flow (const char *src, guint sport, const char *dst, guint dport, guint proto)
{
  SbxFlowKey k;
  memset (&k, 0, sizeof k);
  k.src = addr (src);
  k.dst = addr (dst);
  k.sport = (guint16)sport;
  k.dport = (guint16)dport;
  k.proto = (guint8)proto;
  return k;
}

static void
test_flows (void)
{
  g_autoptr (SbxPolicy) p
      = sbx_policy_new (rules ("--allow-net", "quic.example:443/udp", "ssh.example:22/tcp", NULL),
                        rules ("--deny-net", NULL), 7);
  SbxNetAddr a = addr ("203.0.113.5");
  gboolean is_new;
  SbxFlowKey k = flow ("10.0.2.100", 40000, "203.0.113.5", 443, IPPROTO_UDP);
  g_assert_false (sbx_policy_decide_flow (p, &k, 0, &is_new).allowed);
  g_assert_true (is_new);
  g_assert_false (sbx_policy_decide_flow (p, &k, 10, &is_new).allowed);
  g_assert_false (is_new); /* said once */
  sbx_policy_learn (p, "quic.example", &a, 20, 100);
  g_assert_true (sbx_policy_decide_flow (p, &k, 200, &is_new).allowed);
  g_assert_true (is_new); /* the verdict turned */
  g_assert_true (sbx_policy_decide_flow (p, &k, 300, &is_new).allowed);
  g_assert_false (is_new);
  /* The UDP flow outlives the pin while it goes on ... */
  for (gint64 t = 1000; t < 300000; t += 60000)
    g_assert_true (sbx_policy_decide_flow (p, &k, t, &is_new).allowed);
  /* ... but a new flow to the address is no longer admitted, */
  SbxFlowKey k2 = flow ("10.0.2.100", 40001, "203.0.113.5", 443, IPPROTO_UDP);
  g_assert_false (sbx_policy_decide_flow (p, &k2, 300000, &is_new).allowed);
  /* and an idle one is forgotten. */
  g_assert_false (
      sbx_policy_decide_flow (p, &k, 300000 + SBX_POLICY_UDP_IDLE_MS + 1, &is_new).allowed);
  g_assert_true (is_new);

  /* TCP: each SYN is decided; a repeated SYN is not new. */
  SbxNetAddr s = addr ("203.0.113.22");
  sbx_policy_learn (p, "ssh.example", &s, 30, 0);
  SbxFlowKey t = flow ("10.0.2.100", 50000, "203.0.113.22", 22, IPPROTO_TCP);
  g_assert_true (sbx_policy_decide_flow (p, &t, 100, &is_new).allowed);
  g_assert_true (is_new);
  g_assert_true (sbx_policy_decide_flow (p, &t, 1100, &is_new).allowed);
  g_assert_false (is_new);
  g_assert_false (sbx_policy_decide_flow (p, &t, 40000, &is_new).allowed);

  /* Many flows: the least recently used go, the table holds. */
  for (guint i = 0; i < SBX_POLICY_FLOWS * 3; i++)
    {
      SbxFlowKey x = flow ("10.0.2.100", 1000 + i % 60000, "203.0.113.9", 53, IPPROTO_UDP);
      x.dst.addr[2] = (guint8)(i / 60000);
      sbx_policy_decide_flow (p, &x, 400000, &is_new);
      g_assert_true (is_new);
    }
}

/* ---- DNS ------------------------------------------------------------------------------------ */

/* A query for @name (@type), id 0x1234, RD set. */
static size_t
make_query (guint8 *out, const char *name, guint type)
{
  memset (out, 0, 12);
  sbx_put16 (out, 0x1234);
  sbx_put16 (out + 2, 0x0100);
  sbx_put16 (out + 4, 1);
  size_t i = 12;
  g_auto (GStrv) labels = g_strsplit (name, ".", -1);
  for (char **l = labels; *l != NULL; l++)
    if (**l != '\0')
      {
        out[i++] = (guint8)strlen (*l);
        memcpy (out + i, *l, strlen (*l));
        i += strlen (*l);
      }
  out[i++] = 0;
  sbx_put16 (out + i, type);
  sbx_put16 (out + i + 2, 1);
  return i + 4;
}

/* Appends a record to the answer section of @msg (@len so far): @name as
 * a pointer to the question's name when NULL. */
static size_t
add_record (guint8 *msg, size_t len, const char *name, guint type, guint32 ttl, const void *data,
            size_t dlen)
{
  if (name == NULL)
    {
      sbx_put16 (msg + len, 0xc00c);
      len += 2;
    }
  else
    {
      g_auto (GStrv) labels = g_strsplit (name, ".", -1);
      for (char **l = labels; *l != NULL; l++)
        {
          msg[len++] = (guint8)strlen (*l);
          memcpy (msg + len, *l, strlen (*l));
          len += strlen (*l);
        }
      msg[len++] = 0;
    }
  sbx_put16 (msg + len, type);
  sbx_put16 (msg + len + 2, 1);
  sbx_put32 (msg + len + 4, ttl);
  sbx_put16 (msg + len + 8, (guint)dlen);
  memcpy (msg + len + 10, data, dlen);
  sbx_put16 (msg + 6, sbx_get16 (msg + 6) + 1);
  return len + 10 + dlen;
}

static size_t
encode_name (guint8 *out, const char *name)
{
  size_t i = 0;
  g_auto (GStrv) labels = g_strsplit (name, ".", -1);
  for (char **l = labels; *l != NULL; l++)
    {
      out[i++] = (guint8)strlen (*l);
      memcpy (out + i, *l, strlen (*l));
      i += strlen (*l);
    }
  out[i++] = 0;
  return i;
}

static void
test_dns_query (void)
{
  guint8 m[600];
  SbxDnsQuestion q;
  size_t n = make_query (m, "WWW.Example.ORG", SBX_DNS_TYPE_AAAA);
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  g_assert_cmpstr (q.name, ==, "www.example.org");
  g_assert_true (q.plain);
  g_assert_cmpuint (q.qtype, ==, SBX_DNS_TYPE_AAAA);
  g_assert_cmpuint (q.qclass, ==, 1);
  g_assert_cmpuint (q.id, ==, 0x1234);
  g_assert_cmpuint (q.question_len, ==, n - 12);
  /* cut anywhere: refused */
  for (size_t cut = 0; cut < n; cut++)
    g_assert_false (sbx_dns_parse_query (m, cut, &q));
  /* a response, another opcode, two questions: not a query */
  sbx_put16 (m + 2, 0x8100);
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  sbx_put16 (m + 2, 0x0900);
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  sbx_put16 (m + 2, 0x0100);
  sbx_put16 (m + 4, 2);
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  sbx_put16 (m + 4, 1);
  /* a compression pointer */
  m[12] = 0xc0;
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  /* a label of 64 */
  g_autofree char *l64 = g_strnfill (64, 'a');
  g_autofree char *long_label = g_strconcat (l64, ".org", NULL);
  n = make_query (m, long_label, 1);
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  /* a name of 253 is taken, of 254 not */
  g_autofree char *l63 = g_strnfill (63, 'b');
  g_autofree char *c61 = g_strnfill (61, 'c'), *c62 = g_strnfill (62, 'c');
  g_autofree char *n253 = g_strdup_printf ("%s.%s.%s.%s", l63, l63, l63, c61);
  n = make_query (m, n253, 1);
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  g_assert_cmpuint (strlen (q.name), ==, 253);
  g_autofree char *n254 = g_strdup_printf ("%s.%s.%s.%s", l63, l63, l63, c62);
  n = make_query (m, n254, 1);
  g_assert_false (sbx_dns_parse_query (m, n, &q));
  /* the root */
  n = make_query (m, "", 2);
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  g_assert_cmpstr (q.name, ==, "");
  /* a '.' or a control byte inside a label */
  n = make_query (m, "xy.allowed.example", 1);
  m[14] = '.';
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  g_assert_cmpstr (q.name, ==, "x?.allowed.example");
  g_assert_false (q.plain);
  m[14] = '\033';
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  g_assert_cmpstr (q.name, ==, "x?.allowed.example");
}

static void
test_dns_reply (void)
{
  guint8 m[600], a[700], out[600];
  SbxDnsQuestion q;
  size_t n = make_query (m, "a.example", 1);
  g_assert_true (sbx_dns_parse_query (m, n, &q));
  size_t r = sbx_dns_build_reply (m, &q, SBX_DNS_NXDOMAIN, FALSE, out);
  g_assert_cmpuint (r, ==, n);
  g_assert_cmpuint (sbx_get16 (out), ==, 0x1234);
  g_assert_cmpuint (sbx_get16 (out + 2), ==, 0x8183); /* QR RD RA NXDOMAIN */
  g_assert_cmpmem (out + 12, n - 12, m + 12, n - 12);
  g_assert_true (sbx_dns_is_answer_to (out, r, m, &q, 0x1234));
  r = sbx_dns_build_reply (m, &q, SBX_DNS_NOERROR, TRUE, out);
  g_assert_cmpuint (sbx_get16 (out + 2), ==, 0x8380); /* TC */

  /* an answer to it: the id, QR, the question without case */
  memcpy (a, m, n);
  sbx_put16 (a + 2, 0x8180);
  a[13] = 'A';
  g_assert_true (sbx_dns_is_answer_to (a, n, m, &q, 0x1234));
  g_assert_false (sbx_dns_is_answer_to (a, n, m, &q, 0x1235));
  g_assert_false (sbx_dns_is_answer_to (a, n - 1, m, &q, 0x1234));
  sbx_put16 (a + n - 4, 28);
  g_assert_false (sbx_dns_is_answer_to (a, n, m, &q, 0x1234));
  sbx_put16 (a + n - 4, 1);
  a[14] = 'x';
  g_assert_false (sbx_dns_is_answer_to (a, n, m, &q, 0x1234));
  a[14] = '.';
  sbx_put16 (a + 2, 0x0100);
  g_assert_false (sbx_dns_is_answer_to (a, n, m, &q, 0x1234));
}

static void
test_dns_answer (void)
{
  guint8 m[2048];
  SbxDnsAnswer ans;
  /* A and AAAA, with their TTLs; records of other names are not taken. */
  size_t n = make_query (m, "www.example.org", 1);
  sbx_put16 (m + 2, 0x8180);
  guint8 v4[4] = { 192, 0, 2, 1 }, v4b[4] = { 192, 0, 2, 2 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
  n = add_record (m, n, NULL, 1, 300, v4, 4);
  n = add_record (m, n, "www.example.org", 1, 60, v4b, 4);
  n = add_record (m, n, "www.example.org", 28, 30, v6, 16);
  n = add_record (m, n, "evil.example", 1, 300, (guint8[]){ 6, 6, 6, 6 }, 4);
  g_assert_true (sbx_dns_parse_answer (m, n, &ans));
  g_assert_cmpuint (ans.rcode, ==, 0);
  g_assert_cmpuint (ans.n_addrs, ==, 3);
  g_assert_cmpmem (ans.addrs[0].addr, 4, v4, 4);
  g_assert_cmpuint (ans.ttls[0], ==, 300);
  g_assert_cmpuint (ans.ttls[1], ==, 60);
  g_assert_cmpuint (ans.addrs[2].family, ==, AF_INET6);
  g_assert_cmpuint (ans.ttls[2], ==, 30);
  for (guint i = 0; i < ans.n_addrs; i++)
    g_assert_false (ans.addrs[i].addr[0] == 6);
  sbx_dns_answer_clear (&ans);

  /* A CNAME chain: the end's addresses, with the smallest TTL on the way,
   * and the chain's names. */
  n = make_query (m, "alias.example.org", 1);
  sbx_put16 (m + 2, 0x8180);
  guint8 target[64];
  size_t t = encode_name (target, "step.cdn.example");
  n = add_record (m, n, NULL, 5, 120, target, t);
  t = encode_name (target, "edge.cdn.example");
  n = add_record (m, n, "step.cdn.example", 5, 40, target, t);
  n = add_record (m, n, "edge.cdn.example", 1, 300, v4, 4);
  g_assert_true (sbx_dns_parse_answer (m, n, &ans));
  g_assert_cmpuint (ans.n_addrs, ==, 1);
  g_assert_cmpuint (ans.ttls[0], ==, 40);
  g_assert_true (g_strv_contains ((const char *const *)ans.chain, "alias.example.org"));
  g_assert_true (g_strv_contains ((const char *const *)ans.chain, "step.cdn.example"));
  g_assert_true (g_strv_contains ((const char *const *)ans.chain, "edge.cdn.example"));
  sbx_dns_answer_clear (&ans);

  /* NXDOMAIN, no records: read, nothing in it. */
  n = make_query (m, "gone.example", 1);
  sbx_put16 (m + 2, 0x8183);
  g_assert_true (sbx_dns_parse_answer (m, n, &ans));
  g_assert_cmpuint (ans.rcode, ==, 3);
  g_assert_cmpuint (ans.n_addrs, ==, 0);
  sbx_dns_answer_clear (&ans);

  /* A record running past the end, a short header: not read. */
  n = make_query (m, "www.example.org", 1);
  sbx_put16 (m + 2, 0x8180);
  n = add_record (m, n, NULL, 1, 300, v4, 4);
  g_assert_false (sbx_dns_parse_answer (m, n - 2, &ans));
  g_assert_false (sbx_dns_parse_answer (m, 11, &ans));

  /* More addresses than are kept: the first ones. */
  n = make_query (m, "many.example", 1);
  sbx_put16 (m + 2, 0x8180);
  for (guint i = 0; i < SBX_DNS_MAX_ADDRS + 10; i++)
    n = add_record (m, n, NULL, 1, 300, (guint8[]){ 192, 0, 2, (guint8)i }, 4);
  g_assert_true (sbx_dns_parse_answer (m, n, &ans));
  g_assert_cmpuint (ans.n_addrs, ==, SBX_DNS_MAX_ADDRS);
  sbx_dns_answer_clear (&ans);

  char buf[8];
  g_assert_cmpstr (sbx_dns_type_name (28, buf), ==, "AAAA");
  g_assert_cmpstr (sbx_dns_type_name (4242, buf), ==, "4242");
}

/* ---- frames --------------------------------------------------------------------------------- */

typedef struct
{
  guint8 data[SBX_PACKET_BUILD_MAX];
  size_t len;
} Frame;

static const guint8 mac_sandbox[6] = { 0x02, 0, 0, 0, 0, 1 };
static const guint8 mac_gateway[6] = { 0x52, 0x55, 10, 0, 2, 2 };

/* A frame from the sandbox to @dst with @l4 (@l4_len bytes of @proto),
 * the transport checksum computed when @proto has one. */
static void
frame_to (Frame *f, const char *src, const char *dst, guint proto, const guint8 *l4, size_t l4_len)
{
  SbxNetAddr s = addr (src), d = addr (dst);
  memcpy (f->data, mac_gateway, 6);
  memcpy (f->data + 6, mac_sandbox, 6);
  guint8 *ip = f->data + ETH;
  size_t hlen;
  if (s.family == AF_INET)
    {
      sbx_put16 (f->data + 12, 0x0800);
      hlen = 20;
      memset (ip, 0, hlen);
      ip[0] = 0x45;
      sbx_put16 (ip + 2, (guint)(hlen + l4_len));
      ip[8] = 64;
      ip[9] = (guint8)proto;
      memcpy (ip + 12, s.addr, 4);
      memcpy (ip + 16, d.addr, 4);
      sbx_put16 (ip + 10, ~fold (sum_bytes (0, ip, hlen)) & 0xffff);
    }
  else
    {
      sbx_put16 (f->data + 12, 0x86dd);
      hlen = 40;
      memset (ip, 0, hlen);
      ip[0] = 0x60;
      sbx_put16 (ip + 4, (guint)l4_len);
      ip[6] = (guint8)(proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto);
      ip[7] = 64;
      memcpy (ip + 8, s.addr, 16);
      memcpy (ip + 24, d.addr, 16);
    }
  memcpy (ip + hlen, l4, l4_len);
  f->len = ETH + hlen + l4_len;
}

static void
tcp_to (Frame *f, const char *src, guint sport, const char *dst, guint dport, guint32 seq,
        guint32 ack, guint8 flags, const void *data, size_t len)
{
  guint8 l4[2048] = { 0 };
  sbx_put16 (l4, sport);
  sbx_put16 (l4 + 2, dport);
  sbx_put32 (l4 + 4, seq);
  sbx_put32 (l4 + 8, ack);
  size_t hlen = (flags & SBX_TCP_SYN) ? 24 : 20;
  l4[12] = (guint8)(hlen / 4 << 4);
  l4[13] = flags;
  sbx_put16 (l4 + 14, 65535);
  if (flags & SBX_TCP_SYN)
    {
      l4[20] = 2;
      l4[21] = 4;
      sbx_put16 (l4 + 22, 1460);
    }
  if (len > 0)
    memcpy (l4 + hlen, data, len);
  frame_to (f, src, dst, IPPROTO_TCP, l4, hlen + len);
}

static void
udp_to (Frame *f, const char *src, guint sport, const char *dst, guint dport, const void *data,
        size_t len)
{
  guint8 l4[2048] = { 0 };
  sbx_put16 (l4, sport);
  sbx_put16 (l4 + 2, dport);
  sbx_put16 (l4 + 4, (guint)(8 + len));
  memcpy (l4 + 8, data, len);
  frame_to (f, src, dst, IPPROTO_UDP, l4, 8 + len);
}

/* Checks a frame sbx-net built: addressed to the sandbox, its lengths and
 * every checksum right.  Returns its SbxPacket. */
static SbxPacket
check_built (const guint8 *frame, size_t len)
{
  SbxPacket p;
  g_assert_true (sbx_packet_parse (frame, len, &p));
  g_assert_cmpmem (frame, 6, mac_sandbox, 6);
  g_assert_cmpmem (frame + 6, 6, mac_gateway, 6);
  g_assert_cmpuint (ETH + p.ip_len, ==, len);
  guint alen = p.family == AF_INET ? 4 : 16;
  if (p.family == AF_INET)
    g_assert_cmpuint (fold (sum_bytes (0, p.ip, 20)), ==, 0xffff);
  if (p.proto != IPPROTO_ICMP)
    {
      guint32 sum = sum_bytes (0, p.src, alen);
      sum = sum_bytes (sum, p.dst, alen);
      sum += p.proto + (guint32)p.l4_len;
      g_assert_cmpuint (fold (sum_bytes (sum, p.l4, p.l4_len)), ==, 0xffff);
    }
  else
    g_assert_cmpuint (fold (sum_bytes (0, p.l4, p.l4_len)), ==, 0xffff);
  return p;
}

static void
test_packet (void)
{
  Frame f;
  guint8 out[SBX_PACKET_BUILD_MAX];
  SbxPacket p, r;

  /* A SYN gets RST|ACK with ack = seq + 1. */
  tcp_to (&f, "10.0.2.100", 40000, "203.0.113.5", 443, 1000, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  g_assert_cmpuint (p.mss, ==, 1460);
  size_t n = sbx_packet_build_rst (&p, out);
  r = check_built (out, n);
  g_assert_cmpuint (r.tcp_flags, ==, SBX_TCP_RST | SBX_TCP_ACK);
  g_assert_cmpuint (r.ack, ==, 1001);
  g_assert_cmpuint (r.sport, ==, 443);
  g_assert_cmpuint (r.dport, ==, 40000);
  g_assert_cmpmem (r.src, 4, p.dst, 4);

  /* An ACK gets a RST at its ack. */
  tcp_to (&f, "2001:db8::100", 40000, "2001:db8::5", 80, 5, 777, SBX_TCP_ACK, "x", 1);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  n = sbx_packet_build_rst (&p, out);
  r = check_built (out, n);
  g_assert_cmpuint (r.tcp_flags, ==, SBX_TCP_RST);
  g_assert_cmpuint (r.seq, ==, 777);

  /* A datagram gets "administratively prohibited", quoting it. */
  udp_to (&f, "10.0.2.100", 5000, "198.51.100.7", 443, "quic", 4);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  n = sbx_packet_build_unreachable (&p, out);
  r = check_built (out, n);
  g_assert_cmpuint (r.proto, ==, IPPROTO_ICMP);
  g_assert_cmpuint (r.l4[0], ==, 3);
  g_assert_cmpuint (r.l4[1], ==, 13);
  g_assert_cmpmem (r.l4 + 8, p.ip_len, p.ip, p.ip_len);
  udp_to (&f, "fd00::100", 5000, "2001:db8::7", 53, "dns", 3);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  n = sbx_packet_build_unreachable (&p, out);
  r = check_built (out, n);
  g_assert_cmpuint (r.proto, ==, IPPROTO_ICMPV6);
  g_assert_cmpuint (r.l4[0], ==, 1);
  g_assert_cmpuint (r.l4[1], ==, 1);
  /* a large one is quoted as far as 576 (1280) bytes let it */
  guint8 big[1400] = { 0 };
  udp_to (&f, "10.0.2.100", 5000, "198.51.100.7", 9, big, sizeof big);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  g_assert_cmpuint (sbx_packet_build_unreachable (&p, out), ==, ETH + 576);
  udp_to (&f, "fd00::100", 5000, "2001:db8::7", 9, big, sizeof big);
  g_assert_true (sbx_packet_parse (f.data, f.len, &p));
  g_assert_cmpuint (sbx_packet_build_unreachable (&p, out), ==, ETH + 1280);

  /* Bad transport lengths are not read. */
  tcp_to (&f, "10.0.2.100", 1, "192.0.2.1", 2, 0, 0, SBX_TCP_ACK, NULL, 0);
  f.data[ETH + 20 + 12] = 0xf0; /* data offset 60 > 20 */
  g_assert_false (sbx_packet_parse (f.data, f.len, &p));
  udp_to (&f, "10.0.2.100", 1, "192.0.2.1", 2, "ab", 2);
  sbx_put16 (f.data + ETH + 20 + 4, 20);
  g_assert_false (sbx_packet_parse (f.data, f.len, &p));

  SbxNetAddr m = addr ("::ffff:192.0.2.1"), n64 = addr ("64:ff9b::192.0.2.1"),
             o = addr ("2001:db8::1");
  g_assert_nonnull (sbx_packet_embedded_ipv4 (m.addr));
  g_assert_nonnull (sbx_packet_embedded_ipv4 (n64.addr));
  g_assert_null (sbx_packet_embedded_ipv4 (o.addr));
}

/* ---- egress.c and tcpdns.c, as the loop drives them ------------------------------------------ */

typedef struct
{
  GPtrArray *sent; /* GBytes: frames to the sandbox */
  SbxEgress *egress;
  int resolver_udp;
  int resolver_tcp;
  char *dir;
  int events[2];
} Rig;

static void
capture (const guint8 *frame, size_t len, gpointer user)
{
  Rig *rig = user;
  g_ptr_array_add (rig->sent, g_bytes_new (frame, len));
}

/* A policy, a "host resolver" on 127.0.0.1 (UDP and TCP, one port) named
 * in a resolv.conf of the test's own, and the --net-log pipe. */
static void
rig_init (Rig *rig, GPtrArray *allow, GPtrArray *deny)
{
  memset (rig, 0, sizeof *rig);
  rig->sent = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  rig->resolver_tcp = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t slen = sizeof sin;
  g_assert_cmpint (bind (rig->resolver_tcp, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (rig->resolver_tcp, 4), ==, 0);
  getsockname (rig->resolver_tcp, (struct sockaddr *)&sin, &slen);
  rig->resolver_udp = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (rig->resolver_udp, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  rig->dir = g_dir_make_tmp ("netpolicy-XXXXXX", NULL);
  g_autofree char *resolv = g_build_filename (rig->dir, "resolv.conf", NULL);
  g_assert_true (g_file_set_contents (
      resolv, "# a comment\nsearch example\nnameserver fe80::1%eth0\n nameserver\t127.0.0.1 \n", -1,
      NULL));
  g_assert_cmpint (pipe2 (rig->events, O_DIRECT | O_NONBLOCK | O_CLOEXEC), ==, 0);
  SbxEgressConfig c = {
    .allow = allow,
    .deny = deny,
    .mtu = 1500,
    .ipv6 = TRUE,
    .events_fd = rig->events[1],
    .report_fd = -1,
    .resolv_conf = resolv,
    .upstream_port = ntohs (sin.sin_port),
    .send = capture,
    .user = rig,
  };
  rig->egress = sbx_egress_new (&c);
}

static void
rig_clear (Rig *rig)
{
  sbx_egress_free (rig->egress);
  g_ptr_array_unref (rig->sent);
  close (rig->resolver_udp);
  close (rig->resolver_tcp);
  close (rig->events[0]);
  close (rig->events[1]);
  g_autofree char *resolv = g_build_filename (rig->dir, "resolv.conf", NULL);
  g_unlink (resolv);
  g_rmdir (rig->dir);
  g_free (rig->dir);
}

static SbxEgressAction
rig_input (Rig *rig, const Frame *f, gint64 now)
{
  g_ptr_array_set_size (rig->sent, 0);
  return sbx_egress_input (rig->egress, f->data, f->len, now);
}

/* One round of the loop: poll the egress's sockets (up to @ms), dispatch. */
static void
rig_round (Rig *rig, int ms, gint64 now)
{
  g_autoptr (GArray) pfds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  sbx_egress_fill (rig->egress, pfds);
  poll ((struct pollfd *)pfds->data, pfds->len, ms);
  sbx_egress_dispatch (rig->egress, (struct pollfd *)pfds->data, now);
}

static SbxNetEvent
next_event (Rig *rig)
{
  SbxNetEvent ev;
  g_assert_cmpint (read (rig->events[0], &ev, sizeof ev), ==, sizeof ev);
  return ev;
}

static SbxPacket
only_sent (Rig *rig)
{
  g_assert_cmpuint (rig->sent->len, ==, 1);
  gsize len;
  const guint8 *d = g_bytes_get_data (rig->sent->pdata[0], &len);
  return check_built (d, len);
}

static void
test_egress_flows (void)
{
  Rig rig;
  rig_init (&rig, rules ("--allow-net", "192.0.2.0/24", NULL),
            rules ("--deny-net", "192.0.2.66", NULL));
  Frame f;

  /* allowed: on to libslirp, logged once */
  tcp_to (&f, "10.0.2.100", 40000, "192.0.2.1", 80, 1, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);
  SbxNetEvent ev = next_event (&rig);
  g_assert_cmpuint (ev.kind, ==, SBX_NET_EVENT_CONNECT);
  g_assert_true (ev.allowed);
  g_assert_cmpuint (ev.list, ==, SBX_NET_LIST_ALLOW);
  g_assert_cmpuint (ev.port, ==, 80);
  g_assert_cmpint (rig_input (&rig, &f, 500), ==, SBX_EGRESS_PASS); /* the SYN again */
  g_assert_cmpint (read (rig.events[0], &ev, sizeof ev), <, 0);
  /* the rest of the connection is libslirp's, undecided */
  tcp_to (&f, "10.0.2.100", 40000, "192.0.2.1", 80, 2, 1, SBX_TCP_ACK, "GET", 3);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);
  tcp_to (&f, "10.0.2.100", 40000, "203.0.113.1", 80, 2, 1, SBX_TCP_ACK, "GET", 3);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);

  /* denied SYN: a reset, at once */
  tcp_to (&f, "10.0.2.100", 40001, "203.0.113.1", 443, 99, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  SbxPacket r = only_sent (&rig);
  g_assert_cmpuint (r.tcp_flags, ==, SBX_TCP_RST | SBX_TCP_ACK);
  g_assert_cmpuint (r.ack, ==, 100);
  ev = next_event (&rig);
  g_assert_false (ev.allowed);
  g_assert_cmpuint (ev.list, ==, SBX_NET_LIST_NONE);
  /* deny wins */
  tcp_to (&f, "10.0.2.100", 40002, "192.0.2.66", 443, 99, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  ev = next_event (&rig);
  g_assert_cmpuint (ev.list, ==, SBX_NET_LIST_DENY);
  g_assert_cmpuint (ev.rule, ==, 0);

  /* denied UDP: administratively prohibited; to a group address: nothing */
  udp_to (&f, "10.0.2.100", 5000, "8.8.8.8", 53, "q", 1);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  r = only_sent (&rig);
  g_assert_cmpuint (r.l4[1], ==, 13);
  udp_to (&f, "10.0.2.100", 5000, "224.0.0.251", 5353, "q", 1);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  g_assert_cmpuint (rig.sent->len, ==, 0);
  /* IPv6 */
  udp_to (&f, "fd00::100", 5000, "2001:db8::1", 443, "q", 1);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  r = only_sent (&rig);
  g_assert_cmpuint (r.proto, ==, IPPROTO_ICMPV6);
  /* an echo request: prohibited; neighbour discovery always passes */
  guint8 echo[8] = { 8, 0, 0, 0, 0, 7, 0, 1 };
  frame_to (&f, "10.0.2.100", "203.0.113.1", IPPROTO_ICMP, echo, sizeof echo);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  r = only_sent (&rig);
  g_assert_cmpuint (r.l4[0], ==, 3);
  frame_to (&f, "10.0.2.100", "192.0.2.9", IPPROTO_ICMP, echo, sizeof echo);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);
  guint8 ns[24] = { 135 };
  frame_to (&f, "fd00::100", "ff02::1:ff00:2", IPPROTO_ICMPV6, ns, sizeof ns);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);
  /* ARP is libslirp's */
  memset (f.data, 0, 42);
  sbx_put16 (f.data + 12, 0x0806);
  f.len = 42;
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_PASS);
  rig_clear (&rig);
}

/* Reads the query the "host resolver" got over UDP; answers it with
 * @addr4 for its name. */
static void
resolver_answer_udp (Rig *rig, const guint8 addr4[4], guint32 ttl)
{
  guint8 m[1500];
  struct sockaddr_storage from;
  socklen_t flen = sizeof from;
  ssize_t n = recvfrom (rig->resolver_udp, m, sizeof m, 0, (struct sockaddr *)&from, &flen);
  g_assert_cmpint (n, >, 12);
  sbx_put16 (m + 2, 0x8180);
  size_t len = add_record (m, (size_t)n, NULL, 1, ttl, addr4, 4);
  g_assert_cmpint (sendto (rig->resolver_udp, m, len, 0, (struct sockaddr *)&from, flen), ==,
                   (ssize_t)len);
}

static void
test_egress_dns (void)
{
  Rig rig;
  rig_init (&rig, rules ("--allow-net", "*.allowed.example:443", NULL), rules ("--deny-net", NULL));
  Frame f;
  guint8 q[600];

  /* a name no rule allows: NXDOMAIN at once, the resolver never asked */
  size_t n = make_query (q, "other.example", 1);
  udp_to (&f, "10.0.2.100", 33333, "10.0.2.3", 53, q, n);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  SbxPacket r = only_sent (&rig);
  g_assert_cmpuint (r.proto, ==, IPPROTO_UDP);
  g_assert_cmpuint (r.sport, ==, 53);
  g_assert_cmpuint (r.dport, ==, 33333);
  g_assert_cmpuint (sbx_get16 (r.data), ==, 0x1234);
  g_assert_cmpuint (r.data[3] & 0xf, ==, SBX_DNS_NXDOMAIN);
  SbxNetEvent ev = next_event (&rig);
  g_assert_cmpuint (ev.kind, ==, SBX_NET_EVENT_DNS);
  g_assert_false (ev.allowed);
  g_assert_cmpstr (ev.name, ==, "other.example");
  struct pollfd pu = { .fd = rig.resolver_udp, .events = POLLIN };
  g_assert_cmpint (poll (&pu, 1, 0), ==, 0);

  /* an allowed one: asked upstream with an id of its own; the answer goes
   * to the sandbox with the sandbox's id, and pins the address */
  n = make_query (q, "www.allowed.example", 1);
  udp_to (&f, "10.0.2.100", 33334, "10.0.2.3", 53, q, n);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  g_assert_cmpuint (rig.sent->len, ==, 0);
  g_assert_cmpint (poll (&pu, 1, 1000), ==, 1);
  const guint8 pinned[4] = { 203, 0, 113, 80 };
  resolver_answer_udp (&rig, pinned, 120);
  rig_round (&rig, 1000, 100);
  r = only_sent (&rig);
  g_assert_cmpuint (sbx_get16 (r.data), ==, 0x1234);
  g_assert_cmpuint (sbx_get16 (r.data + 6), ==, 1);
  ev = next_event (&rig);
  g_assert_true (ev.allowed);
  g_assert_cmpuint (ev.n_answers, ==, 1);
  g_assert_cmpuint (ev.ttl, ==, 120);
  tcp_to (&f, "10.0.2.100", 40000, "203.0.113.80", 443, 1, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 200), ==, SBX_EGRESS_PASS);
  ev = next_event (&rig);
  g_assert_cmpstr (ev.name, ==, "www.allowed.example");
  tcp_to (&f, "10.0.2.100", 40001, "203.0.113.80", 80, 1, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 200), ==, SBX_EGRESS_TAKEN);
  /* after the TTL, a new connection is refused */
  tcp_to (&f, "10.0.2.100", 40002, "203.0.113.80", 443, 1, 0, SBX_TCP_SYN, NULL, 0);
  g_assert_cmpint (rig_input (&rig, &f, 100 + 120 * 1000), ==, SBX_EGRESS_TAKEN);

  /* the resolver does not answer: SERVFAIL once its time is up */
  n = make_query (q, "slow.allowed.example", 1);
  udp_to (&f, "10.0.2.100", 33335, "10.0.2.3", 53, q, n);
  g_assert_cmpint (rig_input (&rig, &f, 1000), ==, SBX_EGRESS_TAKEN);
  g_assert_cmpint (sbx_egress_timeout (rig.egress, 1000), ==, SBX_EGRESS_UDP_TRY_MS);
  g_ptr_array_set_size (rig.sent, 0);
  rig_round (&rig, 0, 1000 + SBX_EGRESS_UDP_TRY_MS);
  r = only_sent (&rig);
  g_assert_cmpuint (r.data[3] & 0xf, ==, SBX_DNS_SERVFAIL);

  /* not a query: dropped */
  udp_to (&f, "10.0.2.100", 33336, "10.0.2.3", 53, "junk", 4);
  g_assert_cmpint (rig_input (&rig, &f, 0), ==, SBX_EGRESS_TAKEN);
  g_assert_cmpuint (rig.sent->len, ==, 0);
  rig_clear (&rig);
}

/* The sandbox's side of a TCP connection to 10.0.2.3:53. */
typedef struct
{
  Rig *rig;
  guint32 seq;    /* ours, next */
  guint32 ack;    /* what we acknowledge */
  GByteArray *in; /* the stream from sbx-net */
  gboolean fin;
} Client;

/* Takes in what sbx-net sent: data in order, its FIN. */
static void
client_take (Client *c)
{
  for (guint i = 0; i < c->rig->sent->len; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (c->rig->sent->pdata[i], &len);
      SbxPacket p = check_built (d, len);
      g_assert_cmpuint (p.proto, ==, IPPROTO_TCP);
      g_assert_false (p.tcp_flags & SBX_TCP_RST);
      if (p.tcp_flags & SBX_TCP_SYN)
        c->ack = p.seq + 1;
      else if (p.seq == c->ack)
        {
          g_byte_array_append (c->in, p.data, (guint)p.data_len);
          c->ack += (guint32)p.data_len;
          if (p.tcp_flags & SBX_TCP_FIN)
            {
              c->ack++;
              c->fin = TRUE;
            }
        }
    }
  g_ptr_array_set_size (c->rig->sent, 0);
}

static void
client_send (Client *c, guint8 flags, const void *data, size_t len, gint64 now)
{
  Frame f;
  tcp_to (&f, "10.0.2.100", 45000, "10.0.2.3", 53, c->seq, c->ack, flags, data, len);
  g_assert_cmpint (rig_input (c->rig, &f, now), ==, SBX_EGRESS_TAKEN);
  c->seq += (guint32)len + ((flags & (SBX_TCP_SYN | SBX_TCP_FIN)) ? 1 : 0);
  client_take (c);
}

static void
test_egress_tcp_dns (void)
{
  Rig rig;
  rig_init (&rig, rules ("--allow-net", "big.allowed.example", NULL), rules ("--deny-net", NULL));
  Client c = { &rig, 5000, 0, g_byte_array_new (), FALSE };
  guint8 q[600], msg[602];

  client_send (&c, SBX_TCP_SYN, NULL, 0, 0);
  client_send (&c, SBX_TCP_ACK, NULL, 0, 0);
  /* two denied names in one segment, the second cut in two segments */
  size_t n1 = make_query (q, "no.example", 1);
  sbx_put16 (msg, (guint)n1);
  memcpy (msg + 2, q, n1);
  size_t n2 = make_query (q, "nope.example", 28);
  sbx_put16 (msg + 2 + n1, (guint)n2);
  memcpy (msg + 4 + n1, q, n2);
  client_send (&c, SBX_TCP_ACK | SBX_TCP_PSH, msg, 2 + n1 + 5, 0);
  client_send (&c, SBX_TCP_ACK | SBX_TCP_PSH, msg + 2 + n1 + 5, n2 - 3, 0);
  g_assert_cmpuint (c.in->len, >=, 4);
  size_t a1 = sbx_get16 (c.in->data);
  g_assert_cmpuint (c.in->data[2 + 3] & 0xf, ==, SBX_DNS_NXDOMAIN);
  g_assert_cmpuint (c.in->len, ==, 2 + a1 + 2 + sbx_get16 (c.in->data + 2 + a1));
  g_byte_array_set_size (c.in, 0);

  /* an allowed one goes upstream over TCP */
  size_t n = make_query (q, "big.allowed.example", 1);
  sbx_put16 (msg, (guint)n);
  memcpy (msg + 2, q, n);
  client_send (&c, SBX_TCP_ACK | SBX_TCP_PSH, msg, 2 + n, 0);
  rig_round (&rig, 1000, 10); /* connected: the query goes */
  int conn = accept4 (rig.resolver_tcp, NULL, NULL, SOCK_CLOEXEC);
  g_assert_cmpint (conn, >=, 0);
  for (int i = 0; i < 5; i++)
    rig_round (&rig, 50, 10);
  guint8 up[2048];
  ssize_t got = recv (conn, up, sizeof up, 0);
  g_assert_cmpint (got, ==, (gssize)(2 + n));
  guint8 *m = up + 2;
  sbx_put16 (m + 2, 0x8180);
  size_t len = n;
  for (guint i = 0; i < 60; i++)
    len = add_record (m, len, NULL, 1, 300, (guint8[]){ 192, 0, 2, (guint8)i }, 4);
  sbx_put16 (up, (guint)len);
  g_assert_cmpint (send (conn, up, 2 + len, 0), ==, (gssize)(2 + len));
  close (conn);
  for (int i = 0; i < 5 && c.in->len < 2 + len; i++)
    {
      rig_round (&rig, 100, 20);
      client_take (&c);
      client_send (&c, SBX_TCP_ACK, NULL, 0, 20);
    }
  g_assert_cmpuint (c.in->len, ==, 2 + len);
  g_assert_cmpuint (sbx_get16 (c.in->data + 2), ==, 0x1234);
  g_assert_cmpuint (sbx_get16 (c.in->data + 2 + 6), ==, 60);
  /* the sandbox closes, sbx-net closes, the connection is gone */
  client_send (&c, SBX_TCP_ACK | SBX_TCP_FIN, NULL, 0, 30);
  g_assert_true (c.fin);
  client_send (&c, SBX_TCP_ACK, NULL, 0, 30);
  g_assert_cmpint (sbx_egress_timeout (rig.egress, 30), ==, -1);

  /* a segment of no connection is refused */
  Frame f;
  tcp_to (&f, "10.0.2.100", 45999, "10.0.2.3", 53, 1, 1, SBX_TCP_ACK, "x", 1);
  g_assert_cmpint (rig_input (&rig, &f, 40), ==, SBX_EGRESS_TAKEN);
  SbxPacket r = only_sent (&rig);
  g_assert_true (r.tcp_flags & SBX_TCP_RST);
  g_byte_array_unref (c.in);
  rig_clear (&rig);
}

/* tcpdns.c alone: retransmission until a reset, the table's limit. */
static guint n_frames;
static SbxPacket last;
static guint8 last_frame[SBX_PACKET_BUILD_MAX];

static void
keep_last (const guint8 *frame, size_t len, gpointer user)
{
  n_frames++;
  memcpy (last_frame, frame, len);
  last = check_built (last_frame, len);
}

static void
answer_nothing (gpointer user, guint32 conn, const SbxPeer *peer, const guint8 *msg, size_t len,
                gint64 now_ms)
{
  guint8 reply[4] = { 1, 2, 3, 4 };
  sbx_tcpdns_answer (user, conn, reply, sizeof reply, now_ms);
}

static void
test_tcpdns (void)
{
  SbxTcpDns *t = sbx_tcpdns_new (1500, answer_nothing, keep_last, NULL);
  Frame f;
  SbxPacket p;
  /* fill the table */
  for (guint i = 0; i < SBX_TCPDNS_CONNS + 1; i++)
    {
      tcp_to (&f, "10.0.2.100", 1000 + i, "10.0.2.3", 53, 7, 0, SBX_TCP_SYN, NULL, 0);
      g_assert_true (sbx_packet_parse (f.data, f.len, &p));
      sbx_tcpdns_input (t, &p, 0);
      g_assert_cmpuint (last.tcp_flags, ==,
                        i < SBX_TCPDNS_CONNS ? SBX_TCP_SYN | SBX_TCP_ACK
                                             : SBX_TCP_RST | SBX_TCP_ACK);
    }
  g_assert_cmpuint (sbx_tcpdns_count (t), ==, SBX_TCPDNS_CONNS);
  /* the SYN-ACKs are sent again, then the connections reset */
  n_frames = 0;
  for (gint64 now = 0; now < 120000; now += 100)
    sbx_tcpdns_run_timers (t, now);
  g_assert_cmpuint (sbx_tcpdns_count (t), ==, 0);
  g_assert_cmpuint (n_frames, >, SBX_TCPDNS_CONNS * 3);
  sbx_tcpdns_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/netrule/parse", test_parse);
  g_test_add_func ("/netrule/match", test_match);
  g_test_add_func ("/policy/decide", test_decide);
  g_test_add_func ("/policy/names", test_names);
  g_test_add_func ("/policy/flows", test_flows);
  g_test_add_func ("/dns/query", test_dns_query);
  g_test_add_func ("/dns/reply", test_dns_reply);
  g_test_add_func ("/dns/answer", test_dns_answer);
  g_test_add_func ("/packet/build", test_packet);
  g_test_add_func ("/egress/flows", test_egress_flows);
  g_test_add_func ("/egress/dns", test_egress_dns);
  g_test_add_func ("/egress/tcp-dns", test_egress_tcp_dns);
  g_test_add_func ("/tcpdns/timers", test_tcpdns);
  return g_test_run ();
}
