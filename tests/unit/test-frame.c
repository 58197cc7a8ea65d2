/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-frame.c: the filter between tap0 and libslirp (helpers/frame.c):
 * every rule, with a good frame beside each bad one, and the IPv4
 * reassembly (orders, overlaps, sizes, the timeout, the slot limit). */
#include "config.h"

#include "frame.h"

#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#define ETH  14
#define UDP  17
#define TCP  6
#define ICMP 1
#define MF   0x2000
#define DF   0x4000

/* A frame under construction. */
typedef struct
{
  guint8 data[SBX_FRAME_MAX + 64];
  size_t len;
} Frame;

static const guint8 guest[4] = { 10, 0, 2, 100 };
static const guint8 gateway[4] = { 10, 0, 2, 2 };

static void
put16 (guint8 *p, guint v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

static guint
ip_checksum (const guint8 *p, size_t len)
{
  guint32 sum = 0;
  for (size_t i = 0; i < len; i += 2)
    sum += (guint)p[i] << 8 | p[i + 1];
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

static void
eth (Frame *f, guint type)
{
  static const guint8 macs[12] = { 0x52, 0x55, 0, 0, 2, 2, 0x02, 0, 0, 0, 0, 1 };
  memcpy (f->data, macs, 12);
  put16 (f->data + 12, type);
  f->len = ETH;
}

/* The payload byte at @i of a datagram: a pattern that shows misplaced
 * data. */
static guint8
pattern (guint i)
{
  return (guint8)(i * 7 + i / 251);
}

/* An IPv4 frame: @hlen bytes of header (options of zeros beyond 20), @size
 * bytes of payload starting at datagram offset @offset (the pattern), the
 * flags/offset field @frag, to @dst. */
static void
ipv4_to (Frame *f, const guint8 *dst, guint proto, guint id, guint frag, guint hlen, guint offset,
         guint size)
{
  eth (f, 0x0800);
  guint8 *ip = f->data + ETH;
  memset (ip, 0, hlen);
  ip[0] = (guint8)(0x40 | hlen / 4);
  put16 (ip + 2, hlen + size);
  put16 (ip + 4, id);
  put16 (ip + 6, frag);
  ip[8] = 64;
  ip[9] = (guint8)proto;
  memcpy (ip + 12, guest, 4);
  memcpy (ip + 16, dst, 4);
  put16 (ip + 10, ip_checksum (ip, hlen));
  for (guint i = 0; i < size; i++)
    ip[hlen + i] = pattern (offset + i);
  f->len = ETH + hlen + size;
}

static void
ipv4 (Frame *f, guint proto, guint size)
{
  ipv4_to (f, gateway, proto, 1, 0, 20, 0, size);
}

/* A fragment of datagram @id (UDP, to the gateway): @size bytes at @offset
 * (bytes, a multiple of 8), @more for MF. */
static void
frag (Frame *f, guint id, guint offset, guint size, gboolean more)
{
  ipv4_to (f, gateway, UDP, id, (more ? MF : 0) | offset / 8, 20, offset, size);
}

/* Recomputes the IPv4 checksum after a test changed a header field. */
static void
ipv4_resum (Frame *f)
{
  guint8 *ip = f->data + ETH;
  guint hlen = (ip[0] & 0xf) * 4;
  put16 (ip + 10, 0);
  put16 (ip + 10, ip_checksum (ip, hlen));
}

static void
ipv6_to (Frame *f, const char *dst, guint next, guint size)
{
  eth (f, 0x86dd);
  guint8 *ip = f->data + ETH;
  memset (ip, 0, 40);
  ip[0] = 0x60;
  put16 (ip + 4, size);
  ip[6] = (guint8)next;
  ip[7] = 64;
  ip[8] = 0xfd; /* from fd00::100 */
  ip[22] = 1;
  g_assert_cmpint (inet_pton (AF_INET6, dst, ip + 24), ==, 1);
  for (guint i = 0; i < size; i++)
    ip[40 + i] = pattern (i);
  f->len = ETH + 40 + size;
}

static void
arp (Frame *f, guint op)
{
  eth (f, 0x0806);
  guint8 *a = f->data + ETH;
  put16 (a, 1);
  put16 (a + 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16 (a + 6, op);
  memcpy (a + 8, f->data + 6, 6);
  memcpy (a + 14, guest, 4);
  memset (a + 18, 0, 6);
  memcpy (a + 24, gateway, 4);
  f->len = ETH + 28;
}

static SbxFrameFilter *filter;
static gint64 now;
static const guint8 *out;
static size_t out_len;

static SbxFrameVerdict
judge (const Frame *f)
{
  return sbx_frame_filter_input (filter, f->data, f->len, now, &out, &out_len);
}

#define assert_verdict(f, want)                                                                    \
  do                                                                                               \
    {                                                                                              \
      SbxFrameVerdict got_ = judge (f);                                                            \
      if (got_ != (want))                                                                          \
        g_error ("%s:%d: got %s, want %s", __FILE__, __LINE__, sbx_frame_verdict_name (got_),      \
                 sbx_frame_verdict_name (want));                                                   \
    }                                                                                              \
  while (0)

static void
setup (void)
{
  g_clear_pointer (&filter, sbx_frame_filter_free);
  filter = sbx_frame_filter_new ();
  now = 1000;
}

/* ---- Ethernet, ARP ---------------------------------------------------------- */

static void
test_ethernet (void)
{
  Frame f;
  setup ();
  ipv4 (&f, UDP, 8);
  for (size_t len = 0; len < ETH; len++)
    {
      f.len = len;
      assert_verdict (&f, SBX_FRAME_BAD_ETHERNET);
    }
  const guint types[] = { 0x8100, 0x88a8, 0x88f8, 0x8035, 0x0842, 0x9000, 0x0000, 0x05dc, 0xffff };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      ipv4 (&f, UDP, 8);
      put16 (f.data + 12, types[i]);
      assert_verdict (&f, SBX_FRAME_BAD_TYPE);
    }
}

static void
test_arp (void)
{
  Frame f;
  setup ();
  arp (&f, 1);
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_true (out == f.data && out_len == ETH + 28);
  arp (&f, 2);
  assert_verdict (&f, SBX_FRAME_PASS);
  arp (&f, 1);
  f.len = 60; /* Ethernet's padding: cut off */
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_cmpuint (out_len, ==, ETH + 28);

  arp (&f, 1);
  f.len = ETH + 27;
  assert_verdict (&f, SBX_FRAME_BAD_ARP);
  const struct
  {
    guint offset, value, wide;
  } bad[] = {
    { 0, 6, 1 },      /* hardware: IEEE 802 */
    { 2, 0x86dd, 1 }, /* protocol: IPv6 */
    { 4, 8, 0 },      /* hardware address length */
    { 5, 16, 0 },     /* protocol address length */
    { 6, 0, 1 },      /* operation */
    { 6, 3, 1 },      /* RARP request */
    { 6, 8, 1 },      /* InARP */
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      arp (&f, 1);
      if (bad[i].wide)
        put16 (f.data + ETH + bad[i].offset, bad[i].value);
      else
        f.data[ETH + bad[i].offset] = (guint8)bad[i].value;
      assert_verdict (&f, SBX_FRAME_BAD_ARP);
    }
}

/* ---- IPv4 ----------------------------------------------------------------------- */

static void
test_ipv4_good (void)
{
  Frame f;
  setup ();
  ipv4 (&f, UDP, 8);
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_true (out == f.data && out_len == f.len);
  ipv4 (&f, TCP, 20);
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv4 (&f, ICMP, 64);
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv4 (&f, UDP, 65535 - 20); /* the largest datagram */
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_cmpuint (out_len, ==, ETH + 65535);

  /* Padding after the datagram is cut off. */
  ipv4 (&f, UDP, 10);
  f.len += 30;
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_cmpuint (out_len, ==, ETH + 20 + 10);

  /* Options (IHL 15), DF, any TTL, TOS. */
  ipv4_to (&f, gateway, TCP, 7, 0, 60, 0, 20);
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv4_to (&f, gateway, TCP, 7, DF, 20, 0, 40);
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv4 (&f, UDP, 8);
  f.data[ETH + 1] = 0xb8;
  f.data[ETH + 8] = 0;
  ipv4_resum (&f);
  assert_verdict (&f, SBX_FRAME_PASS);
  /* Not the host's: other addresses pass, libslirp's policy applies. */
  static const guint8 others[][4] = {
    { 10, 0, 2, 3 }, { 192, 0, 2, 1 }, { 128, 0, 0, 1 }, { 1, 0, 0, 0 }, { 255, 255, 255, 255 }
  };
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      ipv4_to (&f, others[i], UDP, 1, 0, 20, 0, 8);
      assert_verdict (&f, SBX_FRAME_PASS);
    }
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);
}

