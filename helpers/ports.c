/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ports.c: sbx-net's published ports.
 *
 * They do not go through libslirp: a TCP connection accepted on the host
 * is spliced to a socket connected inside the sandbox's network namespace
 * (to its loopback), so its throughput is the kernel's, not slirp's; UDP
 * datagrams are relayed the same way, one socket inside per client.
 * (libslirp's own UDP host forwarding cannot answer a client on the host's
 * loopback while 10.0.2.2 is kept from it.)  The sockets inside come from
 * the sandbox's PID 1, which makes one per request on SBX_NET_FACTORY_FD.
 *
 * A connection or flow that is over is only marked during a round of the
 * loop and freed at its end (sbx_ports_sweep): what poll() reported is
 * found through each one's own index into the poll set, never by its
 * position in a list that changed meanwhile. */
#include "config.h"

#include "sbx-net.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SPLICE_CHUNK (1 << 20)
#define UDP_IDLE_MS  (120 * 1000)

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
  gboolean dead;  /* over: freed by sbx_ports_sweep() */
  int poll_index; /* its client's entry in this round's poll set (inner's next); -1: none */
  int client;     /* accepted on the host */
  int inner;      /* connected inside the sandbox */
  guint16 port;
  int family; /* of inner */
  Flow up;    /* client -> inner */
  Flow down;  /* inner -> client */
} Conn;

typedef struct
{
  const SbxForward *forward;
  gboolean dead;
  int poll_index; /* inner's entry in this round's poll set; -1: none */
  struct sockaddr_storage client;
  socklen_t client_len;
  int inner;         /* connected to the sandbox's loopback, or -1 while it comes */
  GByteArray *first; /* the datagram that started the flow, until then */
  gint64 last_ms;
} UdpFlow;

/* Who waits for a socket from the sandbox, in request order (PID 1 answers
 * in order on the SOCK_SEQPACKET). */
typedef struct
{
  gboolean udp;
  gpointer who; /* Conn* or UdpFlow*; NULL once it is over */
} Pending;

struct SbxPorts
{
  GArray *tcp;       /* SbxForward */
  GArray *udp;       /* SbxForward */
  int tcp_index;     /* the first TCP listener's entry in the poll set */
  int udp_index;     /* the first UDP socket's */
  GPtrArray *conns;  /* Conn* */
  GPtrArray *flows;  /* UdpFlow* */
  GQueue waiting;    /* Pending* */
  gboolean swept;    /* nothing is marked dead */
  guint8 buf[65536]; /* one UDP datagram */
};

SbxPorts *
sbx_ports_new (GArray *tcp, GArray *udp)
{
  SbxPorts *ports = g_new0 (SbxPorts, 1);
  ports->tcp = tcp;
  ports->udp = udp;
  ports->conns = g_ptr_array_new ();
  ports->flows = g_ptr_array_new ();
  ports->swept = TRUE;
  g_queue_init (&ports->waiting);
  return ports;
}

/* Asks PID 1 for a socket in the sandbox's network namespace for @who. */
static gboolean
request_socket (SbxPorts *ports, gboolean udp, gpointer who, int family)
{
  Pending *p = g_new (Pending, 1);
  p->udp = udp;
  p->who = who;
  g_queue_push_tail (&ports->waiting, p);
  if (sbx_msg_send (SBX_NET_FACTORY_FD, SBX_MSG_SOCKET_REQUEST, udp ? SOCK_DGRAM : SOCK_STREAM,
                    family, NULL, -1))
    return TRUE;
  /* Not sent (PID 1's queue is full): no answer will come, so nobody may
   * wait for it, or every later answer would go to the one before. */
  g_free (g_queue_pop_tail (&ports->waiting));
  return FALSE;
}

/* Forgets @who in the queue (its socket, when it comes, is closed). */
static void
forget_waiter (SbxPorts *ports, gpointer who)
{
  for (GList *l = ports->waiting.head; l != NULL; l = l->next)
    if (((Pending *)l->data)->who == who)
      ((Pending *)l->data)->who = NULL;
}

