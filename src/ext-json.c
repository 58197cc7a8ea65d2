/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ext-json.c: JSON output with json-glib, in sbx-ext.so. */
#include "config.h"

#include "diff.h"
#include "doctor.h"
#include "ext.h"
#include "state.h"

#include <arpa/inet.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <time.h>

static void
add_strv (JsonBuilder *b, const char *key, char **v)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (; v != NULL && *v != NULL; v++)
    json_builder_add_string_value (b, *v);
  json_builder_end_array (b);
}

static void
add_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

static char *
to_text (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

static char *
ps_json (GPtrArray *list)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      SbxSandboxInfo *s = list->pdata[i];
      json_builder_begin_object (b);
      add_string (b, "name", s->name);
      add_string (b, "status", sbx_status_name (s->status));
      json_builder_set_member_name (b, "pid");
      if (s->status != SBX_STATUS_STOPPED)
        json_builder_add_int_value (b, s->pid);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "uptime_seconds");
      if (s->status == SBX_STATUS_RUNNING)
        json_builder_add_int_value (b, (gint64)time (NULL) - s->created);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "created");
      json_builder_add_int_value (b, s->created);
      add_strv (b, "command", s->command);
      add_string (b, "identity", s->identity);
      add_string (b, "network", s->network);
      add_strv (b, "ports", s->ports);
      add_strv (b, "limits", s->limits);
      add_strv (b, "allow_net", s->allow_net);
      add_strv (b, "deny_net", s->deny_net);
      add_string (b, "net_log", s->net_log);
      add_string (b, "upper", s->upper);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return to_text (b);
}

static char *
diff_json (GPtrArray *changes)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    {
      SbxChange *c = changes->pdata[i];
      char kind[2] = { c->kind, '\0' };
      json_builder_begin_object (b);
      add_string (b, "kind", kind);
      add_string (b, "path", c->path);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return to_text (b);
}

/* {"ok": BOOL, "checks": [{"id", "label", "need", "ok", "detail", "fix"}]};
 * "fix" is null for a check that passed. */
static char *
doctor_json (GPtrArray *checks, gboolean ok)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, ok);
  json_builder_set_member_name (b, "checks");
  json_builder_begin_array (b);
  for (guint i = 0; i < checks->len; i++)
    {
      const SbxDoctorCheck *c = checks->pdata[i];
      json_builder_begin_object (b);
      add_string (b, "id", c->id);
      add_string (b, "label", c->label);
      add_string (b, "need", sbx_doctor_need_name (c->need));
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, c->ok);
      add_string (b, "detail", c->detail);
      json_builder_set_member_name (b, "fix");
      if (c->fix != NULL)
        json_builder_add_string_value (b, c->fix);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return to_text (b);
}

static void
add_addr (JsonBuilder *b, const SbxNetAddr *a)
{
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop (a->family, a->addr, text, sizeof text) == NULL)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, text);
}

static const char *
rcode_name (guint rcode, char buf[8])
{
  static const char *const names[]
      = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
  if (rcode < G_N_ELEMENTS (names))
    return names[rcode];
  g_snprintf (buf, 8, "%u", rcode);
  return buf;
}

static const char *
dns_type_name (guint type, char buf[8])
{
  static const struct
  {
    guint type;
    const char *name;
  } types[] = {
    { 1, "A" },    { 2, "NS" },    { 5, "CNAME" }, { 6, "SOA" },   { 12, "PTR" },   { 15, "MX" },
    { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" },  { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i].type == type)
      return types[i].name;
  g_snprintf (buf, 8, "%u", type);
  return buf;
}

/* {"time", "event": "connect"|"dns", "proto", then for a connection "dst",
 * "port", "name", for DNS "name", "type", "rcode", "answers", "ttl"; then
 * "verdict": "allow"|"deny" and "rule" (null: no rule decided). */
static char *
net_event_json (const SbxNetEvent *ev, const char *rule)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ev->time_us / 1000000);
  g_autoptr (GDateTime) tu = t != NULL ? g_date_time_add (t, ev->time_us % 1000000) : NULL;
  g_autofree char *stamp = tu != NULL ? g_date_time_format (tu, "%Y-%m-%dT%H:%M:%S.%fZ") : NULL;
  char buf[8];
  json_builder_begin_object (b);
  add_string (b, "time", stamp);
  add_string (b, "event", ev->kind == SBX_NET_EVENT_DNS ? "dns" : "connect");
  add_string (b, "proto",
              ev->proto == IPPROTO_TCP    ? "tcp"
              : ev->proto == IPPROTO_UDP  ? "udp"
              : ev->proto == IPPROTO_ICMP ? "icmp"
                                          : "icmpv6");
  if (ev->kind == SBX_NET_EVENT_DNS)
    {
      add_string (b, "name", ev->name);
      add_string (b, "type", dns_type_name (ev->qtype, buf));
      add_string (b, "rcode", rcode_name (ev->rcode, buf));
      json_builder_set_member_name (b, "answers");
      json_builder_begin_array (b);
      for (guint i = 0; i < MIN (ev->n_answers, SBX_NET_EVENT_ANSWERS); i++)
        add_addr (b, &ev->answers[i]);
      json_builder_end_array (b);
      if (ev->more_answers > 0)
        {
          json_builder_set_member_name (b, "answers_omitted");
          json_builder_add_int_value (b, ev->more_answers);
        }
      json_builder_set_member_name (b, "ttl");
      if (ev->n_answers > 0)
        json_builder_add_int_value (b, ev->ttl);
      else
        json_builder_add_null_value (b);
    }
  else
    {
      json_builder_set_member_name (b, "dst");
      add_addr (b, &ev->dst);
      json_builder_set_member_name (b, "port");
      if (ev->proto == IPPROTO_TCP || ev->proto == IPPROTO_UDP)
        json_builder_add_int_value (b, ev->port);
      else
        json_builder_add_null_value (b);
      add_string (b, "name", ev->name[0] != '\0' ? ev->name : NULL);
    }
  add_string (b, "verdict", ev->allowed ? "allow" : "deny");
  add_string (b, "rule", rule);
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

G_MODULE_EXPORT const SbxExt sbx_ext = {
  .abi = SBX_EXT_ABI,
  .ps_json = ps_json,
  .diff_json = diff_json,
  .scope_start = sbx_cgroup_scope_start,
  .scope_events_fd = sbx_cgroup_scope_events_fd,
  .scope_stop = sbx_cgroup_scope_stop,
  .scope_attach = sbx_cgroup_attach,
  .cgroup_probe = sbx_cgroup_probe,
  .doctor_json = doctor_json,
  .net_event_json = net_event_json,
};
