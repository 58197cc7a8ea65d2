/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpdns.c: DNS over TCP to the sandbox's resolver, ended by sbx-net (see
 * tcpdns.h). */
#include "config.h"

#include "tcpdns.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define RTO_FIRST_MS 400
#define RTO_MAX_MS   4000
#define RETRIES      6
#define MSS_DEFAULT  536 /* RFC 9293 3.7.1, without the option */
/* What a connection buffers of the sandbox's stream: one whole message and
 * its length. */
#define RX_MAX (2 + 65535)

typedef enum
{
  CONN_FREE,
  CONN_SYN_RECEIVED, /* our SYN-ACK is out */
  CONN_ESTABLISHED,
} ConnState;

typedef struct
{
  ConnState state;
  guint8 generation; /* in the connection's id, so that an old id finds nothing */
  SbxPeer peer;
  guint32 iss;
  guint32 snd_una; /* the first byte not acknowledged (tx[0]) */
  guint32 snd_nxt; /* the next to send */
  guint32 rcv_nxt;
  guint16 window; /* the sandbox's, unscaled */
  guint16 mss;    /* what we send in one segment */
  gboolean peer_fin;
  gboolean fin_queued; /* ours: after the last byte of tx */
  gboolean fin_sent;
  gboolean reset;      /* to reset at the end of this input or answer */
  gboolean processing; /* in conn_process: an answer given meanwhile waits for it */
  GByteArray *rx;      /* the sandbox's stream, not yet whole messages */
  GByteArray *tx;      /* ours, from snd_una on */
  guint pending;       /* queries out, not answered */
  gint64 rto_at;       /* 0: nothing to retransmit */
  guint rto_ms;
  guint retries;
  gint64 idle_at;
} Conn;

struct SbxTcpDns
{
  guint mtu;
  SbxTcpDnsQueryFn on_query;
  SbxTcpDnsSendFn send;
  gpointer user;
  Conn conns[SBX_TCPDNS_CONNS];
  guint8 frame[SBX_PACKET_BUILD_MAX];
};

/* Sequence numbers compare modulo 2^32 (RFC 9293 3.4). */
static inline gboolean
seq_lt (guint32 a, guint32 b)
{
  return (gint32)(a - b) < 0;
}

static inline gboolean
seq_leq (guint32 a, guint32 b)
{
  return (gint32)(a - b) <= 0;
}

SbxTcpDns *
sbx_tcpdns_new (guint mtu, SbxTcpDnsQueryFn on_query, SbxTcpDnsSendFn send, gpointer user)
{
  SbxTcpDns *t = g_new0 (SbxTcpDns, 1);
  t->mtu = mtu;
  t->on_query = on_query;
  t->send = send;
  t->user = user;
  return t;
}

static void
conn_free (Conn *c)
{
  if (c->rx != NULL)
    g_byte_array_unref (c->rx);
  if (c->tx != NULL)
    g_byte_array_unref (c->tx);
  guint8 generation = c->generation;
  memset (c, 0, sizeof *c);
  c->generation = (guint8)(generation + 1);
}

void
sbx_tcpdns_free (SbxTcpDns *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < SBX_TCPDNS_CONNS; i++)
    conn_free (&t->conns[i]);
  g_free (t);
}

guint
sbx_tcpdns_count (const SbxTcpDns *t)
{
  guint n = 0;
  for (guint i = 0; i < SBX_TCPDNS_CONNS; i++)
    n += t->conns[i].state != CONN_FREE;
  return n;
}

static guint32
conn_id (const SbxTcpDns *t, const Conn *c)
{
  return (guint32)(c - t->conns) | (guint32)c->generation << 8;
}

static Conn *
conn_by_id (SbxTcpDns *t, guint32 id)
{
  guint i = id & 0xff;
  if (i >= SBX_TCPDNS_CONNS || t->conns[i].state == CONN_FREE
      || t->conns[i].generation != (guint8)(id >> 8))
    return NULL;
  return &t->conns[i];
}

static Conn *
conn_find (SbxTcpDns *t, const SbxPacket *p)
{
  guint alen = p->family == AF_INET ? 4 : 16;
  for (guint i = 0; i < SBX_TCPDNS_CONNS; i++)
    {
      Conn *c = &t->conns[i];
      if (c->state != CONN_FREE && c->peer.family == p->family && c->peer.sandbox_port == p->sport
          && memcmp (c->peer.sandbox, p->src, alen) == 0
          && memcmp (c->peer.ours, p->dst, alen) == 0)
        return c;
    }
  return NULL;
}

