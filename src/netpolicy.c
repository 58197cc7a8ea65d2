/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netpolicy.c: the rules of the egress policy (see netpolicy.h). */
#include "config.h"

#include "netpolicy.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define RULE_FORMS "CIDR[:PORTS][/tcp|/udp], NAME[:PORTS], *.NAME[:PORTS], private or host"

void
sbx_netrule_free (SbxNetRule *rule)
{
  if (rule == NULL)
    return;
  g_free (rule->name);
  g_free (rule->text);
  g_free (rule);
}

static gboolean SBX_PRINTF (4, 5)
    fail (GError **error, const char *option, const char *text, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: '%s': %s", option, text, what);
  return FALSE;
}

/* The address blocks of the presets.  "private": RFC 1918, the carrier-grade
 * NAT block (RFC 6598), IPv4 link-local (which holds the cloud metadata
 * service, 169.254.169.254), unique local IPv6 (RFC 4193) and IPv6
 * link-local.  "host": slirp's addresses of the host, which reach its
 * loopback with --allow-host-loopback. */
static const char *const preset_private[]
    = { "10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "169.254.0.0/16", "fc00::/7",      "fe80::/10",      NULL };
static const char *const preset_host[] = { "10.0.2.2/32", "fd00::2/128", NULL };

/* PORT or LO-HI. */
static gboolean
parse_ports (const char *option, const char *rule_text, const char *text, SbxNetRule *r,
             GError **error)
{
  g_autofree char *lo = g_strdup (text);
  char *dash = strchr (lo, '-');
  const char *hi = NULL;
  if (dash != NULL)
    {
      *dash = '\0';
      hi = dash + 1;
    }
  if (!sbx_util_parse_port (lo, &r->port_lo)
      || !sbx_util_parse_port (hi != NULL ? hi : lo, &r->port_hi))
    return fail (error, option, rule_text, "a port is a number from 1 to 65535, a range LOW-HIGH");
  if (r->port_lo > r->port_hi)
    return fail (error, option, rule_text, "the port range %u-%u goes backwards", r->port_lo,
                 r->port_hi);
  r->any_port = FALSE;
  return TRUE;
}

/* Clears the bits of @addr after the first @prefix. */
static void
mask_addr (guint8 *addr, guint len, guint prefix)
{
  for (guint i = 0; i < len; i++)
    {
      guint bits = prefix > i * 8 ? MIN (prefix - i * 8, 8) : 0;
      addr[i] &= (guint8)(0xff00 >> bits);
    }
}

/* ADDRESS[/PREFIX] into @r; FALSE without an error when @text is not an
 * address at all (it may be a name), with one when it is a bad network. */
static gboolean
parse_network (const char *option, const char *rule_text, const char *text, SbxNetRule *r,
               gboolean *is_network, GError **error)
{
  g_autofree char *addr = g_strdup (text);
  char *slash = strchr (addr, '/');
  if (slash != NULL)
    *slash = '\0';
  *is_network = TRUE;
  if (inet_pton (AF_INET, addr, r->addr) == 1)
    r->family = AF_INET;
  else if (inet_pton (AF_INET6, addr, r->addr) == 1)
    r->family = AF_INET6;
  else
    {
      *is_network = FALSE;
      return FALSE;
    }
  guint bits = r->family == AF_INET ? 32 : 128;
  guint64 v = bits;
  if (slash != NULL && !sbx_util_parse_u64 (slash + 1, bits, &v))
    return fail (error, option, rule_text, "the prefix of an %s network is a length from 0 to %u",
                 r->family == AF_INET ? "IPv4" : "IPv6", bits);
  r->prefix = (guint)v;
  r->kind = SBX_NETRULE_NETWORK;
  mask_addr (r->addr, bits / 8, r->prefix);
  /* sbx-net drops every frame to the host's loopback (frame.c): a rule for
   * it could never match, and means 10.0.2.2. */
  static const guint8 loopback6[16] = { [15] = 1 };
  if ((r->family == AF_INET && r->prefix >= 8 && r->addr[0] == 127)
      || (r->family == AF_INET6 && r->prefix == 128 && memcmp (r->addr, loopback6, 16) == 0))
    return fail (error, option, rule_text,
                 "the host's loopback is never reached at its own address; it is 10.0.2.2 "
                 "inside (the rule 'host', with --allow-host-loopback)");
  return TRUE;
}

/* A DNS name as a rule names it: letters, digits, '-' and '_' in labels of
 * 1 to 63, at most 253 in all.  A single label is taken only with a final
 * dot ("intranet."), or below "*.": alone it is more likely a preset
 * misspelt.  Lower-cased, the final dot dropped. */
static char *
parse_name (const char *text, gboolean subdomains)
{
  g_autofree char *name = g_ascii_strdown (text, -1);
  size_t len = strlen (name);
  gboolean absolute = len > 0 && name[len - 1] == '.';
  if (absolute)
    name[--len] = '\0';
  if (len == 0 || len > 253)
    return NULL;
  g_auto (GStrv) labels = g_strsplit (name, ".", -1);
  guint n = g_strv_length (labels);
  gboolean all_digits = TRUE;
  for (guint i = 0; i < n; i++)
    {
      size_t l = strlen (labels[i]);
      if (l == 0 || l > 63 || labels[i][0] == '-' || labels[i][l - 1] == '-')
        return NULL;
      all_digits = TRUE;
      for (const char *c = labels[i]; *c != '\0'; c++)
        {
          if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
            return NULL;
          all_digits = all_digits && g_ascii_isdigit (*c);
        }
    }
  /* "10.1" is an address typed short, not a name: no top-level domain is
   * all digits. */
  if (all_digits || (n < 2 && !absolute && !subdomains))
    return NULL;
  return g_steal_pointer (&name);
}

static SbxNetRule *
rule_new (const char *text, guint index)
{
  SbxNetRule *r = g_new0 (SbxNetRule, 1);
  r->text = g_strdup (text);
  r->index = index;
  r->port_lo = 0;
  r->port_hi = 65535;
  r->any_port = TRUE;
  return r;
}

/* A preset: one rule per block, each with the preset's ports and
 * protocol. */
static void
add_preset (const char *const *blocks, const SbxNetRule *shape, gboolean host, GPtrArray *out)
{
  for (const char *const *b = blocks; *b != NULL; b++)
    {
      SbxNetRule *r = rule_new (shape->text, shape->index);
      gboolean is_network;
      parse_network ("", "", *b, r, &is_network, NULL);
      r->port_lo = shape->port_lo;
      r->port_hi = shape->port_hi;
      r->any_port = shape->any_port;
      r->proto = shape->proto;
      r->host = host;
      g_ptr_array_add (out, r);
    }
}

gboolean
sbx_netrule_parse (const char *option, const char *text, guint index, GPtrArray *out,
                   GError **error)
{
  g_autoptr (SbxNetRule) r = rule_new (text, index);
  g_autofree char *body = g_strdup (text);
  size_t len = strlen (body);
  const char *ports = NULL;
  char *target = body;
  gboolean bracketed = FALSE;

  if (len == 0)
    return fail (error, option, text, "an empty rule (the forms are " RULE_FORMS ")");
  if (len > 4 && (strcmp (body + len - 4, "/tcp") == 0 || strcmp (body + len - 4, "/udp") == 0))
    {
      r->proto = body[len - 3] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
      body[len - 4] = '\0';
    }
  g_autofree char *bracketed_target = NULL;
  if (body[0] == '[')
    {
      /* [ADDRESS], [ADDRESS/PREFIX] or [ADDRESS]/PREFIX, then :PORTS. */
      char *close = strchr (body, ']');
      if (close == NULL)
        return fail (error, option, text, "a '[' without its ']'");
      *close = '\0';
      char *rest = close + 1;
      g_autofree char *prefix = NULL;
      if (rest[0] == '/')
        {
          size_t n = strcspn (rest, ":");
          prefix = g_strndup (rest, n);
          rest += n;
        }
      if (rest[0] == ':')
        ports = rest + 1;
      else if (rest[0] != '\0')
        return fail (error, option, text, "after ']' comes ':PORTS' or nothing");
      if (prefix != NULL && strchr (body + 1, '/') != NULL)
        return fail (error, option, text, "two prefix lengths");
      bracketed_target = g_strconcat (body + 1, prefix != NULL ? prefix : "", NULL);
      target = bracketed_target;
      bracketed = TRUE;
    }
  else
    {
      /* One ':' separates the ports; more make an IPv6 address. */
      char *colon = strchr (body, ':');
      if (colon != NULL && strchr (colon + 1, ':') == NULL)
        {
          *colon = '\0';
          ports = colon + 1;
        }
    }
  if (ports != NULL && !parse_ports (option, text, ports, r, error))
    return FALSE;

  gboolean is_network;
  if (parse_network (option, text, target, r, &is_network, error))
    {
      g_ptr_array_add (out, g_steal_pointer (&r));
      return TRUE;
    }
  if (is_network)
    return FALSE;
  if (bracketed || strchr (target, '/') != NULL || strchr (target, ':') != NULL)
    return fail (error, option, text, "'%s' is not an IPv4 or IPv6 network", target);
  if (strcmp (target, "private") == 0)
    {
      add_preset (preset_private, r, FALSE, out);
      return TRUE;
    }
  if (strcmp (target, "host") == 0)
    {
      add_preset (preset_host, r, TRUE, out);
      return TRUE;
    }
  gboolean subdomains = g_str_has_prefix (target, "*.");
  g_autofree char *name = parse_name (subdomains ? target + 2 : target, subdomains);
  if (name == NULL)
    return fail (error, option, text, "not a rule (the forms are " RULE_FORMS ")");
  r->kind = subdomains ? SBX_NETRULE_SUBDOMAINS : SBX_NETRULE_NAME;
  r->name = g_steal_pointer (&name);
  g_ptr_array_add (out, g_steal_pointer (&r));
  return TRUE;
}

gboolean
sbx_netrule_match_addr (const SbxNetRule *rule, int family, const guint8 *addr)
{
  if (rule->kind != SBX_NETRULE_NETWORK || rule->family != family)
    return FALSE;
  guint whole = rule->prefix / 8, rest = rule->prefix % 8;
  if (memcmp (rule->addr, addr, whole) != 0)
    return FALSE;
  return rest == 0 || ((addr[whole] ^ rule->addr[whole]) & (guint8)(0xff00 >> rest)) == 0;
}

gboolean
sbx_netrule_match_port (const SbxNetRule *rule, guint proto, guint port)
{
  if (rule->proto != 0 && rule->proto != proto)
    return FALSE;
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
    return rule->any_port && rule->proto == 0;
  return port >= rule->port_lo && port <= rule->port_hi;
}

gboolean
sbx_netrule_match_name (const SbxNetRule *rule, const char *name)
{
  if (rule->kind == SBX_NETRULE_NAME)
    return strcmp (rule->name, name) == 0;
  if (rule->kind != SBX_NETRULE_SUBDOMAINS)
    return FALSE;
  size_t n = strlen (name), s = strlen (rule->name);
  return n > s + 1 && name[n - s - 1] == '.' && strcmp (name + n - s, rule->name) == 0;
}
