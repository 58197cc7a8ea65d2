/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spec.c: SbxSpec, the option table shared by the command line and profiles,
 * and validation of everything before anything is created. */
#include "config.h"

#include "spec.h"
#include "netpolicy.h"
#include "rootfs.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <limits.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/capability.h>
#include <sys/stat.h>

GQuark
sbx_spec_error_quark (void)
{
  return g_quark_from_static_string ("sbx-spec-error-quark");
}

/* Returns FALSE with a usage error "OPTION: ..." in the contract's form. */
static gboolean SBX_PRINTF (3, 4) fail (GError **error, const char *option, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_USAGE, "%s: %s", option, what);
  return FALSE;
}

/* The same for what the host says (a missing path, a directory that is not
 * a layer): no "Try --help" follows, the options were well formed. */
static gboolean SBX_PRINTF (3, 4)
    fail_host (GError **error, const char *option, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_HOST, "%s: %s", option, what);
  return FALSE;
}

SbxSpec *
sbx_spec_new (void)
{
  SbxSpec *spec = g_new0 (SbxSpec, 1);
  spec->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_mount_free);
  spec->env = g_ptr_array_new_with_free_func (g_free);
  spec->layers = g_ptr_array_new_with_free_func (g_free);
  spec->net = SBX_NET_SLIRP;
  spec->mtu = SBX_MTU_DEFAULT;
  spec->publish = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_publish_free);
  spec->net_allow = g_ptr_array_new_with_free_func (g_free);
  spec->net_deny = g_ptr_array_new_with_free_func (g_free);
  spec->created = g_ptr_array_new_with_free_func (g_free);
  spec->identity = SBX_ID_KEEP;
  spec->upper_size = g_strdup (SBX_UPPER_SIZE_DEFAULT);
  spec->tmp_size = g_strdup (SBX_TMP_SIZE_DEFAULT);
  spec->shm_size = g_strdup (SBX_SHM_SIZE_DEFAULT);
  return spec;
}

void
sbx_mount_free (SbxMount *mount)
{
  if (mount == NULL)
    return;
  g_free (mount->src);
  g_free (mount->dst);
  g_free (mount->option);
  g_free (mount);
}

void
sbx_spec_free (SbxSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->cwd);
  g_free (spec->user_name);
  g_ptr_array_unref (spec->mounts);
  g_free (spec->workdir);
  g_free (spec->rootfs);
  g_ptr_array_unref (spec->layers);
  g_free (spec->upper);
  g_free (spec->upper_work);
  g_free (spec->fuse_overlayfs);
  g_free (spec->upper_size);
  g_free (spec->tmp_size);
  g_free (spec->shm_size);
  g_free (spec->memory_text);
  g_ptr_array_unref (spec->publish);
  g_ptr_array_unref (spec->net_allow);
  g_ptr_array_unref (spec->net_deny);
  g_free (spec->net_allow_host);
  g_free (spec->net_log);
  g_ptr_array_unref (spec->created);
  g_free (spec->hostname);
  g_free (spec->name);
  g_free (spec->profile);
  g_ptr_array_unref (spec->env);
  g_strfreev (spec->argv);
  g_free (spec);
}

/* ---- pure parsers ---------------------------------------------------- */

/* An absolute path inside the sandbox, canonical without touching any
 * filesystem: "/a/./b//c/../d" -> "/a/b/d".  ".." cannot climb above "/". */
static gboolean
parse_inside_path (const char *option, const char *text, char **out, GError **error)
{
  if (text[0] != '/')
    return fail (error, option, "'%s' is not an absolute path", text);
  *out = g_canonicalize_filename (text, "/");
  return TRUE;
}

gboolean
sbx_spec_check_mount_dst (const char *option, const char *text, const char *dst, GError **error)
{
  const char *own = sbx_rootfs_reserved (dst);
  if (own == NULL)
    return TRUE;
  if (strcmp (dst, "/") == 0)
    return fail (error, option, "'%s': cannot mount over / (use --rootfs)", text);
  if (strcmp (own, dst) == 0)
    return fail (error, option, "'%s': cannot mount over %s, which sbx makes for the sandbox", text,
                 dst);
  return fail (error, option,
               "'%s': cannot mount on %s, inside %s, which sbx makes for the sandbox", text, dst,
               own);
}

gboolean
sbx_spec_parse_bind (const char *text, gboolean force_ro, SbxMount **out, GError **error)
{
  const char *option = force_ro ? "--ro-bind" : "--bind";
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  guint n = g_strv_length (parts);
  gboolean ro = force_ro;

  if (text[0] == '\0')
    return fail (error, option, "empty value");
  /* SRC:DST:MODE, or SRC:MODE: the one mode is ro.  Other tools' words
   * (rw, z, shared...) are refused rather than taken for a path or
   * ignored: a bind does what it says or nothing. */
  if (n >= 2 && strcmp (parts[n - 1], "ro") == 0)
    {
      ro = TRUE;
      n--;
    }
  else if (n == 3 && parts[2][0] != '/')
    return fail (error, option, "'%s': '%s' is not a mode (the only one is ro)", text, parts[2]);
  else if (n == 2 && parts[1][0] != '/' && parts[1][0] != '\0' && strchr (parts[1], '/') == NULL)
    return fail (error, option, "'%s': '%s' is neither an absolute DST nor the mode ro", text,
                 parts[1]);
  if (n == 0 || n > 2 || parts[0][0] == '\0')
    return fail (error, option, "'%s' is not SRC[:DST]%s (':' in a path is not supported)", text,
                 force_ro ? "" : "[:ro]");

  g_autoptr (GString) option_text = g_string_new (option);
  g_string_append_printf (option_text, " %s", text);
  SbxMount *m = g_new0 (SbxMount, 1);
  m->kind = SBX_MOUNT_BIND;
  m->ro = ro;
  m->option = g_string_free (g_steal_pointer (&option_text), FALSE);
  m->src = g_strdup (parts[0]);
  const char *dst = n == 2 ? parts[1] : parts[0];
  if (n == 2 && dst[0] == '\0')
    {
      sbx_mount_free (m);
      return fail (error, option, "'%s': empty destination", text);
    }
  /* Without an explicit DST a relative SRC is bound at its absolute host path;
   * validation resolves it against the cwd. */
  if (n == 1 && dst[0] != '/')
    {
      *out = m;
      return TRUE;
    }
  if (!parse_inside_path (option, dst, &m->dst, error))
    {
      sbx_mount_free (m);
      return FALSE;
    }
  if (!sbx_spec_check_mount_dst (option, text, m->dst, error))
    {
      sbx_mount_free (m);
      return FALSE;
    }
  *out = m;
  return TRUE;
}

