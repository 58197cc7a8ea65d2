/* SPDX-License-Identifier: GPL-2.0-or-later */
/* net.c: the sandbox's network: its namespace (child side), and the
 * published ports and helpers/sbx-net (monitor side). */
#include "config.h"

#include "net.h"
#include "ext.h"
#include "helper.h"
#include "netpolicy.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_NAME "tap0"

/* ---- child side --------------------------------------------------------------- */

/* Sets IFF_UP on @ifname with the classic ioctls: one interface flag needs
 * no netlink conversation. */
static gboolean
link_up (int sock, const char *ifname)
{
  struct ifreq ifr = { 0 };

  g_strlcpy (ifr.ifr_name, ifname, sizeof ifr.ifr_name);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return FALSE;
  ifr.ifr_flags |= IFF_UP;
  return ioctl (sock, SIOCSIFFLAGS, &ifr) == 0;
}

void
sbx_net_setup_loopback (void)
{
  cleanup_fd int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || !link_up (sock, "lo"))
    sbx_die_errno ("cannot bring up lo");
}

/* A sysctl of tap0 in the sandbox's own network namespace (/proc/sys/net
 * is per namespace; CAP_NET_ADMIN over it is ours). */
static void
tap_sysctl (const char *family, const char *key, const char *value)
{
  g_autofree char *path = g_strdup_printf ("/proc/sys/net/%s/conf/" TAP_NAME "/%s", family, key);
  if (!sbx_util_write_file_at (AT_FDCWD, path, value))
    sbx_die_errno ("cannot set %s", path);
}

