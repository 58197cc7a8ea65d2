/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sbx-net: the user-space network of a sandbox.
 *
 * Runs in the host's network namespace, started by the monitor with the
 * fds of sbx-net.h: the sandbox's tap0, a socket to its PID 1 (which makes
 * sockets in the sandbox's network namespace on request), a ready pipe, a
 * pipe whose EOF says the monitor is gone, and the host sockets of -p.
 *
 * Traffic the sandbox starts goes through libslirp, each frame from tap0
 * first through the filter of frame.c: the sandbox may be hostile, and
 * libslirp parses what it is given.  Under an egress policy (--allow-net,
 * --deny-net, --net-log) each frame then goes through egress.c, which
 * decides new flows and answers the sandbox's DNS itself.  Published ports
 * do not go through libslirp (ports.c).  After setup the helper isolates
 * itself (isolate.c).
 *
 * One round of the loop: build the poll set (ours, the ports', libslirp's),
 * poll, dispatch what came, let libslirp and its timers run, then free what
 * the round ended. */
#include "config.h"

#include "egress.h"
#include "frame.h"
#include "netpolicy.h"
#include "sbx-net.h"
#include "spec.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libslirp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Frames read from tap0 in one round at most, so that the ports and
 * libslirp's own sockets get their turn under a flood. */
#define FRAMES_PER_ROUND 64

typedef struct
{
  guint mtu;
  gboolean ipv6;
  gboolean allow_host_loopback;
  GArray *tcp;      /* SbxForward */
  GArray *udp;      /* SbxForward */
  gboolean policy;  /* the egress policy is in force (rules, or --net-log alone) */
  gboolean log;     /* SBX_NET_EVENTS_FD is the monitor's --net-log pipe */
  GPtrArray *allow; /* SbxNetRule* */
  GPtrArray *deny;
} Config;

typedef struct
{
  SlirpTimerCb cb;
  void *cb_opaque;
  gint64 expire_ms; /* -1: not armed */
} Timer;

/* The state of the loop, libslirp's callbacks' opaque pointer. */
typedef struct
{
  Slirp *slirp;
  SbxFrameFilter *filter;
  SbxEgress *egress; /* NULL without a policy */
  SbxPorts *ports;
  GPtrArray *timers; /* Timer*, libslirp's */
  GArray *pfds;      /* struct pollfd: this round's poll set */
} Loop;

/* The first entries of the poll set. */
enum
{
  POLL_TAP,
  POLL_FACTORY,
  POLL_ALIVE,
  POLL_FIXED
};