gboolean
sbx_spec_parse_tmpfs (const char *text, SbxMount **out, GError **error)
{
  g_autofree char *path = g_strdup (text);
  char *colon = strchr (path, ':');
  guint64 size = 0;

  if (colon != NULL)
    {
      *colon = '\0';
      if (!sbx_util_parse_size (colon + 1, &size) || size == 0)
        return fail (error, "--tmpfs", "'%s' is not a size (use e.g. 64M or 1G)", colon + 1);
    }
  g_autofree char *dst = NULL;
  if (!parse_inside_path ("--tmpfs", path, &dst, error))
    return FALSE;
  if (!sbx_spec_check_mount_dst ("--tmpfs", text, dst, error))
    return FALSE;

  SbxMount *m = g_new0 (SbxMount, 1);
  m->kind = SBX_MOUNT_TMPFS;
  m->dst = g_steal_pointer (&dst);
  m->size = size;
  m->option = g_strdup_printf ("--tmpfs %s", text);
  *out = m;
  return TRUE;
}

/* The cap of a tmpfs sbx makes, in the form tmpfs's "size=" takes: "N%"
 * (N from 1 to 100) stays a percentage, which tmpfs computes against the
 * RAM itself; a size (64M, 1.5G) becomes a number of bytes. */
gboolean
sbx_spec_parse_tmpfs_size (const char *option, const char *text, char **out, GError **error)
{
  size_t len = strlen (text);
  guint64 v;

  if (len > 1 && text[len - 1] == '%')
    {
      g_autofree char *digits = g_strndup (text, len - 1);
      if (!sbx_util_parse_u64 (digits, 100, &v) || v == 0)
        return fail (
            error, option,
            "'%s' is not a size (a percentage of the RAM is a whole number from 1%% to 100%%)",
            text);
      *out = g_strdup_printf ("%" G_GUINT64_FORMAT "%%", v);
      return TRUE;
    }
  if (!sbx_util_parse_size (text, &v) || v == 0)
    return fail (error, option, "'%s' is not a size above zero (use e.g. 64M, 1.5G or 10%%)", text);
  /* tmpfs rounds bytes up to pages (DIV_ROUND_UP), which wraps to 0 pages,
   * no cap at all, within the last page (64K at most) below 2^64. */
  if (v > G_MAXUINT64 - 65535)
    return fail (error, option, "'%s' is too large for a tmpfs", text);
  *out = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
  return TRUE;
}

gboolean
sbx_spec_hostname_valid (const char *name)
{
  size_t len = strlen (name);
  if (len == 0 || len > HOST_NAME_MAX)
    return FALSE;
  /* RFC 1123 labels: letters, digits and inner hyphens, 1..63 bytes each. */
  g_auto (GStrv) labels = g_strsplit (name, ".", -1);
  for (char **l = labels; *l; l++)
    {
      size_t n = strlen (*l);
      if (n == 0 || n > 63 || (*l)[0] == '-' || (*l)[n - 1] == '-')
        return FALSE;
      for (const char *c = *l; *c; c++)
        if (!g_ascii_isalnum (*c) && *c != '-')
          return FALSE;
    }
  return TRUE;
}

/* A signed number of seconds, as `unshare --monotonic` takes. */
static gboolean
parse_offset (const char *option, const char *text, gint64 *out, GError **error)
{
  gboolean neg = text[0] == '-';
  guint64 v;

  /* The kernel keeps offsets within KTIME_SEC_MAX / 2; this bound only keeps
   * the number sane, the kernel has the last word. */
  if (!sbx_util_parse_u64 (text + (neg ? 1 : 0), G_MAXINT64 / 1000000000, &v))
    return fail (error, option, "'%s' is not a whole number of seconds", text);
  *out = neg ? -(gint64)v : (gint64)v;
  return TRUE;
}

/* ---- option setters (one per `sbx run` option) ------------------------ */