static void
set_ipv4 (int sock, unsigned long request, const char *addr)
{
  struct ifreq ifr = { 0 };
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  g_strlcpy (ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
  sin->sin_family = AF_INET;
  inet_pton (AF_INET, addr, &sin->sin_addr);
  if (ioctl (sock, request, &ifr) < 0)
    sbx_die_errno ("cannot configure " TAP_NAME " (%s)", addr);
}

static void
setup_ipv4 (const SbxSpec *spec)
{
  cleanup_fd int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = { .ifr_mtu = (int)spec->mtu };
  g_strlcpy (ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
  if (sock < 0 || ioctl (sock, SIOCSIFMTU, &ifr) < 0)
    sbx_die_errno ("cannot set the MTU of " TAP_NAME " to %u", spec->mtu);
  set_ipv4 (sock, SIOCSIFADDR, SBX_NET_GUEST);
  set_ipv4 (sock, SIOCSIFNETMASK, "255.255.255.0");
  if (!link_up (sock, TAP_NAME))
    sbx_die_errno ("cannot bring up " TAP_NAME);

  struct rtentry route = { .rt_flags = RTF_UP | RTF_GATEWAY, .rt_dev = (char *)TAP_NAME };
  struct sockaddr_in *gw = (struct sockaddr_in *)&route.rt_gateway;
  ((struct sockaddr_in *)&route.rt_dst)->sin_family = AF_INET;
  ((struct sockaddr_in *)&route.rt_genmask)->sin_family = AF_INET;
  gw->sin_family = AF_INET;
  inet_pton (AF_INET, SBX_NET_GATEWAY, &gw->sin_addr);
  if (ioctl (sock, SIOCADDRT, &route) < 0)
    sbx_die_errno ("cannot add the default route via " SBX_NET_GATEWAY);
}

/* The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with
 * netinet/in.h): SIOCSIFADDR on an AF_INET6 socket takes it. */
struct sbx_in6_ifreq
{
  struct in6_addr ifr6_addr;
  guint32 ifr6_prefixlen;
  int ifr6_ifindex;
};

static void
setup_ipv6 (void)
{
  cleanup_fd int sock = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int index = (int)if_nametoindex (TAP_NAME);
  struct sbx_in6_ifreq ifr6 = { .ifr6_prefixlen = 64, .ifr6_ifindex = index };
  inet_pton (AF_INET6, SBX_NET_GUEST6, &ifr6.ifr6_addr);
  if (sock < 0 || ioctl (sock, SIOCSIFADDR, &ifr6) < 0)
    sbx_die_errno ("cannot give " TAP_NAME " the address " SBX_NET_GUEST6);

  struct in6_rtmsg route
      = { .rtmsg_flags = RTF_UP | RTF_GATEWAY, .rtmsg_metric = 1, .rtmsg_ifindex = index };
  inet_pton (AF_INET6, SBX_NET_GATEWAY6, &route.rtmsg_gateway);
  if (ioctl (sock, SIOCADDRT, &route) < 0)
    sbx_die_errno ("cannot add the default route via " SBX_NET_GATEWAY6);
}

int
sbx_net_setup_tap (const SbxSpec *spec)
{
  /* Created inside the new network namespace: the device exists only
   * there, and no root-owned bridge or veth on the host is needed. */
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    sbx_die_errno (
        "/dev/net/tun (desktops have it mode 0666; see 'sbx doctor', or use --net none)");
  struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
  g_strlcpy (ifr.ifr_name, TAP_NAME, sizeof ifr.ifr_name);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    sbx_die_errno ("cannot create " TAP_NAME);

  if (spec->no_ipv6)
    tap_sysctl ("ipv6", "disable_ipv6", "1");
  else
    {
      /* A fixed address, usable at once: no duplicate detection on a link
       * with one peer, no autoconfiguration beside it. */
      tap_sysctl ("ipv6", "accept_dad", "0");
      tap_sysctl ("ipv6", "accept_ra", "0");
    }
  setup_ipv4 (spec);
  if (!spec->no_ipv6)
    setup_ipv6 ();
  return fd;
}

char *
sbx_net_resolv_conf (const SbxSpec *spec)
{
  GString *s = g_string_new ("nameserver " SBX_NET_DNS "\n");
  if (!spec->no_ipv6)
    g_string_append (s, "nameserver " SBX_NET_DNS6 "\n");
  /* The host's search domains and options still apply: slirp forwards the
   * queries to the host's resolver. */
  g_autofree char *host = NULL;
  if (g_file_get_contents ("/etc/resolv.conf", &host, NULL, NULL))
    {
      g_auto (GStrv) lines = g_strsplit (host, "\n", -1);
      for (char **l = lines; *l != NULL; l++)
        if (g_str_has_prefix (*l, "search") || g_str_has_prefix (*l, "domain")
            || g_str_has_prefix (*l, "options"))
          g_string_append_printf (s, "%s\n", *l);
    }
  return g_string_free (s, FALSE);
}

/* ---- monitor side ---------------------------------------------------------------- */

struct SbxNet
{
  GArray *listeners; /* int: the bound host socket of each -p */
  int sandbox_fd;    /* the sandbox's end of the socket factory pair */
  int helper_fd;     /* sbx-net's end */
  int ready_fd;      /* read end of sbx-net's ready pipe */
  int alive_fd;      /* write end of the pipe whose EOF tells sbx-net we are gone */
  int exe;           /* sbx-net, opened when the run was prepared */
  char *exe_path;
  pid_t pid;
  int pidfd;
  /* --net-log: the file, opened here on the host (sbx-net, isolated, opens
   * nothing), the pipe sbx-net writes SbxNetEvent records to, and the
   * JSON writer of sbx-ext.so. */
  const SbxSpec *spec;
  int log_fd;
  int events_fd;    /* read end */
  int events_in_fd; /* write end, sbx-net's */
  const SbxExt *ext;
};

static void
fill_addr (const SbxPublish *p, struct sockaddr_storage *ss, socklen_t *len)
{
  memset (ss, 0, sizeof *ss);
  if (p->family == AF_INET6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons (p->host_port);
      inet_pton (AF_INET6, p->host_ip, &a->sin6_addr);
      *len = sizeof *a;
    }
  else
    {
      struct sockaddr_in *a = (struct sockaddr_in *)ss;
      a->sin_family = AF_INET;
      a->sin_port = htons (p->host_port);
      inet_pton (AF_INET, p->host_ip, &a->sin_addr);
      *len = sizeof *a;
    }
}

/* Binds @p on the host: a listening socket for TCP, a bound one for UDP;
 * sbx-net relays from them. */
static int
bind_published (const SbxPublish *p, GError **error)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int one = 1;
  int fd = socket (p->family, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

  fill_addr (p, &ss, &len);
  if (fd >= 0 && !p->udp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd >= 0 && p->family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (fd < 0 || bind (fd, (struct sockaddr *)&ss, len) < 0 || (!p->udp && listen (fd, 128) < 0))
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "-p %s: %s", p->text,
                   errsv == EADDRINUSE ? "address already in use" : sbx_util_strerror (errsv));
      if (fd >= 0)
        close (fd);
      return -2;
    }
  return fd;
}

/* --net-log FILE: opened for appending, as the caller (0600: it lists
 * where the sandbox went), before anything is created; the records come
 * from sbx-net through a packet-mode pipe, one SbxNetEvent per write. */
static gboolean
open_log (SbxNet *net, const SbxSpec *spec, GError **error)
{
  int fds[2];
  net->ext = sbx_ext_load (error);
  if (net->ext == NULL)
    {
      g_prefix_error (error, "--net-log: ");
      return FALSE;
    }
  net->log_fd = open (spec->net_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (net->log_fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "--net-log: %s: %s",
                   spec->net_log, sbx_util_strerror (errno));
      return FALSE;
    }
  if (pipe2 (fds, O_DIRECT | O_NONBLOCK | O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "pipe: %s",
                   sbx_util_strerror (errno));
      sbx_util_close_fdp (&net->log_fd);
      return FALSE;
    }
  /* Room for a burst (a build starting a thousand connections) while the
   * monitor is busy; the default size is the floor. */
  fcntl (fds[1], F_SETPIPE_SZ, 1 << 20);
  net->events_fd = fds[0];
  net->events_in_fd = fds[1];
  return TRUE;
}

void
sbx_net_log_events (SbxNet *net)
{
  if (net == NULL || net->events_fd < 0)
    return;
  SbxNetEvent ev;
  for (;;)
    {
      ssize_t n = read (net->events_fd, &ev, sizeof ev);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0 || (n < 0 && errno != EAGAIN))
        {
          /* sbx-net is gone, and all it wrote was read. */
          sbx_util_close_fdp (&net->events_fd);
          return;
        }
      if (n != (ssize_t)sizeof ev)
        return;
      GPtrArray *list = ev.list == SBX_NET_LIST_ALLOW  ? net->spec->net_allow
                        : ev.list == SBX_NET_LIST_DENY ? net->spec->net_deny
                                                       : NULL;
      g_autofree char *rule
          = list != NULL && ev.rule < list->len
                ? g_strdup_printf ("%s %s",
                                   list == net->spec->net_allow ? "--allow-net" : "--deny-net",
                                   (const char *)list->pdata[ev.rule])
                : NULL;
      ev.name[sizeof ev.name - 1] = '\0';
      g_autofree char *line = net->ext->net_event_json (&ev, rule);
      g_autofree char *text = g_strconcat (line, "\n", NULL);
      if (!sbx_util_write_all (net->log_fd, text, strlen (text)))
        {
          sbx_warn ("--net-log %s: %s", net->spec->net_log, sbx_util_strerror (errno));
          sbx_util_close_fdp (&net->events_fd);
          return;
        }
    }
}

