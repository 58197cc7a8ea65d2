/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-unit.c: the pure parsers (subordinate ids, id maps, bind specs,
 * sizes, hostnames, limits, published ports, sandbox names, mountinfo
 * escapes), and the compiled seccomp filter. */
#include "config.h"

#include "apply.h"
#include "diff.h"
#include "monitor.h"
#include "overlay.h"
#include "seccomp-rules.h"
#include "security.h"
#include "spec.h"
#include "state.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_parse_u64 (void)
{
  guint64 v;
  g_assert_true (sbx_util_parse_u64 ("0", G_MAXUINT64, &v) && v == 0);
  g_assert_true (sbx_util_parse_u64 ("18446744073709551615", G_MAXUINT64, &v));
  g_assert_true (v == G_MAXUINT64);
  g_assert_false (sbx_util_parse_u64 ("18446744073709551616", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 ("-1", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 ("+1", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 ("", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 ("12a", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 (" 1", G_MAXUINT64, &v));
  g_assert_false (sbx_util_parse_u64 ("256", 255, &v));
  g_assert_true (sbx_util_parse_u64 ("255", 255, &v) && v == 255);
}

static void
test_parse_size (void)
{
  guint64 v;
  g_assert_true (sbx_util_parse_size ("512", &v) && v == 512);
  g_assert_true (sbx_util_parse_size ("64K", &v) && v == 64 * 1024);
  g_assert_true (sbx_util_parse_size ("64k", &v) && v == 64 * 1024);
  g_assert_true (sbx_util_parse_size ("1M", &v) && v == 1024 * 1024);
  g_assert_true (sbx_util_parse_size ("2G", &v) && v == G_GUINT64_CONSTANT (2) << 30);
  g_assert_true (sbx_util_parse_size ("1.5G", &v) && v == G_GUINT64_CONSTANT (3) << 29);
  g_assert_true (sbx_util_parse_size ("512MB", &v) && v == G_GUINT64_CONSTANT (512) << 20);
  g_assert_true (sbx_util_parse_size ("1GiB", &v) && v == G_GUINT64_CONSTANT (1) << 30);
  g_assert_true (sbx_util_parse_size ("0", &v) && v == 0);
  g_assert_false (sbx_util_parse_size ("", &v));
  g_assert_false (sbx_util_parse_size ("-1M", &v));
  g_assert_false (sbx_util_parse_size ("M", &v));
  g_assert_false (sbx_util_parse_size ("1X", &v));
  g_assert_false (sbx_util_parse_size ("1MM", &v));
  g_assert_false (sbx_util_parse_size ("1.5", &v));
  g_assert_false (sbx_util_parse_size ("1.M", &v));
  g_assert_false (sbx_util_parse_size ("99999999999999999999", &v));
  g_assert_false (sbx_util_parse_size ("17179869184G", &v)); /* 2^64 bytes */
  g_assert_true (sbx_util_parse_size ("16777215T", &v));
}

static void
assert_ranges (GArray *r, const guint32 *want, guint n)
{
  g_assert_cmpuint (r->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (g_array_index (r, SbxIdRange, i).start, ==, want[2 * i]);
      g_assert_cmpuint (g_array_index (r, SbxIdRange, i).count, ==, want[2 * i + 1]);
    }
  g_array_unref (r);
}

/* The command name of /proc/PID/stat may hold spaces and parentheses. */
static void
test_stat_fields (void)
{
  g_auto (GStrv) f = sbx_util_stat_fields ("42 (a) b ) (c) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 "
                                           "0 20 0 1 0 12345 0");
  g_assert_nonnull (f);
  g_assert_cmpstr (f[0], ==, "S");
  g_assert_cmpstr (f[6], ==, "4194560");
  g_assert_cmpstr (f[19], ==, "12345");
  g_assert_null (sbx_util_stat_fields ("no command name"));
  g_assert_null (sbx_util_stat_fields (NULL));
}

static void
test_parse_subids (void)
{
  const char *file = "# comment\n"
                     "alice:100000:65536\n"
                     "bob:165536:65536\n"
                     "  \n"
                     "1000:300000:10\n"
                     "alice:300005:20\n"     /* overlaps the numeric entry */
                     "alice:400000:x\n"      /* junk: ignored */
                     "alice:500000\n"        /* malformed: ignored */
                     "alice:4294967295:2\n"; /* overflow: ignored */
  assert_ranges (sbx_userns_parse_subids (file, "alice", 1000),
                 (guint32[]){ 100000, 65536, 300000, 25 }, 2);
  assert_ranges (sbx_userns_parse_subids (file, "bob", 1001), (guint32[]){ 165536, 65536 }, 1);
  assert_ranges (sbx_userns_parse_subids (file, "carol", 1002), NULL, 0);
  assert_ranges (sbx_userns_parse_subids (file, NULL, 1000), (guint32[]){ 300000, 10 }, 1);
  /* adjacent ranges merge */
  assert_ranges (sbx_userns_parse_subids ("u:10:10\nu:20:5\n", "u", 1), (guint32[]){ 10, 15 }, 1);
  /* the caller's own id inside a range is cut out */
  assert_ranges (sbx_userns_parse_subids ("u:995:10\n", "u", 1000), (guint32[]){ 995, 5, 1001, 4 },
                 2);
  assert_ranges (sbx_userns_parse_subids (NULL, "u", 1), NULL, 0);
}

static void
assert_map (GArray *lines, const char *want)
{
  g_autofree char *text = sbx_userns_format_map (lines);
  g_assert_cmpstr (text, ==, want);
  g_array_unref (lines);
}

static void
test_build_map (void)
{
  g_autoptr (GArray) one = sbx_userns_parse_subids ("u:100000:65536\n", "u", 1000);
  assert_map (sbx_userns_build_map (SBX_ID_KEEP, 1000, one),
              "1000 1000 1\n0 100000 1000\n1001 101000 64536\n");
  assert_map (sbx_userns_build_map (SBX_ID_ROOT, 1000, one), "0 1000 1\n1 100000 65536\n");
  assert_map (sbx_userns_build_map (SBX_ID_KEEP, 1000, NULL), "1000 1000 1\n");
  assert_map (sbx_userns_build_map (SBX_ID_ROOT, 1000, NULL), "0 1000 1\n");

  /* a uid above the range: the range fills 0..count-1 */
  g_autoptr (GArray) small = sbx_userns_parse_subids ("u:100000:10\n", "u", 5000);
  assert_map (sbx_userns_build_map (SBX_ID_KEEP, 5000, small), "5000 5000 1\n0 100000 10\n");

  /* two ranges are laid end to end inside */
  g_autoptr (GArray) two = sbx_userns_parse_subids ("u:100000:10\nu:200000:10\n", "u", 5);
  assert_map (sbx_userns_build_map (SBX_ID_ROOT, 5, two), "0 5 1\n1 100000 10\n11 200000 10\n");
  assert_map (sbx_userns_build_map (SBX_ID_KEEP, 5, two),
              "5 5 1\n0 100000 5\n6 100005 5\n11 200000 10\n");
}

static void
test_parse_bind (void)
{
  g_autoptr (GError) error = NULL;
  SbxMount *m = NULL;

  g_assert_true (sbx_spec_parse_bind ("/a", FALSE, &m, &error));
  g_assert_cmpstr (m->src, ==, "/a");
  g_assert_cmpstr (m->dst, ==, "/a");
  g_assert_false (m->ro);
  sbx_mount_free (m);

  g_assert_true (sbx_spec_parse_bind ("/a:/b/../c//d:ro", FALSE, &m, &error));
  g_assert_cmpstr (m->dst, ==, "/c/d");
  g_assert_true (m->ro);
  sbx_mount_free (m);

  g_assert_true (sbx_spec_parse_bind ("rel:/x", FALSE, &m, &error));
  g_assert_cmpstr (m->src, ==, "rel");
  sbx_mount_free (m);

  g_assert_true (sbx_spec_parse_bind ("/a:ro", FALSE, &m, &error));
  g_assert_cmpstr (m->dst, ==, "/a");
  g_assert_true (m->ro);
  sbx_mount_free (m);

  g_assert_true (sbx_spec_parse_bind ("/a:/b", TRUE, &m, &error));
  g_assert_true (m->ro);
  sbx_mount_free (m);

  const char *bad[] = { "",
                        ":/b",
                        "/a:",
                        "/a:/b:/c",
                        "/a:b",
                        "/a:/",
                        "/a:/b:ro:ro",
                        "/a:/b:rw",
                        "/a:/b:z",
                        "/a:rw",
                        "/a:/proc",
                        "/a:/dev",
                        "/a:/sys/x",
                        "/a:/dev/pts",
                        "/a:/dev/null",
                        "/a:/proc/sys/kernel",
                        "/a:/proc/kcore",
                        "/a:/dev/shm",
                        "/proc",
                        "/dev/pts" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (sbx_spec_parse_bind (bad[i], FALSE, &m, &error));
      g_assert_nonnull (error);
      g_assert_true (g_str_has_prefix (error->message, "--bind: "));
    }
  g_clear_error (&error);
  g_assert_false (sbx_spec_parse_bind ("/a:/b:rw", TRUE, &m, &error));
  g_clear_error (&error);
  /* Below what sbx mounts, a mount is the caller's business. */
  const char *good[] = { "/a:/proc/cpuinfo", "/a:/dev/kvm", "/a:/dev/shm/x", "/a:/run", "/a:/tmp" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (sbx_spec_parse_bind (good[i], FALSE, &m, &error));
      sbx_mount_free (m);
    }
}

static void
test_env_name (void)
{
  const char *good[] = { "A", "_", "a_1", "PATH", "_X9" };
  const char *bad[] = { "", "1A", "A B", "A-B", "A.B", "=", "é" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (sbx_spec_env_name_valid (good[i], strlen (good[i])));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (sbx_spec_env_name_valid (bad[i], strlen (bad[i])));
}

static void
test_parse_tmpfs (void)
{
  g_autoptr (GError) error = NULL;
  SbxMount *m = NULL;

  g_assert_true (sbx_spec_parse_tmpfs ("/scratch:64M", &m, &error));
  g_assert_cmpstr (m->dst, ==, "/scratch");
  g_assert_cmpuint (m->size, ==, 64 << 20);
  sbx_mount_free (m);
  g_assert_true (sbx_spec_parse_tmpfs ("/scratch", &m, &error));
  g_assert_cmpuint (m->size, ==, 0);
  sbx_mount_free (m);

  const char *bad[] = { "rel",      "/x:",   "/x:0",        "/x:-1M",  "/x:lots", "/",
                        "/x:1M:2M", "/proc", "/proc/sys/x", "/dev:1M", "/sys",    "/dev/pts" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (sbx_spec_parse_tmpfs (bad[i], &m, &error));
      g_assert_true (g_str_has_prefix (error->message, "--tmpfs: "));
    }
}

static void
test_parse_tmpfs_size (void)
{
  const struct
  {
    const char *text, *want;
  } good[] = {
    { "25%", "25%" },      { "1%", "1%" },           { "100%", "100%" },   { "010%", "10%" },
    { "64M", "67108864" }, { "1.5G", "1610612736" }, { "512K", "524288" }, { "1", "1" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out = NULL;
      g_assert_true (sbx_spec_parse_tmpfs_size ("--tmp-size", good[i].text, &out, &error));
      g_assert_cmpstr (out, ==, good[i].want);
    }

  const char *bad[] = { "",
                        "0",
                        "-1",
                        "1X",
                        "101%",
                        "0%",
                        "%",
                        "1.5%",
                        "-5%",
                        "1.5",
                        "1M%",
                        "18446744073709551616",
                        "18446744073709551615" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      char *out = NULL;
      g_assert_false (sbx_spec_parse_tmpfs_size ("--shm-size", bad[i], &out, &error));
      g_assert_null (out);
      g_autofree char *prefix = g_strdup_printf ("--shm-size: '%s' ", bad[i]);
      g_assert_true (g_str_has_prefix (error->message, prefix));
    }
}

static void
test_hostname (void)
{
  g_assert_true (sbx_spec_hostname_valid ("box"));
  g_assert_true (sbx_spec_hostname_valid ("build-1.example"));
  g_autofree char *max = g_strnfill (63, 'a');
  g_autofree char *long_name = g_strdup_printf ("%s.b", max); /* 65 bytes */
  g_assert_true (sbx_spec_hostname_valid (max));
  g_assert_false (sbx_spec_hostname_valid (long_name));
  g_assert_false (sbx_spec_hostname_valid (""));
  g_assert_false (sbx_spec_hostname_valid ("-a"));
  g_assert_false (sbx_spec_hostname_valid ("a-"));
  g_assert_false (sbx_spec_hostname_valid ("a..b"));
  g_assert_false (sbx_spec_hostname_valid ("a b"));
  g_assert_false (sbx_spec_hostname_valid ("a/b"));
}

/* On/off options take the option alone or exactly these six words. */
static void
test_parse_on_off (void)
{
  static const char *const yes[] = { "true", "yes", "1" }, *const no[] = { "false", "no", "0" };
  static const char *const junk[] = { "", "TRUE", "Yes", "on", "off", "2", "true ", " no", "y" };
  gboolean on = FALSE;
  g_assert_true (sbx_spec_parse_on_off ("--x", NULL, &on, NULL) && on);
  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      on = FALSE;
      g_assert_true (sbx_spec_parse_on_off ("--x", yes[i], &on, NULL) && on);
      g_assert_true (sbx_spec_parse_on_off ("--x", no[i], &on, NULL) && !on);
    }
  for (guint i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      g_autoptr (GError) error = NULL;
      on = TRUE;
      g_assert_false (sbx_spec_parse_on_off ("--x", junk[i], &on, &error));
      g_assert_true (on); /* untouched */
      g_assert_true (g_str_has_prefix (error->message, "--x: '"));
    }
}

static void
test_parse_cpus (void)
{
  guint64 v = 0;
  g_assert_true (sbx_spec_parse_cpus ("1", 2, &v) && v == 1000000);
  g_assert_true (sbx_spec_parse_cpus ("0.5", 2, &v) && v == 500000);
  g_assert_true (sbx_spec_parse_cpus ("2", 2, &v) && v == 2000000);
  g_assert_true (sbx_spec_parse_cpus ("1.25", 2, &v) && v == 1250000);
  g_assert_true (sbx_spec_parse_cpus ("0.000001", 2, &v) && v == 1);
  g_assert_false (sbx_spec_parse_cpus ("0.0000001", 2, &v)); /* finer than 1 us/s */
  g_assert_false (sbx_spec_parse_cpus ("0", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("0.000", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("2.5", 2, &v)); /* more than the machine has */
  g_assert_false (sbx_spec_parse_cpus ("3", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("-1", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("", 2, &v));
  g_assert_false (sbx_spec_parse_cpus (".5", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("1.", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("1e3", 2, &v));
  g_assert_false (sbx_spec_parse_cpus ("99999999999999999999999", 2, &v)); /* no overflow */
}

static void
assert_publish (const char *text, int family, const char *ip, guint16 host_port, guint16 port,
                gboolean udp)
{
  g_autoptr (GError) error = NULL;
  SbxPublish *p = NULL;
  g_assert_true (sbx_spec_parse_publish (text, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p->family, ==, family);
  g_assert_cmpstr (p->host_ip, ==, ip);
  g_assert_cmpuint (p->host_port, ==, host_port);
  g_assert_cmpuint (p->port, ==, port);
  g_assert_cmpint (p->udp, ==, udp);
  g_assert_cmpstr (p->text, ==, text);
  sbx_publish_free (p);
}

static void
test_parse_publish (void)
{
  /* HOSTIP defaults to the loopback: nothing is opened to the network
   * unless asked. */
  assert_publish ("8080:80", AF_INET, "127.0.0.1", 8080, 80, FALSE);
  assert_publish ("8080:80/tcp", AF_INET, "127.0.0.1", 8080, 80, FALSE);
  assert_publish ("5353:53/udp", AF_INET, "127.0.0.1", 5353, 53, TRUE);
  assert_publish ("0.0.0.0:1:65535", AF_INET, "0.0.0.0", 1, 65535, FALSE);
  assert_publish ("192.0.2.7:8080:80/udp", AF_INET, "192.0.2.7", 8080, 80, TRUE);
  assert_publish ("[::1]:8080:80", AF_INET6, "::1", 8080, 80, FALSE);
  assert_publish ("[::]:8080:80/udp", AF_INET6, "::", 8080, 80, TRUE);
  assert_publish ("[2001:db8::1]:443:8443", AF_INET6, "2001:db8::1", 443, 8443, FALSE);

  const struct
  {
    const char *text, *want;
  } bad[] = {
    { "8080", "-p: '8080' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)" },
    { "", "-p: '' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)" },
    { "8080/udp", "-p: '8080/udp' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)" },
    { "0:80", "-p: '0:80': a port is a number from 1 to 65535" },
    { "8080:0", "-p: '8080:0': a port is a number from 1 to 65535" },
    { "65536:80", "-p: '65536:80': a port is a number from 1 to 65535" },
    { "8080:-1", "-p: '8080:-1': a port is a number from 1 to 65535" },
    { "8080:", "-p: '8080:': a port is a number from 1 to 65535" },
    { ":80", "-p: ':80': a port is a number from 1 to 65535" },
    { "x:80", "-p: 'x:80': a port is a number from 1 to 65535" },
    { " 8080:80", "-p: ' 8080:80': a port is a number from 1 to 65535" },
    { "8080:80/sctp", "-p: '8080:80/sctp': the protocol is tcp or udp" },
    { "8080:80/", "-p: '8080:80/': the protocol is tcp or udp" },
    { "8080:80/UDP", "-p: '8080:80/UDP': the protocol is tcp or udp" },
    { "nohost:8080:80", "-p: 'nohost:8080:80': 'nohost' is not an IP address" },
    { "256.0.0.1:8080:80", "-p: '256.0.0.1:8080:80': '256.0.0.1' is not an IP address" },
    { ":8080:80", "-p: ':8080:80': '' is not an IP address" },
    { "[::1:8080:80", "-p: '[::1:8080:80': an IPv6 address goes in brackets" },
    { "[::1]8080:80", "-p: '[::1]8080:80': an IPv6 address goes in brackets" },
    { "[::1]:x:80", "-p: '[::1]:x:80': a port is a number from 1 to 65535" },
    { "[nohost]:8080:80", "-p: '[nohost]:8080:80': 'nohost' is not an IP address" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      SbxPublish *p = NULL;
      g_assert_false (sbx_spec_parse_publish (bad[i].text, &p, &error));
      g_assert_null (p);
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, bad[i].want);
    }
}

static void
test_name_valid (void)
{
  g_autofree char *max = g_strnfill (64, 'x');
  g_autofree char *too_long = g_strnfill (65, 'x');
  const char *good[] = { "a", "web", "Web-1", "a.b_c-d", "0", max };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (sbx_state_name_valid (good[i]));
  const char *bad[] = { "", too_long, "-a", ".hidden", "_a", "a/b", "..", "a b", "a\n", "é" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (sbx_state_name_valid (bad[i]));
}

static void
assert_unescaped (const char *field, const char *want)
{
  g_autofree char *got = sbx_overlay_unescape_mountinfo (field);
  g_assert_cmpstr (got, ==, want);
}

/* The kernel writes space, tab, newline and backslash in mountinfo's paths
 * as three octal digits (seq_file's mangle_path). */
static void
test_unescape_mountinfo (void)
{
  assert_unescaped ("/", "/");
  assert_unescaped ("/plain/path", "/plain/path");
  assert_unescaped ("/with\\040space", "/with space");
  assert_unescaped ("/tab\\011new\\012line", "/tab\tnew\nline");
  assert_unescaped ("/back\\134slash", "/back\\slash");
  assert_unescaped ("\\040\\040", "  ");
  /* Only a backslash with three octal digits is an escape, and a decoded
   * backslash does not start another one. */
  assert_unescaped ("/a\\134040", "/a\\040");
  assert_unescaped ("/a\\08", "/a\\08");
  assert_unescaped ("/a\\400", "/a\\400");
  assert_unescaped ("/a\\04", "/a\\04");
  assert_unescaped ("/trailing\\", "/trailing\\");
  assert_unescaped ("", "");
}

static void
test_limits_strv (void)
{
  SbxSpec spec = { .memory = 64 << 20,
                   .memory_text = (char *)"64M",
                   .cpu_quota = 1500000,
                   .pids_limit = 100,
                   .io_weight = 50 };
  g_auto (GStrv) v = sbx_spec_limits_strv (&spec);
  g_autofree char *joined = g_strjoinv (" ", v);
  g_assert_cmpstr (joined, ==, "memory=64M cpus=1.5 pids=100 io-weight=50");
  g_assert_true (sbx_spec_has_limits (&spec));
  SbxSpec none = { 0 };
  g_auto (GStrv) empty = sbx_spec_limits_strv (&none);
  g_assert_null (empty[0]);
  g_assert_false (sbx_spec_has_limits (&none));
  spec.cpu_quota = 2000000;
  g_auto (GStrv) whole = sbx_spec_limits_strv (&spec);
  g_assert_cmpstr (whole[1], ==, "cpus=2");
}

/* The filter compiled at build time is the one libseccomp makes at run time
 * from the same rules, for this host's userfaultfd setting. */
static void
test_seccomp_program (void)
{
  g_autofree char *text = NULL;
  int uffd_allowed
      = g_file_get_contents ("/proc/sys/vm/unprivileged_userfaultfd", &text, NULL, NULL)
        && g_ascii_strtoll (text, NULL, 10) == 1;
  struct sock_fprog prog = { 0 };
  sbx_security_seccomp_program (&prog);
  int err = 0;
  scmp_filter_ctx ctx = sbx_seccomp_rules_build (!uffd_allowed, &err);
  g_assert_nonnull (ctx);
  static struct sock_filter fresh[4096];
  int n = sbx_seccomp_rules_export (ctx, fresh, G_N_ELEMENTS (fresh));
  seccomp_release (ctx);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (prog.len, ==, n);
  g_assert_cmpmem (prog.filter, prog.len * sizeof *prog.filter, fresh, (gsize)n * sizeof *fresh);
}

/* The monitor's protocol: each message only in the state that expects it,
 * each setup request once; after the command started only its status. */
static void
test_protocol (void)
{
  const SbxRunNeeds all = { .slirp = TRUE, .fuse = TRUE, .named = TRUE, .pty = TRUE };
  const SbxRunNeeds none = { 0 };
  guint32 fuse = 1u << SBX_MSG_FUSE_START;

  /* The command's pty: its master only while PID 1 builds, once, and only
   * when the monitor asked for one. */
  g_assert_true (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_PTY, &all));
  g_assert_false (
      sbx_monitor_message_expected (SBX_RUN_BUILDING, 1u << SBX_MSG_PTY, SBX_MSG_PTY, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_PTY, &none));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_SETUP, 0, SBX_MSG_PTY, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_STARTED, 0, SBX_MSG_PTY, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_EXITED, 0, SBX_MSG_PTY, &all));

  g_assert_true (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_FUSE_START, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, fuse, SBX_MSG_FUSE_START, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_STARTED, 0, SBX_MSG_FUSE_START, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_SETUP, 0, SBX_MSG_FUSE_START, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_FUSE_START, &none));
  g_assert_true (sbx_monitor_message_expected (SBX_RUN_SETUP, 0, SBX_MSG_TAP_FD, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_SETUP, 0, SBX_MSG_TAP_FD, &none));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_STARTED, 0, SBX_MSG_TAP_FD, &all));
  g_assert_false (
      sbx_monitor_message_expected (SBX_RUN_BUILDING, 1u << SBX_MSG_TAP_FD, SBX_MSG_TAP_FD, &all));
  g_assert_true (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_NAMESPACES, &all));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_NAMESPACES, &none));
  g_assert_true (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_STARTED, &none));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_STARTED, 1u << SBX_MSG_STARTED,
                                                SBX_MSG_STARTED, &none));
  g_assert_true (sbx_monitor_message_expected (SBX_RUN_STARTED, 0, SBX_MSG_EXIT, &none));
  g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, SBX_MSG_EXIT, &none));
  g_assert_false (
      sbx_monitor_message_expected (SBX_RUN_EXITED, 1u << SBX_MSG_EXIT, SBX_MSG_EXIT, &none));
  /* After the start, nothing but the status: no errors, warnings or lines
   * for the caller's terminal either. */
  for (guint32 t = 0; t < 32; t++)
    if (t != SBX_MSG_EXIT)
      g_assert_false (sbx_monitor_message_expected (SBX_RUN_STARTED, 0, t, &all));
  /* What only the monitor sends, never accepted from the sandbox. */
  guint32 ours[] = { SBX_MSG_GO,        SBX_MSG_FUSE_FAILED,
                     SBX_MSG_NET_READY, SBX_MSG_SOCKET_REQUEST,
                     SBX_MSG_SOCKET,    99,
                     G_MAXUINT32 };
  for (guint i = 0; i < G_N_ELEMENTS (ours); i++)
    g_assert_false (sbx_monitor_message_expected (SBX_RUN_BUILDING, 0, ours[i], &all));
}