gboolean
sbx_spec_parse_on_off (const char *option, const char *value, gboolean *on, GError **error)
{
  static const char *const yes[] = { "true", "yes", "1" }, *const no[] = { "false", "no", "0" };
  if (value == NULL)
    {
      *on = TRUE;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    if (strcmp (value, yes[i]) == 0 || strcmp (value, no[i]) == 0)
      {
        *on = strcmp (value, yes[i]) == 0;
        return TRUE;
      }
  return fail (error, option, "'%s' is not one of true, false, yes, no, 1, 0", value);
}

/* The setter of an on/off option: --opt, --opt=true|false|yes|no|1|0 (or
 * the same words in a profile) into @field; anything else is refused. */
#define SWITCH_SETTER(fn, option, field)                                                           \
  static gboolean fn (SbxSpec *spec, const char *value, GError **error)                            \
  {                                                                                                \
    return sbx_spec_parse_on_off (option, value, &spec->field, error);                             \
  }

static gboolean
set_map_root (SbxSpec *spec, const char *value, GError **error)
{
  gboolean on;
  if (!sbx_spec_parse_on_off ("--map-root", value, &on, error))
    return FALSE;
  /* --map-root=false is keep-id, whatever a profile said. */
  spec->identity = on ? SBX_ID_ROOT : SBX_ID_KEEP;
  return TRUE;
}

SWITCH_SETTER (set_no_subids, "--no-subids", no_subids)
SWITCH_SETTER (set_allow_host_loopback, "--allow-host-loopback", allow_host_loopback)
SWITCH_SETTER (set_no_ipv6, "--no-ipv6", no_ipv6)
SWITCH_SETTER (set_clearenv, "--clearenv", clearenv)
SWITCH_SETTER (set_share_tty, "--share-tty", share_tty)
SWITCH_SETTER (set_no_pty, "--no-pty", no_pty)
SWITCH_SETTER (set_verbose, "--verbose", verbose)
SWITCH_SETTER (set_review, "--review", review)

static gboolean
set_bind (SbxSpec *spec, const char *value, GError **error)
{
  SbxMount *m;
  if (!sbx_spec_parse_bind (value, FALSE, &m, error))
    return FALSE;
  g_ptr_array_add (spec->mounts, m);
  return TRUE;
}

static gboolean
set_ro_bind (SbxSpec *spec, const char *value, GError **error)
{
  SbxMount *m;
  if (!sbx_spec_parse_bind (value, TRUE, &m, error))
    return FALSE;
  g_ptr_array_add (spec->mounts, m);
  return TRUE;
}

static gboolean
set_tmpfs (SbxSpec *spec, const char *value, GError **error)
{
  SbxMount *m;
  if (!sbx_spec_parse_tmpfs (value, &m, error))
    return FALSE;
  g_ptr_array_add (spec->mounts, m);
  return TRUE;
}

/* --upper-size, --tmp-size, --shm-size: one parser, so that the three
 * accept and refuse the same values. */
static gboolean
set_tmpfs_size (const char *option, char **field, const char *value, GError **error)
{
  g_autofree char *size = NULL;
  if (!sbx_spec_parse_tmpfs_size (option, value, &size, error))
    return FALSE;
  g_free (*field);
  *field = g_steal_pointer (&size);
  return TRUE;
}

static gboolean
set_upper_size (SbxSpec *spec, const char *value, GError **error)
{
  if (!set_tmpfs_size ("--upper-size", &spec->upper_size, value, error))
    return FALSE;
  spec->upper_size_given = TRUE;
  return TRUE;
}

static gboolean
set_tmp_size (SbxSpec *spec, const char *value, GError **error)
{
  return set_tmpfs_size ("--tmp-size", &spec->tmp_size, value, error);
}

static gboolean
set_shm_size (SbxSpec *spec, const char *value, GError **error)
{
  return set_tmpfs_size ("--shm-size", &spec->shm_size, value, error);
}

static gboolean
set_workdir (SbxSpec *spec, const char *value, GError **error)
{
  g_autofree char *path = NULL;
  if (!parse_inside_path ("--workdir", value, &path, error))
    return FALSE;
  g_free (spec->workdir);
  spec->workdir = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
set_rootfs (SbxSpec *spec, const char *value, GError **error)
{
  if (value[0] == '\0')
    return fail (error, "--rootfs", "empty value");
  g_free (spec->rootfs);
  spec->rootfs = g_strdup (value);
  return TRUE;
}

static gboolean
set_layer (SbxSpec *spec, const char *value, GError **error)
{
  if (value[0] == '\0')
    return fail (error, "--layer", "empty value");
  g_ptr_array_add (spec->layers, g_strdup (value));
  return TRUE;
}

static gboolean
set_upper (SbxSpec *spec, const char *value, GError **error)
{
  if (value[0] == '\0')
    return fail (error, "--upper", "empty value");
  g_free (spec->upper);
  spec->upper = g_strdup (value);
  return TRUE;
}

static gboolean
set_overlay (SbxSpec *spec, const char *value, GError **error)
{
  if (strcmp (value, "auto") == 0)
    spec->overlay = SBX_OVERLAY_AUTO;
  else if (strcmp (value, "kernel") == 0)
    spec->overlay = SBX_OVERLAY_KERNEL;
  else if (strcmp (value, "fuse") == 0)
    spec->overlay = SBX_OVERLAY_FUSE;
  else
    return fail (error, "--overlay", "'%s' is not one of auto, kernel, fuse", value);
  return TRUE;
}

static gboolean
set_net (SbxSpec *spec, const char *value, GError **error)
{
  if (strcmp (value, "slirp") == 0)
    spec->net = SBX_NET_SLIRP;
  else if (strcmp (value, "none") == 0)
    spec->net = SBX_NET_NONE;
  else if (strcmp (value, "host") == 0)
    spec->net = SBX_NET_HOST;
  else
    return fail (error, "--net", "'%s' is not one of slirp, none, host", value);
  return TRUE;
}

void
sbx_publish_free (SbxPublish *p)
{
  if (p == NULL)
    return;
  g_free (p->host_ip);
  g_free (p->text);
  g_free (p);
}

gboolean
sbx_spec_parse_publish (const char *text, SbxPublish **out, GError **error)
{
  g_autofree char *body = g_strdup (text);
  g_autoptr (GString) ip = NULL;
  gboolean udp = FALSE;
  char *slash = strrchr (body, '/');

  if (slash != NULL)
    {
      if (strcmp (slash + 1, "udp") == 0)
        udp = TRUE;
      else if (strcmp (slash + 1, "tcp") != 0)
        return fail (error, "-p", "'%s': the protocol is tcp or udp", text);
      *slash = '\0';
    }
  /* [HOSTIP:]HOSTPORT:PORT, an IPv6 HOSTIP in brackets. */
  char *port_sep = strrchr (body, ':');
  if (port_sep == NULL)
    return fail (error, "-p", "'%s' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)",
                 text);
  *port_sep = '\0';
  char *host_sep = strrchr (body, ':');
  const char *host_port = body;
  if (host_sep != NULL && body[0] == '[')
    {
      char *close = strchr (body, ']');
      if (close == NULL || close + 1 != host_sep)
        return fail (error, "-p", "'%s': an IPv6 address goes in brackets", text);
      *close = '\0';
      ip = g_string_new (body + 1);
      host_port = host_sep + 1;
    }
  else if (host_sep != NULL)
    {
      *host_sep = '\0';
      ip = g_string_new (body);
      host_port = host_sep + 1;
    }
  SbxPublish *p = g_new0 (SbxPublish, 1);
  p->text = g_strdup (text);
  p->udp = udp;
  p->host_ip = g_strdup (ip != NULL ? ip->str : "127.0.0.1");
  struct in6_addr a6;
  struct in_addr a4;
  if (inet_pton (AF_INET, p->host_ip, &a4) == 1)
    p->family = AF_INET;
  else if (inet_pton (AF_INET6, p->host_ip, &a6) == 1)
    p->family = AF_INET6;
  else
    {
      sbx_publish_free (p);
      return fail (error, "-p", "'%s': '%s' is not an IP address", text, ip != NULL ? ip->str : "");
    }
  if (!sbx_util_parse_port (host_port, &p->host_port)
      || !sbx_util_parse_port (port_sep + 1, &p->port))
    {
      sbx_publish_free (p);
      return fail (error, "-p", "'%s': a port is a number from 1 to 65535", text);
    }
  *out = p;
  return TRUE;
}

static gboolean
set_publish (SbxSpec *spec, const char *value, GError **error)
{
  SbxPublish *p;
  if (!sbx_spec_parse_publish (value, &p, error))
    return FALSE;
  g_ptr_array_add (spec->publish, p);
  return TRUE;
}

static gboolean
set_mtu (SbxSpec *spec, const char *value, GError **error)
{
  guint64 v;
  /* IPv6 needs 1280; libslirp's frames top out at 65521. */
  if (!sbx_util_parse_u64 (value, 65520, &v) || v < 1280)
    return fail (error, "--mtu", "'%s' is not an MTU from 1280 to 65520", value);
  spec->mtu = (guint)v;
  spec->mtu_given = TRUE;
  return TRUE;
}

/* A rule is parsed now, for its message, and kept as typed: sbx-net gets
 * the text and parses it again with the same function. */
static gboolean
add_net_rule (const char *option, GPtrArray *list, const char *value, char **host, GError **error)
{
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  if (!sbx_netrule_parse (option, value, list->len, rules, error))
    return FALSE;
  if (host != NULL && *host == NULL && rules->len > 0 && ((SbxNetRule *)rules->pdata[0])->host)
    *host = g_strdup (value);
  g_ptr_array_add (list, g_strdup (value));
  return TRUE;
}

static gboolean
set_allow_net (SbxSpec *spec, const char *value, GError **error)
{
  return add_net_rule ("--allow-net", spec->net_allow, value, &spec->net_allow_host, error);
}

static gboolean
set_deny_net (SbxSpec *spec, const char *value, GError **error)
{
  return add_net_rule ("--deny-net", spec->net_deny, value, NULL, error);
}

static gboolean
set_net_log (SbxSpec *spec, const char *value, GError **error)
{
  if (value[0] == '\0')
    return fail (error, "--net-log", "empty value");
  g_free (spec->net_log);
  spec->net_log = g_strdup (value);
  return TRUE;
}

/* A capability name: case-insensitive, with or without "CAP_", or ALL. */
static gboolean
parse_cap (const char *option, const char *value, guint64 *bits, gboolean *all, GError **error)
{
  if (g_ascii_strcasecmp (value, "ALL") == 0)
    {
      *all = TRUE;
      return TRUE;
    }
  g_autofree char *lower = g_ascii_strdown (value, -1);
  const char *bare = g_str_has_prefix (lower, "cap_") ? lower + 4 : lower;
  g_autofree char *name = g_strconcat ("cap_", bare, NULL);
  cap_value_t v;
  /* libcap also takes numbers; a name is asked for. */
  if (bare[0] == '\0' || g_ascii_isdigit (bare[0]) || cap_from_name (name, &v) < 0 || v < 0
      || v >= 64)
    return fail (error, option, "'%s' is not a capability (see capabilities(7), or ALL)", value);
  *bits |= G_GUINT64_CONSTANT (1) << v;
  return TRUE;
}

static gboolean
set_cap_add (SbxSpec *spec, const char *value, GError **error)
{
  return parse_cap ("--cap-add", value, &spec->cap_add, &spec->cap_add_all, error);
}

static gboolean
set_cap_drop (SbxSpec *spec, const char *value, GError **error)
{
  return parse_cap ("--cap-drop", value, &spec->cap_drop, &spec->cap_drop_all, error);
}

static gboolean
set_seccomp (SbxSpec *spec, const char *value, GError **error)
{
  if (strcmp (value, "default") == 0)
    spec->seccomp_unconfined = FALSE;
  else if (strcmp (value, "unconfined") == 0)
    spec->seccomp_unconfined = TRUE;
  else
    return fail (error, "--seccomp", "'%s' is not one of default, unconfined", value);
  return TRUE;
}

static gboolean
set_memory (SbxSpec *spec, const char *value, GError **error)
{
  guint64 v;
  if (!sbx_util_parse_size (value, &v) || v == 0)
    return fail (error, "--memory", "'%s' is not a size above zero (use e.g. 512M or 2G)", value);
  spec->memory = v;
  g_free (spec->memory_text);
  spec->memory_text = g_strdup (value);
  return TRUE;
}

/* A positive decimal number of CPUs with at most 6 decimals, as CPU time
 * per second in microseconds (systemd's CPUQuotaPerSecUSec). */
gboolean
sbx_spec_parse_cpus (const char *text, guint64 max_cpus, guint64 *usec)
{
  guint64 whole = 0, frac = 0, scale = 1000000;
  const char *p = text;
  if (*p < '0' || *p > '9')
    return FALSE;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      whole = whole * 10 + (guint64)(*p - '0');
      if (whole > max_cpus)
        return FALSE;
    }
  if (*p == '.')
    {
      p++;
      if (*p < '0' || *p > '9')
        return FALSE;
      for (; *p >= '0' && *p <= '9'; p++)
        {
          if (scale == 1)
            return FALSE; /* finer than a microsecond per second */
          scale /= 10;
          frac += (guint64)(*p - '0') * scale;
        }
    }
  guint64 v = whole * 1000000 + frac;
  if (*p != '\0' || v == 0 || v > max_cpus * 1000000)
    return FALSE;
  *usec = v;
  return TRUE;
}

static gboolean
set_cpus (SbxSpec *spec, const char *value, GError **error)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  guint64 max = n > 0 ? (guint64)n : 1;
  if (!sbx_spec_parse_cpus (value, max, &spec->cpu_quota))
    return fail (error, "--cpus",
                 "'%s' is not a number of CPUs above zero and at most %" G_GUINT64_FORMAT
                 " (this machine's)",
                 value, max);
  return TRUE;
}

