#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-net.sh: the default network (tap0 behind libslirp, helpers/sbx-net),
# published ports, DNS, as the unprivileged account.  Every packet goes to
# this machine's loopback (10.0.2.2 with --allow-host-loopback, published
# ports on 127.0.0.1) or to a network namespace the test makes: nothing
# else is ever contacted.
. "$(dirname "$0")/libtest.sh"
require_rootless
require_device /dev/net/tun

uid=$(test_uid)

PY=$TEST_DIR/net.py
cp "${SBX_SOURCE_DIR:?meson sets SBX_SOURCE_DIR}/tests/helpers/net.py" "$PY"
chmod 644 "$PY"

# A free port on the host's loopback.
free_port () {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_bg NAME CMD...: starts CMD as the account in the background, its
# output in NAME.out; waits until it printed "ready".
start_bg () {
  local name=$1
  shift
  background "${name}_pid" "$@" >"$TEST_DIR/$name.out" 2>&1
  for _ in $(seq 200); do grep -q ready "$TEST_DIR/$name.out" 2>/dev/null && return 0; sleep 0.05; done
  diag "$name did not start:" "$(cat "$TEST_DIR/$name.out")"
  return 1
}

# --- inside ------------------------------------------------------------------------

out=$(sbx run -- sh -c 'ip -o -4 addr show tap0; ip -o -6 addr show tap0 scope global; ip route; ip -6 route show default; cat /etc/resolv.conf; cat /sys/class/net/tap0/mtu; ls /sys/class/net | tr "\n" " "')
like "$out" "tap0 +inet 10\.0\.2\.100/24" "tap0 has 10.0.2.100/24"
like "$out" "inet6 fd00::100/64" "tap0 has fd00::100/64"
like "$out" "^default via 10\.0\.2\.2 dev tap0" "the default route goes via 10.0.2.2"
like "$out" "^default via fd00::2 dev tap0" "the IPv6 default route goes via fd00::2"
like "$out" "^nameserver 10\.0\.2\.3$" "/etc/resolv.conf names 10.0.2.3"
like "$out" "^32768$" "the MTU is 32768 by default"
like "$out" "^lo tap0 $" "the sandbox's /sys shows its own interfaces"
out=$(sbx run --mtu 1500 --no-ipv6 -- sh -c 'cat /sys/class/net/tap0/mtu; ip -6 addr show tap0 | grep -c inet6; grep -c fd00 /etc/resolv.conf')
is "$out" "1500
0
0" "--mtu 1500 --no-ipv6: that MTU, no IPv6 address, no IPv6 DNS"
is "$(sbx run --net none -- ls /sys/class/net | tr '\n' ' ')" "lo " "--net none: only lo"
is "$(sbx run --net none -- cat /sys/class/net/lo/operstate)" "unknown" "--net none: lo is up (operstate of lo is 'unknown')"
is "$(sbx run --net host -- ls /sys/class/net | sort | tr '\n' ' ')" "$(ls /sys/class/net | sort | tr '\n' ' ')" "--net host: the host's interfaces"

# --- egress to the host's loopback, and its refusal -------------------------------------------

port=$(free_port)
start_bg tcpecho python3 "$PY" tcp-echo 127.0.0.1 "$port"
out=$(sbx run -- python3 "$PY" tcp-client 10.0.2.2 "$port" hello 2>&1)
unlike "$out" "hello" "without --allow-host-loopback, 10.0.2.2 does not reach the host's 127.0.0.1"
out=$(sbx run --allow-host-loopback -- python3 "$PY" tcp-client 10.0.2.2 "$port" hello 2>&1)
is "$out" "hello" "with --allow-host-loopback, TCP to 10.0.2.2 reaches the host's 127.0.0.1"
kill "$tcpecho_pid"

uport=$(free_port)
start_bg udpecho python3 "$PY" udp-echo 127.0.0.1 "$uport"
out=$(sbx run --allow-host-loopback -- python3 "$PY" udp-client 10.0.2.2 "$uport" datagram 2>&1)
is "$out" "datagram" "UDP to 10.0.2.2 reaches the host's 127.0.0.1 (with --allow-host-loopback)"
out=$(sbx run -- python3 "$PY" udp-client 10.0.2.2 "$uport" datagram 2>&1)
unlike "$out" "^datagram$" "... and not without it"
kill "$udpecho_pid"

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  port6=$(free_port)
  start_bg tcp6 python3 "$PY" tcp-echo ::1 "$port6"
  out=$(sbx run --allow-host-loopback -- python3 "$PY" tcp-client fd00::2 "$port6" six 2>&1)
  is "$out" "six" "IPv6: fd00::2 reaches the host's ::1 through slirp"
  kill "$tcp6_pid"
else
  skip "the host has no ::1"
fi

# --- published ports ----------------------------------------------------------------------------

hp=$(free_port)
start_bg web "$SBX" run -p "$hp:8000" -- sh -c 'cd /usr/share/doc && echo ready && exec python3 -m http.server 8000'
listing=""
for _ in $(seq 50); do listing=$(curl -s -m 5 "http://127.0.0.1:$hp/" 2>/dev/null) && [ -n "$listing" ] && break; sleep 0.1; done
like "$listing" "Directory listing for /" "the demo: -p $hp:8000 -- python3 -m http.server 8000 answers curl on the host"
hp2=$(free_port)
start_bg web2 "$SBX" run -p "$hp2:8000" -- sh -c 'cd /etc && echo ready && exec python3 -m http.server 8000'
listing2=""
for _ in $(seq 50); do listing2=$(curl -s -m 5 "http://127.0.0.1:$hp2/" 2>/dev/null) && [ -n "$listing2" ] && break; sleep 0.1; done
like "$listing2" "passwd" "a second sandbox serving on port 8000 inside does not collide with the first"
out=$(sbx run -p "$hp:9" -- true 2>&1); rc=$?
is "$rc:$out" "125:sbx: -p $hp:9: address already in use" "a host port in use: one line naming it, 125, before the command starts"
kill "$web_pid" "$web2_pid"
wait "$web_pid" "$web2_pid" 2>/dev/null

# Big transfers, many connections, half-close, through the splice path.
ep=$(free_port)
start_bg echo "$SBX" run -p "$ep:7000" -- python3 "$PY" tcp-echo 0.0.0.0 7000
out=$(python3 "$PY" bulk 127.0.0.1 "$ep" $((100 * 1024 * 1024)))
is "$out" "ok" "100 MB through a published port come back intact (sha256)"
out=$(python3 "$PY" concurrent 127.0.0.1 "$ep" 100)
is "$out" "ok 100" "100 concurrent connections, each its own answer"
out=$(python3 "$PY" half-close 127.0.0.1 "$ep")
is "$out" "ok" "a half-close (shutdown(SHUT_WR)) travels through and the answer still comes"
kill "$echo_pid"
wait "$echo_pid" 2>/dev/null

up=$(free_port)
start_bg uecho "$SBX" run -p "$up:7001/udp" -- python3 "$PY" udp-echo 0.0.0.0 7001
out=""
for _ in $(seq 20); do out=$(python3 "$PY" udp-client 127.0.0.1 "$up" udp-published 2>/dev/null) && [ "$out" = udp-published ] && break; sleep 0.1; done
is "$out" "udp-published" "-p HOSTPORT:PORT/udp: a datagram to the host port reaches the sandbox and back"
kill "$uecho_pid"
wait "$uecho_pid" 2>/dev/null

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  p6=$(free_port)
  start_bg web6 "$SBX" run -p "[::1]:$p6:8000" -- sh -c 'echo ready; exec python3 -m http.server 8000'
  out=""
  for _ in $(seq 50); do out=$(curl -s -m 5 "http://[::1]:$p6/" 2>/dev/null) && [ -n "$out" ] && break; sleep 0.1; done
  like "$out" "Directory listing" "-p [::1]:PORT:8000 publishes on the host's IPv6 loopback"
  kill "$web6_pid"
  wait "$web6_pid" 2>/dev/null
else
  skip "the host has no ::1"
fi

# --- raw frames on tap0 cannot name the host's loopback ---------------------------------------

# Root inside with CAP_NET_RAW writes a TCP SYN by hand on tap0, addressed to
# 127.0.0.1 or ::1: libslirp would connect wherever a packet says.  sbx-net
# drops such frames, with or without --allow-host-loopback; a SYN to
# 10.0.2.2 with --allow-host-loopback shows that raw frames do get through.
RAW=$TEST_DIR/raw-syn.py
cp "$SBX_SOURCE_DIR/tests/helpers/raw-syn.py" "$RAW"
chmod 644 "$RAW"
raw_port=$(free_port)
accepts=$TEST_DIR/accepts
python3 -c "
import socket, threading, sys
def serve(host):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, $raw_port)); s.listen(8)
    while True:
        c, a = s.accept()
        with open('$accepts', 'a') as f: f.write(host + '\\n')
        c.close()
