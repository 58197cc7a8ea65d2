/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.c: reading the frames frame.c passed, and building the few that
 * sbx-net answers with itself (see packet.h). */
#include "config.h"

#include "bytes.h"
#include "packet.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define IPV4_HLEN  20
#define IPV6_HLEN  40
#define TCP_HLEN   20
#define UDP_HLEN   8
#define ICMP_HLEN  8
/* What an ICMP error quotes at most: the datagram it answers may fill an
 * error of 576 bytes for IPv4 (RFC 1812 4.3.2.3), of the minimum MTU for
 * IPv6 (RFC 4443 2.4). */
#define QUOTE_MAX4 (576 - IPV4_HLEN - ICMP_HLEN)
#define QUOTE_MAX6 (1280 - IPV6_HLEN - ICMP_HLEN)

/* RFC 1071: the one's complement sum of @len bytes, added to @sum. */
static guint32
sum16 (guint32 sum, const guint8 *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += sbx_get16 (p + i);
  if (len & 1)
    sum += (guint)p[len - 1] << 8;
  return sum;
}

static guint
fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/* The TCP, UDP or ICMPv6 checksum of @l4 (@len bytes) with the pseudo
 * header of @family's addresses. */
static guint
l4_checksum (int family, const guint8 *src, const guint8 *dst, guint8 proto, const guint8 *l4,
             size_t len)
{
  guint alen = family == AF_INET ? 4 : 16;
  guint32 sum = sum16 (0, src, alen);
  sum = sum16 (sum, dst, alen);
  sum += proto;
  sum += (guint32)(len & 0xffff) + (guint32)(len >> 16);
  return fold (sum16 (sum, l4, len));
}

gboolean
sbx_packet_parse (const guint8 *frame, size_t len, SbxPacket *p)
{
  memset (p, 0, sizeof *p);
  p->frame = frame;
  p->len = len;
  if (len < SBX_PACKET_ETH_HLEN)
    return FALSE;
  const guint8 *ip = frame + SBX_PACKET_ETH_HLEN;
  size_t hlen;
  switch (sbx_get16 (frame + 12))
    {
    case ETH_P_IPV4:
      if (len < SBX_PACKET_ETH_HLEN + IPV4_HLEN)
        return FALSE;
      p->family = AF_INET;
      hlen = (ip[0] & 0xf) * 4u;
      p->ip_len = sbx_get16 (ip + 2);
      p->proto = ip[9];
      p->src = ip + 12;
      p->dst = ip + 16;
      break;
    case ETH_P_IPV6:
      if (len < SBX_PACKET_ETH_HLEN + IPV6_HLEN)
        return FALSE;
      p->family = AF_INET6;
      hlen = IPV6_HLEN;
      p->ip_len = IPV6_HLEN + sbx_get16 (ip + 4);
      p->proto = ip[6];
      p->src = ip + 8;
      p->dst = ip + 24;
      break;
    default:
      return FALSE;
    }
  /* frame.c checked these; a reader checks again what it relies on. */
  if (hlen < IPV4_HLEN || p->ip_len < hlen || SBX_PACKET_ETH_HLEN + p->ip_len > len)
    return FALSE;
  p->ip = ip;
  p->l4 = ip + hlen;
  p->l4_len = p->ip_len - hlen;
  const guint8 *l4 = p->l4;
  switch (p->proto)
    {
    case IPPROTO_TCP:
      {
        if (p->l4_len < TCP_HLEN)
          return FALSE;
        size_t doff = (l4[12] >> 4) * 4u;
        if (doff < TCP_HLEN || doff > p->l4_len)
          return FALSE;
        p->sport = (guint16)sbx_get16 (l4);
        p->dport = (guint16)sbx_get16 (l4 + 2);
        p->seq = sbx_get32 (l4 + 4);
        p->ack = sbx_get32 (l4 + 8);
        p->tcp_flags = l4[13];
        p->window = (guint16)sbx_get16 (l4 + 14);
        p->data = l4 + doff;
        p->data_len = p->l4_len - doff;
        /* The options, for a SYN's MSS: kind 0 ends them, 1 pads, every
         * other has a length byte of at least 2. */
        for (size_t i = TCP_HLEN; i < doff && l4[i] != 0;)
          {
            if (l4[i] == 1)
              {
                i++;
                continue;
              }
            if (i + 1 >= doff || l4[i + 1] < 2 || i + l4[i + 1] > doff)
              break;
            if (l4[i] == 2 && l4[i + 1] == 4)
              p->mss = (guint16)sbx_get16 (l4 + i + 2);
            i += l4[i + 1];
          }
        break;
      }
    case IPPROTO_UDP:
      if (p->l4_len < UDP_HLEN || sbx_get16 (l4 + 4) < UDP_HLEN || sbx_get16 (l4 + 4) > p->l4_len)
        return FALSE;
      p->sport = (guint16)sbx_get16 (l4);
      p->dport = (guint16)sbx_get16 (l4 + 2);
      p->data = l4 + UDP_HLEN;
      p->data_len = sbx_get16 (l4 + 4) - UDP_HLEN;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (p->l4_len < 4)
        return FALSE;
      p->icmp_type = l4[0];
      break;
    default:
      return FALSE;
    }
  return TRUE;
}

