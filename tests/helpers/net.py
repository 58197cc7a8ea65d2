#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# net.py MODE ARGS: small servers and clients for test-net.sh.  Servers print
# "ready" once they listen.  Everything runs on loopback addresses or inside
# the sandbox; nothing reaches another address.
import hashlib, os, socket, struct, sys, threading

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def ready():
    print("ready", flush=True)

def tcp_echo(host, port):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(256)
    ready()
    def serve(c):
        with c:
            while True:
                data = c.recv(1 << 20)
                if not data:
                    # the peer half-closed: answer the end, then close ours
                    c.shutdown(socket.SHUT_WR)
                    return
                c.sendall(data)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

def tcp_client(host, port, msg):
    c = socket.create_connection((host, int(port)), timeout=3)
    c.sendall(msg.encode())
    c.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        out += d
    print(out.decode())

def udp_echo(host, port):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    ready()
    while True:
        data, addr = s.recvfrom(65536)
        s.sendto(data, addr)

def udp_client(host, port, msg):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(msg.encode(), (host, int(port)))
    print(s.recvfrom(65536)[0].decode())

def udp_big(host, port, size):
    # One datagram of SIZE bytes and its echo: over a small MTU, fragments
    # both ways.
    size = int(size)
    data = bytes((i * 7 + i // 251) & 0xFF for i in range(size))
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(data, (host, int(port)))
    got = s.recvfrom(65536)[0]
    print("ok %d" % len(got) if got == data else "bad %d" % len(got))

def hammer(host, port, secs, threads):
    # THREADS clients connecting, sending a byte and closing, for SECS
    # seconds, whether or not anything answers.
    import time
    end = time.time() + float(secs)
    counts = [0, 0]
    def client():
        while time.time() < end:
            try:
                with socket.create_connection((host, int(port)), timeout=2) as c:
                    c.sendall(b"x")
                    c.recv(16)
                counts[0] += 1
            except OSError:
                counts[1] += 1
    ts = [threading.Thread(target=client) for _ in range(int(threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("done %d %d" % tuple(counts))

def bulk(host, port, size):
    size = int(size)
    c = socket.create_connection((host, int(port)), timeout=30)
    sent = hashlib.sha256()
    block = os.urandom(1 << 20)
    def send():
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            sent.update(chunk)
            c.sendall(chunk)
            left -= len(chunk)
        c.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        got.update(d)
        n += len(d)
    t.join()
    print("ok" if n == size and got.digest() == sent.digest() else "bad %d %d" % (n, size))

def concurrent(host, port, count):
    count = int(count)
    results = []
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(count)]
    for i, c in enumerate(socks):
        c.sendall(b"conn-%d" % i)
        c.shutdown(socket.SHUT_WR)
    for i, c in enumerate(socks):
        out = b""
        while True:
            d = c.recv(4096)
            if not d:
                break
            out += d
        results.append(out == b"conn-%d" % i)
        c.close()
    print("ok %d" % sum(results))

def half_close(host, port):
    c = socket.create_connection((host, int(port)), timeout=5)
    c.sendall(b"first half")
    c.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        out += d
    print("ok" if out == b"first half" else "bad %r" % out)

def dns(host, port, name, ip):
    # Answers A queries for one name; everything else NXDOMAIN.
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    ready()
    want = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    while True:
        q, addr = s.recvfrom(512)
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        end = q.index(b"\0", 12) + 1
        qname, (qtype, qclass) = q[12:end], struct.unpack("!HH", q[end:end + 4])
        question = q[12:end + 4]
        if qname.lower() == want and qtype == 1:
            answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
            r = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer
        elif qname.lower() == want:
            r = struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question
        else:
            r = struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        s.sendto(r, addr)

modes = {"tcp-echo": tcp_echo, "tcp-client": tcp_client, "udp-echo": udp_echo,
         "udp-client": udp_client, "udp-big": udp_big, "hammer": hammer, "bulk": bulk, "concurrent": concurrent,
         "half-close": half_close, "dns": dns}
try:
    modes[sys.argv[1]](*sys.argv[2:])
except (OSError, socket.timeout) as e:
    print("error: %s" % e, file=sys.stderr)
    sys.exit(1)