for h in ('127.0.0.1', '::1'):
    threading.Thread(target=serve, args=(h,), daemon=True).start()
print('ready', flush=True)
threading.Event().wait(60)" >"$TEST_DIR/rawsrv.out" 2>&1 &
rawsrv=$!
at_exit "kill $rawsrv 2>/dev/null"
for _ in $(seq 100); do grep -q ready "$TEST_DIR/rawsrv.out" && break; sleep 0.05; done
# raw_syn OPTIONS -- DST: sends the SYN; prints what the host server accepted.
raw_syn () {
  local dst=${*: -1}
  rm -f "$accepts"
  sbx run --map-root --cap-add NET_RAW "${@:1:$#-1}" sh -c "python3 $RAW $dst $raw_port; sleep 1" >/dev/null 2>&1
  cat "$accepts" 2>/dev/null | sort -u | tr '\n' ' '
}
if have_ipv6_loopback=$(python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null && echo 1); then :; fi
is "$(raw_syn --allow-host-loopback -- 10.0.2.2)" "127.0.0.1 " "a raw SYN on tap0 to 10.0.2.2 reaches the host (--allow-host-loopback): the frames get through"
is "$(raw_syn -- 127.0.0.1)" "" "a raw SYN on tap0 to 127.0.0.1: dropped by sbx-net"
is "$(raw_syn --allow-host-loopback -- 127.0.0.1)" "" "... also with --allow-host-loopback (only 10.0.2.2 is granted)"
is "$(raw_syn -- 0.0.0.0)" "" "a raw SYN to 0.0.0.0: dropped"
if [ -n "$have_ipv6_loopback" ]; then
  is "$(raw_syn -- ::1)" "" "a raw SYN on tap0 to ::1: dropped"
  is "$(raw_syn -- ::ffff:127.0.0.1)" "" "a raw SYN to ::ffff:127.0.0.1: dropped"
