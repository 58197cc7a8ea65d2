/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-frame.c: libFuzzer harness for what a hostile sandbox writes on
 * tap0: each input goes through sbx-net's frame filter and reassembly
 * (helpers/frame.c), then its egress policy (helpers/egress.c: the
 * decisions, the DNS it answers itself over UDP and TCP, the frames it
 * answers with), and what passes into slirp_input() of a real libslirp
 * instance, set up as sbx-net sets it up.  A crash in any is a finding:
 * the filter must let nothing through that libslirp cannot take, and
 * every frame sbx-net writes to the sandbox must be one it could read.
 *
 * Input: records of a 2-byte big-endian length and that many bytes, each a
 * frame read from tap0; a record of length 0 advances the clock by 10 s
 * (reassembly timeouts, libslirp's and the policy's timers); a length with
 * the high bit set (0x8000 | N) makes the N bytes that follow the answer
 * of the host's resolver to the query waiting longest.  A last record
 * longer than what is left is cut short.  tests/fuzz/run builds and runs
 * it, with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: sbx-net's TCP
 * sequence numbers and DNS ids are then fixed, so that inputs can follow
 * them.
 *
 * No packet leaves: LLVMFuzzerInitialize() moves the process into a new
 * user and network namespace whose only interface is its loopback, where
 * nothing listens; the policy's resolver is 127.0.0.1 there. */
#include "config.h"

#include "egress.h"
#include "frame.h"
#include "netpolicy.h"
#include "packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libslirp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct
{
  SlirpTimerCb cb;
  void *cb_opaque;
  gint64 expire_ms; /* -1: not armed */
} Timer;

static gint64 now_ns;
static GPtrArray *timers;

/* What egress.c writes to the sandbox: a frame it builds must read back
 * (packet.c's reader) within its bounds. */
static void
egress_send (const guint8 *frame, size_t len, gpointer user)
{
  SbxPacket p;
  if (len < 14 || len > SBX_PACKET_BUILD_MAX || !sbx_packet_parse (frame, len, &p)
      || 14 + p.ip_len != len)
    abort ();
}

/* The policy of each input: every kind of rule, allow and deny. */
static SbxEgress *
start_egress (void)
{
  static const char *const allow[]
      = { "good.example", "*.cdn.example:443", "192.0.2.0/24", "2001:db8::/32/udp", "host", NULL };
  static const char *const deny[] = { "private:22", "bad.cdn.example", "198.51.100.0/24", NULL };
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  GPtrArray *d = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  for (guint i = 0; allow[i] != NULL; i++)
    sbx_netrule_parse ("--allow-net", allow[i], i, a, NULL);
  for (guint i = 0; deny[i] != NULL; i++)
    sbx_netrule_parse ("--deny-net", deny[i], i, d, NULL);
  SbxEgressConfig c = {
    .allow = a,
    .deny = d,
    .mtu = 1500,
    .ipv6 = TRUE,
    .events_fd = -1,
    .report_fd = -1,
    .resolv_conf = "/dev/null", /* no nameserver: 127.0.0.1, as glibc */
    .upstream_port = 53,
    .send = egress_send,
  };
  return sbx_egress_new (&c);
}

static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  return (ssize_t)len; /* to the sandbox: nobody */
}

static void
guest_error (const char *msg, void *opaque)
{
}

static int64_t
clock_get_ns (void *opaque)
{
  return now_ns;
}

static void *
timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  Timer *t = g_new0 (Timer, 1);
  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  g_ptr_array_add (timers, t);
  return t;
}

static void
timer_free (void *timer, void *opaque)
{
  g_ptr_array_remove (timers, timer);
  g_free (timer);
}

static void
timer_mod (void *timer, int64_t expire_time, void *opaque)
{
  ((Timer *)timer)->expire_ms = expire_time;
}

static void
no_poll_fd (int fd, void *opaque)
{
}

static void
notify (void *opaque)
{
}

static int
add_poll (int fd, int events, void *opaque)
{
  return -1;
}

static int
get_revents (int idx, void *opaque)
{
  return 0;
}

static void
die (const char *what)
{
  fprintf (stderr, "fuzz-frame: %s: %s\n", what, strerror (errno));
  abort ();
}

static void
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, text, strlen (text)) != (ssize_t)strlen (text))
    die (path);
  close (fd);
}

/* A network namespace of our own, in a user namespace of our own (so that
 * it works unprivileged as well as root): libslirp's sockets find no
 * interface but a loopback that is down. */
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  char map[64];

  if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
    die ("unshare(CLONE_NEWUSER | CLONE_NEWNET)");
  write_file ("/proc/self/setgroups", "deny");
  snprintf (map, sizeof map, "%u %u 1", gid, gid);
  write_file ("/proc/self/gid_map", map);
  snprintf (map, sizeof map, "%u %u 1", uid, uid);
  write_file ("/proc/self/uid_map", map);

  /* Make sure of it: one interface, lo. */
  struct if_nameindex *ifs = if_nameindex ();
  if (ifs == NULL)
    die ("if_nameindex");
  if (ifs[0].if_name == NULL || strcmp (ifs[0].if_name, "lo") != 0 || ifs[1].if_name != NULL)
    {
      fprintf (stderr, "fuzz-frame: the new network namespace has more than a loopback\n");
      abort ();
    }
  if_freenameindex (ifs);
  /* Up, so that the policy's queries to its resolver (127.0.0.1, nobody)
   * are sent and wait for an answer, which the input gives. */
  struct ifreq ifr = { .ifr_name = "lo" };
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    die ("lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    die ("lo up");
  close (sock);

  timers = g_ptr_array_new ();
  return 0;
}

