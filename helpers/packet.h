/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.h: a read view of a frame that passed frame.c, and the frames
 * sbx-net writes to the sandbox itself: a TCP reset, an ICMP or ICMPv6
 * "administratively prohibited", a UDP datagram, a TCP segment (the DNS
 * answers of egress.c and tcpdns.c). */
#pragma once

#include <glib.h>

#define SBX_PACKET_ETH_HLEN 14

/* TCP flags */
#define SBX_TCP_FIN 0x01
#define SBX_TCP_SYN 0x02
#define SBX_TCP_RST 0x04
#define SBX_TCP_PSH 0x08
#define SBX_TCP_ACK 0x10

/* The most a frame sbx-net builds may need: an Ethernet header, an IPv6
 * header and a whole TCP or UDP datagram of 64 KiB. */
#define SBX_PACKET_BUILD_MAX (14 + 40 + 65535)

typedef struct
{
  const guint8 *frame;
  size_t len;         /* of the frame, up to the end of the IP datagram */
  int family;         /* AF_INET, AF_INET6; 0: ARP */
  const guint8 *src;  /* IP addresses: 4 or 16 bytes */
  const guint8 *dst;  /* */
  const guint8 *ip;   /* the IP header */
  size_t ip_len;      /* the whole datagram */
  guint8 proto;       /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
  const guint8 *l4;   /* the transport header */
  size_t l4_len;      /* transport header and data */
  guint16 sport;      /* TCP, UDP */
  guint16 dport;      /* */
  guint8 tcp_flags;   /* */
  guint32 seq;        /* TCP */
  guint32 ack;        /* */
  guint16 window;     /* */
  guint16 mss;        /* TCP: the MSS option of a SYN, 0 if none */
  guint8 icmp_type;   /* ICMP, ICMPv6 */
  const guint8 *data; /* UDP, TCP: the payload */
  size_t data_len;    /* */
} SbxPacket;

/* Reads @frame, which frame.c passed.  FALSE for ARP and for what the
 * filter does not check and a reader needs: a TCP data offset that does
 * not fit, a UDP length that disagrees with the datagram. */
gboolean sbx_packet_parse (const guint8 *frame, size_t len, SbxPacket *p);

/* The IPv4 address an IPv6 address stands for: IPv4-mapped
 * (::ffff:a.b.c.d, which the host's kernel connects to over IPv4) and the
 * NAT64 prefix (64:ff9b::/96, which a NAT64 gateway does).  NULL for
 * another. */
const guint8 *sbx_packet_embedded_ipv4 (const guint8 *addr6);

/* Whether @addr of @family is multicast or broadcast (no ICMP error goes
 * back for those, RFC 1122 3.2.2). */
gboolean sbx_packet_is_group (int family, const guint8 *addr);

/* The frame that refuses the TCP segment @p (RFC 793's reset for a segment
 * to a closed port): into @out, returns its length. */
size_t sbx_packet_build_rst (const SbxPacket *p, guint8 *out);

/* ICMP destination unreachable, administratively prohibited (type 3 code
 * 13), or ICMPv6 destination unreachable, administratively prohibited
 * (type 1 code 1), quoting @p as far as RFC 1812 and RFC 4443 let it;
 * into @out (SBX_PACKET_BUILD_MAX), returns its length. */
size_t sbx_packet_build_unreachable (const SbxPacket *p, guint8 *out);

/* The two ends of a conversation with the sandbox, seen from sbx-net. */
typedef struct
{
  int family;
  guint8 mac_sandbox[6]; /* the frame's source */
  guint8 mac_ours[6];    /* the address the sandbox sent to */
  guint8 sandbox[16];    /* its IP address and port */
  guint16 sandbox_port;
  guint8 ours[16]; /* the address it reached (10.0.2.3, fd00::3) */
  guint16 our_port;
} SbxPeer;

/* The peer of @p (its source is the sandbox's). */
void sbx_packet_peer (const SbxPacket *p, SbxPeer *peer);

/* A UDP datagram from our end of @peer to the sandbox's; returns its
 * length, 0 when @len does not fit. */
size_t sbx_packet_build_udp (const SbxPeer *peer, const guint8 *data, size_t len, guint8 *out);

/* A TCP segment from our end of @peer: no options unless @mss (a SYN's). */
size_t sbx_packet_build_tcp (const SbxPeer *peer, guint32 seq, guint32 ack, guint8 flags,
                             guint16 window, guint16 mss, const guint8 *data, size_t len,
                             guint8 *out);