static void
test_ipv4_bad (void)
{
  Frame f;
  setup ();
  ipv4 (&f, UDP, 8);
  for (size_t len = ETH; len < ETH + 20; len++)
    {
      f.len = len;
      assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
    }

  const guint versions[] = { 0, 5, 6, 15 };
  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      ipv4 (&f, UDP, 8);
      f.data[ETH] = (guint8)(versions[i] << 4 | 5);
      ipv4_resum (&f);
      assert_verdict (&f, SBX_FRAME_BAD_VERSION);
    }

  /* IHL below 5; a header longer than the frame; a total length below the
   * header's, or beyond the frame. */
  for (guint ihl = 0; ihl < 5; ihl++)
    {
      ipv4 (&f, UDP, 8);
      f.data[ETH] = (guint8)(0x40 | ihl);
      assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
    }
  ipv4_to (&f, gateway, UDP, 1, 0, 24, 0, 0);
  f.data[ETH] = 0x4f;
  put16 (f.data + ETH + 2, 60);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, UDP, 8);
  put16 (f.data + ETH + 2, 19);
  ipv4_resum (&f);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, UDP, 8);
  put16 (f.data + ETH + 2, 29);
  ipv4_resum (&f);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, UDP, 8);
  f.len--;
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);

  /* The checksum: one bit off anywhere in the header but the version,
   * IHL and total length (which are checked before). */
  for (guint bit = 8; bit < 160; bit++)
    {
      if (bit / 8 == 2 || bit / 8 == 3)
        continue;
      ipv4 (&f, UDP, 8);
      f.data[ETH + bit / 8] ^= (guint8)(1 << (bit % 8));
      assert_verdict (&f, SBX_FRAME_BAD_CHECKSUM);
    }

  /* The reserved flag; MF with DF, also on a fragment. */
  ipv4_to (&f, gateway, UDP, 1, 0x8000, 20, 0, 8);
  assert_verdict (&f, SBX_FRAME_BAD_FLAGS);
  ipv4_to (&f, gateway, UDP, 1, 0x8000 | DF, 20, 0, 8);
  assert_verdict (&f, SBX_FRAME_BAD_FLAGS);
  ipv4_to (&f, gateway, UDP, 1, MF | DF, 20, 0, 8);
  assert_verdict (&f, SBX_FRAME_BAD_FLAGS);
  ipv4_to (&f, gateway, UDP, 1, MF | DF | 10, 20, 80, 8);
  assert_verdict (&f, SBX_FRAME_BAD_FLAGS);

  /* Protocols other than TCP, UDP, ICMP. */
  const guint protos[] = { 0, 2, 4, 41, 47, 50, 58, 89, 132, 136, 253, 255 };
  for (guint i = 0; i < G_N_ELEMENTS (protos); i++)
    {
      ipv4 (&f, protos[i], 20);
      assert_verdict (&f, SBX_FRAME_BAD_PROTOCOL);
    }

  /* The host's own addresses, whatever the rest. */
  static const guint8 local[][4] = {
    { 127, 0, 0, 1 }, { 127, 255, 255, 254 }, { 127, 1, 2, 3 }, { 0, 0, 0, 0 }, { 0, 1, 2, 3 }
  };
  for (guint i = 0; i < G_N_ELEMENTS (local); i++)
    {
      ipv4_to (&f, local[i], TCP, 1, 0, 20, 0, 20);
      assert_verdict (&f, SBX_FRAME_BAD_ADDRESS);
      ipv4_to (&f, local[i], UDP, 1, MF, 20, 0, 8);
      assert_verdict (&f, SBX_FRAME_BAD_ADDRESS);
    }

  /* Shorter than its transport header. */
  ipv4 (&f, UDP, 7);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, TCP, 19);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, ICMP, 4);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv4 (&f, UDP, 0);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);
}

