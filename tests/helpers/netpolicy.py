# SPDX-License-Identifier: GPL-2.0-or-later
"""netpolicy.py: both ends of tests/test-netpolicy.sh (python3 standard
library only).

Outside, in the test's network namespace:
  serve LOG                 TCP on ports 80 443 8080 8443, UDP on 443 5353,
                            every address (IPv4 and IPv6): a TCP client gets
                            "hello from ADDR:PORT", a datagram comes back
                            prefixed "echo ADDR:PORT "; each connection or
                            datagram is appended to LOG as "tcp ADDR:PORT" or
                            "udp ADDR:PORT SIZE".  Prints "ready".

Inside the sandbox:
  http HOST PORT            a TCP connection: prints what the server says
  connect HOST PORT         prints "connected", "refused" or the error, and
                            how long it took ("in 0.004 s")
  udp HOST PORT SIZE        one datagram of SIZE bytes: prints the echo's
                            head or the error
  resolve NAME              getaddrinfo: the addresses, or the error
  each NAME PORT            resolves NAME, connects to each address: "ADDR ok"
                            or "ADDR refused"
  connect-many HOST LO HI   connects to each port from LO to HI, quickly; prints
                            how many were refused
  dns-udp SERVER NAME       a query for NAME's A records to SERVER:53 over UDP
  dns-tcp SERVER NAME       ... over TCP: prints "rcode=N answers=K" or the error
"""
import errno
import os
import socket
import struct
import sys
import threading
import time


def fmt(addr):
    host = addr[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return ("[%s]" % host if ":" in host else host) + ":%d" % addr[1]


def serve(log):
    lock = threading.Lock()

    def note(line):
        with lock, open(log, "a") as f:
            f.write(line + "\n")

    def tcp(port):
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(64)
        while True:
            c, _ = s.accept()
            here = fmt(c.getsockname())
            note("tcp " + here)
            try:
                c.sendall(("hello from %s\n" % here).encode())
            except OSError:
                pass
            c.close()

    def udp(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
        while True:
            data, anc, _, peer = s.recvmsg(65535, 1024)
            here, info = "?", []
            for level, kind, value in anc:
                if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                    here = fmt((socket.inet_ntop(socket.AF_INET6, value[:16]), port))
                    info = [(level, kind, value)]
            note("udp %s %d" % (here, len(data)))
            # From the address it came to (slirp's socket inside is connected).
            s.sendmsg([("echo %s " % here).encode() + data[:16]], info, 0, peer)

    for p in (80, 443, 8080, 8443):
        threading.Thread(target=tcp, args=(p,), daemon=True).start()
    for p in (443, 5353):
        threading.Thread(target=udp, args=(p,), daemon=True).start()
    time.sleep(0.3)
    print("ready", flush=True)
    threading.Event().wait()


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def error_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def connect(host, port):
    s = socket.socket(family(host))
    s.settimeout(10)
    t = time.monotonic()
    try:
        s.connect((host, int(port)))
        what = "connected"
    except ConnectionRefusedError:
        what = "refused"
    except OSError as e:
        what = error_name(e)
    print("%s in %.3f s" % (what, time.monotonic() - t))


def http(host, port):
    try:
        s = socket.create_connection((host, int(port)), timeout=10)
        print(s.makefile().readline().strip())
    except OSError as e:
        print("error:", error_name(e))


def udp(host, port, size):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.connect((host, int(port)))
        s.send(b"x" * int(size))
        print(s.recv(65535).decode(errors="replace").rsplit(" ", 1)[0])
    except OSError as e:
        print("error:", error_name(e))


def resolve(name):
    try:
        addrs = sorted({a[4][0] for a in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)})
        print(" ".join(addrs))
    except socket.gaierror as e:
        print("error:", e.strerror)


def each(name, port):
    try:
        infos = socket.getaddrinfo(name, int(port), proto=socket.IPPROTO_TCP)
    except socket.gaierror as e:
        print("error:", e.strerror)
        return
    for fam, kind, proto, _, addr in sorted(infos):
        s = socket.socket(fam, kind, proto)
        s.settimeout(10)
        try:
            s.connect(addr)
            print(addr[0], "ok")
        except ConnectionRefusedError:
            print(addr[0], "refused")
        except OSError as e:
            print(addr[0], error_name(e))


def connect_many(host, lo, hi):
    refused = 0
    for port in range(int(lo), int(hi) + 1):
        s = socket.socket(family(host))
        s.settimeout(2)
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            refused += 1
        except OSError:
            pass
        s.close()
    print(refused)


def query(name):
    q = struct.pack("!6H", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!2H", 1, 1)


def report(answer):
    _, flags, _, an, _, _ = struct.unpack("!6H", answer[:12])
    print("rcode=%d answers=%d%s" % (flags & 0xF, an, " tc" if flags & 0x200 else ""))


def dns_udp(server, name):
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.connect((server, 53))
        s.send(query(name))
        report(s.recv(65535))
    except OSError as e:
        print("error:", error_name(e))


def dns_tcp(server, name):
    try:
        s = socket.create_connection((server, 53), timeout=5)
        q = query(name)
        s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        report(s.recv(n, socket.MSG_WAITALL))
    except OSError as e:
        print("error:", error_name(e))
    except struct.error:
        print("error: closed")


if __name__ == "__main__":
    modes = {"serve": serve, "http": http, "connect": connect, "udp": udp, "resolve": resolve,
             "each": each, "connect-many": connect_many, "dns-udp": dns_udp, "dns-tcp": dns_tcp}
    modes[sys.argv[1]](*sys.argv[2:])
    sys.stdout.flush()
    os._exit(0)