else
  skip "the host has no ::1"
  skip "the host has no ::1"
fi

# A frame sbx-net drops is only dropped: the same sandbox's network goes on.
rm -f "$accepts"
sbx run --map-root --cap-add NET_RAW --allow-host-loopback -- sh -c "python3 $RAW 127.0.0.1 $raw_port; sleep 0.5; python3 $RAW 10.0.2.2 $raw_port; sleep 1" >/dev/null 2>&1
is "$(cat "$accepts" 2>/dev/null | sort -u | tr '\n' ' ')" "127.0.0.1 " \
  "after a dropped frame (to 127.0.0.1), the next one (to 10.0.2.2) still gets through"

# --- hostile frames on tap0: fragments, lying headers, junk -------------------------------------

# libslirp 4.7.0 dies of one IPv4 fragment (the last of a datagram, first
# and alone); sbx-net reassembles fragments itself and hands libslirp only
# what passes its filter.  Root inside with CAP_NET_RAW writes a few
# seconds of random fragments and junk on tap0 (all to 10.0.2.2, the
# transport header always naming a port of ours), then its network must
# still work: sbx-net is alive, an HTTP GET through 10.0.2.2 reaches a
# server on the host's 127.0.0.1, and a datagram sent in fragments, last
# one first, arrived whole.
STORM=$TEST_DIR/frag-storm.py
cp "$SBX_SOURCE_DIR/tests/helpers/frag-storm.py" "$STORM"
chmod 644 "$STORM"
sink_port=$(free_port)
python3 -c "
import socket, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', $sink_port)); s.listen(64)
    while True: s.accept()[0].close()
threading.Thread(target=tcp, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $sink_port))
print('ready', flush=True)
while True:
    if u.recv(65536) == b'reassembled ' * 100:
        print('whole', flush=True)" >"$TEST_DIR/sink.out" 2>&1 &