/* ---- IPv6 ----------------------------------------------------------------------- */

static void
test_ipv6 (void)
{
  Frame f;
  setup ();
  ipv6_to (&f, "fd00::2", UDP, 8);
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_true (out == f.data && out_len == f.len);
  ipv6_to (&f, "fd00::2", TCP, 20);
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv6_to (&f, "ff02::1:ff00:2", 58, 32); /* neighbour solicitation */
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv6_to (&f, "2001:db8::1", UDP, 1000);
  f.len += 20;
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_cmpuint (out_len, ==, ETH + 40 + 1000);

  for (size_t len = ETH; len < ETH + 40; len++)
    {
      f.len = len;
      assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
    }
  ipv6_to (&f, "fd00::2", UDP, 8);
  f.data[ETH] = 0x40;
  assert_verdict (&f, SBX_FRAME_BAD_VERSION);
  ipv6_to (&f, "fd00::2", UDP, 8);
  f.len--;
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv6_to (&f, "fd00::2", UDP, 7);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv6_to (&f, "fd00::2", TCP, 19);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  ipv6_to (&f, "fd00::2", 58, 0);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);

  /* Fragments and every other extension header; other protocols. */
  const guint next[] = { 44, 0, 43, 60, 51, 50, 135, 59, 1, 4, 41, 132, 255 };
  for (guint i = 0; i < G_N_ELEMENTS (next); i++)
    {
      ipv6_to (&f, "fd00::2", next[i], 48);
      assert_verdict (&f, SBX_FRAME_BAD_PROTOCOL);
    }

  const char *local[] = { "::1", "::", "::ffff:127.0.0.1", "::ffff:127.9.9.9", "::ffff:0.0.0.0" };
  for (guint i = 0; i < G_N_ELEMENTS (local); i++)
    {
      ipv6_to (&f, local[i], TCP, 20);
      assert_verdict (&f, SBX_FRAME_BAD_ADDRESS);
    }
  ipv6_to (&f, "::2", UDP, 8); /* not the loopback */
  assert_verdict (&f, SBX_FRAME_PASS);
  ipv6_to (&f, "::ffff:10.0.2.2", UDP, 8);
  assert_verdict (&f, SBX_FRAME_PASS);
}