const guint8 *
sbx_packet_embedded_ipv4 (const guint8 *a)
{
  static const guint8 mapped[12] = { [10] = 0xff, [11] = 0xff };
  static const guint8 nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
  if (memcmp (a, mapped, 12) == 0 || memcmp (a, nat64, 12) == 0)
    return a + 12;
  return NULL;
}

gboolean
sbx_packet_is_group (int family, const guint8 *a)
{
  if (family == AF_INET)
    return a[0] >= 224 || (a[0] == 10 && a[1] == 0 && a[2] == 2 && a[3] == 255);
  return a[0] == 0xff;
}

void
sbx_packet_peer (const SbxPacket *p, SbxPeer *peer)
{
  guint alen = p->family == AF_INET ? 4 : 16;
  memset (peer, 0, sizeof *peer);
  peer->family = p->family;
  memcpy (peer->mac_sandbox, p->frame + 6, 6);
  memcpy (peer->mac_ours, p->frame, 6);
  memcpy (peer->sandbox, p->src, alen);
  memcpy (peer->ours, p->dst, alen);
  peer->sandbox_port = p->sport;
  peer->our_port = p->dport;
}

/* Ethernet and IP headers from our end of @peer, for @l4_len bytes of
 * @proto; returns where the transport header goes. */
static guint8 *
put_headers (const SbxPeer *peer, guint8 proto, size_t l4_len, guint8 *out)
{
  memcpy (out, peer->mac_sandbox, 6);
  memcpy (out + 6, peer->mac_ours, 6);
  guint8 *ip = out + SBX_PACKET_ETH_HLEN;
  if (peer->family == AF_INET)
    {
      sbx_put16 (out + 12, ETH_P_IPV4);
      memset (ip, 0, IPV4_HLEN);
      ip[0] = 0x45;
      sbx_put16 (ip + 2, (guint)(IPV4_HLEN + l4_len));
      ip[8] = 64;
      ip[9] = proto;
      memcpy (ip + 12, peer->ours, 4);
      memcpy (ip + 16, peer->sandbox, 4);
      sbx_put16 (ip + 10, fold (sum16 (0, ip, IPV4_HLEN)));
      return ip + IPV4_HLEN;
    }
  sbx_put16 (out + 12, ETH_P_IPV6);
  memset (ip, 0, IPV6_HLEN);
  ip[0] = 0x60;
  sbx_put16 (ip + 4, (guint)l4_len);
  ip[6] = proto;
  ip[7] = 64;
  memcpy (ip + 8, peer->ours, 16);
  memcpy (ip + 24, peer->sandbox, 16);
  return ip + IPV6_HLEN;
}

static size_t
headers_len (int family)
{
  return SBX_PACKET_ETH_HLEN + (family == AF_INET ? IPV4_HLEN : IPV6_HLEN);
}