static gboolean
set_pids_limit (SbxSpec *spec, const char *value, GError **error)
{
  /* The kernel's own ceiling for pids.max (PID_MAX_LIMIT). */
  if (!sbx_util_parse_u64 (value, 4194304, &spec->pids_limit) || spec->pids_limit == 0)
    return fail (error, "--pids-limit", "'%s' is not a number from 1 to 4194304", value);
  return TRUE;
}

static gboolean
set_io_weight (SbxSpec *spec, const char *value, GError **error)
{
  if (!sbx_util_parse_u64 (value, 10000, &spec->io_weight) || spec->io_weight == 0)
    return fail (error, "--io-weight", "'%s' is not a weight from 1 to 10000", value);
  return TRUE;
}

static gboolean
set_name (SbxSpec *spec, const char *value, GError **error)
{
  if (!sbx_state_name_valid (value))
    return fail (error, "--name",
                 "'%s' is not a valid name (a letter or digit, then letters, digits, '_', '.' "
                 "or '-', at most 64)",
                 value);
  g_free (spec->name);
  spec->name = g_strdup (value);
  return TRUE;
}

static gboolean
set_hostname (SbxSpec *spec, const char *value, GError **error)
{
  if (!sbx_spec_hostname_valid (value))
    return fail (error, "--hostname",
                 "'%s' is not a valid hostname (letters, digits, '-' and '.', at most %d bytes)",
                 value, HOST_NAME_MAX);
  g_free (spec->hostname);
  spec->hostname = g_strdup (value);
  return TRUE;
}

gboolean
sbx_spec_env_name_valid (const char *name, size_t len)
{
  if (len == 0 || g_ascii_isdigit (name[0]))
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_')
      return FALSE;
  return TRUE;
}