static Slirp *
start_slirp (void)
{
  static const SlirpCb cb = {
    .send_packet = send_packet,
    .guest_error = guest_error,
    .clock_get_ns = clock_get_ns,
    .timer_new = timer_new,
    .timer_free = timer_free,
    .timer_mod = timer_mod,
    .register_poll_fd = no_poll_fd,
    .unregister_poll_fd = no_poll_fd,
    .notify = notify,
  };
  /* As helpers/sbx-net.c, with the host's loopback allowed: the most
   * libslirp does with a packet. */
  SlirpConfig cfg = {
#if SLIRP_CONFIG_VERSION_MAX >= 4
    .version = 4,
    .disable_dhcp = TRUE,
#else
    .version = SLIRP_CONFIG_VERSION_MAX,
#endif
    .in_enabled = TRUE,
    .in6_enabled = TRUE,
    .vprefix_len = 64,
    .if_mtu = 65520,
    .if_mru = 65520,
    .disable_host_loopback = FALSE,
  };
  inet_pton (AF_INET, "10.0.2.0", &cfg.vnetwork);
  inet_pton (AF_INET, "255.255.255.0", &cfg.vnetmask);
  inet_pton (AF_INET, "10.0.2.2", &cfg.vhost);
  inet_pton (AF_INET, "10.0.2.15", &cfg.vdhcp_start);
  inet_pton (AF_INET, "10.0.2.3", &cfg.vnameserver);
  inet_pton (AF_INET6, "fd00::", &cfg.vprefix_addr6);
  inet_pton (AF_INET6, "fd00::2", &cfg.vhost6);
  inet_pton (AF_INET6, "fd00::3", &cfg.vnameserver6);
  Slirp *slirp = slirp_new (&cfg, &cb, NULL);
  if (slirp == NULL)
    abort ();
  return slirp;
}

/* What one round of sbx-net's loop does after its input: the policy's
 * sockets (none ready) and timers, libslirp's sockets (none ready) and its
 * timers. */
static void
run_round (Slirp *slirp, SbxEgress *egress)
{
  uint32_t timeout = UINT32_MAX;
  gint64 now_ms = now_ns / 1000000;
  g_autoptr (GArray) pfds = g_array_new (FALSE, TRUE, sizeof (struct pollfd));
  sbx_egress_fill (egress, pfds);
  sbx_egress_dispatch (egress, (const struct pollfd *)pfds->data, now_ms);
  slirp_pollfds_fill (slirp, &timeout, add_poll, NULL);
  slirp_pollfds_poll (slirp, 0, get_revents, NULL);
  for (gboolean again = TRUE; again;)
    {
      again = FALSE;
      for (guint i = 0; i < timers->len && !again; i++)
        {
          Timer *t = timers->pdata[i];
          if (t->expire_ms >= 0 && t->expire_ms <= now_ms)
            {
              t->expire_ms = -1;
              t->cb (t->cb_opaque);
              again = TRUE;
            }
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (SbxFrameFilter) filter = sbx_frame_filter_new ();
  g_autoptr (SbxFrameFilter) again = sbx_frame_filter_new ();
  Slirp *slirp;

  now_ns = (gint64)1000 * 1000000000;
  slirp = start_slirp ();
  SbxEgress *egress = start_egress ();
  while (size >= 2)
    {
      size_t len = (size_t)data[0] << 8 | data[1];
      data += 2;
      size -= 2;
      if (len == 0)
        {
          now_ns += (gint64)10 * 1000000000;
          run_round (slirp, egress);
          continue;
        }
      if (len & 0x8000)
        {
          len = MIN (len & 0x7fff, size);
          guint8 *answer = g_memdup2 (data, len);
          sbx_egress_inject_answer (egress, answer, len, now_ns / 1000000);
          g_free (answer);
          data += len;
          size -= len;
          continue;
        }
      len = MIN (len, size);
      if (len == 0)
        break;
      /* A copy of its own size: a read past the frame is ASan's. */
      guint8 *frame = g_malloc (len);
      memcpy (frame, data, len);
      data += len;
      size -= len;

      const guint8 *out;
      size_t out_len;
      SbxFrameVerdict v
          = sbx_frame_filter_input (filter, frame, len, now_ns / 1000000, &out, &out_len);
      if (v == SBX_FRAME_PASS)
        {
          /* What passes is whole, within bounds, and passes again as it
           * is: a reassembled datagram is an unfragmented one. */
          const guint8 *out2;
          size_t out2_len;
          if (out_len < 14 || out_len > SBX_FRAME_MAX
              || sbx_frame_filter_input (again, out, out_len, 0, &out2, &out2_len) != SBX_FRAME_PASS
              || out2 != out || out2_len != out_len)
            abort ();
          if (sbx_egress_input (egress, out, out_len, now_ns / 1000000) == SBX_EGRESS_PASS)
            slirp_input (slirp, out, (int)out_len);
        }
      g_free (frame);
      now_ns += 1000000;
      run_round (slirp, egress);
    }
  sbx_egress_free (egress);
  slirp_cleanup (slirp);
  return 0;
}