static void
segment (SbxTcpDns *t, Conn *c, guint32 seq, guint8 flags, guint16 mss, const guint8 *data,
         size_t len)
{
  /* Our window: what is left of the room for one message. */
  guint16 window = (guint16)MIN (65535, RX_MAX - (c->rx != NULL ? c->rx->len : 0));
  size_t n
      = sbx_packet_build_tcp (&c->peer, seq, c->rcv_nxt, flags, window, mss, data, len, t->frame);
  if (n > 0)
    t->send (t->frame, n, t->user);
}

static void
arm_rto (Conn *c, gint64 now_ms)
{
  if (c->rto_at == 0)
    c->rto_at = now_ms + c->rto_ms;
}

/* Sends what the window lets through of tx, then our FIN when it is due.
 * @probe: at least one segment, whatever the window (a retransmission). */
static void
conn_output (SbxTcpDns *t, Conn *c, gboolean probe, gint64 now_ms)
{
  guint32 end = c->snd_una + c->tx->len;
  while (seq_lt (c->snd_nxt, end))
    {
      guint32 in_flight = c->snd_nxt - c->snd_una;
      guint32 room = c->window > in_flight ? c->window - in_flight : 0;
      if (room == 0 && !probe)
        break;
      size_t n = MIN (MIN ((guint32)c->mss, end - c->snd_nxt), MAX (room, 1u));
      segment (t, c, c->snd_nxt, SBX_TCP_ACK | SBX_TCP_PSH, 0,
               c->tx->data + (c->snd_nxt - c->snd_una), n);
      c->snd_nxt += (guint32)n;
      probe = FALSE;
      arm_rto (c, now_ms);
    }
  if (c->fin_queued && !c->fin_sent && c->snd_nxt == end)
    {
      segment (t, c, c->snd_nxt, SBX_TCP_ACK | SBX_TCP_FIN, 0, NULL, 0);
      c->fin_sent = TRUE;
      c->snd_nxt++;
      arm_rto (c, now_ms);
    }
}

/* Hands the whole messages in rx to on_query, as long as few enough are
 * out; closes our side once the sandbox closed its and all is answered. */
static void
conn_process (SbxTcpDns *t, Conn *c, gint64 now_ms)
{
  /* on_query may answer at once (a denied name), and that answer must not
   * start on the next message from in here: the stack would grow with
   * the messages of the stream. */
  c->processing = TRUE;
  while (!c->reset && c->pending < SBX_TCPDNS_QUERIES && c->rx->len >= 2)
    {
      size_t len = (size_t)c->rx->data[0] << 8 | c->rx->data[1];
      if (c->rx->len < 2 + len)
        break;
      g_autofree guint8 *msg = g_memdup2 (c->rx->data + 2, len);
      g_byte_array_remove_range (c->rx, 0, (guint)(2 + len));
      c->pending++;
      t->on_query (t->user, conn_id (t, c), &c->peer, msg, len, now_ms);
    }
  c->processing = FALSE;
  if (c->peer_fin && !c->fin_queued && c->pending == 0 && !c->reset)
    {
      /* A part of a message before the FIN will never be whole. */
      c->fin_queued = TRUE;
      conn_output (t, c, FALSE, now_ms);
    }
}

/* Resets @c towards the sandbox and frees it. */
static void
conn_reset (SbxTcpDns *t, Conn *c)
{
  segment (t, c, c->snd_nxt, SBX_TCP_RST | SBX_TCP_ACK, 0, NULL, 0);
  conn_free (c);
}

/* A SYN to the server's port: a new connection, or refused when the table
 * is full. */