/* Marks @c over; its fds stay open until the sweep, so that no new socket
 * takes their numbers within the round. */
static void
conn_kill (SbxPorts *ports, Conn *c)
{
  c->dead = TRUE;
  ports->swept = FALSE;
  forget_waiter (ports, c);
}

static void
flow_kill (SbxPorts *ports, UdpFlow *f)
{
  f->dead = TRUE;
  ports->swept = FALSE;
  forget_waiter (ports, f);
}

static void
conn_free (Conn *c)
{
  sbx_util_close_fdp (&c->client);
  sbx_util_close_fdp (&c->inner);
  for (int i = 0; i < 2; i++)
    {
      sbx_util_close_fdp (&c->up.pipe[i]);
      sbx_util_close_fdp (&c->down.pipe[i]);
    }
  g_free (c);
}

static void
flow_free (UdpFlow *f)
{
  sbx_util_close_fdp (&f->inner);
  if (f->first != NULL)
    g_byte_array_unref (f->first);
  g_free (f);
}

void
sbx_ports_sweep (SbxPorts *ports)
{
  if (ports->swept)
    return;
  guint n = 0;
  for (guint i = 0; i < ports->conns->len; i++)
    {
      Conn *c = ports->conns->pdata[i];
      if (c->dead)
        conn_free (c);
      else
        ports->conns->pdata[n++] = c;
    }
  g_ptr_array_set_size (ports->conns, n);
  n = 0;
  for (guint i = 0; i < ports->flows->len; i++)
    {
      UdpFlow *f = ports->flows->pdata[i];
      if (f->dead)
        flow_free (f);
      else
        ports->flows->pdata[n++] = f;
    }
  g_ptr_array_set_size (ports->flows, n);
  ports->swept = TRUE;
}

/* ---- TCP: the splice path ----------------------------------------------------- */

static gboolean
conn_request (SbxPorts *ports, Conn *c, int family)
{
  c->family = family;
  c->state = CONN_WAIT_SOCKET;
  return request_socket (ports, FALSE, c, family);
}

static void
accept_client (SbxPorts *ports, const SbxForward *f)
{
  int client = accept4 (f->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (client < 0)
    return;
  Conn *c = g_new0 (Conn, 1);
  c->client = client;
  c->inner = -1;
  c->poll_index = -1;
  c->port = f->port;
  c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
  g_ptr_array_add (ports->conns, c);
  if (!conn_request (ports, c, AF_INET))
    conn_kill (ports, c);
}

/* Connects the socket that came from the sandbox to its loopback:
 * 127.0.0.1, or ::1 when nothing listens on IPv4 there. */
static void
connect_inner (SbxPorts *ports, Conn *c, int fd)
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
          sbx_util_close_fdp (&c->inner);
          if (conn_request (ports, c, AF_INET6))
            return;
        }
      conn_kill (ports, c);
    }
}