static gboolean
set_env (SbxSpec *spec, const char *value, GError **error)
{
  const char *eq = strchr (value, '=');
  if (eq == value || value[0] == '\0')
    return fail (error, "--env", "'%s' is not KEY=VALUE", value);
  /* A name a shell can use: 'A B', '1A' or 'A-B' would reach the command
   * as a variable nothing can read by name (and hide a typo). */
  size_t len = eq != NULL ? (size_t)(eq - value) : strlen (value);
  if (!sbx_spec_env_name_valid (value, len))
    return fail (error, "--env",
                 "'%s': '%.*s' is not a variable name (letters, digits and '_', "
                 "not starting with a digit)",
                 value, (int)len, value);
  if (eq == NULL)
    {
      /* "-e KEY" passes the caller's value on, as podman does. */
      const char *v = g_getenv (value);
      if (v != NULL)
        g_ptr_array_add (spec->env, g_strdup_printf ("%s=%s", value, v));
      return TRUE;
    }
  g_ptr_array_add (spec->env, g_strdup (value));
  return TRUE;
}

static gboolean
set_monotonic (SbxSpec *spec, const char *value, GError **error)
{
  spec->has_timens_offsets = TRUE;
  return parse_offset ("--monotonic", value, &spec->monotonic_offset, error);
}

static gboolean
set_boottime (SbxSpec *spec, const char *value, GError **error)
{
  spec->has_timens_offsets = TRUE;
  return parse_offset ("--boottime", value, &spec->boottime_offset, error);
}

/* Only the name is taken here: the profile goes under the whole command
 * line, wherever --profile stands in it (cli.c applies it). */
static gboolean
set_profile (SbxSpec *spec, const char *value, GError **error)
{
  /* A name, not a path: no '/' (so no "../x"), no hidden or empty name. */
  if (value[0] == '\0' || value[0] == '.' || strchr (value, '/') != NULL)
    return fail (error, "--profile",
                 "'%s' is not a profile name (a file name in $XDG_CONFIG_HOME/sbx without "
                 "'.conf', not starting with '.', without '/')",
                 value);
  g_free (spec->profile);
  spec->profile = g_strdup (value);
  return TRUE;
}

/* Grouped and ordered as in the man page; --help prints them in this order. */
static const SbxOption run_options[] = {
  { "map-root", 0, FALSE, "identity", NULL,
    "Be uid 0/gid 0 inside; ids 1..N come from the subordinate ranges", set_map_root, FALSE, TRUE },
  { "no-subids", 0, FALSE, "identity", NULL, "Map only the caller's own uid/gid (no newuidmap)",
    set_no_subids, FALSE, TRUE },

  { "rootfs", 0, TRUE, "filesystem", "DIR", "Lowest layer (default: the host's /, read-only)",
    set_rootfs },
  { "layer", 0, TRUE, "filesystem", "DIR",
    "Another read-only layer above the rootfs (repeatable, later ones higher)", set_layer, TRUE },
  { "upper", 0, TRUE, "filesystem", "DIR",
    "Keep the writable layer in DIR (default: a throwaway layer)", set_upper },
  { "overlay", 0, TRUE, "filesystem", "auto|kernel|fuse",
    "Overlay driver (auto: kernel overlayfs, with a directory skeleton for --map-root)",
    set_overlay },
  { "bind", 0, TRUE, "filesystem", "SRC[:DST][:ro]", "Bind a host path in (repeatable)", set_bind,
    TRUE },
  { "ro-bind", 0, TRUE, "filesystem", "SRC[:DST]", "Bind a host path in read-only (repeatable)",
    set_ro_bind, TRUE },
  { "tmpfs", 0, TRUE, "filesystem", "DST[:SIZE]", "Mount a fresh tmpfs (repeatable)", set_tmpfs,
    TRUE },
  { "upper-size", 0, TRUE, "filesystem", "SIZE",
    "Cap of the throwaway writable layer: a size or N% of RAM (default 25%)", set_upper_size },
  { "tmp-size", 0, TRUE, "filesystem", "SIZE",
    "Cap of /tmp, /var/tmp, /run, a --tmpfs without SIZE (default 10% of RAM)", set_tmp_size },
  { "shm-size", 0, TRUE, "filesystem", "SIZE", "Cap of /dev/shm: a size or N% of RAM (default 64M)",
    set_shm_size },
  { "workdir", 'w', TRUE, "filesystem", "DIR",
    "Working directory inside (default: the current one if it exists inside, else /)",
    set_workdir },

  { "net", 0, TRUE, "network", "slirp|none|host",
    "Network: own stack behind libslirp (default), lo only, or the host's", set_net },
  { "publish", 'p', TRUE, "network", "[HOSTIP:]HOSTPORT:PORT[/tcp|/udp]",
    "Forward a host port into the sandbox (repeatable; HOSTIP 127.0.0.1 by default)", set_publish,
    TRUE },
  { "allow-host-loopback", 0, FALSE, "network", NULL,
    "Let 10.0.2.2 reach the host's 127.0.0.1 (off by default)", set_allow_host_loopback, FALSE,
    TRUE },
  { "mtu", 0, TRUE, "network", "BYTES", "MTU of tap0 (default 32768)", set_mtu },
  { "no-ipv6", 0, FALSE, "network", NULL, "No IPv6 on tap0", set_no_ipv6, FALSE, TRUE },
  { "allow-net", 0, TRUE, "network", "RULE",
    "Allow egress to RULE only (repeatable): CIDR[:PORTS][/tcp|/udp], NAME[:PORTS], *.NAME, "
    "private, host",
    set_allow_net, TRUE },
  { "deny-net", 0, TRUE, "network", "RULE",
    "Deny egress to RULE, over any --allow-net (repeatable; same forms)", set_deny_net, TRUE },
  { "net-log", 0, TRUE, "network", "FILE",
    "Log every connection and DNS answer as JSON lines (no rules: learning mode)", set_net_log },

  { "memory", 0, TRUE, "resources", "SIZE", "Memory limit (K, M, G suffixes)", set_memory },
  { "cpus", 0, TRUE, "resources", "N.N", "CPU time limit, in CPUs (0.5: half of one)", set_cpus },
  { "pids-limit", 0, TRUE, "resources", "N", "Most tasks at once", set_pids_limit },
  { "io-weight", 0, TRUE, "resources", "N", "IO weight, 1 to 10000 (default 100)", set_io_weight },
  { "name", 0, TRUE, "process", "NAME",
    "A named sandbox: listed by ps, joinable by exec, writable layer kept", set_name },
  { "hostname", 0, TRUE, "process", "NAME", "Hostname inside (default: --name, else the host's)",
    set_hostname },
  { "env", 'e', TRUE, "process", "KEY=VALUE", "Set an environment variable (repeatable)", set_env,
    TRUE },
  { "clearenv", 0, FALSE, "process", NULL, "Start from an empty environment", set_clearenv, FALSE,
    TRUE },
  { "monotonic", 0, TRUE, "process", "SECS", "Offset of CLOCK_MONOTONIC inside", set_monotonic },
  { "boottime", 0, TRUE, "process", "SECS", "Offset of CLOCK_BOOTTIME inside", set_boottime },
  { "cap-add", 0, TRUE, "process", "CAP", "Add a capability (repeatable; ALL)", set_cap_add, TRUE },
  { "cap-drop", 0, TRUE, "process", "CAP", "Drop a capability (repeatable; ALL)", set_cap_drop,
    TRUE },
  { "seccomp", 0, TRUE, "process", "default|unconfined",
    "The system call filter (unconfined: none, with a warning)", set_seccomp },
  { "share-tty", 0, FALSE, "process", NULL,
    "Keep the caller's session and terminal (default: a session, and a pty, of its own)",
    set_share_tty, FALSE, TRUE },
  { "no-pty", 0, FALSE, "process", NULL,
    "No pty of the sandbox's own on a terminal: the command gets sbx's streams", set_no_pty, FALSE,
    TRUE },
  { "review", 0, FALSE, "process", NULL,
    "Keep the layer until the command ends, then review and apply its changes", set_review, FALSE,
    TRUE },
  { "profile", 0, TRUE, "process", "NAME",
    "Defaults from $XDG_CONFIG_HOME/sbx/NAME.conf (the command line wins)", set_profile },
  { "verbose", 'v', FALSE, "process", NULL, "Say what sbx sets up", set_verbose, FALSE, TRUE },
  { NULL },
};