int
sbx_net_events_fd (const SbxNet *net)
{
  return net != NULL ? net->events_fd : -1;
}

/* helpers/sbx-net: beside sbx in the build tree, else in libexecdir. */
static char *
find_helper (void)
{
  return sbx_util_find_companion ("sbx-net", SBX_LIBEXECDIR);
}

SbxNet *
sbx_net_prepare (const SbxSpec *spec, GError **error)
{
  g_autofree SbxNet *net = g_new0 (SbxNet, 1);
  int sv[2];

  net->listeners = g_array_new (FALSE, FALSE, sizeof (int));
  net->ready_fd = net->alive_fd = net->pidfd = -1;
  net->log_fd = net->events_fd = net->events_in_fd = -1;
  net->sandbox_fd = net->helper_fd = -1;
  net->spec = spec;
  /* Found and opened now, on the host: a missing helper stops the run
   * before anything exists. */
  net->exe_path = find_helper ();
  net->exe = net->exe_path != NULL ? sbx_helper_open (net->exe_path, error) : -1;
  if (net->exe < 0)
    {
      if (net->exe_path == NULL)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "sbx-net not found in %s",
                     SBX_LIBEXECDIR);
      g_array_unref (net->listeners);
      g_free (net->exe_path);
      return NULL;
    }
  for (guint i = 0; i < spec->publish->len; i++)
    {
      int fd = bind_published (spec->publish->pdata[i], error);
      if (fd == -2)
        {
          for (guint j = 0; j < net->listeners->len; j++)
            if (g_array_index (net->listeners, int, j) >= 0)
              close (g_array_index (net->listeners, int, j));
          g_array_unref (net->listeners);
          close (net->exe);
          g_free (net->exe_path);
          return NULL;
        }
      g_array_append_val (net->listeners, fd);
    }
  /* SOCK_SEQPACKET: one request, one socket in reply, never mixed. */
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "socketpair: %s",
                   sbx_util_strerror (errno));
      g_array_unref (net->listeners);
      close (net->exe);
      g_free (net->exe_path);
      return NULL;
    }
  net->sandbox_fd = sv[0];
  net->helper_fd = sv[1];
  if (spec->net_log != NULL && !open_log (net, spec, error))
    {
      sbx_net_free (g_steal_pointer (&net));
      return NULL;
    }
  return g_steal_pointer (&net);
}