sink=$!
at_exit "kill $sink 2>/dev/null"
mkdir -p "$TEST_DIR/www" && echo "still here" >"$TEST_DIR/www/hello.txt"
www_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$TEST_DIR/www" "$www_port" >/dev/null 2>&1 &
www=$!
at_exit "kill $www 2>/dev/null"
for _ in $(seq 100); do grep -q ready "$TEST_DIR/sink.out" && curl -s -m 1 "http://127.0.0.1:$www_port/hello.txt" >/dev/null && break; sleep 0.05; done
start_bg storm "$SBX" run --map-root --cap-add NET_RAW --allow-host-loopback -- sh -c "echo ready; python3 $STORM 4 $sink_port; echo stormed; sleep 1; curl -s -m 5 http://10.0.2.2:$www_port/hello.txt; echo done"
storm_helper=$(pgrep -P "$storm_pid" -x sbx-net)
for _ in $(seq 300); do grep -q -e stormed -e Traceback "$TEST_DIR/storm.out" && break; sleep 0.05; done
like "$(cat "$TEST_DIR/storm.out")" "sent [0-9]+" "the storm was written on tap0"
diag "$(grep -o 'sent [0-9]*' "$TEST_DIR/storm.out") frames"
check "sbx-net is alive after the storm" alive "${storm_helper:-none}"
for _ in $(seq 200); do grep -q "^done" "$TEST_DIR/storm.out" && break; sleep 0.05; done
like "$(cat "$TEST_DIR/storm.out")" "still here" "after the storm, HTTP through 10.0.2.2 reaches the host's 127.0.0.1"
like "$(cat "$TEST_DIR/sink.out")" "^whole$" "a UDP datagram in fragments, the last one first, arrives whole"
kill "$storm_pid" 2>/dev/null; wait "$storm_pid" 2>/dev/null

# The sandbox's kernel fragments what is larger than the MTU, and libslirp
# fragments its answer: a 20000-byte datagram over --mtu 1500, both ways.
uport=$(free_port)
start_bg udpbig python3 "$PY" udp-echo 127.0.0.1 "$uport"
out=$(sbx run --mtu 1500 --allow-host-loopback -- python3 "$PY" udp-big 10.0.2.2 "$uport" 20000 2>&1)
is "$out" "ok 20000" "a 20000-byte UDP datagram over --mtu 1500: reassembled by sbx-net, and back"
kill "$udpbig_pid"

# --- a receiver that does not read ----------------------------------------------------------

# A published port whose server inside accepts and never reads: the sender
# on the host blocks, and sbx-net waits (a full pipe is no reason to poll).
stall_port=$(free_port)
start_bg stall "$SBX" run -p "127.0.0.1:$stall_port:7000" -- python3 -c "
import socket, time
s = socket.socket(); s.bind(('0.0.0.0', 7000)); s.listen(1); print('ready', flush=True)
c, _ = s.accept(); time.sleep(30)"
stall_helper=$(pgrep -u "$uid" -P "$(pgrep -u "$uid" -f "run -p 127.0.0.1:$stall_port:7000" | head -1)" -x sbx-net)
timeout 6 python3 -c "
import socket
c = socket.create_connection(('127.0.0.1', $stall_port)); c.settimeout(5)
try:
    while True: c.send(b'x' * 65536)