void
sbx_net_fatal (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("sbx-net: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

gint64
sbx_net_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
parse_forward (const char *arg, GArray *into)
{
  SbxForward f;
  if (sscanf (arg + 6, "%d:%hu", &f.fd, &f.port) != 2)
    sbx_net_fatal ("bad %s", arg);
  g_array_append_val (into, f);
}

/* A rule as typed, parsed as sbx parsed it (netpolicy.c): sbx refused a
 * bad one already, so a failure here is a mismatch of the two. */
static void
parse_rule (const char *option, const char *text, GPtrArray *into, guint *index)
{
  g_autoptr (GError) error = NULL;
  if (!sbx_netrule_parse (option, text, (*index)++, into, &error))
    sbx_net_fatal ("%s", error->message);
}

static void
parse_args (int argc, char **argv, Config *c)
{
  guint n_allow = 0, n_deny = 0;
  c->mtu = SBX_MTU_DEFAULT; /* sbx passes --mtu */
  c->ipv6 = TRUE;
  c->tcp = g_array_new (FALSE, FALSE, sizeof (SbxForward));
  c->udp = g_array_new (FALSE, FALSE, sizeof (SbxForward));
  c->allow = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  c->deny = g_ptr_array_new_with_free_func ((GDestroyNotify)sbx_netrule_free);
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      guint64 v;
      if (g_str_has_prefix (a, "--mtu=") && sbx_util_parse_u64 (a + 6, 65520, &v))
        c->mtu = (guint)v;
      else if (strcmp (a, "--no-ipv6") == 0)
        c->ipv6 = FALSE;
      else if (strcmp (a, "--allow-host-loopback") == 0)
        c->allow_host_loopback = TRUE;
      else if (g_str_has_prefix (a, "--tcp="))
        parse_forward (a, c->tcp);
      else if (g_str_has_prefix (a, "--udp="))
        parse_forward (a, c->udp);
      else if (g_str_has_prefix (a, "--allow="))
        parse_rule ("--allow-net", a + 8, c->allow, &n_allow);
      else if (g_str_has_prefix (a, "--deny="))
        parse_rule ("--deny-net", a + 7, c->deny, &n_deny);
      else if (strcmp (a, "--policy") == 0)
        c->policy = TRUE;
      else if (strcmp (a, "--log") == 0)
        c->log = TRUE;
      else
        sbx_net_fatal ("unknown argument %s", a);
    }
}

/* ---- libslirp's callbacks ------------------------------------------------------- */

static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  ssize_t n;
  do
    n = write (SBX_NET_TAP_FD, buf, len);
  while (n < 0 && errno == EINTR);
  /* A full tap queue drops the frame, as a busy link would. */
  return n < 0 ? (errno == EAGAIN ? (ssize_t)len : -1) : n;
}

/* egress.c's frames to the sandbox: refusals and DNS answers. */
static void
send_frame (const guint8 *frame, size_t len, gpointer user)
{
  send_packet (frame, len, user);
}

static void
guest_error (const char *msg, void *opaque)
{
  fprintf (stderr, "sbx-net: %s\n", msg);
}

static int64_t
clock_get_ns (void *opaque)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  Loop *loop = opaque;
  Timer *t = g_new0 (Timer, 1);
  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  g_ptr_array_add (loop->timers, t);
  return t;
}

static void
timer_free (void *timer, void *opaque)
{
  Loop *loop = opaque;
  g_ptr_array_remove (loop->timers, timer);
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
  Loop *loop = opaque;
  struct pollfd p = { .fd = fd };
  if (events & SLIRP_POLL_IN)
    p.events |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    p.events |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    p.events |= POLLPRI;
  g_array_append_val (loop->pfds, p);
  return (int)loop->pfds->len - 1;
}

static int
get_revents (int idx, void *opaque)
{
  Loop *loop = opaque;
  short r = g_array_index (loop->pfds, struct pollfd, idx).revents;
  int e = 0;
  if (r & POLLIN)
    e |= SLIRP_POLL_IN;
  if (r & POLLOUT)
    e |= SLIRP_POLL_OUT;
  if (r & POLLPRI)
    e |= SLIRP_POLL_PRI;
  if (r & POLLERR)
    e |= SLIRP_POLL_ERR;
  if (r & POLLHUP)
    e |= SLIRP_POLL_HUP;
  return e;
}

static Slirp *
start_slirp (const Config *c, Loop *loop)
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
  SlirpConfig cfg = {
  /* Version 4 is libslirp 4.7's; nothing newer is used. */
#if SLIRP_CONFIG_VERSION_MAX >= 4
    .version = 4,
    .disable_dhcp = TRUE, /* tap0's address is set inside */
#else
    .version = SLIRP_CONFIG_VERSION_MAX,
#endif
    .in_enabled = TRUE,
    .in6_enabled = c->ipv6,
    .vprefix_len = 64,
    .if_mtu = c->mtu,
    .if_mru = c->mtu,
    /* 10.0.2.2 reaches the host's 127.0.0.1 only when asked.  DNS to a
     * loopback resolver of the host (systemd-resolved's 127.0.0.53) is not
     * affected: libslirp sends it to the resolver of /etc/resolv.conf. */
    .disable_host_loopback = !c->allow_host_loopback,
  };
  inet_pton (AF_INET, "10.0.2.0", &cfg.vnetwork);
  inet_pton (AF_INET, "255.255.255.0", &cfg.vnetmask);
  inet_pton (AF_INET, "10.0.2.2", &cfg.vhost);
  inet_pton (AF_INET, "10.0.2.15", &cfg.vdhcp_start);
  inet_pton (AF_INET, "10.0.2.3", &cfg.vnameserver);
  inet_pton (AF_INET6, "fd00::", &cfg.vprefix_addr6);
  inet_pton (AF_INET6, "fd00::2", &cfg.vhost6);
  inet_pton (AF_INET6, "fd00::3", &cfg.vnameserver6);
  Slirp *slirp = slirp_new (&cfg, &cb, loop);
  if (slirp == NULL)
    sbx_net_fatal ("cannot start libslirp");
  return slirp;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Milliseconds until the first armed timer, at most @cap (-1: none). */