/* ---- IPv4 reassembly --------------------------------------------------------- */

/* The datagram that fragments of @size bytes (UDP, id @id) make whole. */
static void
assert_whole (guint id, guint size)
{
  Frame want;
  ipv4_to (&want, gateway, UDP, id, 0, 20, 0, size);
  g_assert_cmpuint (out_len, ==, want.len);
  g_assert_cmpmem (out, out_len, want.data, want.len);
}

/* Feeds the fragments of a @size-byte datagram, @piece bytes each, in the
 * order @order gives (indexes), each but the last of @order HELD. */
static void
feed (guint id, guint size, guint piece, const guint *order, guint n)
{
  Frame f;
  for (guint i = 0; i < n; i++)
    {
      guint offset = order[i] * piece;
      guint len = MIN (piece, size - offset);
      frag (&f, id, offset, len, offset + len < size);
      assert_verdict (&f, i + 1 < n ? SBX_FRAME_HELD : SBX_FRAME_PASS);
    }
  assert_whole (id, size);
}

static void
test_reasm_orders (void)
{
  setup ();
  const guint in_order[] = { 0, 1, 2 };
  const guint reverse[] = { 2, 1, 0 };
  const guint last_first[] = { 2, 0, 1 };
  const guint middle_first[] = { 1, 2, 0 };
  feed (1, 3000, 1480, in_order, 3);
  feed (2, 3000, 1480, reverse, 3);
  feed (3, 3000, 1480, last_first, 3);
  feed (4, 3000, 1480, middle_first, 3);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);

  /* Many small pieces, shuffled; the largest datagram, in the largest
   * pieces and in 8-byte ones. */
  guint order[8192];
  for (guint i = 0; i < 100; i++)
    order[i] = i;
  GRand *rand = g_rand_new_with_seed (42);
  for (guint i = 99; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, (gint32)i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  g_rand_free (rand);
  feed (5, 100 * 16 - 3, 16, order, 100);
  for (guint i = 0; i < 2; i++)
    order[i] = 1 - i;
  feed (6, 65535 - 20, 65512, order, 2);
  g_assert_cmpuint (out_len, ==, ETH + 65535);
  for (guint i = 0; i < 8190; i++)
    order[i] = 8189 - i;
  feed (7, 65535 - 20, 8, order, 8190);

  /* A whole datagram, then the same id again: independent. */
  feed (1, 3000, 1480, in_order, 3);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);
}