const SbxOption *
sbx_spec_options (void)
{
  return run_options;
}

const SbxOption *
sbx_spec_find_option (const char *long_name)
{
  for (const SbxOption *o = run_options; o->long_name != NULL; o++)
    if (strcmp (o->long_name, long_name) == 0)
      return o;
  return NULL;
}

/* ---- validation against the host -------------------------------------- */

/* Makes a bind source absolute and checks it exists, before anything is
 * created.  Symlinks in the source are followed as the caller sees them (as
 * bwrap and podman do); the destination is resolved inside the sandbox. */
static gboolean
validate_bind (SbxSpec *spec, SbxMount *m, GError **error)
{
  struct stat st;

  if (!g_path_is_absolute (m->src))
    {
      if (spec->cwd == NULL)
        return fail_host (error, m->option, "relative source but the current directory is gone");
      g_autofree char *abs = g_canonicalize_filename (m->src, spec->cwd);
      g_free (m->src);
      m->src = g_steal_pointer (&abs);
    }
  if (m->dst == NULL)
    {
      /* SRC alone goes to its own path: the places sbx mounts stay its. */
      m->dst = g_canonicalize_filename (m->src, "/");
      if (!sbx_spec_check_mount_dst (m->option, m->src, m->dst, error))
        return FALSE;
    }
  if (stat (m->src, &st) < 0)
    return strstr (m->option, m->src) != NULL
               ? fail_host (error, m->option, "%s", sbx_util_strerror (errno))
               : fail_host (error, m->option, "%s: %s", m->src, sbx_util_strerror (errno));
  return TRUE;
}

/* A layer given on the command line: canonical (symlinks and ".." resolved
 * here, once, as the caller sees them), an existing directory. */
static gboolean
canonical_dir (const char *option, const char *path, char **out, GError **error)
{
  struct stat st;
  g_autofree char *real = realpath (path, NULL);
  if (real == NULL)
    return fail_host (error, option, "%s: %s", path, sbx_util_strerror (errno));
  if (stat (real, &st) < 0 || !S_ISDIR (st.st_mode))
    return fail_host (error, option, "%s: not a directory", path);
  if (access (real, X_OK) < 0)
    return fail_host (error, option, "%s: %s", path, sbx_util_strerror (errno));
  *out = g_steal_pointer (&real);
  return TRUE;
}

static gboolean
is_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strcmp (dir, "/") == 0
         || (strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0'));
}

/* Whether the kept layer's directory @path is the caller's alone: owned by
 * the caller, writable by nobody else.  Another user who could write there
 * could plant files that the sandbox then finds in its tree, programs and
 * libraries among them, or swap the directory itself.  A missing @path is
 * fine (the monitor makes it) unless @must_exist. */
static gboolean
layer_dir_private (const SbxSpec *spec, const char *option, const char *path, gboolean must_exist,
                   GError **error)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return errno == ENOENT && !must_exist
               ? TRUE
               : fail_host (error, option, "%s: %s", path, sbx_util_strerror (errno));
  if (!S_ISDIR (st.st_mode))
    return fail_host (error, option, "%s: not a directory", path);
  if (st.st_uid != spec->uid)
    return fail_host (error, option,
                      "%s belongs to uid %u, not to you: another user could plant files in the "
                      "sandbox's layer",
                      path, (guint)st.st_uid);
  if ((st.st_mode & 022) != 0)
    return fail_host (error, option,
                      "%s is writable by %s: they could plant files in the sandbox's layer; "
                      "'chmod go-w %s' closes it",
                      path, (st.st_mode & 002) ? "all users" : "its group", path);
  if (access (path, W_OK | X_OK) < 0)
    return fail_host (error, option, "%s: %s", path, sbx_util_strerror (errno));
  return TRUE;
}

/* The canonical path of --upper DIR: DIR itself when it exists, else its
 * parent's (which must exist: the monitor makes DIR alone, as podman
 * does, not a chain of directories a typo would leave behind) and DIR's
 * name. */
static gboolean
upper_dir_path (const SbxSpec *spec, const char *path, char **out, GError **error)
{
  struct stat st;
  if (access (path, F_OK) == 0)
    return canonical_dir ("--upper", path, out, error);
  int errsv = errno;
  if (errsv != ENOENT)
    return fail_host (error, "--upper", "%s: %s", path, sbx_util_strerror (errsv));
  if (lstat (path, &st) == 0)
    return fail_host (error, "--upper", "%s: a symlink to nothing", path);
  if (spec->cwd == NULL && !g_path_is_absolute (path))
    return fail_host (error, "--upper", "%s: a relative path, but the current directory is gone",
                      path);
  g_autofree char *lexical = g_canonicalize_filename (path, spec->cwd);
  g_autofree char *parent = g_path_get_dirname (lexical);
  g_autofree char *name = g_path_get_basename (lexical);
  g_autofree char *real_parent = realpath (parent, NULL);
  struct stat pst;
  if (real_parent == NULL)
    return fail_host (error, "--upper", "%s: %s", path, sbx_util_strerror (errno));
  if (stat (real_parent, &pst) < 0 || !S_ISDIR (pst.st_mode))
    return fail_host (error, "--upper", "%s: %s", path, sbx_util_strerror (ENOTDIR));
  if (access (real_parent, W_OK | X_OK) < 0)
    return fail_host (error, "--upper", "%s: %s", path, sbx_util_strerror (errno));
  *out = g_build_filename (real_parent, name, NULL);
  return TRUE;
}