/* Error texts are English and come from no catalog, whatever the locale. */
static void
test_strerror (void)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_assert_cmpstr (sbx_util_strerror (ENOENT), ==, "No such file or directory");
  g_assert_cmpstr (sbx_util_strerror (EACCES), ==, "Permission denied");
  g_assert_cmpstr (sbx_util_strerror (123456), ==, "Unknown error");
  setlocale (LC_ALL, "C");
}

/* Only the fds asked for survive. */
static void
test_close_fds_except (void)
{
  int fds[6];
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    fds[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  int keep[] = { fds[4], fds[1], -1, 2 };
  sbx_util_close_fds_except (keep, G_N_ELEMENTS (keep));
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    g_assert_cmpint (fcntl (fds[i], F_GETFD) >= 0, ==, i == 1 || i == 4);
  g_assert_cmpint (fcntl (2, F_GETFD), >=, 0);
  close (fds[1]);
  close (fds[4]);
}

/* A tree is removed through fds: a symlink in it, to a directory outside,
 * is removed as a symlink, and what it points at stays; a directory of mode
 * 0 (an overlay's work directory) goes too. */
static void
test_remove_tree (void)
{
  g_autofree char *base = g_dir_make_tmp ("sbx-unit-XXXXXX", NULL);
  g_autofree char *tree = g_build_filename (base, "tree", NULL);
  g_autofree char *outside = g_build_filename (base, "outside", NULL);
  g_autofree char *kept = g_build_filename (outside, "kept", NULL);
  g_autofree char *deep = g_build_filename (tree, "a", "b", NULL);
  g_autofree char *link = g_build_filename (tree, "a", "link", NULL);
  g_autofree char *closed = g_build_filename (tree, "closed", NULL);
  g_assert_cmpint (g_mkdir_with_parents (deep, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (outside, 0755), ==, 0);
  g_assert_true (g_file_set_contents (kept, "x", -1, NULL));
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_assert_cmpint (mkdir (closed, 0), ==, 0);
  g_assert_true (sbx_util_remove_tree (tree, FALSE));
  g_assert_false (g_file_test (tree, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  g_assert_true (sbx_util_remove_tree (base, FALSE));
}

/* A layer's directory holds only what sbx makes there; the first other
 * entry, in name order, is named. */
static void
test_layer_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_dir_make_tmp ("sbx-unit-XXXXXX", NULL);
  g_assert_true (sbx_state_check_layer_dir (base, &error));
  const char *dirs[] = { "upper", "work" }, *files[] = { "lock", "layers", "layers.Ab3xYz" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (base, dirs[i], NULL);
      g_assert_cmpint (mkdir (p, 0700), ==, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (base, files[i], NULL);
      g_assert_true (g_file_set_contents (p, "", 0, NULL));
    }
  g_assert_true (sbx_state_check_layer_dir (base, &error));
  g_autofree char *b = g_build_filename (base, "b-notes", NULL);
  g_autofree char *a = g_build_filename (base, ".bashrc", NULL);
  g_assert_true (g_file_set_contents (b, "", 0, NULL));
  g_assert_true (g_file_set_contents (a, "", 0, NULL));
  g_assert_false (sbx_state_check_layer_dir (base, &error));
  g_assert_error (error, SBX_STATE_ERROR, SBX_STATE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'.bashrc' is in the way"));
  g_clear_error (&error);
  unlink (a);
  unlink (b);
  /* upper as a file is not the layer's upper */
  g_autofree char *upper = g_build_filename (base, "upper", NULL);
  g_assert_cmpint (rmdir (upper), ==, 0);
  g_assert_true (g_file_set_contents (upper, "", 0, NULL));
  g_assert_false (sbx_state_check_layer_dir (base, &error));
  g_assert_true (sbx_util_remove_tree (base, FALSE));
}

/* A script whose #! interpreter is missing is told from a missing command. */
static void
test_missing_interpreter (void)
{
  char buf[64];
  g_autofree char *base = g_dir_make_tmp ("sbx-unit-XXXXXX", NULL);
  g_autofree char *nope = g_build_filename (base, "nope", NULL);
  g_autofree char *sh = g_build_filename (base, "sh-script", NULL);
  g_autofree char *plain = g_build_filename (base, "plain", NULL);
  g_assert_true (g_file_set_contents (nope, "#! /no/such/interp\x01 -x\necho\n", -1, NULL));
  g_assert_true (g_file_set_contents (sh, "#!/bin/sh\n", -1, NULL));
  g_assert_true (g_file_set_contents (plain, "echo\n", -1, NULL));
  g_assert_true (sbx_util_missing_interpreter (nope, buf, sizeof buf));
  g_assert_cmpstr (buf, ==, "/no/such/interp?");
  g_assert_false (sbx_util_missing_interpreter (sh, buf, sizeof buf));
  g_assert_false (sbx_util_missing_interpreter (plain, buf, sizeof buf));
  g_assert_false (sbx_util_missing_interpreter ("/nonexistent/x", buf, sizeof buf));
  /* found through $PATH as execvp() finds it */
  g_autofree char *old = g_strdup (g_getenv ("PATH"));
  g_setenv ("PATH", base, TRUE);
  g_assert_true (sbx_util_missing_interpreter ("nope", buf, sizeof buf));
  g_setenv ("PATH", old, TRUE);
  g_assert_true (sbx_util_remove_tree (base, FALSE));
}

/* The scan of a layer does not follow its symlinks: a directory of the
 * layer that is a symlink to the host's /etc is one added entry. */
static void
test_diff_symlink (void)
{
  g_autofree char *base = g_dir_make_tmp ("sbx-unit-XXXXXX", NULL);
  g_autofree char *upper = g_build_filename (base, "upper", NULL);
  g_autofree char *lower = g_build_filename (base, "lower", NULL);
  g_autofree char *link = g_build_filename (upper, "etc-link", NULL);
  g_assert_cmpint (mkdir (upper, 0755), ==, 0);
  g_assert_cmpint (mkdir (lower, 0755), ==, 0);
  g_assert_cmpint (symlink ("/etc", link), ==, 0);
  const char *lowers[] = { lower, NULL };
  g_autoptr (GPtrArray) changes = sbx_diff_scan_here (upper, lowers);
  g_assert_cmpuint (changes->len, ==, 1);
  SbxChange *c = changes->pdata[0];
  g_assert_cmpint (c->kind, ==, 'A');
  g_assert_cmpstr (c->path, ==, "/etc-link");
  g_assert_true (sbx_util_remove_tree (base, FALSE));
}

/* Names are quoted as git quotes them, only when they must be. */
static void
test_diff_quote (void)
{
  static const struct
  {
    const char *prefix, *name, *want;
  } cases[] = {
    { "", "/plain/name", "/plain/name" },
    { "a/", "with space", "a/with space" },
    { "", "/caf\xc3\xa9", "/caf\xc3\xa9" }, /* UTF-8 stays readable */
    { "a/", "a\nb", "\"a/a\\nb\"" },        /* the prefix inside the quotes, as git */
    { "", "tab\there", "\"tab\\there\"" },
    { "", "esc\033[31m", "\"esc\\033[31m\"" }, /* a terminal escape cannot pass */
    { "", "q\"uote\\", "\"q\\\"uote\\\\\"" },
    { "", "bad\xff", "\"bad\\377\"" },                   /* not UTF-8: octal */
    { "", "c1\xc2\x9b", "\"c1\\302\\233\"" },            /* U+009B (CSI) */
    { "", "rlo\xe2\x80\xae", "\"rlo\\342\\200\\256\"" }, /* U+202E */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *q = sbx_diff_quote (cases[i].prefix, cases[i].name);
      g_assert_cmpstr (q, ==, cases[i].want);
    }
  g_assert_true (sbx_diff_path_under ("/a/b", "/a"));
  g_assert_true (sbx_diff_path_under ("/a", "/a"));
  g_assert_true (sbx_diff_path_under ("/a", "/"));
  g_assert_false (sbx_diff_path_under ("/ab", "/a"));
}

/* The changes survive the trip from the reader, and a malformed list is
 * refused. */
static void
test_diff_serialize (void)
{
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_change_free);
  SbxChange *c = g_new0 (SbxChange, 1);
  c->kind = 'A';
  c->path = g_strdup ("/p/new\nline\xff");
  c->upper_rel = g_strdup ("p/new\nline\xff");
  c->mode = 0120777;
  c->target = g_strdup ("/etc/passwd");
  c->has_btime = TRUE;
  c->btime_sec = 1234;
  c->btime_nsec = 5678;
  c->lower = -1;
  g_ptr_array_add (changes, c);
  g_autoptr (GBytes) bytes = sbx_diff_serialize (changes);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) back = sbx_diff_deserialize (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, 1);
  SbxChange *b = back->pdata[0];
  g_assert_cmpint (b->kind, ==, 'A');
  g_assert_cmpstr (b->path, ==, c->path);
  g_assert_cmpstr (b->target, ==, "/etc/passwd");
  g_assert_null (b->xattrs);
  g_assert_true (b->has_btime && b->btime_sec == 1234 && b->btime_nsec == 5678 && b->lower == -1);

  g_free (c->path);
  c->path = g_strdup ("/p/../etc/shadow");
  g_autoptr (GBytes) bad = sbx_diff_serialize (changes);
  g_autoptr (GPtrArray) refused = sbx_diff_deserialize (bad, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
}

/* A conflict: the host entry changed (ctime) at or after the sandbox
 * made its entry, appeared for an A, is gone for a C; nothing known of
 * when the sandbox made it is a conflict for anything on the host. */
static void
test_apply_conflict (void)
{
  struct timespec since = { .tv_sec = 1000, .tv_nsec = 500 };
  struct stat older = { .st_mode = S_IFREG | 0644, .st_ctim = { 999, 999999999 } };
  struct stat same = { .st_mode = S_IFREG | 0644, .st_ctim = { 1000, 500 } };
  struct stat newer = { .st_mode = S_IFREG | 0644, .st_ctim = { 1000, 501 } };
  struct stat dir = { .st_mode = S_IFDIR | 0755, .st_ctim = { 1, 0 } };

  g_assert_null (sbx_apply_conflict ('C', S_IFREG | 0644, &since, &older));
  g_assert_nonnull (sbx_apply_conflict ('C', S_IFREG | 0644, &since, &same));
  g_assert_nonnull (sbx_apply_conflict ('C', S_IFREG | 0644, &since, &newer));
  g_assert_nonnull (sbx_apply_conflict ('C', S_IFREG | 0644, &since, NULL));
  g_assert_null (sbx_apply_conflict ('D', 0, &since, &older));
  g_assert_nonnull (sbx_apply_conflict ('D', 0, &since, &newer));
  g_assert_null (sbx_apply_conflict ('D', 0, &since, NULL));
  g_assert_null (sbx_apply_conflict ('A', S_IFREG | 0644, &since, NULL));
  g_assert_nonnull (sbx_apply_conflict ('A', S_IFREG | 0644, &since, &older));
  g_assert_null (sbx_apply_conflict ('A', S_IFDIR | 0755, &since, &dir));
  /* No birth time and no record of the layer's: ask. */
  g_assert_nonnull (sbx_apply_conflict ('C', S_IFREG | 0644, NULL, &older));
  g_assert_nonnull (sbx_apply_conflict ('D', 0, NULL, &older));
  g_assert_null (sbx_apply_conflict ('D', 0, NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/util/parse-u64", test_parse_u64);
  g_test_add_func ("/util/parse-size", test_parse_size);
  g_test_add_func ("/util/stat-fields", test_stat_fields);
  g_test_add_func ("/userns/parse-subids", test_parse_subids);
  g_test_add_func ("/userns/build-map", test_build_map);
  g_test_add_func ("/spec/parse-bind", test_parse_bind);
  g_test_add_func ("/spec/parse-tmpfs", test_parse_tmpfs);
  g_test_add_func ("/spec/parse-tmpfs-size", test_parse_tmpfs_size);
  g_test_add_func ("/spec/hostname", test_hostname);
  g_test_add_func ("/spec/parse-cpus", test_parse_cpus);
  g_test_add_func ("/spec/parse-publish", test_parse_publish);
  g_test_add_func ("/spec/parse-on-off", test_parse_on_off);
  g_test_add_func ("/spec/env-name", test_env_name);
  g_test_add_func ("/spec/limits-strv", test_limits_strv);
  g_test_add_func ("/state/name-valid", test_name_valid);
  g_test_add_func ("/overlay/unescape-mountinfo", test_unescape_mountinfo);
  g_test_add_func ("/security/seccomp-program", test_seccomp_program);
  g_test_add_func ("/monitor/protocol", test_protocol);
  g_test_add_func ("/util/strerror", test_strerror);
  g_test_add_func ("/util/close-fds-except", test_close_fds_except);
  g_test_add_func ("/util/remove-tree", test_remove_tree);
  g_test_add_func ("/util/missing-interpreter", test_missing_interpreter);
  g_test_add_func ("/state/layer-dir", test_layer_dir);
  g_test_add_func ("/diff/symlink", test_diff_symlink);
  g_test_add_func ("/diff/quote", test_diff_quote);
  g_test_add_func ("/diff/serialize", test_diff_serialize);
  g_test_add_func ("/apply/conflict", test_apply_conflict);
  return g_test_run ();
}