int
sbx_net_sandbox_fd (const SbxNet *net)
{
  return net->sandbox_fd;
}

void
sbx_net_after_clone (SbxNet *net)
{
  sbx_util_close_fdp (&net->sandbox_fd);
}

gboolean
sbx_net_start (SbxNet *net, const SbxSpec *spec, int tap_fd, GError **error)
{
  int ready[2], alive[2];
  if (pipe2 (ready, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "pipe: %s",
                   sbx_util_strerror (errno));
      return FALSE;
    }
  if (pipe2 (alive, O_CLOEXEC) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "pipe: %s",
                   sbx_util_strerror (errno));
      close (ready[0]);
      close (ready[1]);
      return FALSE;
    }

  /* Fixed fd numbers in the helper: 3 tap, 4 socket factory, 5 ready, 6
   * alive, 7 the --net-log records, then the listeners. */
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  int fixed[] = { -1, -1, -1, tap_fd, net->helper_fd, ready[1], alive[0], net->events_in_fd };
  g_array_append_vals (fds, fixed, G_N_ELEMENTS (fixed));
  g_ptr_array_add (argv, g_strdup ("sbx-net"));
  g_ptr_array_add (argv, g_strdup_printf ("--mtu=%u", spec->mtu));
  if (spec->no_ipv6)
    g_ptr_array_add (argv, g_strdup ("--no-ipv6"));
  if (spec->allow_host_loopback)
    g_ptr_array_add (argv, g_strdup ("--allow-host-loopback"));
  /* The rules as typed (sbx-net parses them with the same function); its
   * argv is visible to the caller's other processes, as the rules are in
   * sbx's own. */
  if (sbx_spec_has_net_policy (spec))
    g_ptr_array_add (argv, g_strdup ("--policy"));
  for (guint i = 0; i < spec->net_allow->len; i++)
    g_ptr_array_add (argv, g_strconcat ("--allow=", spec->net_allow->pdata[i], NULL));
  for (guint i = 0; i < spec->net_deny->len; i++)
    g_ptr_array_add (argv, g_strconcat ("--deny=", spec->net_deny->pdata[i], NULL));
  if (net->events_in_fd >= 0)
    g_ptr_array_add (argv, g_strdup ("--log"));
  for (guint i = 0; i < spec->publish->len; i++)
    {
      const SbxPublish *p = spec->publish->pdata[i];
      g_ptr_array_add (argv,
                       g_strdup_printf ("--%s=%u:%u", p->udp ? "udp" : "tcp", fds->len, p->port));
      g_array_append_val (fds, g_array_index (net->listeners, int, i));
    }
  g_ptr_array_add (argv, NULL);

  SbxHelper h = {
    .exe = net->exe,
    .name = net->exe_path,
    .argv = (char *const *)argv->pdata,
    .join_pidfd = -1,
    .fds = (const int *)fds->data,
    .n_fds = fds->len,
  };
  net->pid = sbx_helper_spawn (&h, &net->pidfd, error);
  close (ready[1]);
  close (alive[0]);
  net->ready_fd = ready[0];
  net->alive_fd = alive[1];
  /* The listeners and the factory end now belong to the helper. */
  for (guint i = 0; i < net->listeners->len; i++)
    if (g_array_index (net->listeners, int, i) >= 0)
      close (g_array_index (net->listeners, int, i));
  g_array_set_size (net->listeners, 0);
  sbx_util_close_fdp (&net->helper_fd);
  sbx_util_close_fdp (&net->exe);
  sbx_util_close_fdp (&net->events_in_fd);
  if (net->pid < 0)
    {
      net->pid = 0;
      return FALSE;
    }
  return TRUE;
}