/* The kept writable layer: in --upper DIR, or in $XDG_DATA_HOME/sbx/NAME
 * for a named sandbox.  DIR/upper holds the layer in the overlay layout,
 * readable with normal tools; DIR/work is the overlay's scratch space,
 * which must be on the same filesystem.  Only checked here: what is
 * missing is made by the monitor when the run starts, and removed again
 * if it fails before the command starts (monitor.c). */
static gboolean
prepare_upper (SbxSpec *spec, GError **error)
{
  g_autofree char *dir = NULL;
  const char *option = "--upper";

  if (spec->name != NULL)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *runtime = sbx_state_runtime_root (&local);
      if (runtime == NULL)
        return fail_host (error, "--name", "%s", local->message);
      g_autofree char *data = sbx_state_data_root ();
      dir = g_build_filename (data, spec->name, NULL);
      option = "--name";
    }
  else if (spec->upper != NULL)
    {
      if (!upper_dir_path (spec, spec->upper, &dir, error))
        return FALSE;
    }
  else
    return TRUE;

  /* The kernel refuses an upper inside a lower layer or around one: say so
   * now, naming both. */
  for (guint i = 0; i <= spec->layers->len; i++)
    {
      const char *lower = i < spec->layers->len ? spec->layers->pdata[i] : spec->rootfs;
      if (lower != NULL && (is_under (dir, lower) || is_under (lower, dir)))
        return fail (error, option, "%s overlaps the layer %s", dir, lower);
    }
  /* Before anything is made in it, and only in a directory that holds a
   * layer or nothing: never `upper` and `work` beside the caller's files
   * (--upper $HOME). */
  if (!layer_dir_private (spec, option, dir, FALSE, error))
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (access (dir, F_OK) == 0 && !sbx_state_check_layer_dir (dir, &local))
    return fail_host (error, option, "%s", local->message);
  g_clear_pointer (&spec->upper, g_free);
  spec->upper = g_build_filename (dir, "upper", NULL);
  spec->upper_work = g_build_filename (dir, "work", NULL);
  if (!layer_dir_private (spec, option, spec->upper, FALSE, error)
      || !layer_dir_private (spec, option, spec->upper_work, FALSE, error))
    return FALSE;
  struct stat st;
  if (stat (dir, &st) == 0 && (st.st_mode & 0011) != 0)
    sbx_warn ("%s %s is open to other users: files inside may belong to your subordinate ids, "
              "setuid ones too; 'chmod 700 %s' closes it",
              option, dir, dir);
  return TRUE;
}

/* fuse-overlayfs is usable when installed and /dev/fuse opens. */
static gboolean
find_fuse (SbxSpec *spec, GError **error)
{
  g_autofree char *bin = g_find_program_in_path ("fuse-overlayfs");
  if (bin == NULL)
    return fail_host (error, "--overlay fuse", "fuse-overlayfs not found (install fuse-overlayfs)");
  int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return fail_host (error, "--overlay fuse",
                      "/dev/fuse: %s (desktops have it mode 0666; see 'sbx doctor')",
                      sbx_util_strerror (errno));
  close (fd);
  spec->fuse_overlayfs = g_steal_pointer (&bin);
  return TRUE;
}

static gboolean
validate_layers (SbxSpec *spec, GError **error)
{
  if (spec->rootfs != NULL)
    {
      g_autofree char *real = NULL;
      if (!canonical_dir ("--rootfs", spec->rootfs, &real, error))
        return FALSE;
      if (strcmp (real, "/") == 0)
        g_clear_pointer (&real, g_free); /* the default */
      g_free (spec->rootfs);
      spec->rootfs = g_steal_pointer (&real);
    }
  for (guint i = 0; i < spec->layers->len; i++)
    {
      g_autofree char *real = NULL;
      if (!canonical_dir ("--layer", spec->layers->pdata[i], &real, error))
        return FALSE;
      g_free (spec->layers->pdata[i]);
      spec->layers->pdata[i] = g_steal_pointer (&real);
    }
  if (!prepare_upper (spec, error))
    return FALSE;
  /* fuse-overlayfs serves --map-root where it must write into directories
   * whose owner is not mapped and there is no directory skeleton (the
   * monitor finds out); elsewhere the kernel driver does. */
  if (spec->overlay == SBX_OVERLAY_FUSE)
    return find_fuse (spec, error);
  if (spec->overlay == SBX_OVERLAY_AUTO && spec->identity == SBX_ID_ROOT)
    find_fuse (spec, NULL);
  return TRUE;
}

/* Network options that mean something only with the default network
 * (tap0 and sbx-net behind it): with --net none or --net host they would
 * be silently without effect, so they contradict it. */
static gboolean
validate_network (const SbxSpec *spec, GError **error)
{
  if (spec->net == SBX_NET_SLIRP)
    {
      if (spec->net_allow_host != NULL && !spec->allow_host_loopback)
        return fail (error, "--allow-net",
                     "'%s': the host is reached only with --allow-host-loopback (10.0.2.2 leads "
                     "to its 127.0.0.1)",
                     spec->net_allow_host);
      return TRUE;
    }
  const char *net = spec->net == SBX_NET_NONE ? "--net none" : "--net host";
  const char *why = spec->net == SBX_NET_NONE
                        ? "there is no network"
                        : "the command uses the host's network; only the default network, --net "
                          "slirp, has tap0 and goes through sbx-net";
  if (spec->publish->len > 0)
    return fail (error, "-p", "'%s' needs the default network (--net slirp), not %s",
                 ((SbxPublish *)spec->publish->pdata[0])->text, net);
  if (spec->allow_host_loopback)
    return fail (error, "--allow-host-loopback", "means nothing with %s (%s)", net, why);
  if (spec->no_ipv6)
    return fail (error, "--no-ipv6", "means nothing with %s (%s)", net, why);
  if (spec->mtu_given)
    return fail (error, "--mtu", "means nothing with %s (%s)", net, why);
  if (sbx_spec_has_net_policy (spec))
    {
      /* The policy lives in sbx-net, which only the default network has:
       * with the host's network nothing could enforce it, and without a
       * network it would mean nothing. */
      const char *option = spec->net_allow->len > 0  ? "--allow-net"
                           : spec->net_deny->len > 0 ? "--deny-net"
                                                     : "--net-log";
      if (spec->net == SBX_NET_NONE)
        return fail (error, option, "means nothing with --net none (there is no network)");
      return fail (error, option,
                   "%s with --net host (the command uses the host's network; only the default "
                   "network, --net slirp, goes through sbx-net)",
                   spec->net_allow->len + spec->net_deny->len > 0 ? "cannot be enforced"
                                                                  : "cannot log");
    }
  return TRUE;
}

