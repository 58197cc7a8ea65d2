/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sbx-net: the user-space network of a sandbox.
 *
 * Runs in the host's network namespace, started by the monitor with:
 *   fd 3  the sandbox's tap0 (IFF_TAP|IFF_NO_PI), made inside its namespace
 *   fd 4  a SOCK_SEQPACKET to the sandbox's PID 1, which answers a request
 *         with a socket of the sandbox's network namespace (SCM_RIGHTS)
 *   fd 5  a pipe: one byte once libslirp runs and the isolation is done
 *   fd 6  a pipe from the monitor: EOF when it is gone
 *   fds 7.. the host sockets of -p (TCP listening, UDP bound), by the monitor
 *
 * Traffic the sandbox starts goes through libslirp.  Published ports do not:
 * a TCP connection accepted on the host is spliced to a socket connected
 * inside the sandbox's namespace (to its loopback), so its throughput is the
 * kernel's, not slirp's; UDP datagrams are relayed the same way, one socket
 * inside per client.  (libslirp's own UDP host forwarding cannot answer a
 * client on the host's loopback while 10.0.2.2 is kept from it.)
 *
 * After setup the helper isolates itself (STYLE.md 16): a user and mount
 * namespace of its own with an empty root (plus the host's resolv.conf,
 * which libslirp reads for DNS), no capabilities, not dumpable,
 * no_new_privs, and a seccomp allow-list. */
#include "config.h"

#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <libslirp.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TAP_FD     3
#define FACTORY_FD 4
#define READY_FD   5
#define ALIVE_FD   6

#define SPLICE_CHUNK (1 << 20)

/* ---- configuration --------------------------------------------------------- */

typedef struct
{
  int fd;       /* listening on the host */
  guint16 port; /* inside */
} Forward;

typedef struct
{
  guint mtu;
  gboolean ipv6;
  gboolean allow_host_loopback;
  GArray *tcp; /* Forward */
  GArray *udp; /* Forward */
} Config;

static G_NORETURN void
fatal (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("sbx-net: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static void
parse_args (int argc, char **argv, Config *c)
{
  c->mtu = 65520;
  c->ipv6 = TRUE;
  c->tcp = g_array_new (FALSE, FALSE, sizeof (Forward));
  c->udp = g_array_new (FALSE, FALSE, sizeof (Forward));
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
        {
          Forward f;
          if (sscanf (a + 6, "%d:%hu", &f.fd, &f.port) != 2)
            fatal ("bad %s", a);
          g_array_append_val (c->tcp, f);
        }
      else if (g_str_has_prefix (a, "--udp="))
        {
          Forward f;
          if (sscanf (a + 6, "%d:%hu", &f.fd, &f.port) != 2)
            fatal ("bad %s", a);
          g_array_append_val (c->udp, f);
        }
      else
        fatal ("unknown argument %s", a);
    }
}

/* ---- libslirp's callbacks ----------------------------------------------------- */

typedef struct
{
  SlirpTimerCb cb;
  void *cb_opaque;
  int64_t expire_ms; /* -1: not armed */
} Timer;

static GPtrArray *timers;

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  ssize_t n;
  do
    n = write (TAP_FD, buf, len);
  while (n < 0 && errno == EINTR);
  /* A full tap queue drops the frame, as a busy link would. */
  return n < 0 ? (errno == EAGAIN ? (ssize_t)len : -1) : n;
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

/* ---- the poll set ----------------------------------------------------------------- */

static GArray *pfds; /* struct pollfd */

static int
add_poll (int fd, int events, void *opaque)
{
  struct pollfd p = { .fd = fd };
  if (events & SLIRP_POLL_IN)
    p.events |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    p.events |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    p.events |= POLLPRI;
  g_array_append_val (pfds, p);
  return (int)pfds->len - 1;
}

static int
get_revents (int idx, void *opaque)
{
  short r = g_array_index (pfds, struct pollfd, idx).revents;
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

/* ---- published TCP ports: the splice path ------------------------------------------ */

typedef enum
{
  CONN_WAIT_SOCKET, /* accepted; a socket from the sandbox is on its way */
  CONN_CONNECTING,  /* connect() inside in progress */
  CONN_RELAY,
} ConnState;

/* One direction of a relay: src -> pipe -> dst. */
typedef struct
{
  int pipe[2];
  size_t in_pipe;
  size_t cap; /* the pipe's size: with that much in it, the source waits */
  gboolean src_eof;
  gboolean done; /* src_eof and the pipe drained: dst was shut down */
} Flow;

typedef struct
{
  ConnState state;
  int client; /* accepted on the host */
  int inner;  /* connected inside the sandbox */
  guint16 port;
  int family; /* of inner */
  Flow up;    /* client -> inner */
  Flow down;  /* inner -> client */
} Conn;

static GPtrArray *conns; /* Conn* */

/* Who waits for a socket from the sandbox, in request order (PID 1 answers
 * in order on the SOCK_SEQPACKET). */
typedef struct
{
  gboolean udp;
  gpointer who; /* Conn* or UdpFlow* */
} Pending;
static GQueue waiting;

static void
wait_for_socket (gboolean udp, gpointer who)
{
  Pending *p = g_new (Pending, 1);
  p->udp = udp;
  p->who = who;
  g_queue_push_tail (&waiting, p);
}

/* Forgets @who in the queue (its socket, when it comes, is closed). */
static void
forget_waiter (gpointer who)
{
  for (GList *l = waiting.head; l != NULL; l = l->next)
    if (((Pending *)l->data)->who == who)
      ((Pending *)l->data)->who = NULL;
}

static void
conn_free (Conn *c)
{
  if (c->client >= 0)
    close (c->client);
  if (c->inner >= 0)
    close (c->inner);
  for (int i = 0; i < 2; i++)
    {
      if (c->up.pipe[i] >= 0)
        close (c->up.pipe[i]);
      if (c->down.pipe[i] >= 0)
        close (c->down.pipe[i]);
    }
  forget_waiter (c);
  g_ptr_array_remove (conns, c);
  g_free (c);
}

/* Asks PID 1 for a socket of @family in the sandbox's network namespace. */
static gboolean
request_socket (Conn *c, int family)
{
  c->family = family;
  c->state = CONN_WAIT_SOCKET;
  wait_for_socket (FALSE, c);
  return sbx_msg_send (FACTORY_FD, SBX_MSG_SOCKET_REQUEST, SOCK_STREAM, family, NULL, -1);
}

static void
accept_client (const Forward *f)
{
  int client = accept4 (f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (client < 0)
    return;
  Conn *c = g_new0 (Conn, 1);
  c->client = client;
  c->inner = -1;
  c->port = f->port;
  c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
  g_ptr_array_add (conns, c);
  if (!request_socket (c, AF_INET))
    conn_free (c);
}

/* Connects the socket that came from the sandbox to its loopback:
 * 127.0.0.1, or ::1 when nothing listens on IPv4 there. */
static void
connect_inner (Conn *c, int fd)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  c->inner = fd;
  if (c->family == AF_INET6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons (c->port);
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    }
  else
    {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      a->sin_family = AF_INET;
      a->sin_port = htons (c->port);
      a->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      len = sizeof *a;
    }
  c->state = CONN_CONNECTING;
  if (connect (fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
    {
      if (c->family == AF_INET && errno == ECONNREFUSED)
        {
          close (c->inner);
          c->inner = -1;
          if (request_socket (c, AF_INET6))
            return;
        }
      conn_free (c);
    }
}

/* ---- published UDP ports: a relay per client -------------------------------------- */

#define UDP_IDLE_MS (120 * 1000)

typedef struct
{
  const Forward *forward;
  struct sockaddr_storage client;
  socklen_t client_len;
  int inner;         /* connected to the sandbox's loopback, or -1 while it comes */
  GByteArray *first; /* the datagram that started the flow, until then */
  int64_t last_ms;
} UdpFlow;

static GPtrArray *flows; /* UdpFlow* */

static void
flow_free (UdpFlow *f)
{
  if (f->inner >= 0)
    close (f->inner);
  if (f->first != NULL)
    g_byte_array_unref (f->first);
  forget_waiter (f);
  g_ptr_array_remove (flows, f);
  g_free (f);
}

static void
udp_from_host (const Forward *fw)
{
  static uint8_t buf[65536];
  struct sockaddr_storage from;
  socklen_t len = sizeof from;
  ssize_t n = recvfrom (fw->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
  if (n < 0)
    return;
  UdpFlow *f = NULL;
  for (guint i = 0; i < flows->len && f == NULL; i++)
    {
      UdpFlow *x = flows->pdata[i];
      if (x->forward == fw && x->client_len == len && memcmp (&x->client, &from, len) == 0)
        f = x;
    }
  if (f == NULL)
    {
      f = g_new0 (UdpFlow, 1);
      f->forward = fw;
      f->client = from;
      f->client_len = len;
      f->inner = -1;
      f->first = g_byte_array_new ();
      g_byte_array_append (f->first, buf, (guint)n);
      g_ptr_array_add (flows, f);
      wait_for_socket (TRUE, f);
      if (!sbx_msg_send (FACTORY_FD, SBX_MSG_SOCKET_REQUEST, SOCK_DGRAM, AF_INET, NULL, -1))
        flow_free (f);
      return;
    }
  f->last_ms = now_ms ();
  if (f->inner >= 0)
    send (f->inner, buf, (size_t)n, MSG_DONTWAIT);
}

static void
udp_start (UdpFlow *f, int fd)
{
  struct sockaddr_in to = { .sin_family = AF_INET,
                            .sin_port = htons (f->forward->port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  f->inner = fd;
  f->last_ms = now_ms ();
  if (connect (fd, (struct sockaddr *)&to, sizeof to) < 0)
    {
      flow_free (f);
      return;
    }
  send (fd, f->first->data, f->first->len, MSG_DONTWAIT);
  g_clear_pointer (&f->first, g_byte_array_unref);
}

static void
udp_to_host (UdpFlow *f)
{
  static uint8_t buf[65536];
  ssize_t n = recv (f->inner, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0)
    {
      if (errno != EAGAIN)
        flow_free (f);
      return;
    }
  f->last_ms = now_ms ();
  sendto (f->forward->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&f->client,
          f->client_len);
}

static void
receive_socket (void)
{
  SbxMsg msg;
  int fd = -1;
  if (!sbx_msg_recv (FACTORY_FD, &msg, &fd, NULL))
    exit (0); /* PID 1 is gone: the sandbox is over */
  Pending *p = g_queue_pop_head (&waiting);
  gpointer who = p != NULL ? p->who : NULL;
  gboolean udp = p != NULL && p->udp;
  g_free (p);
  if (who == NULL || fd < 0)
    {
      if (fd >= 0)
        close (fd);
      if (who != NULL && udp)
        flow_free (who);
      else if (who != NULL)
        conn_free (who);
      return;
    }
  fcntl (fd, F_SETFL, O_NONBLOCK);
  if (udp)
    udp_start (who, fd);
  else
    connect_inner (who, fd);
}

static gboolean
start_relay (Conn *c)
{
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt (c->inner, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0)
    {
      if (c->family == AF_INET && err == ECONNREFUSED)
        {
          close (c->inner);
          c->inner = -1;
          return request_socket (c, AF_INET6);
        }
      return FALSE;
    }
  if (pipe2 (c->up.pipe, O_NONBLOCK | O_CLOEXEC) < 0
      || pipe2 (c->down.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    return FALSE;
  int up = fcntl (c->up.pipe[1], F_SETPIPE_SZ, SPLICE_CHUNK);
  int down = fcntl (c->down.pipe[1], F_SETPIPE_SZ, SPLICE_CHUNK);
  c->up.cap = up > 0 ? (size_t)up : (size_t)fcntl (c->up.pipe[1], F_GETPIPE_SZ);
  c->down.cap = down > 0 ? (size_t)down : (size_t)fcntl (c->down.pipe[1], F_GETPIPE_SZ);
  c->state = CONN_RELAY;
  return TRUE;
}

/* Moves what can move in one direction; FALSE on an error. */
static gboolean
pump (Flow *f, int src, int dst, short src_revents, short dst_revents)
{
  if (!f->src_eof && f->in_pipe < f->cap && (src_revents & (POLLIN | POLLHUP | POLLERR)))
    {
      ssize_t n = splice (src, NULL, f->pipe[1], NULL, f->cap - f->in_pipe,
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0)
        f->in_pipe += (size_t)n;
      else if (n == 0)
        f->src_eof = TRUE;
      else if (errno != EAGAIN)
        return FALSE;
    }
  while (f->in_pipe > 0)
    {
      ssize_t n
          = splice (f->pipe[0], NULL, dst, NULL, f->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0)
        f->in_pipe -= (size_t)n;
      else if (n < 0 && errno == EAGAIN)
        break;
      else
        return FALSE;
    }
  /* A half-close travels: EOF from one side shuts the other one's write. */
  if (f->src_eof && f->in_pipe == 0 && !f->done)
    {
      shutdown (dst, SHUT_WR);
      f->done = TRUE;
    }
  return TRUE;
}

/* ---- isolation --------------------------------------------------------------------- */

/* A user and mount namespace of our own, whose root is an empty tmpfs with
 * only the host's resolv.conf (libslirp reads it for every DNS query; bound
 * from where the symlink points, so systemd-resolved's stub works). */
/* Whether @addr (IPv4, network order bytes) is this host's own: loopback,
 * or 0.0.0.0/8, which reaches whatever listens on any address. */
static gboolean
ipv4_is_host_local (const guint8 *addr)
{
  return addr[0] == 127 || addr[0] == 0;
}

/* A frame from the sandbox, before libslirp sees it.  libslirp connects to
 * the destination a packet names; a sandbox that can write raw frames on
 * tap0 (root with CAP_NET_RAW) could name 127.0.0.1 or ::1 and reach the
 * host's loopback services, which only --allow-host-loopback grants (and
 * then through 10.0.2.2, which libslirp maps itself).  So such frames are
 * dropped here, whatever the options. */
static gboolean
frame_allowed (const guint8 *frame, size_t len)
{
  static const guint8 v6_loopback[16] = { [15] = 1 };
  static const guint8 v6_unspecified[16] = { 0 };
  static const guint8 v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (len < 14)
    return FALSE;
  guint16 type = (guint16)(frame[12] << 8 | frame[13]);
  if (type == 0x0800) /* IPv4: the destination at offset 16 of the header */
    return len >= 14 + 20 && !ipv4_is_host_local (frame + 14 + 16);
  if (type == 0x86dd) /* IPv6: at offset 24 */
    {
      const guint8 *dst = frame + 14 + 24;
      if (len < 14 + 40)
        return FALSE;
      if (memcmp (dst, v6_loopback, 16) == 0 || memcmp (dst, v6_unspecified, 16) == 0)
        return FALSE;
      return !(memcmp (dst, v4_mapped, 12) == 0 && ipv4_is_host_local (dst + 12));
    }
  return TRUE; /* ARP and the rest: nothing libslirp connects anywhere */
}

static void
isolate_filesystem (void)
{
  uid_t uid = getuid ();
  gid_t gid = getgid ();
  g_autofree char *resolv = realpath ("/etc/resolv.conf", NULL);

  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    fatal ("cannot isolate itself (user namespace): %s", sbx_util_strerror (errno));
  g_autofree char *uid_map = g_strdup_printf ("%u %u 1", uid, uid);
  g_autofree char *gid_map = g_strdup_printf ("%u %u 1", gid, gid);
  if (!sbx_util_write_file_at (AT_FDCWD, "/proc/self/setgroups", "deny")
      || !sbx_util_write_file_at (AT_FDCWD, "/proc/self/gid_map", gid_map)
      || !sbx_util_write_file_at (AT_FDCWD, "/proc/self/uid_map", uid_map))
    fatal ("cannot map its ids: %s", sbx_util_strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
             < 0
      || mkdir ("/tmp/etc", 0755) < 0)
    fatal ("cannot isolate itself (mounts): %s", sbx_util_strerror (errno));
  if (resolv != NULL)
    {
      int fd = open ("/tmp/etc/resolv.conf", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0)
        close (fd);
      if (mount (resolv, "/tmp/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
        fatal ("cannot bind %s: %s", resolv, sbx_util_strerror (errno));
    }
  if (chdir ("/tmp") < 0 || syscall (SYS_pivot_root, ".", ".") < 0 || umount2 (".", MNT_DETACH) < 0
      || chdir ("/") < 0)
    fatal ("cannot isolate itself (pivot_root): %s", sbx_util_strerror (errno));
}

#ifdef __SANITIZE_ADDRESS__
/* Sanitizer builds only (CI): LeakSanitizer's check at exit reads /proc and
 * ptrace()s the process, neither of which an isolated sbx-net has. */
int __lsan_is_turned_off (void);
int
__lsan_is_turned_off (void)
{
  return 1;
}
#endif

/* The system calls the loop needs; everything else fails with EPERM. */
static void
isolate_syscalls (void)
{
  static const char *const allowed[] = {
    "read",
    "write",
    "readv",
    "writev",
    "close",
    "poll",
    "ppoll",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "socket",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    "fcntl",
    "ioctl",
    "pipe2",
    "splice",
    "clock_gettime",
    "gettimeofday",
    "mmap",
    "munmap",
    "mremap",
    "brk",
    "madvise",
    "futex",
    "rt_sigreturn",
    "rt_sigprocmask",
    "exit",
    "exit_group",
    "openat",
    "newfstatat",
    "fstat",
    "statx",
    "lseek",
    "getrandom",
    "getpid",
    "gettid",
    "sched_yield",
    "restart_syscall",
    "clock_nanosleep",
    "nanosleep",
    "uname",
    "prlimit64",
    /* An alternate signal stack is the process's own business; the
     * sanitizers' runtime sets one up in every thread. */
    "sigaltstack",
    NULL,
  };
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int r = ctx != NULL ? 0 : -ENOMEM;
  for (const char *const *s = allowed; r == 0 && *s != NULL; s++)
    {
      int nr = seccomp_syscall_resolve_name (*s);
      if (nr != __NR_SCMP_ERROR)
        r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 0);
    }
  if (r == 0)
    r = seccomp_load (ctx);
  if (ctx != NULL)
    seccomp_release (ctx);
  if (r != 0)
    fatal ("cannot install its seccomp filter: %s", sbx_util_strerror (-r));
}

static void
isolate (void)
{
  pid_t parent = getppid ();
  isolate_filesystem ();
  /* Entering the user namespace changed our credentials, which cleared the
   * parent-death signal: set it again, and check the monitor is still
   * there (its pipe on fd 6 is the second guard). */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != parent)
    exit (0);
  /* Every capability of the new user namespace goes: it needs none. */
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { { 0 } };
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      || syscall (SYS_capset, &hdr, data) < 0)
    fatal ("cannot drop its capabilities: %s", sbx_util_strerror (errno));
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fatal ("cannot harden itself: %s", sbx_util_strerror (errno));
  isolate_syscalls ();
}

/* ---- main ------------------------------------------------------------------------------- */

static Slirp *
start_slirp (const Config *c)
{
  static SlirpCb cb = {
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
  Slirp *slirp = slirp_new (&cfg, &cb, NULL);
  if (slirp == NULL)
    fatal ("cannot start libslirp");

  return slirp;
}

/* Milliseconds until the first armed timer, at most @cap. */
static int
timers_timeout (int cap)
{
  int64_t now = now_ms ();
  int timeout = cap;
  for (guint i = 0; i < timers->len; i++)
    {
      Timer *t = timers->pdata[i];
      if (t->expire_ms >= 0)
        timeout = (int)MIN ((int64_t)timeout, MAX (t->expire_ms - now, 0));
    }
  return timeout;
}

static void
run_timers (void)
{
  int64_t now = now_ms ();
  for (guint i = 0; i < timers->len; i++)
    {
      Timer *t = timers->pdata[i];
      if (t->expire_ms >= 0 && t->expire_ms <= now)
        {
          t->expire_ms = -1;
          t->cb (t->cb_opaque);
        }
    }
}

int
main (int argc, char **argv)
{
  Config c = { 0 };
  static uint8_t frame[65536 + 64];

  /* Die with the monitor, however it ends. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  signal (SIGPIPE, SIG_IGN);
  parse_args (argc, argv, &c);
  /* Only the fds the monitor gave: nothing its caller held. */
  syscall (SYS_close_range, 7 + c.tcp->len + c.udp->len, ~0U, 0);
  timers = g_ptr_array_new ();
  conns = g_ptr_array_new ();
  flows = g_ptr_array_new ();
  pfds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  fcntl (TAP_FD, F_SETFL, O_NONBLOCK);
  fcntl (FACTORY_FD, F_SETFL, O_NONBLOCK);

  Slirp *slirp = start_slirp (&c);
  isolate ();
  if (write (READY_FD, "x", 1) != 1)
    return 1;
  close (READY_FD);

  for (;;)
    {
      uint32_t timeout = UINT32_MAX;
      g_array_set_size (pfds, 0);
      struct pollfd fixed[] = {
        { .fd = TAP_FD, .events = POLLIN },
        { .fd = FACTORY_FD, .events = POLLIN },
        { .fd = ALIVE_FD, .events = POLLIN },
      };
      g_array_append_vals (pfds, fixed, G_N_ELEMENTS (fixed));
      guint first_listener = pfds->len;
      for (guint i = 0; i < c.tcp->len; i++)
        g_array_append_val (pfds, ((struct pollfd){ .fd = g_array_index (c.tcp, Forward, i).fd,
                                                    .events = POLLIN }));
      /* Two entries per connection: its client and inner sockets. */
      guint first_conn = pfds->len;
      for (guint i = 0; i < conns->len; i++)
        {
          Conn *k = conns->pdata[i];
          struct pollfd cl = { .fd = -1 }, in = { .fd = -1 };
          if (k->state == CONN_CONNECTING)
            in = (struct pollfd){ .fd = k->inner, .events = POLLOUT };
          else if (k->state == CONN_RELAY)
            {
              cl.fd = k->client;
              in.fd = k->inner;
              /* A source is read only while its pipe has room: with a
               * receiver that does not read, the loop would spin. */
              cl.events = (k->up.src_eof || k->up.in_pipe >= k->up.cap ? 0 : POLLIN)
                          | (k->down.in_pipe ? POLLOUT : 0);
              in.events = (k->down.src_eof || k->down.in_pipe >= k->down.cap ? 0 : POLLIN)
                          | (k->up.in_pipe ? POLLOUT : 0);
              /* Nothing wanted: left out, or a hang-up (always reported)
               * would wake the loop again and again. */
              cl.fd = cl.events ? cl.fd : -1;
              in.fd = in.events ? in.fd : -1;
            }
          g_array_append_val (pfds, cl);
          g_array_append_val (pfds, in);
        }
      guint conn_count = conns->len;
      guint first_udp = pfds->len;
      for (guint i = 0; i < c.udp->len; i++)
        g_array_append_val (pfds, ((struct pollfd){ .fd = g_array_index (c.udp, Forward, i).fd,
                                                    .events = POLLIN }));
      guint first_flow = pfds->len;
      for (guint i = 0; i < flows->len; i++)
        g_array_append_val (
            pfds, ((struct pollfd){ .fd = ((UdpFlow *)flows->pdata[i])->inner, .events = POLLIN }));
      guint flow_count = flows->len;
      slirp_pollfds_fill (slirp, &timeout, add_poll, NULL);

      int wait_ms
          = timers_timeout (timeout == UINT32_MAX ? -1 : (int)MIN (timeout, (uint32_t)INT_MAX));
      if (wait_ms < 0)
        wait_ms = 1000;
      int n = poll ((struct pollfd *)pfds->data, pfds->len, wait_ms);
      if (n < 0 && errno != EINTR)
        fatal ("poll: %s", sbx_util_strerror (errno));

      struct pollfd *p = (struct pollfd *)pfds->data;
      if (p[2].revents)
        return 0; /* the monitor is gone */
      if (p[0].revents & POLLIN)
        for (int k = 0; k < 64; k++)
          {
            ssize_t len = read (TAP_FD, frame, sizeof frame);
            if (len > 0 && frame_allowed (frame, (size_t)len))
              slirp_input (slirp, frame, (int)len);
            else if (len == 0 || (errno != EAGAIN && errno != EINTR))
              return 0; /* the namespace, and tap0 with it, is gone */
            else
              break;
          }
      if (p[0].revents & (POLLHUP | POLLERR))
        return 0;
      if (p[1].revents & POLLIN)
        receive_socket ();
      else if (p[1].revents & (POLLHUP | POLLERR))
        return 0;
      for (guint i = 0; i < c.tcp->len; i++)
        if (p[first_listener + i].revents & POLLIN)
          accept_client (&g_array_index (c.tcp, Forward, i));

      /* Walk the connections that were polled (new ones wait a round). */
      g_autoptr (GPtrArray) polled = g_ptr_array_new ();
      for (guint i = 0; i < conn_count; i++)
        g_ptr_array_add (polled, conns->pdata[i]);
      for (guint i = 0; i < polled->len; i++)
        {
          Conn *k = polled->pdata[i];
          short cl = p[first_conn + 2 * i].revents, in = p[first_conn + 2 * i + 1].revents;
          gboolean ok = TRUE;
          if (k->state == CONN_CONNECTING && in)
            ok = start_relay (k);
          else if (k->state == CONN_RELAY)
            ok = pump (&k->up, k->client, k->inner, cl, in)
                 && pump (&k->down, k->inner, k->client, in, cl);
          if (!ok || (k->state == CONN_RELAY && k->up.done && k->down.done))
            conn_free (k);
        }

      g_autoptr (GPtrArray) polled_flows = g_ptr_array_new ();
      for (guint i = 0; i < flow_count; i++)
        g_ptr_array_add (polled_flows, flows->pdata[i]);
      for (guint i = 0; i < c.udp->len; i++)
        if (p[first_udp + i].revents & POLLIN)
          udp_from_host (&g_array_index (c.udp, Forward, i));
      int64_t now = now_ms ();
      for (guint i = 0; i < polled_flows->len; i++)
        {
          UdpFlow *f = polled_flows->pdata[i];
          if (g_ptr_array_find (flows, f, NULL) && (p[first_flow + i].revents & POLLIN))
            udp_to_host (f);
          else if (g_ptr_array_find (flows, f, NULL) && f->inner >= 0
                   && now - f->last_ms > UDP_IDLE_MS)
            flow_free (f);
        }

      slirp_pollfds_poll (slirp, n < 0, get_revents, NULL);
      run_timers ();
    }
}
