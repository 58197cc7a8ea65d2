/* SPDX-License-Identifier: GPL-2.0-or-later */
/* frame.c: the filter between the sandbox's tap0 and libslirp, with the
 * IPv4 reassembly.
 *
 * libslirp parses whatever it is given, and a sandbox whose root holds
 * CAP_NET_RAW writes whatever it likes on tap0.  libslirp 4.7.0 (Debian 12)
 * dies of a single IPv4 fragment: the last one of a datagram arriving
 * first (tests/fuzz/corpus/lone-last-fragment).  So nothing reaches it that
 * the sandbox's kernel could not have sent, and fragments never do: they
 * are reassembled here.  Every check is a few compares on the headers; a
 * frame that passes is handed on in place, without a copy or an
 * allocation.  Only fragments are copied, into buffers allocated once. */
#include "config.h"

#include "bytes.h"
#include "frame.h"

#include <string.h>

#define ETH_HLEN      14
#define ETH_P_IPV4    0x0800
#define ETH_P_ARP     0x0806
#define ETH_P_IPV6    0x86dd
#define ARP_LEN       28 /* Ethernet/IPv4 ARP */
#define IPV4_HLEN     20
#define IPV4_MAX_HLEN 60
#define IPV4_MAX_LEN  65535
#define IPV4_RESERVED 0x8000
#define IPV4_DF       0x4000
#define IPV4_MF       0x2000
#define IPV4_OFFSET   0x1fff
#define IPV6_HLEN     40
#define PROTO_ICMP    1
#define PROTO_TCP     6
#define PROTO_UDP     17
#define PROTO_ICMPV6  58
#define BLOCK         8    /* fragment offsets count in 8 bytes */
#define BLOCKS        8192 /* (65535 - 20) / 8, rounded up */
/* A fragment's data goes to its offset after this much room, where the
 * first fragment's Ethernet and IP headers are put in front at the end. */
#define REASM_DATA     (ETH_HLEN + IPV4_MAX_HLEN)
#define REASM_BUF_SIZE (REASM_DATA + IPV4_MAX_LEN - IPV4_HLEN)

typedef struct
{
  gboolean used;
  gint64 started_ms;
  /* The datagram's key, as the kernel's (RFC 791): addresses, id, protocol. */
  guint8 addrs[8];
  guint8 id[2];
  guint8 proto;
  guint8 eth[ETH_HLEN];         /* of the first fragment */
  guint8 header[IPV4_MAX_HLEN]; /* the first fragment's IP header, */
  guint header_len;             /* 0 until it came */
  guint end;                    /* the final fragment's end, 0 until it came */
  guint highest;                /* the highest end of a fragment so far */
  guint received;               /* data bytes so far (never overlapping) */
  guint64 blocks[BLOCKS / 64];  /* the 8-byte blocks received */
  guint8 *buf;                  /* REASM_BUF_SIZE, allocated at first use */
} Reasm;

struct SbxFrameFilter
{
  Reasm slots[SBX_FRAME_REASM_SLOTS];
};

SbxFrameFilter *
sbx_frame_filter_new (void)
{
  return g_new0 (SbxFrameFilter, 1);
}

void
sbx_frame_filter_free (SbxFrameFilter *filter)
{
  if (filter == NULL)
    return;
  for (guint i = 0; i < SBX_FRAME_REASM_SLOTS; i++)
    g_free (filter->slots[i].buf);
  g_free (filter);
}

guint
sbx_frame_filter_pending (const SbxFrameFilter *filter)
{
  guint n = 0;
  for (guint i = 0; i < SBX_FRAME_REASM_SLOTS; i++)
    n += filter->slots[i].used;
  return n;
}