/* --review applies the layer to the host's / after the run, and keeps it
 * until then where diff, apply and rm find it: a named sandbox's data
 * directory.  So it takes no --upper (a layer elsewhere, which the review
 * would delete), no --rootfs or --layer (changes that are not the host's:
 * apply refuses them) and no --upper-size (the layer is on disk). */
static gboolean
review_contradictions (const SbxSpec *spec, GError **error)
{
  if (spec->upper != NULL)
    return fail (error, "--review",
                 "keeps the layer in $XDG_DATA_HOME/sbx/NAME until it is reviewed; --upper '%s' "
                 "keeps it in a directory of yours, which the review would remove (run with "
                 "--upper alone, then 'sbx apply -i --upper %s')",
                 spec->upper, spec->upper);
  if (spec->rootfs != NULL || spec->layers->len > 0)
    return fail (error, "--review",
                 "applies changes to the host's /; with %s they are changes of another tree "
                 "(run with --name, then 'sbx diff NAME')",
                 spec->rootfs != NULL ? "--rootfs" : "--layer");
  if (spec->upper_size_given)
    return fail (error, "--upper-size",
                 "the layer of --review is kept on disk until it is reviewed, not in memory; "
                 "--upper-size caps only the throwaway layer");
  return TRUE;
}

/* A name for --review without --name: "review-" and six random letters
 * or digits, of no sandbox running, stopped or starting (no runtime
 * directory, no data directory).  Nothing is made: the monitor claims it,
 * and refuses it if another run took it meanwhile. */
static gboolean
review_name (SbxSpec *spec, GError **error)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  g_autoptr (GError) local = NULL;
  g_autofree char *runtime = sbx_state_runtime_root (&local);
  if (runtime == NULL)
    return fail_host (error, "--review", "%s", local->message);
  g_autofree char *data = sbx_state_data_root ();
  for (int tries = 0; tries < 100; tries++)
    {
      char name[16] = "review-";
      for (int i = 7; i < 13; i++)
        name[i] = chars[g_random_int_range (0, sizeof chars - 1)];
      g_autofree char *kept = g_build_filename (data, name, NULL);
      g_autofree char *state = g_build_filename (runtime, name, NULL);
      if (access (kept, F_OK) < 0 && errno == ENOENT && access (state, F_OK) < 0 && errno == ENOENT)
        {
          spec->name = g_strdup (name);
          spec->name_generated = TRUE;
          return TRUE;
        }
    }
  return fail_host (error, "--review", "no free name for the sandbox in %s", data);
}

gboolean
sbx_spec_validate (SbxSpec *spec, GError **error)
{
  if (spec->argv == NULL || spec->argv[0] == NULL)
    {
      g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_USAGE, "no command given");
      return FALSE;
    }
  if (spec->argv[0][0] == '\0')
    {
      g_set_error (error, SBX_SPEC_ERROR, SBX_SPEC_ERROR_USAGE, "the command is an empty string");
      return FALSE;
    }
  if (spec->review && !review_contradictions (spec, error))
    return FALSE;
  /* Only the throwaway layer lives in memory; a kept one is a directory on
   * disk, which a tmpfs cap cannot bound.  Said before anything is made. */
  if (spec->upper_size_given && (spec->upper != NULL || spec->name != NULL))
    return fail (error, "--upper-size",
                 "the writable layer is kept on disk with %s, not in memory; --upper-size caps "
                 "only the throwaway layer",
                 spec->upper != NULL ? "--upper DIR" : "--name");
  /* The name's layer is its data directory, where ps -a, diff, apply and
   * rm find it; a layer elsewhere would be the name's for one run and no
   * one's afterwards. */
  if (spec->upper != NULL && spec->name != NULL)
    return fail (error, "--upper",
                 "'%s': a named sandbox keeps its layer in $XDG_DATA_HOME/sbx/%s; --name and "
                 "--upper cannot be combined",
                 spec->upper, spec->name);
  /* What contradicts itself is said before what the host has to say. */
  if (!validate_network (spec, error))
    return FALSE;
  for (guint i = 0; i < spec->mounts->len; i++)
    {
      SbxMount *m = spec->mounts->pdata[i];
      if (m->kind == SBX_MOUNT_BIND && !validate_bind (spec, m, error))
        return FALSE;
    }
  /* Named before its layer's place is computed. */
  if (spec->review && spec->name == NULL && !review_name (spec, error))
    return FALSE;
  if (!validate_layers (spec, error))
    return FALSE;
  if (spec->seccomp_unconfined)
    sbx_warn ("--seccomp=unconfined: the command runs without a system call filter");
  return TRUE;
}

gboolean
sbx_spec_has_net_policy (const SbxSpec *spec)
{
  return spec->net_allow->len > 0 || spec->net_deny->len > 0 || spec->net_log != NULL;
}

gboolean
sbx_spec_has_limits (const SbxSpec *spec)
{
  return spec->memory || spec->cpu_quota || spec->pids_limit || spec->io_weight;
}

char **
sbx_spec_limits_strv (const SbxSpec *spec)
{
  GPtrArray *v = g_ptr_array_new ();
  if (spec->memory)
    g_ptr_array_add (v, g_strdup_printf ("memory=%s", spec->memory_text));
  if (spec->cpu_quota)
    {
      /* Back to the decimal that was typed, without trailing zeros. */
      g_autofree char *cpus
          = g_strdup_printf ("%" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT,
                             spec->cpu_quota / 1000000, spec->cpu_quota % 1000000);
      char *end = cpus + strlen (cpus) - 1;
      while (*end == '0')
        *end-- = '\0';
      if (*end == '.')
        *end = '\0';
      g_ptr_array_add (v, g_strdup_printf ("cpus=%s", cpus));
    }
  if (spec->pids_limit)
    g_ptr_array_add (v, g_strdup_printf ("pids=%" G_GUINT64_FORMAT, spec->pids_limit));
  if (spec->io_weight)
    g_ptr_array_add (v, g_strdup_printf ("io-weight=%" G_GUINT64_FORMAT, spec->io_weight));
  g_ptr_array_add (v, NULL);
  return (char **)g_ptr_array_free (v, FALSE);
}

const char *
sbx_spec_wanted_workdir (const SbxSpec *spec)
{
  return spec->workdir != NULL ? spec->workdir : spec->cwd;
}
