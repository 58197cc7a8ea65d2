#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# raw-syn.py DST PORT: writes one hand-made TCP SYN to DST:PORT as a raw
# Ethernet frame on tap0 (needs CAP_NET_RAW), bypassing the sandbox's own
# routing: what an attacker inside would do to make libslirp connect to an
# address the sandbox may not reach.  DST is IPv4 or IPv6.
import ipaddress
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_syn(src_port, dst_port, pseudo):
    hdr = struct.pack("!HHIIBBHHH", src_port, dst_port, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    csum = checksum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:]


def main():
    dst = ipaddress.ip_address(sys.argv[1])
    port = int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("tap0", 0))
    mac = s.getsockname()[4]
    gateway_mac = bytes.fromhex("525500000202")  # any: libslirp does not check it
    if dst.version == 4:
        src = ipaddress.ip_address("10.0.2.100").packed
        tcp = tcp_syn(40000, port, src + dst.packed + struct.pack("!BBH", 0, 6, 20))
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst.packed)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = gateway_mac + mac + b"\x08\x00" + ip + tcp
    else:
        src = ipaddress.ip_address("fd00::100").packed
        tcp = tcp_syn(40000, port, src + dst.packed + struct.pack("!I3xB", 20, 6))
        ip = struct.pack("!IHBB16s16s", 6 << 28, 20, 6, 64, src, dst.packed)
        frame = gateway_mac + mac + b"\x86\xdd" + ip + tcp
    s.send(frame)
    print("sent")


main()