except OSError: pass" &
sender=$!
sleep 1
ticks () { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
t0=$(ticks "$stall_helper"); sleep 2; t1=$(ticks "$stall_helper")
if [ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -lt 50 ]; then
  ok "sbx-net idles while the receiver inside does not read ($((t1 - t0)) ticks in 2 s)"
else
  not_ok "sbx-net idles while the receiver inside does not read"
  diag "ticks: ${t0:-?} -> ${t1:-?} (pid ${stall_helper:-none})"
fi
kill "$sender" 2>/dev/null; wait "$sender" 2>/dev/null
kill "$stall_pid" 2>/dev/null; wait "$stall_pid" 2>/dev/null

# --- connections refused inside while a port is hammered -----------------------------------------

# A published port with nothing listening inside: every connection sbx-net
# makes inside is refused, and ends while others relay on a second port.
# sbx-net must end each one once and never mix them up (it used to free a
# connection in the middle of a round and then serve the next one with
# another's poll results).  Without an IPv6 loopback inside (a host
# without IPv6) the refusal comes from connect() at once, while a socket
# arrives from PID 1; with one, from poll().  Afterwards a listener
# starts on the refused port, and both ports work.
hammer_refused () {
  local what=$1 setup=$2 pa pb out flag=$TEST_DIR/listen-now helper
  shift 2
  pa=$(free_port)
  pb=$(free_port)
  rm -f "$flag"
  start_bg refused "$SBX" run --map-root --bind "$TEST_DIR" "$@" -p "127.0.0.1:$pa:7000" -p "127.0.0.1:$pb:7001" -- \
    sh -c "$setup python3 $PY tcp-echo 0.0.0.0 7001 & while [ ! -e $flag ]; do sleep 0.05; done; exec python3 $PY tcp-echo 0.0.0.0 7000" || return
  helper=$(pgrep -P "$refused_pid" -x sbx-net)
  python3 "$PY" hammer 127.0.0.1 "$pa" 3 40 >"$TEST_DIR/hammer-a.out" 2>&1 &
  python3 "$PY" hammer 127.0.0.1 "$pb" 3 40 >"$TEST_DIR/hammer-b.out" 2>&1
  wait $!
  diag "refused: $(cat "$TEST_DIR/hammer-a.out"), relayed: $(cat "$TEST_DIR/hammer-b.out") (done OK FAILED)"
  check "$what: sbx-net is alive after the hammering" alive "${helper:-none}"
  touch "$flag"
  out=""
  for _ in $(seq 50); do out=$(python3 "$PY" concurrent 127.0.0.1 "$pa" 50 2>/dev/null) && [ "$out" = "ok 50" ] && break; sleep 0.1; done
  is "$out" "ok 50" "$what: then a listener inside makes the refused port work (50 connections)"
  is "$(python3 "$PY" concurrent 127.0.0.1 "$pb" 50 2>&1)" "ok 50" "$what: the other port still works"
  check "$what: the same sbx-net serves them" alive "${helper:-none}"
  kill "$refused_pid" 2>/dev/null
  wait "$refused_pid" 2>/dev/null
}
hammer_refused "refused inside" ""
hammer_refused "refused at once (no ::1 inside)" "ip -6 addr del ::1/128 dev lo;" --no-ipv6 --cap-add NET_ADMIN

# --- the helper ------------------------------------------------------------------------------------

before=$(pgrep -u "$uid" -x sbx-net | wc -l)
sbx run -- true
is "$(pgrep -u "$uid" -x sbx-net | wc -l)" "$before" "sbx-net is gone after the sandbox exits"
start_bg victim "$SBX" run -- sh -c 'echo ready; exec sleep 1000'
helper=$(pgrep -u "$uid" -P "$victim_pid" -x sbx-net)
check "sbx-net runs beside the sandbox, a child of its monitor" test -n "$helper"
# Its own memory (RssAnon: the shared libraries' pages depend on the host),
# against the monitor's, a process of the same libraries beside it.
rss=$(awk '/RssAnon/ {print $2}' "/proc/$helper/status" 2>/dev/null)
mon_rss=$(awk '/RssAnon/ {print $2}' "/proc/$victim_pid/status" 2>/dev/null)
if sanitized; then skip "sbx-net's size under AddressSanitizer says nothing"
elif [ -n "$rss" ] && [ -n "$mon_rss" ] && [ "$rss" -le $((mon_rss + 1024)) ]; then ok "sbx-net is small (RssAnon ${rss} kB, the monitor's ${mon_rss} kB)"
else not_ok "sbx-net is small (RssAnon ${rss:-?} kB, more than 1 MiB above the monitor's ${mon_rss:-?} kB)"; fi
is "$(awk '/^NoNewPrivs/ {print $2} /^CapEff/ {print $2}' "/proc/$helper/status" | tr '\n' ' ')" "0000000000000000 1 " \
  "sbx-net has no capabilities and no_new_privs"
is "$(awk '/^Seccomp:/ {print $2}' "/proc/$helper/status")" "2" "sbx-net runs under a seccomp filter"
out=$(ls "/proc/$helper/root/" 2>&1 | tr '\n' ' ')
if is_root; then is "$out" "etc " "sbx-net's root is an empty directory of its own"
else like "$out" "Permission denied" "sbx-net is not dumpable: its root is closed to its own user"; fi
monitor=$(ps -u "$uid" -o pid=,comm=,args= | awk '$2 == "sbx" && /sleep 1000/ {print $1}')
kill -KILL "$monitor"
check "after SIGKILL of sbx, sbx-net is gone within a second" wait_gone "$helper" 1
wait "$victim_pid" 2>/dev/null

# --- DNS through a resolver on the host's loopback (root: a namespace of the test's own) -----------------

if is_root; then
  printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:1\n' >"$TEST_DIR/resolv.conf"
  out=$(unshare -n -m sh -c "
    ip link set lo up
    mount --bind '$TEST_DIR/resolv.conf' /etc/resolv.conf
    python3 '$PY' dns 127.0.0.53 53 sbx-test.example 192.0.2.7 > '$TEST_DIR/dns.out' 2>&1 &
    dns=\$!
    for i in \$(seq 50); do grep -q ready '$TEST_DIR/dns.out' && break; sleep 0.1; done
    setpriv --reuid=$uid --regid=$(test_gid) --init-groups env -i PATH=/usr/bin:/bin HOME='$TEST_HOME' '$SBX' run -- getent hosts sbx-test.example
    kill \$dns" 2>&1)
  like "$out" "^192\.0\.2\.7 +sbx-test\.example" "DNS through 10.0.2.3 reaches a resolver on the host's loopback (127.0.0.53, as systemd-resolved's)"
else
  skip "needs root to make a network namespace with its own resolver"
fi

# --- bad input ----------------------------------------------------------------------------------------

rejects "sbx: -p: '8080' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)" -p 8080
rejects "sbx: -p: '0:80': a port is a number from 1 to 65535" -p 0:80
rejects "sbx: -p: '8080:65536': a port is a number from 1 to 65535" -p 8080:65536
rejects "sbx: -p: '8080:-1': a port is a number from 1 to 65535" -p 8080:-1
rejects "sbx: -p: 'x:80': a port is a number from 1 to 65535" -p x:80
rejects "sbx: -p: '8080:80/sctp': the protocol is tcp or udp" -p 8080:80/sctp
rejects "sbx: -p: 'nohost:8080:80': 'nohost' is not an IP address" -p nohost:8080:80
rejects "sbx: -p: '[::1:8080:80': an IPv6 address goes in brackets" -p "[::1:8080:80"
rejects "sbx: --mtu: '100' is not an MTU from 1280 to 65520" --mtu 100
rejects "sbx: --mtu: '99999999999' is not an MTU from 1280 to 65520" --mtu 99999999999
rejects "sbx: -p: '8080:80' needs the default network (--net slirp), not --net none" --net none -p 8080:80
rejects "sbx: --net: 'bridge' is not one of slirp, none, host" --net bridge

# The egress policy's options (tests/test-netpolicy.sh has the rest, as root).
rejects "sbx: --allow-net: 'privat': not a rule (the forms are CIDR[:PORTS][/tcp|/udp], NAME[:PORTS], *.NAME[:PORTS], private or host)" --allow-net privat
rejects "sbx: --deny-net: '192.0.2.0/33': the prefix of an IPv4 network is a length from 0 to 32" --deny-net 192.0.2.0/33
rejects "sbx: --allow-net: 'example.org:99999': a port is a number from 1 to 65535, a range LOW-HIGH" --allow-net example.org:99999
rejects "sbx: --allow-net: '127.0.0.1:80': the host's loopback is never reached at its own address; it is 10.0.2.2 inside (the rule 'host', with --allow-host-loopback)" --allow-net 127.0.0.1:80
rejects "sbx: --allow-net: 'host': the host is reached only with --allow-host-loopback (10.0.2.2 leads to its 127.0.0.1)" --allow-net host
rejects "sbx: --deny-net: cannot be enforced with --net host (the command uses the host's network; only the default network, --net slirp, goes through sbx-net)" --net host --deny-net private
rejects "sbx: --allow-net: means nothing with --net none (there is no network)" --net none --allow-net 192.0.2.0/24
rejects "sbx: --net-log: cannot log with --net host (the command uses the host's network; only the default network, --net slirp, goes through sbx-net)" --net host --net-log x.json

done_testing