/* The frame that killed libslirp 4.7.0: the last fragment of a datagram,
 * arriving first and alone.  Held, never passed. */
static void
test_reasm_lone_last (void)
{
  Frame f;
  setup ();
  frag (&f, 3, 3632 * 8, 472, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 1);
}

/* The reassembled header: the first fragment's (options, TTL, TOS), the
 * whole length, no fragment fields, a checksum that is right again. */
static void
test_reasm_header (void)
{
  Frame f;
  setup ();
  ipv4_to (&f, gateway, UDP, 9, 104 / 8, 20, 104, 50);
  g_assert_true (judge (&f) == SBX_FRAME_HELD);
  ipv4_to (&f, gateway, UDP, 9, MF | 0, 28, 0, 104);
  f.data[ETH + 1] = 0x10;
  f.data[ETH + 8] = 3;
  f.data[ETH + 20] = 0x94; /* router alert */
  f.data[ETH + 21] = 4;
  ipv4_resum (&f);
  Frame first = f;
  assert_verdict (&f, SBX_FRAME_PASS);
  g_assert_cmpuint (out_len, ==, ETH + 28 + 154);
  const guint8 *ip = out + ETH;
  g_assert_cmpmem (out, ETH, first.data, ETH);
  g_assert_cmpuint (ip[0], ==, 0x47);
  g_assert_cmpuint (ip[1], ==, 0x10);
  g_assert_cmpuint ((guint)ip[2] << 8 | ip[3], ==, 28 + 154);
  g_assert_cmpuint ((guint)ip[6] << 8 | ip[7], ==, 0);
  g_assert_cmpuint (ip[8], ==, 3);
  g_assert_cmpmem (ip + 20, 8, first.data + ETH + 20, 8);
  g_assert_cmpuint (ip_checksum (ip, 28), ==, 0);
  for (guint i = 0; i < 154; i++)
    g_assert_cmpuint (ip[28 + i], ==, pattern (i));
  /* ... which the filter passes as it is. */
  memcpy (f.data, out, out_len);
  f.len = out_len;
  assert_verdict (&f, SBX_FRAME_PASS);
}

/* An overlap or a duplicate drops the datagram: its remaining fragments
 * start a new one, which never completes. */
