#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# make-corpus.py DIR: writes the seeds of tests/fuzz/corpus (but the crash
# reproducer lone-last-fragment, which was recorded from the storm of
# tests/helpers/frag-storm.py): one file per kind of traffic, in the
# harness's format (records of a 2-byte big-endian length and a frame; a
# length of 0 advances the clock by 10 s).
import os
import socket
import struct
import sys

MACS = bytes.fromhex("525500000202") + bytes.fromhex("02000000ab01")
GUEST, GATEWAY = socket.inet_aton("10.0.2.100"), socket.inet_aton("10.0.2.2")
GUEST6 = socket.inet_pton(socket.AF_INET6, "fd00::100")
GATEWAY6 = socket.inet_pton(socket.AF_INET6, "fd00::2")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, ident=1, frag=0, dst=GATEWAY):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, GUEST, dst)
    return MACS + b"\x08\x00" + h[:10] + struct.pack("!H", checksum(h)) + h[12:] + payload


def ipv6(next_header, payload, dst=GATEWAY6):
    h = struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, GUEST6, dst)
    return MACS + b"\x86\xdd" + h + payload


def udp(dport, data):
    return struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data


def tcp_syn(dport):
    return struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)


def fragments(ident, datagram, piece, order):
    """IPv4 fragments of a UDP datagram, in @order (indexes)."""
    out = []
    for i in order:
        off = i * piece
        chunk = datagram[off:off + piece]
        more = 0x2000 if off + piece < len(datagram) else 0
        out.append(ipv4(17, chunk, ident, more | off // 8))
    return out


def record(frames):
    return b"".join(struct.pack("!H", len(f)) + f for f in frames)


TICK = b""  # a record of length 0: 10 s later
big = udp(53, bytes(range(256)) * 12)
arp = MACS + b"\x08\x06" + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MACS[6:], GUEST,
                                       bytes(6), GATEWAY)
seeds = {
    "udp-ipv4": [ipv4(17, udp(53, b"\x12\x34\x01\x00\x00\x01" + bytes(6) + b"\x03sbx\x00\x00\x01\x00\x01"))],
    "tcp-syn-ipv4": [ipv4(6, tcp_syn(80))],
    "icmp-echo": [ipv4(1, struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping" * 8)],
    "arp-request": [arp],
    "udp-ipv6": [ipv6(17, udp(53, b"query"))],
    "tcp-syn-ipv6": [ipv6(6, tcp_syn(80))],
    "icmpv6-echo": [ipv6(58, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping")],
    "fragments-in-order": fragments(7, big, 1024, [0, 1, 2]),
    "fragments-reverse": fragments(8, big, 1024, [2, 1, 0]),
    "fragments-overlap": fragments(9, big, 1024, [0, 1]) + [ipv4(17, big[1016:2048], 9, 0x2000 | 127)]
    + fragments(9, big, 1024, [2]),
    "fragments-timeout": fragments(10, big, 1024, [0, 1]) + [TICK, TICK, TICK] + fragments(10, big, 1024, [2]),
    "fragments-interleaved": [f for pair in zip(fragments(11, big, 512, range(7)),
                                                fragments(12, big, 512, reversed(range(7)))) for f in pair],
}
# The egress policy of the harness (fuzz-frame.c): DNS to 10.0.2.3 over UDP
# and TCP, answers of the resolver (records of length 0x8000 | N), flows
# it allows and denies.
DNS = socket.inet_aton("10.0.2.3")


def dns_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def query(name, qtype=1, ident=0x1234):
    return struct.pack("!6H", ident, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!2H", qtype, 1)


def answer(name, records, qtype=1):
    """records: (owner, type, data) with owner None for the question's name."""
    out = struct.pack("!6H", 0x5B5B, 0x8180, 1, len(records), 0, 0) + dns_name(name) + struct.pack("!2H", qtype, 1)
    for owner, rtype, data in records:
        out += (b"\xc0\x0c" if owner is None else dns_name(owner)) + struct.pack("!2HIH", rtype, 1, 60, len(data)) + data
    return out


def answer_record(msg):
    return struct.pack("!H", 0x8000 | len(msg)) + msg


def tcp(sport, dport, seq, ack, flags, data=b"", dst=GATEWAY):
    return ipv4(6, struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data, dst=dst)


def to(dst, proto, payload):
    return ipv4(proto, payload, dst=socket.inet_aton(dst))


def framed(name, qtype=1):
    q = query(name, qtype)
    return struct.pack("!H", len(q)) + q


pinned = socket.inet_aton("203.0.113.7")
stream = framed("other.example") + framed("good.example", 28)  # (sbx-net's ISN is 0 when fuzzing)
egress = {
    "dns-udp-denied": record([ipv4(17, udp(53, query("other.example")), dst=DNS)]),
    "dns-udp-allowed": record([ipv4(17, udp(53, query("good.example")), dst=DNS)])
    + answer_record(answer("good.example", [(None, 1, pinned)]))
    + record([ipv4(6, tcp_syn(80), dst=pinned), TICK]),
    "dns-cname-denied": record([ipv4(17, udp(53, query("x.cdn.example")), dst=DNS)])
    + answer_record(answer("x.cdn.example", [(None, 5, dns_name("bad.cdn.example")),
                                             ("bad.cdn.example", 1, pinned)])),
    "dns-tcp": record([tcp(45000, 53, 100, 0, 0x02, dst=DNS), tcp(45000, 53, 101, 1, 0x10, dst=DNS),
                       tcp(45000, 53, 101, 1, 0x18, stream, dst=DNS)])
    + answer_record(answer("good.example", [(None, 28, bytes(15) + b"\1")], 28))
    + record([TICK, tcp(45000, 53, 101 + len(stream), 1, 0x11, dst=DNS)]),
    "egress-denied": record([to("198.51.100.5", 6, tcp_syn(443)), to("8.8.8.8", 17, udp(53, b"q")),
                             to("203.0.113.1", 1, struct.pack("!BBHHH", 8, 0, 0, 1, 1)),
                             ipv6(17, udp(443, b"quic"), dst=socket.inet_pton(socket.AF_INET6, "2001:db8::1")),
                             ipv6(6, tcp_syn(80), dst=socket.inet_pton(socket.AF_INET6, "::ffff:198.51.100.5"))]),
}
for name, data in egress.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)

for name, frames in seeds.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(record(frames))
