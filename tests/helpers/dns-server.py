# SPDX-License-Identifier: GPL-2.0-or-later
"""dns-server.py: a small authoritative DNS server for the tests (python3
standard library only), over UDP and TCP.

    python3 dns-server.py ADDRESS PORT ZONEFILE QUERYLOG

ZONEFILE holds one record a line, "NAME TTL TYPE VALUE" with TYPE A, AAAA
or CNAME ("#" starts a comment).  A query for a name gets its records of
the type asked for, following CNAMEs within the zone (the whole chain in
the answer, as a recursive resolver gives it); a name without records is
NXDOMAIN.  Over UDP an answer larger than 512 bytes (or the query's EDNS
size) is cut to its question with TC set, so the client asks over TCP.
Every query is appended to QUERYLOG as "udp NAME TYPE" or "tcp NAME TYPE":
the tests check which names reached the resolver at all.  Prints "ready"
once both sockets listen.
"""
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "AAAA": 28, "CNAME": 5}


def load_zone(path):
    zone = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) != 4:
                continue
            name, ttl, rtype, value = line
            zone.setdefault(name.lower().rstrip("."), []).append((int(ttl), TYPES[rtype], value))
    return zone


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    """(id, flags, name, qtype, end of question, EDNS payload size)"""
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    i, labels = 12, []
    while msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    i += 1
    qtype, _ = struct.unpack("!2H", msg[i:i + 4])
    end = i + 4
    size = 512
    if ar and len(msg) >= end + 11 and msg[end] == 0 and struct.unpack("!H", msg[end + 1:end + 3])[0] == 41:
        size = max(512, struct.unpack("!H", msg[end + 3:end + 5])[0])
    return qid, flags, ".".join(labels).lower(), qtype, end, size


def record(name, ttl, rtype, value):
    if rtype == 1:
        data = socket.inet_pton(socket.AF_INET, value)
    elif rtype == 28:
        data = socket.inet_pton(socket.AF_INET6, value)
    else:
        data = encode_name(value)
    return encode_name(name) + struct.pack("!2HIH", rtype, 1, ttl, len(data)) + data


def answer(zone, msg, udp):
    qid, flags, name, qtype, end, size = parse_question(msg)
    records, seen, current = [], set(), name
    while current in zone and current not in seen:
        seen.add(current)
        cname = [r for r in zone[current] if r[1] == 5]
        if cname and qtype != 5:
            ttl, _, target = cname[0]
            records.append(record(current, ttl, 5, target))
            current = target.lower().rstrip(".")
            continue
        records += [record(current, ttl, t, v) for ttl, t, v in zone[current] if t == qtype]
        break
    rcode = 0 if name in zone else 3
    rd = flags & 0x0100
    header = struct.pack("!6H", qid, 0x8400 | rd | 0x0080 | rcode, 1, len(records), 0, 0)
    out = header + msg[12:end] + b"".join(records)
    if udp and len(out) > size:
        out = struct.pack("!6H", qid, 0x8600 | rd | 0x0080 | rcode, 1, 0, 0, 0) + msg[12:end]
    return out, name, qtype


def log(path, lock, line):
    with lock, open(path, "a") as f:
        f.write(line + "\n")


def serve_udp(sock, zone, logpath, lock):
    while True:
        msg, peer = sock.recvfrom(65535)
        try:
            out, name, qtype = answer(zone, msg, True)
        except Exception:
            continue
        log(logpath, lock, "udp %s %d" % (name, qtype))
        sock.sendto(out, peer)


def serve_tcp_client(conn, zone, logpath, lock):
    with conn:
        while True:
            head = conn.recv(2, socket.MSG_WAITALL)
            if len(head) < 2:
                return
            msg = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
            try:
                out, name, qtype = answer(zone, msg, False)
            except Exception:
                return
            log(logpath, lock, "tcp %s %d" % (name, qtype))
            conn.sendall(struct.pack("!H", len(out)) + out)


def main():
    addr, port, zonefile, logpath = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    zone = load_zone(zonefile)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    lock = threading.Lock()
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(family, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    threading.Thread(target=serve_udp, args=(u, zone, logpath, lock), daemon=True).start()
    print("ready", flush=True)
    while True:
        conn, _ = t.accept()
        threading.Thread(target=serve_tcp_client, args=(conn, zone, logpath, lock), daemon=True).start()


if __name__ == "__main__":
    main()
