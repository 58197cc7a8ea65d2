#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# frag-storm.py SECONDS PORT [SEED]: what root inside a sandbox with
# CAP_NET_RAW can write on tap0 to make libslirp fall over: for SECONDS,
# random IPv4 fragments (ids, flags, offsets, lengths, protocols), headers
# that lie about their lengths, junk of other Ethernet types.  It starts
# with the frame that killed libslirp 4.7.0 (the last fragment of a
# datagram, alone: tests/fuzz/corpus/lone-last-fragment) and ends with a
# UDP datagram to PORT in three fragments sent last first, which must
# arrive whole.
#
# Every IP packet is addressed to 10.0.2.2 (the host's 127.0.0.1 with
# --allow-host-loopback), and the transport header, which only a fragment
# at offset 0 carries, always names PORT: whatever libslirp makes of a
# datagram, it can only reach that port of the host's loopback, which the
# test owns (UDP and TCP).
import os
import random
import socket
import struct
import sys
import time

GATEWAY = socket.inet_aton("10.0.2.2")
GUEST = socket.inet_aton("10.0.2.100")
GATEWAY_MAC = bytes.fromhex("525500000202")  # any: libslirp does not check it


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(ident, flags_offset, proto, payload, ihl=5, total=None, bad_sum=False):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total if total is not None else 4 * ihl + len(payload),
                      ident, flags_offset, 64, proto, 0, GUEST, GATEWAY) + bytes(4 * ihl - 20)
    s = checksum(hdr) ^ (0x1234 if bad_sum else 0)
    return hdr[:10] + struct.pack("!H", s) + hdr[12:] + payload


def transport(proto, port, rnd):
    """The first 20 bytes of a datagram: a header naming PORT."""
    if proto == 17:
        head = struct.pack("!HHHH", 40000, port, rnd.randrange(8, 65536), 0)
    elif proto == 6:
        head = struct.pack("!HHIIBBHHH", 40000, port, rnd.getrandbits(32), rnd.getrandbits(32),
                           rnd.randrange(256), rnd.randrange(256), rnd.randrange(65536), 0, 0)
    else:
        head = bytes([rnd.choice([0, 8, 3, 11, 13, 255]), rnd.randrange(256)]) + bytes(6)
    return head + bytes(20 - len(head))


def random_frame(rnd, port):
    kind = rnd.random()
    ident = rnd.randrange(6)
    proto = rnd.choice([17, 17, 6, 1])
    if kind < 0.85:
        # A fragment: mostly plausible, sometimes not.
        flags = rnd.choice([0x2000, 0x2000, 0, 0x4000, 0x6000, 0x8000])
        offset = rnd.choice([0, 0, rnd.randrange(16), rnd.randrange(8192)])
        size = rnd.choice([8, 16, rnd.randrange(1, 64), rnd.randrange(1480), rnd.randrange(9000)])
        payload = bytearray(os.urandom(min(size, 64)) + bytes(max(0, size - 64)))
        if offset == 0:
            payload[:20] = transport(proto, port, rnd)[:size]
        return ipv4(ident, flags | offset, proto, bytes(payload), bad_sum=rnd.random() < 0.05)
    if kind < 0.93:
        # A header that lies: its length fields, its IHL, its version.
        payload = transport(proto, port, rnd) + os.urandom(rnd.randrange(64))
        frame = bytearray(ipv4(ident, rnd.choice([0, 0x2000, 1]), proto, payload,
                               ihl=rnd.choice([5, 5, 6, 15]),
                               total=rnd.choice([None, 0, 19, 20, 65535, rnd.randrange(65536)])))
        if rnd.random() < 0.2:
            frame[0] = rnd.randrange(256)
            struct.pack_into("!H", frame, 10, 0)
            struct.pack_into("!H", frame, 10, checksum(bytes(frame[:20])))
        return bytes(frame)
    # Another Ethernet type, ARP gone wrong, or a runt.
    return None


def main():
    secs, port = float(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else None)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("tap0", 0))
    mac = s.getsockname()[4]

    def send(ethertype, body):
        try:
            s.send(GATEWAY_MAC + mac + struct.pack("!H", ethertype) + body)
        except OSError:
            pass  # a frame the kernel itself refuses

    # The frame that killed libslirp 4.7.0, first.
    send(0x0800, ipv4(3, 3632, 1, bytes(472)))
    n = 1
    end = time.time() + secs
    while time.time() < end:
        ip = random_frame(rnd, port)
        if ip is not None:
            send(0x0800, ip)
        else:
            ethertype = rnd.choice([0x0806, 0x0806, 0x8100, 0x88F8, 0x86DD, rnd.randrange(65536)])
            if ethertype in (0x0800, 0x86DD):
                ethertype = 0x9000  # no IP here: its address would be random
            send(ethertype, os.urandom(rnd.randrange(0, 80)))
        n += 1

    # A datagram to PORT in three fragments, the last one first.
    data = b"reassembled " * 100
    udp = struct.pack("!HHHH", 40001, port, 8 + len(data), 0) + data
    for offset, more in ((1008, 0), (504, 0x2000), (0, 0x2000)):
        chunk = udp[offset:offset + 504] if more else udp[offset:]
        send(0x0800, ipv4(4242, more | offset // 8, 17, chunk))
    print("sent %d" % (n + 3), flush=True)


main()