const char *
sbx_frame_verdict_name (SbxFrameVerdict verdict)
{
  switch (verdict)
    {
    case SBX_FRAME_PASS:
      return "pass";
    case SBX_FRAME_HELD:
      return "held";
    case SBX_FRAME_BAD_ETHERNET:
      return "bad ethernet";
    case SBX_FRAME_BAD_TYPE:
      return "bad type";
    case SBX_FRAME_BAD_ARP:
      return "bad arp";
    case SBX_FRAME_BAD_VERSION:
      return "bad version";
    case SBX_FRAME_BAD_LENGTH:
      return "bad length";
    case SBX_FRAME_BAD_CHECKSUM:
      return "bad checksum";
    case SBX_FRAME_BAD_FLAGS:
      return "bad flags";
    case SBX_FRAME_BAD_PROTOCOL:
      return "bad protocol";
    case SBX_FRAME_BAD_ADDRESS:
      return "bad address";
    case SBX_FRAME_BAD_FRAGMENT:
      return "bad fragment";
    default:
      return "?";
    }
}

/* The Internet checksum's folded one's complement sum of @len bytes
 * (RFC 1071): 0xffff over a header whose checksum is right. */
static guint
sum16 (const guint8 *p, size_t len)
{
  guint32 sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += sbx_get16 (p + i);
  if (len & 1)
    sum += (guint)p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

/* The shortest transport header of @proto: a datagram shorter than that
 * is not one a kernel sends. */
static guint
min_transport (guint proto)
{
  return proto == PROTO_TCP ? 20 : 8;
}

/* Whether @addr (IPv4) is this host's own: loopback, or 0.0.0.0/8, which
 * reaches whatever listens on any address.  libslirp connects to the
 * destination a packet names, so a raw frame to 127.0.0.1 would reach the
 * host's loopback services, which only --allow-host-loopback grants (and
 * then through 10.0.2.2, which libslirp maps itself). */
static gboolean
ipv4_is_host_local (const guint8 *addr)
{
  return addr[0] == 127 || addr[0] == 0;
}

/* The same for IPv6: ::1, ::, and IPv4-mapped ones of the above. */
static gboolean
ipv6_is_host_local (const guint8 *addr)
{
  static const guint8 zero[15] = { 0 };
  static const guint8 v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
  if (memcmp (addr, zero, 15) == 0 && addr[15] <= 1)
    return TRUE;
  return memcmp (addr, v4_mapped, 12) == 0 && ipv4_is_host_local (addr + 12);
}

static SbxFrameVerdict
check_arp (const guint8 *frame, size_t len, size_t *out_len)
{
  const guint8 *arp = frame + ETH_HLEN;
  /* Hardware Ethernet (1), protocol IPv4, their lengths 6 and 4, a request
   * (1) or a reply (2): what the kernel's ARP sends, exactly that long
   * (padding, if any, is cut off). */
  if (len < ETH_HLEN + ARP_LEN || sbx_get16 (arp) != 1 || sbx_get16 (arp + 2) != ETH_P_IPV4
      || arp[4] != 6 || arp[5] != 4 || (sbx_get16 (arp + 6) != 1 && sbx_get16 (arp + 6) != 2))
    return SBX_FRAME_BAD_ARP;
  *out_len = ETH_HLEN + ARP_LEN;
  return SBX_FRAME_PASS;
}

static SbxFrameVerdict
check_ipv6 (const guint8 *frame, size_t len, size_t *out_len)
{
  const guint8 *ip = frame + ETH_HLEN;
  if (len < ETH_HLEN + IPV6_HLEN)
    return SBX_FRAME_BAD_LENGTH;
  if (ip[0] >> 4 != 6)
    return SBX_FRAME_BAD_VERSION;
  size_t payload = sbx_get16 (ip + 4);
  if (ETH_HLEN + IPV6_HLEN + payload > len)
    return SBX_FRAME_BAD_LENGTH;
  /* No extension header, so no fragment either: libslirp has no IPv6
   * reassembly and skips no extension header (a hop-by-hop one, as the
   * kernel's MLD reports have, it drops too), and the kernel fragments
   * nothing but UDP larger than the MTU, which a sandbox gets told. */
  guint next = ip[6];
  if (next != PROTO_TCP && next != PROTO_UDP && next != PROTO_ICMPV6)
    return SBX_FRAME_BAD_PROTOCOL;
  if (payload < min_transport (next))
    return SBX_FRAME_BAD_LENGTH;
  if (ipv6_is_host_local (ip + 24))
    return SBX_FRAME_BAD_ADDRESS;
  *out_len = ETH_HLEN + IPV6_HLEN + payload;
  return SBX_FRAME_PASS;
}

/* ---- IPv4 reassembly ------------------------------------------------------ */

static void
reasm_release (Reasm *r)
{
  r->used = FALSE;
}

/* Whether any of the blocks [first, last) has come already; marks them. */
static gboolean
reasm_mark (Reasm *r, guint first, guint last)
{
  for (guint b = first; b < last; b++)
    if (r->blocks[b / 64] & (G_GUINT64_CONSTANT (1) << (b % 64)))
      return FALSE;
  for (guint b = first; b < last; b++)
    r->blocks[b / 64] |= G_GUINT64_CONSTANT (1) << (b % 64);
  return TRUE;
}

/* The slot of @ip's datagram: the one in progress, or a new one (the
 * oldest slot when all are taken).  Slots older than the timeout are
 * released first. */
static Reasm *
reasm_find (SbxFrameFilter *f, const guint8 *ip, gint64 now_ms)
{
  Reasm *free_slot = NULL, *oldest = NULL;
  for (guint i = 0; i < SBX_FRAME_REASM_SLOTS; i++)
    {
      Reasm *r = &f->slots[i];
      if (r->used && now_ms - r->started_ms >= SBX_FRAME_REASM_TIMEOUT_MS)
        reasm_release (r);
      if (!r->used)
        {
          free_slot = free_slot != NULL ? free_slot : r;
          continue;
        }
      if (memcmp (r->addrs, ip + 12, 8) == 0 && memcmp (r->id, ip + 4, 2) == 0 && r->proto == ip[9])
        return r;
      if (oldest == NULL || r->started_ms < oldest->started_ms)
        oldest = r;
    }
  Reasm *r = free_slot != NULL ? free_slot : oldest;
  r->used = TRUE;
  r->started_ms = now_ms;
  memcpy (r->addrs, ip + 12, 8);
  memcpy (r->id, ip + 4, 2);
  r->proto = ip[9];
  r->header_len = r->end = r->highest = r->received = 0;
  memset (r->blocks, 0, sizeof r->blocks);
  if (r->buf == NULL)
    r->buf = g_malloc (REASM_BUF_SIZE);
  return r;
}

/* One fragment (@ip, its header @hlen and total length @total long, checked
 * already); on SBX_FRAME_PASS, the whole datagram in *out.  As the kernel
 * does since 4.19 (and RFC 5722 for IPv6), an overlap or a duplicate drops
 * the datagram: no rule decides which copy of a byte wins. */
static SbxFrameVerdict
reasm_input (SbxFrameFilter *f, const guint8 *frame, guint hlen, guint total, gint64 now_ms,
             const guint8 **out, size_t *out_len)
{
  const guint8 *ip = frame + ETH_HLEN;
  guint flags = sbx_get16 (ip + 6);
  gboolean more = (flags & IPV4_MF) != 0;
  guint offset = (flags & IPV4_OFFSET) * BLOCK;
  guint size = total - hlen;
  guint end = offset + size;
  Reasm *r = reasm_find (f, ip, now_ms);

  /* Every fragment carries data, all but the last a multiple of 8 bytes;
   * none reaches past the largest datagram, nor past the last fragment,
   * and there is one last fragment, not ending before another's data. */
  if (size == 0 || (more && size % BLOCK != 0) || end > IPV4_MAX_LEN - IPV4_HLEN
      || (r->end != 0 && (!more || end > r->end)) || (!more && end < r->highest)
      || !reasm_mark (r, offset / BLOCK, (end + BLOCK - 1) / BLOCK))
    {
      reasm_release (r);
      return SBX_FRAME_BAD_FRAGMENT;
    }
  memcpy (r->buf + REASM_DATA + offset, ip + hlen, size);
  r->received += size;
  r->highest = MAX (r->highest, end);
  if (!more)
    r->end = end;
  if (offset == 0)
    {
      memcpy (r->eth, frame, ETH_HLEN);
      memcpy (r->header, ip, hlen);
      r->header_len = hlen;
    }
  if (r->end == 0 || r->received != r->end)
    return SBX_FRAME_HELD;

  /* Whole (no overlap, so every byte up to the end came, the first
   * fragment too): its header, with the datagram's length, no fragment
   * fields, and its checksum again, in front of the data. */
  reasm_release (r);
  hlen = r->header_len;
  if (hlen + r->end > IPV4_MAX_LEN)
    return SBX_FRAME_BAD_FRAGMENT;
  if (r->end < min_transport (r->proto))
    return SBX_FRAME_BAD_LENGTH;
  guint8 *dgram = r->buf + REASM_DATA - hlen;
  memcpy (dgram, r->header, hlen);
  sbx_put16 (dgram + 2, hlen + r->end);
  sbx_put16 (dgram + 6, 0);
  sbx_put16 (dgram + 10, 0);
  sbx_put16 (dgram + 10, ~sum16 (dgram, hlen) & 0xffff);
  memcpy (dgram - ETH_HLEN, r->eth, ETH_HLEN);
  *out = dgram - ETH_HLEN;
  *out_len = ETH_HLEN + hlen + r->end;
  return SBX_FRAME_PASS;
}

static SbxFrameVerdict
check_ipv4 (SbxFrameFilter *f, const guint8 *frame, size_t len, gint64 now_ms, const guint8 **out,
            size_t *out_len)
{
  const guint8 *ip = frame + ETH_HLEN;
  if (len < ETH_HLEN + IPV4_HLEN)
    return SBX_FRAME_BAD_LENGTH;
  if (ip[0] >> 4 != 4)
    return SBX_FRAME_BAD_VERSION;
  guint hlen = (ip[0] & 0xf) * 4;
  guint total = sbx_get16 (ip + 2);
  if (hlen < IPV4_HLEN || total < hlen || ETH_HLEN + total > len)
    return SBX_FRAME_BAD_LENGTH;
  if (sum16 (ip, hlen) != 0xffff)
    return SBX_FRAME_BAD_CHECKSUM;
  guint flags = sbx_get16 (ip + 6);
  if ((flags & IPV4_RESERVED) || (flags & (IPV4_MF | IPV4_DF)) == (IPV4_MF | IPV4_DF))
    return SBX_FRAME_BAD_FLAGS;
  guint proto = ip[9];
  if (proto != PROTO_TCP && proto != PROTO_UDP && proto != PROTO_ICMP)
    return SBX_FRAME_BAD_PROTOCOL;
  /* Checked on every fragment too: the address is part of the key, so a
   * datagram put together here has the address its fragments had. */
  if (ipv4_is_host_local (ip + 16))
    return SBX_FRAME_BAD_ADDRESS;
  if (flags & (IPV4_MF | IPV4_OFFSET))
    return reasm_input (f, frame, hlen, total, now_ms, out, out_len);
  if (total - hlen < min_transport (proto))
    return SBX_FRAME_BAD_LENGTH;
  *out_len = ETH_HLEN + total;
  return SBX_FRAME_PASS;
}

SbxFrameVerdict
sbx_frame_filter_input (SbxFrameFilter *filter, const guint8 *frame, size_t len, gint64 now_ms,
                        const guint8 **out, size_t *out_len)
{
  *out = frame;
  *out_len = 0;
  if (len < ETH_HLEN)
    return SBX_FRAME_BAD_ETHERNET;
  switch (sbx_get16 (frame + 12))
    {
    case ETH_P_IPV4:
      return check_ipv4 (filter, frame, len, now_ms, out, out_len);
    case ETH_P_IPV6:
      return check_ipv6 (frame, len, out_len);
    case ETH_P_ARP:
      return check_arp (frame, len, out_len);
    default:
      /* VLAN tags, NC-SI (which libslirp 4.7 answers), everything else:
       * nothing a sandbox's network needs. */
      return SBX_FRAME_BAD_TYPE;
    }
}