static void
conn_open (SbxTcpDns *t, const SbxPacket *p, gint64 now_ms)
{
  Conn *c = NULL;
  for (guint i = 0; i < SBX_TCPDNS_CONNS && c == NULL; i++)
    if (t->conns[i].state == CONN_FREE)
      c = &t->conns[i];
  if (c == NULL)
    {
      size_t n = sbx_packet_build_rst (p, t->frame);
      t->send (t->frame, n, t->user);
      return;
    }
  sbx_packet_peer (p, &c->peer);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  c->iss = 0; /* the fuzzer must be able to acknowledge it */
#else
  if (getrandom (&c->iss, sizeof c->iss, 0) != sizeof c->iss)
    c->iss = (guint32)now_ms * 2654435761u;
#endif
  c->state = CONN_SYN_RECEIVED;
  c->snd_una = c->iss;
  c->snd_nxt = c->iss + 1;
  c->rcv_nxt = p->seq + 1;
  c->window = p->window;
  guint headers = p->family == AF_INET ? 40 : 60;
  guint ours = t->mtu > headers ? t->mtu - headers : MSS_DEFAULT;
  c->mss = (guint16)MIN (ours, p->mss != 0 ? p->mss : MSS_DEFAULT);
  c->mss = MAX (c->mss, 64);
  c->rx = g_byte_array_new ();
  c->tx = g_byte_array_new ();
  c->rto_ms = RTO_FIRST_MS;
  c->idle_at = now_ms + SBX_TCPDNS_IDLE_MS;
  segment (t, c, c->iss, SBX_TCP_SYN | SBX_TCP_ACK, (guint16)MIN (ours, 65535), NULL, 0);
  arm_rto (c, now_ms);
}

/* An acknowledgement of ours up to @ack. */
static void
conn_acked (Conn *c, guint32 ack, gint64 now_ms)
{
  if (!seq_lt (c->snd_una, ack) || !seq_leq (ack, c->snd_nxt))
    return;
  guint32 data = MIN (ack - c->snd_una, (guint32)c->tx->len);
  g_byte_array_remove_range (c->tx, 0, data);
  c->snd_una += data;
  c->retries = 0;
  c->rto_ms = RTO_FIRST_MS;
  c->rto_at = 0;
  if (c->snd_nxt != ack)
    c->rto_at = now_ms + c->rto_ms;
}

void
sbx_tcpdns_input (SbxTcpDns *t, const SbxPacket *p, gint64 now_ms)
{
  Conn *c = conn_find (t, p);
  guint8 flags = p->tcp_flags;

  if (flags & SBX_TCP_RST)
    {
      if (c != NULL)
        conn_free (c);
      return;
    }
  if (c == NULL)
    {
      if ((flags & (SBX_TCP_SYN | SBX_TCP_ACK)) == SBX_TCP_SYN)
        conn_open (t, p, now_ms);
      else
        {
          /* Nothing of ours: refused, as a closed port is. */
          size_t n = sbx_packet_build_rst (p, t->frame);
          t->send (t->frame, n, t->user);
        }
      return;
    }
  if (flags & SBX_TCP_SYN)
    {
      /* Our SYN-ACK was lost: again.  A SYN on an open connection is the
       * sandbox's mistake; the connection goes. */
      if (c->state == CONN_SYN_RECEIVED && p->seq + 1 == c->rcv_nxt)
        segment (t, c, c->iss, SBX_TCP_SYN | SBX_TCP_ACK, (guint16)MIN (c->mss, 65535), NULL, 0);
      else
        conn_reset (t, c);
      return;
    }
  if (!(flags & SBX_TCP_ACK))
    return;
  c->idle_at = now_ms + SBX_TCPDNS_IDLE_MS;
  if (c->state == CONN_SYN_RECEIVED)
    {
      if (p->ack != c->iss + 1)
        {
          conn_reset (t, c);
          return;
        }
      c->state = CONN_ESTABLISHED;
      c->snd_una = c->snd_nxt = p->ack;
      c->rto_at = 0;
      c->retries = 0;
      c->rto_ms = RTO_FIRST_MS;
    }
  else
    conn_acked (c, p->ack, now_ms);
  c->window = p->window;
  if (c->fin_sent && p->ack == c->snd_nxt && c->tx->len == 0)
    {
      /* Our FIN is acknowledged: with the sandbox's, it is over (no
       * TIME-WAIT: a late segment is refused, which ends it as well). */
      if (c->peer_fin || (flags & SBX_TCP_FIN))
        {
          if (flags & SBX_TCP_FIN)
            {
              c->rcv_nxt = p->seq + (guint32)p->data_len + 1;
              segment (t, c, c->snd_nxt, SBX_TCP_ACK, 0, NULL, 0);
            }
          conn_free (c);
          return;
        }
    }

  /* Data and FIN, in order only. */
  const guint8 *data = p->data;
  size_t len = p->data_len;
  guint32 seq = p->seq;
  gboolean fin = (flags & SBX_TCP_FIN) != 0;
  if (len > 0 || fin)
    {
      if (seq_lt (seq, c->rcv_nxt))
        {
          /* A repeat: what came already is cut off; a FIN before
           * rcv_nxt came already too. */
          guint32 skip = c->rcv_nxt - seq;
          if (skip > len)
            {
              len = 0;
              fin = FALSE;
              seq = c->rcv_nxt;
            }
          else
            {
              data += skip;
              len -= skip;
              seq += skip;
            }
        }
      if (seq == c->rcv_nxt && !c->peer_fin)
        {
          size_t room = RX_MAX - c->rx->len;
          size_t take = MIN (len, room);
          g_byte_array_append (c->rx, data, (guint)take);
          c->rcv_nxt += (guint32)take;
          if (fin && take == len)
            {
              c->rcv_nxt++;
              c->peer_fin = TRUE;
            }
        }
      segment (t, c, c->snd_nxt, SBX_TCP_ACK, 0, NULL, 0);
      conn_process (t, c, now_ms);
    }
  if (c->reset)
    {
      conn_reset (t, c);
      return;
    }
  conn_output (t, c, FALSE, now_ms);
}

