/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dns.c: the DNS messages of the egress policy (see dns.h). */
#include "config.h"

#include "bytes.h"
#include "dns.h"

#include <ares.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#define FLAG_QR   0x8000
#define FLAG_TC   0x0200
#define FLAG_RD   0x0100
#define FLAG_RA   0x0080
#define FLAG_CD   0x0010
#define OPCODE(f) (((f) >> 11) & 0xf)
#define MAX_NAME  253 /* in text, without the final dot (255 on the wire) */
#define MAX_LABEL 63

static gboolean
plain_char (guint8 c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

gboolean
sbx_dns_parse_query (const guint8 *msg, size_t len, SbxDnsQuestion *q)
{
  memset (q, 0, sizeof *q);
  if (len < SBX_DNS_HEADER)
    return FALSE;
  q->id = (guint16)sbx_get16 (msg);
  guint flags = sbx_get16 (msg + 2);
  if ((flags & FLAG_QR) || OPCODE (flags) != 0 || sbx_get16 (msg + 4) != 1)
    return FALSE;
  /* The name, label by label: each length byte checked against the end of
   * the message and the name's limit before a byte of it is read.  A
   * compression pointer (or any length above 63) is refused: nothing
   * precedes a query's only question for it to point at. */
  size_t i = SBX_DNS_HEADER, out = 0;
  q->plain = TRUE;
  for (;;)
    {
      if (i >= len)
        return FALSE;
      guint l = msg[i++];
      if (l == 0)
        break;
      if (l > MAX_LABEL || l > len - i || out + (out > 0) + l > MAX_NAME)
        return FALSE;
      if (out > 0)
        q->name[out++] = '.';
      for (guint k = 0; k < l; k++)
        {
          guint8 c = msg[i + k];
          /* Another byte (a '.' inside a label, a control character) is
           * shown as '?': the name is printed and logged, and no rule
           * allows a label holding one. */
          if (!plain_char (c))
            q->plain = FALSE;
          q->name[out++] = plain_char (c) ? g_ascii_tolower ((char)c) : '?';
        }
      i += l;
    }
  if (len - i < 4)
    return FALSE;
  q->name[out] = '\0';
  q->qtype = (guint16)sbx_get16 (msg + i);
  q->qclass = (guint16)sbx_get16 (msg + i + 2);
  q->question_len = i + 4 - SBX_DNS_HEADER;
  return TRUE;
}

gboolean
sbx_dns_is_answer_to (const guint8 *msg, size_t len, const guint8 *query, const SbxDnsQuestion *q,
                      guint16 id)
{
  size_t end = SBX_DNS_HEADER + q->question_len;
  if (len < end || sbx_get16 (msg) != id || !(sbx_get16 (msg + 2) & FLAG_QR)
      || OPCODE (sbx_get16 (msg + 2)) != 0 || sbx_get16 (msg + 4) != 1)
    return FALSE;
  /* The name without case (resolvers may keep a 0x20-randomised query's
   * case, or not), its type and class exactly. */
  for (size_t i = SBX_DNS_HEADER; i < end - 4; i++)
    if (g_ascii_tolower ((char)msg[i]) != g_ascii_tolower ((char)query[i]))
      return FALSE;
  return memcmp (msg + end - 4, query + end - 4, 4) == 0;
}

size_t
sbx_dns_build_reply (const guint8 *query, const SbxDnsQuestion *q, guint rcode, gboolean truncated,
                     guint8 *out)
{
  guint flags = sbx_get16 (query + 2);
  memmove (out, query, SBX_DNS_HEADER + q->question_len);
  /* An answer (QR) from a server that recurses (RA), to the query's
   * recursion and checking wishes; no answer, authority or additional
   * record (the query's EDNS record goes too). */
  sbx_put16 (out + 2, FLAG_QR | (flags & (FLAG_RD | FLAG_CD)) | FLAG_RA | (truncated ? FLAG_TC : 0)
                          | (rcode & 0xf));
  sbx_put16 (out + 4, 1);
  sbx_put16 (out + 6, 0);
  sbx_put16 (out + 8, 0);
  sbx_put16 (out + 10, 0);
  return SBX_DNS_HEADER + q->question_len;
}

/* Adds @name to @chain (lower case) unless it is there. */
static void
chain_add (GPtrArray *chain, const char *name)
{
  if (name == NULL || name[0] == '\0')
    return;
  g_autofree char *lower = g_ascii_strdown (name, -1);
  size_t n = strlen (lower);
  if (n > 0 && lower[n - 1] == '.')
    lower[n - 1] = '\0';
  for (guint i = 0; i < chain->len; i++)
    if (strcmp (chain->pdata[i], lower) == 0)
      return;
  g_ptr_array_add (chain, g_steal_pointer (&lower));
}

/* The names of the CNAME records of the answer section (owners and
 * targets, every one: a superset of the chain c-ares followed), read with
 * c-ares's name expansion; the fixed fields of a record are checked
 * against the end of the message before they are read. */
static void
chain_add_cnames (GPtrArray *chain, const guint8 *msg, size_t len)
{
  const guint8 *p = msg + SBX_DNS_HEADER, *end = msg + len;
  guint qd = sbx_get16 (msg + 4), an = sbx_get16 (msg + 6);
  for (guint i = 0; i < qd + an; i++)
    {
      char *owner = NULL;
      long used;
      if (ares_expand_name (p, msg, (int)len, &owner, &used) != ARES_SUCCESS)
        return;
      p += used;
      size_t fixed = i < qd ? 4 : 10;
      if ((size_t)(end - p) < fixed)
        {
          ares_free_string (owner);
          return;
        }
      guint type = sbx_get16 (p);
      size_t rdlen = i < qd ? 0 : sbx_get16 (p + 8);
      p += fixed;
      if ((size_t)(end - p) < rdlen)
        {
          ares_free_string (owner);
          return;
        }
      char *target = NULL;
      if (i >= qd && type == 5 /* CNAME */
          && ares_expand_name (p, msg, (int)len, &target, &used) == ARES_SUCCESS)
        {
          chain_add (chain, owner);
          chain_add (chain, target);
          ares_free_string (target);
        }
      ares_free_string (owner);
      p += rdlen;
    }
}

gboolean
sbx_dns_parse_answer (const guint8 *msg, size_t len, SbxDnsAnswer *a)
{
  memset (a, 0, sizeof *a);
  if (len < SBX_DNS_HEADER || len > INT_MAX)
    return FALSE;
  a->rcode = msg[3] & 0xf;
  struct ares_addrttl v4[SBX_DNS_MAX_ADDRS];
  struct ares_addr6ttl v6[SBX_DNS_MAX_ADDRS];
  int n4 = SBX_DNS_MAX_ADDRS, n6 = SBX_DNS_MAX_ADDRS;
  /* c-ares follows the CNAME chain from the question's name and keeps the
   * addresses of its end, each with the smallest TTL along the chain. */
  int r4 = ares_parse_a_reply (msg, (int)len, NULL, v4, &n4);
  int r6 = ares_parse_aaaa_reply (msg, (int)len, NULL, v6, &n6);
  gboolean ok4 = r4 == ARES_SUCCESS, ok6 = r6 == ARES_SUCCESS;
  if (!ok4)
    n4 = 0;
  if (!ok6)
    n6 = 0;
  GPtrArray *chain = g_ptr_array_new ();
  chain_add_cnames (chain, msg, len);
  g_ptr_array_add (chain, NULL);
  a->chain = (char **)g_ptr_array_free (chain, FALSE);
  if (!ok4 && !ok6 && (r4 != ARES_ENODATA || r6 != ARES_ENODATA))
    {
      /* Not readable as an answer with addresses: one without records
       * (NXDOMAIN, a refusal) is still an answer. */
      if (sbx_get16 (msg + 6) != 0)
        {
          sbx_dns_answer_clear (a);
          return FALSE;
        }
      return TRUE;
    }
  for (int i = 0; i < n4; i++)
    {
      SbxNetAddr *x = &a->addrs[a->n_addrs];
      x->family = AF_INET;
      memcpy (x->addr, &v4[i].ipaddr, 4);
      a->ttls[a->n_addrs++] = v4[i].ttl > 0 ? (guint32)v4[i].ttl : 0;
    }
  for (int i = 0; i < n6; i++)
    {
      SbxNetAddr *x = &a->addrs[a->n_addrs];
      x->family = AF_INET6;
      memcpy (x->addr, &v6[i].ip6addr, 16);
      a->ttls[a->n_addrs++] = v6[i].ttl > 0 ? (guint32)v6[i].ttl : 0;
    }
  return TRUE;
}

void
sbx_dns_answer_clear (SbxDnsAnswer *a)
{
  g_strfreev (a->chain);
  a->chain = NULL;
  a->n_addrs = 0;
}

const char *
sbx_dns_type_name (guint qtype, char buf[8])
{
  static const struct
  {
    guint type;
    const char *name;
  } types[] = {
    { 1, "A" },     { 2, "NS" },     { 5, "CNAME" }, { 6, "SOA" },
    { 12, "PTR" },  { 15, "MX" },    { 16, "TXT" },  { 28, "AAAA" },
    { 33, "SRV" },  { 35, "NAPTR" }, { 43, "DS" },   { 48, "DNSKEY" },
    { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" }, { 257, "CAA" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i].type == qtype)
      return types[i].name;
  g_snprintf (buf, 8, "%u", qtype);
  return buf;
}