size_t
sbx_packet_build_udp (const SbxPeer *peer, const guint8 *data, size_t len, guint8 *out)
{
  if (len > 65535 - UDP_HLEN - (peer->family == AF_INET ? IPV4_HLEN : 0))
    return 0;
  guint8 *udp = put_headers (peer, IPPROTO_UDP, UDP_HLEN + len, out);
  sbx_put16 (udp, peer->our_port);
  sbx_put16 (udp + 2, peer->sandbox_port);
  sbx_put16 (udp + 4, (guint)(UDP_HLEN + len));
  sbx_put16 (udp + 6, 0);
  memmove (udp + UDP_HLEN, data, len);
  guint sum
      = l4_checksum (peer->family, peer->ours, peer->sandbox, IPPROTO_UDP, udp, UDP_HLEN + len);
  sbx_put16 (udp + 6, sum == 0 ? 0xffff : sum);
  return headers_len (peer->family) + UDP_HLEN + len;
}

size_t
sbx_packet_build_tcp (const SbxPeer *peer, guint32 seq, guint32 ack, guint8 flags, guint16 window,
                      guint16 mss, const guint8 *data, size_t len, guint8 *out)
{
  size_t hlen = TCP_HLEN + (mss != 0 ? 4 : 0);
  if (len > 65535 - hlen - (peer->family == AF_INET ? IPV4_HLEN : 0))
    return 0;
  guint8 *tcp = put_headers (peer, IPPROTO_TCP, hlen + len, out);
  sbx_put16 (tcp, peer->our_port);
  sbx_put16 (tcp + 2, peer->sandbox_port);
  sbx_put32 (tcp + 4, seq);
  sbx_put32 (tcp + 8, ack);
  tcp[12] = (guint8)((hlen / 4) << 4);
  tcp[13] = flags;
  sbx_put16 (tcp + 14, window);
  sbx_put16 (tcp + 16, 0);
  sbx_put16 (tcp + 18, 0);
  if (mss != 0)
    {
      tcp[20] = 2;
      tcp[21] = 4;
      sbx_put16 (tcp + 22, mss);
    }
  if (len > 0)
    memmove (tcp + hlen, data, len);
  sbx_put16 (tcp + 16,
             l4_checksum (peer->family, peer->ours, peer->sandbox, IPPROTO_TCP, tcp, hlen + len));
  return headers_len (peer->family) + hlen + len;
}

size_t
sbx_packet_build_rst (const SbxPacket *p, guint8 *out)
{
  SbxPeer peer;
  sbx_packet_peer (p, &peer);
  if (p->tcp_flags & SBX_TCP_ACK)
    return sbx_packet_build_tcp (&peer, p->ack, 0, SBX_TCP_RST, 0, 0, NULL, 0, out);
  /* SYN and FIN each take a sequence number. */
  guint32 ack = p->seq + (guint32)p->data_len + ((p->tcp_flags & SBX_TCP_SYN) ? 1 : 0)
                + ((p->tcp_flags & SBX_TCP_FIN) ? 1 : 0);
  return sbx_packet_build_tcp (&peer, 0, ack, SBX_TCP_RST | SBX_TCP_ACK, 0, 0, NULL, 0, out);
}

size_t
sbx_packet_build_unreachable (const SbxPacket *p, guint8 *out)
{
  SbxPeer peer;
  sbx_packet_peer (p, &peer);
  size_t quote = MIN (p->ip_len, p->family == AF_INET ? QUOTE_MAX4 : QUOTE_MAX6);
  guint8 proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  /* @p may lie in @out's memory no more than in the frame read from tap0;
   * the quote is copied before the headers are written over anything. */
  guint8 *icmp = out + headers_len (p->family);
  memmove (icmp + ICMP_HLEN, p->ip, quote);
  put_headers (&peer, proto, ICMP_HLEN + quote, out);
  memset (icmp, 0, ICMP_HLEN);
  if (p->family == AF_INET)
    {
      icmp[0] = 3;  /* destination unreachable */
      icmp[1] = 13; /* communication administratively prohibited */
      sbx_put16 (icmp + 2, fold (sum16 (0, icmp, ICMP_HLEN + quote)));
    }
  else
    {
      icmp[0] = 1; /* destination unreachable */
      icmp[1] = 1; /* communication with destination administratively prohibited */
      sbx_put16 (icmp + 2, l4_checksum (AF_INET6, peer.ours, peer.sandbox, IPPROTO_ICMPV6, icmp,
                                        ICMP_HLEN + quote));
    }
  return headers_len (p->family) + ICMP_HLEN + quote;
}