gboolean
sbx_tcpdns_answer (SbxTcpDns *t, guint32 id, const guint8 *msg, size_t len, gint64 now_ms)
{
  Conn *c = conn_by_id (t, id);
  if (c == NULL)
    return FALSE;
  if (c->pending > 0)
    c->pending--;
  if (msg == NULL || len > 65535)
    c->reset = TRUE;
  else
    {
      guint8 prefix[2] = { (guint8)(len >> 8), (guint8)len };
      g_byte_array_append (c->tx, prefix, 2);
      g_byte_array_append (c->tx, msg, (guint)len);
      c->idle_at = now_ms + SBX_TCPDNS_IDLE_MS;
      conn_output (t, c, FALSE, now_ms);
    }
  /* From within conn_process, it goes on and resets itself. */
  if (c->processing)
    return TRUE;
  if (!c->reset)
    conn_process (t, c, now_ms);
  if (c->reset)
    conn_reset (t, c);
  return TRUE;
}

int
sbx_tcpdns_timeout (const SbxTcpDns *t, gint64 now_ms)
{
  gint64 first = -1;
  for (guint i = 0; i < SBX_TCPDNS_CONNS; i++)
    {
      const Conn *c = &t->conns[i];
      if (c->state == CONN_FREE)
        continue;
      gint64 at = c->rto_at != 0 ? MIN (c->rto_at, c->idle_at) : c->idle_at;
      if (first < 0 || at < first)
        first = at;
    }
  return first < 0 ? -1 : (int)CLAMP (first - now_ms, 0, G_MAXINT);
}

void
sbx_tcpdns_run_timers (SbxTcpDns *t, gint64 now_ms)
{
  for (guint i = 0; i < SBX_TCPDNS_CONNS; i++)
    {
      Conn *c = &t->conns[i];
      if (c->state == CONN_FREE)
        continue;
      if (c->idle_at <= now_ms && c->pending == 0)
        {
          conn_reset (t, c);
          continue;
        }
      if (c->rto_at == 0 || c->rto_at > now_ms)
        continue;
      if (++c->retries > RETRIES)
        {
          conn_reset (t, c);
          continue;
        }
      c->rto_ms = MIN (c->rto_ms * 2, RTO_MAX_MS);
      c->rto_at = 0;
      if (c->state == CONN_SYN_RECEIVED)
        {
          segment (t, c, c->iss, SBX_TCP_SYN | SBX_TCP_ACK, (guint16)MIN (c->mss, 65535), NULL, 0);
          arm_rto (c, now_ms);
          continue;
        }
      /* Go back to the first byte not acknowledged, and the FIN after it. */
      c->snd_nxt = c->snd_una;
      c->fin_sent = FALSE;
      conn_output (t, c, TRUE, now_ms);
    }
}