int
sbx_net_pidfd (const SbxNet *net)
{
  return net->pid > 0 ? net->pidfd : -1;
}

char *
sbx_net_reap (SbxNet *net)
{
  siginfo_t info = { 0 };
  if (net->pid <= 0 || waitid (P_PIDFD, (id_t)net->pidfd, &info, WEXITED | WNOHANG) < 0
      || info.si_pid == 0)
    return NULL;
  net->pid = 0; /* reaped: sbx_net_free() waits for nothing */
  if (info.si_code == CLD_EXITED && info.si_status == 0)
    return NULL;
  return sbx_util_describe_exit (&info);
}

int
sbx_net_ready_fd (const SbxNet *net)
{
  return net->ready_fd;
}

gboolean
sbx_net_check_ready (SbxNet *net)
{
  char c;
  ssize_t n;
  do
    n = read (net->ready_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  sbx_util_close_fdp (&net->ready_fd);
  return n == 1;
}

void
sbx_net_free (SbxNet *net)
{
  if (net == NULL)
    return;
  sbx_util_close_fdp (&net->sandbox_fd);
  sbx_util_close_fdp (&net->helper_fd);
  sbx_util_close_fdp (&net->ready_fd);
  /* EOF on its alive pipe ends it; SIGKILL if it has not gone within
   * 200 ms (busy, or stuck). */
  sbx_util_close_fdp (&net->alive_fd);
  if (net->pid > 0)
    {
      if (net->pidfd >= 0)
        {
          struct pollfd p = { .fd = net->pidfd, .events = POLLIN };
          if (poll (&p, 1, 200) <= 0)
            sbx_util_pidfd_send_signal (net->pidfd, SIGKILL);
        }
      while (waitpid (net->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  /* Everything sbx-net wrote is in the pipe now. */
  sbx_net_log_events (net);
  sbx_util_close_fdp (&net->events_fd);
  sbx_util_close_fdp (&net->events_in_fd);
  sbx_util_close_fdp (&net->log_fd);
  sbx_util_close_fdp (&net->pidfd);
  sbx_util_close_fdp (&net->exe);
  g_free (net->exe_path);
  for (guint i = 0; net->listeners != NULL && i < net->listeners->len; i++)
    if (g_array_index (net->listeners, int, i) >= 0)
      close (g_array_index (net->listeners, int, i));
  if (net->listeners != NULL)
    g_array_unref (net->listeners);
  g_free (net);
}