static void
test_reasm_overlap (void)
{
  Frame f;
  setup ();
  const struct
  {
    guint offset, size;
    gboolean more;
  } cases[][3] = {
    /* a duplicate */
    { { 0, 800, TRUE }, { 0, 800, TRUE }, { 800, 100, FALSE } },
    /* a duplicate last fragment */
    { { 800, 100, FALSE }, { 800, 100, FALSE }, { 0, 800, TRUE } },
    /* a second last fragment, elsewhere */
    { { 800, 100, FALSE }, { 960, 100, FALSE }, { 0, 800, TRUE } },
    /* overlapping the start of another */
    { { 400, 400, TRUE }, { 0, 408, TRUE }, { 800, 100, FALSE } },
    /* overlapping the end of another */
    { { 0, 408, TRUE }, { 400, 400, TRUE }, { 800, 100, FALSE } },
    /* inside another */
    { { 0, 800, TRUE }, { 400, 8, TRUE }, { 800, 100, FALSE } },
    /* covering another */
    { { 400, 8, TRUE }, { 0, 800, TRUE }, { 800, 100, FALSE } },
    /* the last fragment's partial block, again */
    { { 800, 100, FALSE }, { 896, 8, TRUE }, { 0, 800, TRUE } },
    /* past the last fragment's end */
    { { 800, 100, FALSE }, { 904, 8, TRUE }, { 0, 800, TRUE } },
    /* a last fragment ending before data that came */
    { { 800, 104, TRUE }, { 400, 100, FALSE }, { 0, 400, TRUE } },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      guint id = 100 + c;
      frag (&f, id, cases[c][0].offset, cases[c][0].size, cases[c][0].more);
      assert_verdict (&f, SBX_FRAME_HELD);
      frag (&f, id, cases[c][1].offset, cases[c][1].size, cases[c][1].more);
      assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
      g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);
      /* The datagram is gone: the next fragment starts another. */
      frag (&f, id, cases[c][2].offset, cases[c][2].size, cases[c][2].more);
      assert_verdict (&f, SBX_FRAME_HELD);
      g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 1);
      setup ();
    }
}

static void
test_reasm_sizes (void)
{
  Frame f;
  setup ();
  /* Not the last, and not a multiple of 8 bytes. */
  frag (&f, 1, 0, 804, TRUE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  frag (&f, 1, 0, 7, TRUE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  /* ... which drops the datagram it belongs to. */
  frag (&f, 2, 800, 10, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 2, 400, 13, TRUE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 0);
  frag (&f, 2, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  /* Empty fragments. */
  frag (&f, 3, 0, 0, TRUE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  frag (&f, 3, 800, 0, FALSE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  /* Data past byte 65515, which makes more than 65535 bytes with the
   * shortest header. */
  frag (&f, 4, 8189 * 8, 16, FALSE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  frag (&f, 4, 8191 * 8, 8, TRUE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  frag (&f, 4, 8189 * 8, 3, FALSE); /* ends at 65515: fits */
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 40, 8189 * 8, 4, FALSE);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  /* Data that fits only with a 20-byte header: a first fragment with
   * options makes the datagram too long. */
  frag (&f, 5, 8189 * 8, 3, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 5, 8, 8189 * 8 - 8, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, gateway, UDP, 5, MF, 24, 0, 8);
  assert_verdict (&f, SBX_FRAME_BAD_FRAGMENT);
  /* Whole, but shorter than its transport header. */
  ipv4_to (&f, gateway, TCP, 6, MF, 20, 0, 8);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, gateway, TCP, 6, 1, 20, 8, 8);
  assert_verdict (&f, SBX_FRAME_BAD_LENGTH);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 2); /* 2 and 4 */
  ipv4_to (&f, gateway, TCP, 6, MF, 20, 0, 16);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, gateway, TCP, 6, 2, 20, 16, 4);
  assert_verdict (&f, SBX_FRAME_PASS);
}

/* Fragments of the same id from another source, to another destination,
 * or of another protocol are other datagrams. */
static void
test_reasm_keys (void)
{
  Frame f;
  static const guint8 other[4] = { 10, 0, 2, 3 };
  setup ();
  frag (&f, 1, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, other, UDP, 1, 100, 20, 800, 100);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, gateway, ICMP, 1, 100, 20, 800, 100);
  assert_verdict (&f, SBX_FRAME_HELD);
  ipv4_to (&f, gateway, UDP, 2, 100, 20, 800, 100);
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 1, 800, 100, FALSE);
  f.data[ETH + 15] = 101; /* another source */
  ipv4_resum (&f);
  assert_verdict (&f, SBX_FRAME_HELD);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 5);
  frag (&f, 1, 800, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_PASS);
  assert_whole (1, 900);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 4);
}