static int
timers_timeout (Loop *loop, int cap)
{
  gint64 now = sbx_net_now_ms ();
  int timeout = cap;
  for (guint i = 0; i < loop->timers->len; i++)
    {
      Timer *t = loop->timers->pdata[i];
      if (t->expire_ms >= 0)
        timeout = (int)CLAMP (t->expire_ms - now, 0, timeout < 0 ? INT_MAX : timeout);
    }
  return timeout;
}

/* Runs the timers that are due.  A callback may free or arm timers, so the
 * list is searched again after each one. */
static void
run_timers (Loop *loop)
{
  gint64 now = sbx_net_now_ms ();
  for (gboolean again = TRUE; again;)
    {
      again = FALSE;
      for (guint i = 0; i < loop->timers->len && !again; i++)
        {
          Timer *t = loop->timers->pdata[i];
          if (t->expire_ms >= 0 && t->expire_ms <= now)
            {
              t->expire_ms = -1;
              t->cb (t->cb_opaque);
              again = TRUE;
            }
        }
    }
}

/* This round's poll set: tap0, PID 1, the monitor, then the ports, then
 * libslirp's sockets; returns the poll timeout. */
static int
build_poll_set (Loop *loop)
{
  uint32_t timeout = UINT32_MAX;
  const struct pollfd fixed[POLL_FIXED] = {
    [POLL_TAP] = { .fd = SBX_NET_TAP_FD, .events = POLLIN },
    [POLL_FACTORY] = { .fd = SBX_NET_FACTORY_FD, .events = POLLIN },
    [POLL_ALIVE] = { .fd = SBX_NET_ALIVE_FD, .events = POLLIN },
  };
  g_array_set_size (loop->pfds, 0);
  g_array_append_vals (loop->pfds, fixed, POLL_FIXED);
  sbx_ports_fill (loop->ports, loop->pfds);
  if (loop->egress != NULL)
    sbx_egress_fill (loop->egress, loop->pfds);
  slirp_pollfds_fill (loop->slirp, &timeout, add_poll, loop);
  int wait_ms
      = timers_timeout (loop, timeout == UINT32_MAX ? -1 : (int)MIN (timeout, (uint32_t)INT_MAX));
  if (loop->egress != NULL)
    {
      int e = sbx_egress_timeout (loop->egress, sbx_net_now_ms ());
      wait_ms = e < 0 ? wait_ms : wait_ms < 0 ? e : MIN (wait_ms, e);
    }
  return wait_ms < 0 ? 1000 : wait_ms;
}

/* Hands the frames waiting on tap0 to libslirp, those the filter passes;
 * FALSE when tap0 is gone (and the sandbox's network namespace with it). */
