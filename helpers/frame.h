/* SPDX-License-Identifier: GPL-2.0-or-later */
/* frame.h: which frames written on the sandbox's tap0 reach libslirp.
 *
 * Only frames the sandbox's own kernel could have sent: Ethernet carrying
 * ARP (Ethernet/IPv4), IPv4 or IPv6 with TCP, UDP or ICMP, every length
 * and header field consistent.  IPv4 fragments are reassembled here and
 * handed on as one whole datagram, so that libslirp's own reassembly never
 * runs (docs/decisions.md says why). */
#pragma once

#include <glib.h>

/* Datagrams being reassembled at once; a fragment of one more evicts the
 * oldest. */
#define SBX_FRAME_REASM_SLOTS 8
/* How long the fragments of a datagram may take, from the first to come
 * (the kernel's net.ipv4.ipfrag_time). */
#define SBX_FRAME_REASM_TIMEOUT_MS (30 * 1000)
/* The largest frame sbx_frame_filter_input() hands on: an Ethernet header
 * and a datagram of the largest IPv4 total length. */
#define SBX_FRAME_MAX (14 + 65535)

typedef enum
{
  SBX_FRAME_PASS,         /* hand the frame in *out to libslirp */
  SBX_FRAME_HELD,         /* an IPv4 fragment, kept until its datagram is whole */
  SBX_FRAME_BAD_ETHERNET, /* shorter than an Ethernet header */
  SBX_FRAME_BAD_TYPE,     /* an Ethernet type other than IPv4, IPv6, ARP */
  SBX_FRAME_BAD_ARP,      /* not an Ethernet/IPv4 request or reply, or short */
  SBX_FRAME_BAD_VERSION,  /* an IP version that is not the Ethernet type's */
  SBX_FRAME_BAD_LENGTH,   /* a header or length field that does not fit the frame */
  SBX_FRAME_BAD_CHECKSUM, /* IPv4 header checksum */
  SBX_FRAME_BAD_FLAGS,    /* IPv4: reserved flag, or both MF and DF */
  SBX_FRAME_BAD_PROTOCOL, /* not TCP, UDP, ICMP(v6); IPv6 extension headers */
  SBX_FRAME_BAD_ADDRESS,  /* to the host's loopback or "this network" */
  SBX_FRAME_BAD_FRAGMENT, /* a fragment that spoils its datagram, which is dropped */
} SbxFrameVerdict;

typedef struct SbxFrameFilter SbxFrameFilter;

SbxFrameFilter *sbx_frame_filter_new (void);
void sbx_frame_filter_free (SbxFrameFilter *filter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbxFrameFilter, sbx_frame_filter_free)

/* Judges one frame from tap0, @now_ms a monotonic clock.  On
 * SBX_FRAME_PASS, *out and *out_len are what to hand to slirp_input():
 * @frame trimmed to its IP datagram, or a reassembled datagram in
 * @filter's own memory, valid until the next call. */
SbxFrameVerdict sbx_frame_filter_input (SbxFrameFilter *filter, const guint8 *frame, size_t len,
                                        gint64 now_ms, const guint8 **out, size_t *out_len);

/* Datagrams in reassembly (for tests). */
guint sbx_frame_filter_pending (const SbxFrameFilter *filter);

/* A name for @verdict, for messages. */
const char *sbx_frame_verdict_name (SbxFrameVerdict verdict);