static gboolean
start_relay (SbxPorts *ports, Conn *c)
{
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt (c->inner, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0)
    {
      if (c->family == AF_INET && err == ECONNREFUSED)
        {
          sbx_util_close_fdp (&c->inner);
          return conn_request (ports, c, AF_INET6);
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

/* The poll entries of @c: its client and inner sockets, or none. */
static void
conn_fill (Conn *c, GArray *pfds)
{
  struct pollfd cl = { .fd = -1 }, in = { .fd = -1 };
  c->poll_index = -1;
  if (c->dead)
    return;
  if (c->state == CONN_CONNECTING)
    in = (struct pollfd){ .fd = c->inner, .events = POLLOUT };
  else if (c->state == CONN_RELAY)
    {
      /* A source is read only while its pipe has room: with a receiver
       * that does not read, the loop would spin. */
      cl.events = (c->up.src_eof || c->up.in_pipe >= c->up.cap ? 0 : POLLIN)
                  | (c->down.in_pipe ? POLLOUT : 0);
      in.events = (c->down.src_eof || c->down.in_pipe >= c->down.cap ? 0 : POLLIN)
                  | (c->up.in_pipe ? POLLOUT : 0);
      /* Nothing wanted: left out, or a hang-up (always reported) would
       * wake the loop again and again. */
      cl.fd = cl.events ? c->client : -1;
      in.fd = in.events ? c->inner : -1;
    }
  if (cl.fd < 0 && in.fd < 0)
    return; /* waiting for its socket, or for the other side */
  c->poll_index = (int)pfds->len;
  g_array_append_val (pfds, cl);
  g_array_append_val (pfds, in);
}

static void
conn_dispatch (SbxPorts *ports, Conn *c, const struct pollfd *pfds)
{
  if (c->dead || c->poll_index < 0)
    return;
  short cl = pfds[c->poll_index].revents, in = pfds[c->poll_index + 1].revents;
  gboolean ok = TRUE;
  if (c->state == CONN_CONNECTING && in)
    ok = start_relay (ports, c);
  else if (c->state == CONN_RELAY)
    ok = pump (&c->up, c->client, c->inner, cl, in) && pump (&c->down, c->inner, c->client, in, cl);
  if (!ok || (c->state == CONN_RELAY && c->up.done && c->down.done))
    conn_kill (ports, c);
}

/* ---- UDP: a relay per client ----------------------------------------------------- */

static void
udp_from_host (SbxPorts *ports, const SbxForward *fw, gint64 now_ms)
{
  struct sockaddr_storage from;
  socklen_t len = sizeof from;
  ssize_t n = recvfrom (fw->fd, ports->buf, sizeof ports->buf, MSG_DONTWAIT,
                        (struct sockaddr *)&from, &len);
  if (n < 0)
    return;
  UdpFlow *f = NULL;
  for (guint i = 0; i < ports->flows->len && f == NULL; i++)
    {
      UdpFlow *x = ports->flows->pdata[i];
      if (!x->dead && x->forward == fw && x->client_len == len
          && memcmp (&x->client, &from, len) == 0)
        f = x;
    }
  if (f == NULL)
    {
      f = g_new0 (UdpFlow, 1);
      f->forward = fw;
      f->poll_index = -1;
      f->client = from;
      f->client_len = len;
      f->inner = -1;
      f->last_ms = now_ms;
      f->first = g_byte_array_new ();
      g_byte_array_append (f->first, ports->buf, (guint)n);
      g_ptr_array_add (ports->flows, f);
      if (!request_socket (ports, TRUE, f, AF_INET))
        flow_kill (ports, f);
      return;
    }
  f->last_ms = now_ms;
  if (f->inner >= 0)
    send (f->inner, ports->buf, (size_t)n, MSG_DONTWAIT);
}

static void
udp_start (SbxPorts *ports, UdpFlow *f, int fd)
{
  struct sockaddr_in to = { .sin_family = AF_INET,
                            .sin_port = htons (f->forward->port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  f->inner = fd;
  f->last_ms = sbx_net_now_ms ();
  if (connect (fd, (struct sockaddr *)&to, sizeof to) < 0)
    {
      flow_kill (ports, f);
      return;
    }
  send (fd, f->first->data, f->first->len, MSG_DONTWAIT);
  g_clear_pointer (&f->first, g_byte_array_unref);
}

static void
udp_to_host (SbxPorts *ports, UdpFlow *f, gint64 now_ms)
{
  ssize_t n = recv (f->inner, ports->buf, sizeof ports->buf, MSG_DONTWAIT);
  if (n < 0)
    {
      if (errno != EAGAIN)
        flow_kill (ports, f);
      return;
    }
  f->last_ms = now_ms;
  sendto (f->forward->fd, ports->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&f->client,
          f->client_len);
}

/* ---- the loop's side -------------------------------------------------------------- */

void
sbx_ports_fill (SbxPorts *ports, GArray *pfds)
{
  ports->tcp_index = (int)pfds->len;
  for (guint i = 0; i < ports->tcp->len; i++)
    g_array_append_val (pfds, ((struct pollfd){ .fd = g_array_index (ports->tcp, SbxForward, i).fd,
                                                .events = POLLIN }));
  ports->udp_index = (int)pfds->len;
  for (guint i = 0; i < ports->udp->len; i++)
    g_array_append_val (pfds, ((struct pollfd){ .fd = g_array_index (ports->udp, SbxForward, i).fd,
                                                .events = POLLIN }));
  for (guint i = 0; i < ports->conns->len; i++)
    conn_fill (ports->conns->pdata[i], pfds);
  for (guint i = 0; i < ports->flows->len; i++)
    {
      UdpFlow *f = ports->flows->pdata[i];
      f->poll_index = -1;
      if (f->dead || f->inner < 0)
        continue;
      f->poll_index = (int)pfds->len;
      g_array_append_val (pfds, ((struct pollfd){ .fd = f->inner, .events = POLLIN }));
    }
}

/* Whether @fd is what was asked of PID 1: an unconnected socket of @family
 * and @type.  PID 1 runs beside the command and is not trusted once it
 * runs (docs/security.md): what it hands over is checked, not assumed. */
static gboolean
socket_is (int fd, int family, int type)
{
  int domain = -1, kind = -1;
  socklen_t len = sizeof domain;
  struct sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != family)
    return FALSE;
  len = sizeof kind;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &kind, &len) < 0 || kind != type)
    return FALSE;
  return getpeername (fd, (struct sockaddr *)&peer, &peer_len) < 0 && errno == ENOTCONN;
}

gboolean
sbx_ports_receive_socket (SbxPorts *ports)
{
  SbxMsg msg;
  int fd = -1;
  errno = 0;
  if (!sbx_msg_recv (SBX_NET_FACTORY_FD, &msg, &fd, NULL))
    return errno == EAGAIN; /* else EOF: PID 1 is gone, the sandbox is over */
  Pending *p = g_queue_pop_head (&ports->waiting);
  gpointer who = p != NULL ? p->who : NULL;
  gboolean udp = p != NULL && p->udp;
  g_free (p);
  if (fd >= 0 && who != NULL
      && !socket_is (fd, udp ? AF_INET : ((Conn *)who)->family, udp ? SOCK_DGRAM : SOCK_STREAM))
    sbx_util_close_fdp (&fd);
  if (who == NULL || fd < 0)
    {
      if (fd >= 0)
        close (fd);
      if (who != NULL && udp)
        flow_kill (ports, who);
      else if (who != NULL)
        conn_kill (ports, who);
      return TRUE;
    }
  fcntl (fd, F_SETFL, O_NONBLOCK);
  if (udp)
    udp_start (ports, who, fd);
  else
    connect_inner (ports, who, fd);
  return TRUE;
}

void
sbx_ports_dispatch (SbxPorts *ports, const struct pollfd *pfds, gint64 now_ms)
{
  for (guint i = 0; i < ports->tcp->len; i++)
    if (pfds[ports->tcp_index + (int)i].revents & POLLIN)
      accept_client (ports, &g_array_index (ports->tcp, SbxForward, i));
  /* Connections accepted above were not polled (poll_index -1): they wait
   * for their socket. */
  for (guint i = 0; i < ports->conns->len; i++)
    conn_dispatch (ports, ports->conns->pdata[i], pfds);

  for (guint i = 0; i < ports->udp->len; i++)
    if (pfds[ports->udp_index + (int)i].revents & POLLIN)
      udp_from_host (ports, &g_array_index (ports->udp, SbxForward, i), now_ms);
  for (guint i = 0; i < ports->flows->len; i++)
    {
      UdpFlow *f = ports->flows->pdata[i];
      if (f->dead || f->poll_index < 0)
        continue;
      if (pfds[f->poll_index].revents & POLLIN)
        udp_to_host (ports, f, now_ms);
      else if (now_ms - f->last_ms > UDP_IDLE_MS)
        flow_kill (ports, f);
    }
}