static gboolean
read_frames (Loop *loop)
{
  /* Aligned for libslirp's copy of each frame into its buffers. */
  static guint8 frame[65536 + 64] __attribute__ ((aligned (64)));
  gint64 now = sbx_net_now_ms ();
  for (int k = 0; k < FRAMES_PER_ROUND; k++)
    {
      ssize_t len = read (SBX_NET_TAP_FD, frame, sizeof frame);
      if (len < 0 && (errno == EAGAIN || errno == EINTR))
        return TRUE;
      if (len <= 0)
        return FALSE;
      const guint8 *out;
      size_t out_len;
      if (sbx_frame_filter_input (loop->filter, frame, (size_t)len, now, &out, &out_len)
              == SBX_FRAME_PASS
          && (loop->egress == NULL
              || sbx_egress_input (loop->egress, out, out_len, now) == SBX_EGRESS_PASS))
        slirp_input (loop->slirp, out, (int)out_len);
    }
  return TRUE;
}

/* Serves what poll() reported; FALSE when sbx-net is to end: the monitor,
 * the sandbox's PID 1 or its tap0 is gone. */
static gboolean
dispatch (Loop *loop, gboolean poll_failed)
{
  const struct pollfd *p = (const struct pollfd *)loop->pfds->data;
  if (p[POLL_ALIVE].revents)
    return FALSE;
  if ((p[POLL_TAP].revents & POLLIN) && !read_frames (loop))
    return FALSE;
  if (p[POLL_TAP].revents & (POLLHUP | POLLERR))
    return FALSE;
  if (p[POLL_FACTORY].revents & POLLIN)
    {
      if (!sbx_ports_receive_socket (loop->ports))
        return FALSE;
    }
  else if (p[POLL_FACTORY].revents & (POLLHUP | POLLERR))
    return FALSE;
  sbx_ports_dispatch (loop->ports, p, sbx_net_now_ms ());
  if (loop->egress != NULL)
    sbx_egress_dispatch (loop->egress, p, sbx_net_now_ms ());
  slirp_pollfds_poll (loop->slirp, poll_failed, get_revents, loop);
  run_timers (loop);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Config c = { 0 };
  Loop *loop = g_new0 (Loop, 1);

  /* Die with the monitor, however it ends. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  signal (SIGPIPE, SIG_IGN);
  parse_args (argc, argv, &c);
  /* Only the fds the monitor gave: nothing its caller held. */
  syscall (SYS_close_range, SBX_NET_PORTS_FD + c.tcp->len + c.udp->len, ~0U, 0);
  fcntl (SBX_NET_TAP_FD, F_SETFL, O_NONBLOCK);
  fcntl (SBX_NET_FACTORY_FD, F_SETFL, O_NONBLOCK);
  loop->timers = g_ptr_array_new ();
  loop->pfds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  loop->filter = sbx_frame_filter_new ();
  if (c.policy)
    {
      if (c.log)
        fcntl (SBX_NET_EVENTS_FD, F_SETFL, O_NONBLOCK);
      SbxEgressConfig ec = {
        .allow = c.allow,
        .deny = c.deny,
        .mtu = c.mtu,
        .ipv6 = c.ipv6,
        .events_fd = c.log ? SBX_NET_EVENTS_FD : -1,
        .report_fd = STDERR_FILENO,
        /* In the empty root isolate.c makes: the host's, bound there. */
        .resolv_conf = "/etc/resolv.conf",
        .upstream_port = 53,
        .send = send_frame,
      };
      loop->egress = sbx_egress_new (&ec);
    }
  loop->ports = sbx_ports_new (c.tcp, c.udp);
  loop->slirp = start_slirp (&c, loop);

  sbx_isolate_self ();
  if (write (SBX_NET_READY_FD, "x", 1) != 1)
    return 1;
  close (SBX_NET_READY_FD);

  for (;;)
    {
      int wait_ms = build_poll_set (loop);
      int n = poll ((struct pollfd *)loop->pfds->data, loop->pfds->len, wait_ms);
      if (n < 0 && errno != EINTR)
        sbx_net_fatal ("poll: %s", sbx_util_strerror (errno));
      if (!dispatch (loop, n < 0))
        return 0;
      sbx_ports_sweep (loop->ports);
    }
}