/* A datagram has 30 s from its first fragment, as with the kernel's
 * ipfrag_time. */
static void
test_reasm_timeout (void)
{
  Frame f;
  setup ();
  frag (&f, 1, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  now += SBX_FRAME_REASM_TIMEOUT_MS - 1;
  frag (&f, 1, 800, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_PASS);
  assert_whole (1, 900);

  frag (&f, 2, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  now += SBX_FRAME_REASM_TIMEOUT_MS / 2;
  frag (&f, 2, 800, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  now += SBX_FRAME_REASM_TIMEOUT_MS / 2;
  frag (&f, 2, 1600, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD); /* the first two went with the old one */
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 1);
  frag (&f, 2, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 2, 800, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_PASS);
  assert_whole (2, 1700);

  /* Expired ones leave, whichever datagram the next fragment is of. */
  frag (&f, 3, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  now += SBX_FRAME_REASM_TIMEOUT_MS;
  frag (&f, 4, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, 1);
}

/* At most SBX_FRAME_REASM_SLOTS datagrams at once: one more evicts the
 * oldest. */
static void
test_reasm_limit (void)
{
  Frame f;
  setup ();
  for (guint id = 1; id <= SBX_FRAME_REASM_SLOTS; id++)
    {
      frag (&f, id, 0, 800, TRUE);
      assert_verdict (&f, SBX_FRAME_HELD);
      now++;
    }
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, SBX_FRAME_REASM_SLOTS);
  frag (&f, 100, 0, 800, TRUE);
  assert_verdict (&f, SBX_FRAME_HELD);
  g_assert_cmpuint (sbx_frame_filter_pending (filter), ==, SBX_FRAME_REASM_SLOTS);
  /* id 1 was the oldest: its last fragment starts a datagram of its own,
   * which evicts id 2. */
  frag (&f, 1, 800, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD);
  frag (&f, 2, 800, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_HELD);
  for (guint id = 4; id <= SBX_FRAME_REASM_SLOTS; id++)
    {
      frag (&f, id, 800, 100, FALSE);
      assert_verdict (&f, SBX_FRAME_PASS);
      assert_whole (id, 900);
    }
  frag (&f, 100, 800, 100, FALSE);
  assert_verdict (&f, SBX_FRAME_PASS);
  assert_whole (100, 900);

  /* A storm of lone fragments leaves room for the next datagram. */
  for (guint id = 1000; id < 3000; id++)
    {
      frag (&f, id, 800, 100, FALSE);
      assert_verdict (&f, SBX_FRAME_HELD);
    }
  const guint in_order[] = { 0, 1 };
  feed (5000, 900, 800, in_order, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame/ethernet", test_ethernet);
  g_test_add_func ("/frame/arp", test_arp);
  g_test_add_func ("/frame/ipv4/good", test_ipv4_good);
  g_test_add_func ("/frame/ipv4/bad", test_ipv4_bad);
  g_test_add_func ("/frame/ipv6", test_ipv6);
  g_test_add_func ("/frame/reasm/orders", test_reasm_orders);
  g_test_add_func ("/frame/reasm/lone-last", test_reasm_lone_last);
  g_test_add_func ("/frame/reasm/header", test_reasm_header);
  g_test_add_func ("/frame/reasm/overlap", test_reasm_overlap);
  g_test_add_func ("/frame/reasm/sizes", test_reasm_sizes);
  g_test_add_func ("/frame/reasm/keys", test_reasm_keys);
  g_test_add_func ("/frame/reasm/timeout", test_reasm_timeout);
  g_test_add_func ("/frame/reasm/limit", test_reasm_limit);
  int r = g_test_run ();
  g_clear_pointer (&filter, sbx_frame_filter_free);
  return r;
}
