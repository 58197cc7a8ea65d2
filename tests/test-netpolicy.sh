#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-netpolicy.sh: the egress policy (--allow-net, --deny-net, --net-log),
# enforced by sbx-net, as the unprivileged account.
#
# Root makes a network namespace of the test's own: documentation addresses
# (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) and two private ones on
# its lo, servers on them (tests/helpers/netpolicy.py serve), a DNS server
# of the test's (tests/helpers/dns-server.py) on 192.0.2.53 named in the
# namespace's resolv.conf, a second one on 198.51.100.53 standing for a
# public resolver.  sbx runs inside it as the test account: the namespace
# has no route off its lo, so nothing the sandbox sends can leave the
# machine whatever the policy decides.
. "$(dirname "$0")/libtest.sh"
require_rootless
skip_unless_root "needs root to make a network namespace with servers and a resolver of its own"
command -v ip >/dev/null || skip_all "ip (iproute2) is not installed"
require_device /dev/net/tun

NS=sbx-netpolicy-$$
ip netns add "$NS" || skip_all "cannot make a network namespace (ip netns add)"
at_exit "ip netns pids $NS 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $NS; rm -rf /etc/netns/$NS"
in_ns () { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
for a in 192.0.2.1/24 198.51.100.1/24 10.99.0.1/24 169.254.169.254/32; do in_ns ip addr add "$a" dev lo; done
for a in 2001:db8::1 2001:db8::10 2001:db8::11 2001:db8::53; do in_ns ip -6 addr add "$a/128" dev lo nodad; done
mkdir -p "/etc/netns/$NS"
printf 'nameserver 192.0.2.53\noptions timeout:1 attempts:2\n' >"/etc/netns/$NS/resolv.conf"

PY=$TEST_DIR/netpolicy.py
DNS=$TEST_DIR/dns-server.py
RAW=$TEST_DIR/raw-syn.py
cp "$SBX_SOURCE_DIR/tests/helpers/netpolicy.py" "$PY"
cp "$SBX_SOURCE_DIR/tests/helpers/dns-server.py" "$DNS"
cp "$SBX_SOURCE_DIR/tests/helpers/raw-syn.py" "$RAW"
chmod 644 "$PY" "$DNS" "$RAW"

cat >"$TEST_DIR/zone" <<'EOF'
good.test.example     300 A     192.0.2.10
good.test.example     300 AAAA  2001:db8::10
bad.test.example      300 A     198.51.100.10
mixed.test.example    300 A     192.0.2.11
mixed.test.example    300 A     198.51.100.11
alias.test.example     60 CNAME step.cdn.example
step.cdn.example       60 CNAME edge.cdn.example
edge.cdn.example       30 A     192.0.2.12
tracked.test.example   60 CNAME pixel.tracker.example
pixel.tracker.example  60 A     192.0.2.13
short.test.example      0 A     192.0.2.14
quic.test.example     300 A     198.51.100.20
EOF
for i in $(seq 30 79); do echo "big.test.example 300 A 192.0.2.$i"; done >>"$TEST_DIR/zone"
echo "good.test.example 300 A 192.0.2.99" >"$TEST_DIR/zone2"

# servers, as root in the namespace (ports below 1024)
in_ns python3 "$DNS" 192.0.2.53 53 "$TEST_DIR/zone" "$TEST_DIR/queries" >"$TEST_DIR/dns.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
in_ns python3 "$DNS" 198.51.100.53 53 "$TEST_DIR/zone2" "$TEST_DIR/queries2" >"$TEST_DIR/dns2.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
in_ns python3 "$PY" serve "$TEST_DIR/hits" >"$TEST_DIR/serve.out" 2>&1 &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do
  grep -q ready "$TEST_DIR/dns.out" && grep -q ready "$TEST_DIR/dns2.out" && grep -q ready "$TEST_DIR/serve.out" && break
  sleep 0.05
done
grep -q ready "$TEST_DIR/serve.out" || skip_all "the servers in the namespace did not start: $(cat "$TEST_DIR"/*.out)"
touch "$TEST_DIR/queries" "$TEST_DIR/queries2" "$TEST_DIR/hits"
chmod 644 "$TEST_DIR/queries" "$TEST_DIR/queries2" "$TEST_DIR/hits"

# nsbx ARGS...: sbx as the account, in the namespace; stderr to $TEST_DIR/err.
nsbx () {
  in_ns setpriv --reuid="$SBX_TEST_USER" --regid="$SBX_TEST_USER" --init-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin HOME="$TEST_HOME" \
    USER="$SBX_TEST_USER" LOGNAME="$SBX_TEST_USER" XDG_RUNTIME_DIR="$TEST_RUNTIME" \
    XDG_DATA_HOME="$TEST_HOME/.local/share" XDG_CONFIG_HOME="$TEST_HOME/.config" LANG=C.UTF-8 \
    "$SBX" "$@" 2>"$TEST_DIR/err"
}
# inside OPTIONS -- MODE ARGS...: netpolicy.py MODE inside a sandbox;
# inside_sh OPTIONS -- SCRIPT: sh -c SCRIPT.
inside () {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  nsbx run "${opts[@]}" -- python3 "$PY" "$@"
}
inside_sh () {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  nsbx run "${opts[@]}" -- sh -c "$2"
}
err () { cat "$TEST_DIR/err"; }
queried () { grep -c " $1 " "$TEST_DIR/queries"; }

# --- without a policy, everything in the namespace answers ----------------------------------

out=$(inside -- http 198.51.100.10 80)
is "$out" "hello from 198.51.100.10:80" "no policy: 198.51.100.10 answers (the servers work)"
out=$(inside -- resolve bad.test.example)
is "$out" "198.51.100.10" "no policy: names resolve through the namespace's resolver"

# --- names ---------------------------------------------------------------------------------------

: >"$TEST_DIR/queries"
out=$(inside --allow-net good.test.example -- http good.test.example 80)
like "$out" "^hello from (192\.0\.2\.10|\[2001:db8::10\]):80$" "--allow-net NAME: the name resolves and its address answers"
out=$(inside --allow-net good.test.example -- resolve bad.test.example)
like "$out" "^error:" "... its sibling does not resolve"
like "$(err)" "^sbx: net: dns: denied name bad\.test\.example — not in --allow-net$" "... and sbx says so, naming the name"
is "$(queried bad.test.example)" "0" "... the denied name never reached the resolver"
out=$(inside --allow-net good.test.example -- connect 198.51.100.10 80)
like "$out" "^refused in [01]\.[0-9]+ s$" "... nor is its sibling's address reachable: refused at once (ECONNREFUSED in under 2 s, not a timeout)"
like "$(err)" "^sbx: net: denied tcp 198\.51\.100\.10:80 — not in --allow-net$" "... said as: sbx: net: denied tcp 198.51.100.10:80 — not in --allow-net"
out=$(inside_sh --allow-net good.test.example -- "python3 $PY resolve good.test.example >/dev/null; python3 $PY http 2001:db8::10 80")
is "$out" "hello from [2001:db8::10]:80" "IPv6: the name's AAAA address is pinned too"
out=$(inside --allow-net good.test.example -- http 2001:db8::11 80)
is "$out" "error: ECONNREFUSED" "IPv6: another address is refused"
like "$(err)" "denied tcp \[2001:db8::11\]:80" "... and named in brackets"

out=$(inside --allow-net '*.test.example' -- resolve good.test.example)
like "$out" "192\.0\.2\.10" "--allow-net '*.NAME': a name below it resolves"
out=$(inside --allow-net '*.test.example' -- resolve test.example)
like "$out" "^error:" "... NAME itself does not"
out=$(inside --allow-net mixed.test.example --deny-net 198.51.100.0/24 -- each mixed.test.example 80)
is "$out" "192.0.2.11 ok
198.51.100.11 refused" "a name with an allowed and a denied address: the first answers, the second is refused"
like "$(err)" "denied tcp 198\.51\.100\.11:80 \(mixed\.test\.example\) — --deny-net 198\.51\.100\.0/24" "... the message names the name and the deny rule"
out=$(inside --allow-net alias.test.example -- http alias.test.example 80)
is "$out" "hello from 192.0.2.12:80" "a CNAME chain is followed: the end's address is pinned for the name asked"
out=$(inside --allow-net '*.test.example' --deny-net '*.tracker.example' -- resolve tracked.test.example)
like "$out" "^error:" "a --deny-net on a name of the CNAME chain denies the answer"
like "$(err)" "dns: denied name tracked\.test\.example — --deny-net \*\.tracker\.example" "... and says which rule"
out=$(inside_sh --allow-net good.test.example:8080 -- "python3 $PY connect good.test.example 8080; python3 $PY connect good.test.example 80")
like "$out" "^connected .*
refused " "NAME:PORT: the pinned address on that port only"
out=$(inside_sh --allow-net short.test.example -- "python3 $PY resolve short.test.example; sleep 2; python3 $PY http 192.0.2.14 80")
is "$out" "192.0.2.14
hello from 192.0.2.14:80" "a TTL of 0 still pins the address for a few seconds"

# DNS over TCP: a truncated answer makes the resolver ask again over TCP.
: >"$TEST_DIR/queries"
out=$(inside --allow-net big.test.example -- resolve big.test.example)
like "$out" "192\.0\.2\.30 .*192\.0\.2\.79" "an answer too big for UDP comes over TCP from sbx-net (50 addresses)"
check "... which asked the resolver over TCP" grep -q '^tcp big.test.example 1$' "$TEST_DIR/queries"
out=$(inside_sh --allow-net big.test.example -- "python3 $PY resolve big.test.example >/dev/null; python3 $PY http 192.0.2.79 80")
is "$out" "hello from 192.0.2.79:80" "... and the addresses of that answer are pinned"
out=$(inside_sh --allow-net good.test.example -- "python3 $PY dns-tcp 10.0.2.3 good.test.example; python3 $PY dns-tcp 10.0.2.3 bad.test.example")
is "$out" "rcode=0 answers=1
rcode=3 answers=0" "DNS over TCP to 10.0.2.3: the allowed name answered, the other NXDOMAIN"
out=$(inside --allow-net good.test.example -- dns-udp fd00::3 bad.test.example)
is "$out" "rcode=3 answers=0" "DNS to fd00::3 is answered the same"

# --- addresses, ports, protocols --------------------------------------------------------------

out=$(inside_sh --allow-net 192.0.2.0/24:8000-8100/tcp -- "for p in 8080 80 8443; do python3 $PY connect 192.0.2.5 \$p; done")
like "$out" "^connected .*
refused .*
refused " "CIDR:LO-HI/tcp: a port in the range connects, ports outside are refused"
out=$(inside_sh --allow-net 198.51.100.0/24:5353/udp -- "python3 $PY udp 198.51.100.7 5353 10; python3 $PY udp 192.0.2.7 5353 10")
is "$out" "echo 198.51.100.7:5353
error: EHOSTUNREACH" "UDP: the allowed port answers, another address gets 'administratively prohibited' (EHOSTUNREACH)"
like "$(err)" "denied udp 192\.0\.2\.7:5353 — not in --allow-net" "... said"
out=$(inside_sh --allow-net 2001:db8::/32/udp -- "python3 $PY udp 2001:db8::10 443 10; python3 $PY connect 2001:db8::10 443")
like "$out" "^echo \[2001:db8::10\]:443
refused " "IPv6 CIDR/udp: UDP goes, TCP to the same address is refused"
out=$(inside_sh --allow-net 192.0.2.0/24 --deny-net 192.0.2.128/25 -- "python3 $PY http 192.0.2.5 80; python3 $PY http 192.0.2.200 80")
is "$out" "hello from 192.0.2.5:80
error: ECONNREFUSED" "deny wins over allow"
like "$(err)" "denied tcp 192\.0\.2\.200:80 — --deny-net 192\.0\.2\.128/25" "... and the message names the deny rule"

# presets
out=$(inside_sh --deny-net private -- "python3 $PY http 192.0.2.5 80; python3 $PY http 10.99.0.7 80; python3 $PY http 169.254.169.254 80")
is "$out" "hello from 192.0.2.5:80
error: ECONNREFUSED
error: ECONNREFUSED" "--deny-net private: the LAN and the metadata address 169.254.169.254 are refused, the rest goes"
like "$(err)" "denied tcp 169\.254\.169\.254:80 — --deny-net private" "... said with the preset's name"
out=$(inside_sh --allow-net private -- "python3 $PY http 10.99.0.7 80; python3 $PY http 192.0.2.5 80")
is "$out" "hello from 10.99.0.7:80
error: ECONNREFUSED" "--allow-net private: only private addresses"
out=$(inside_sh --allow-host-loopback --allow-net host:80 -- "python3 $PY http 10.0.2.2 80; python3 $PY http 10.0.2.2 8080; python3 $PY http 192.0.2.5 80")
is "$out" "hello from 127.0.0.1:80
error: ECONNREFUSED
error: ECONNREFUSED" "--allow-net host:80 (with --allow-host-loopback): the host's loopback on that port, nothing else"

# --- the sandbox tries to get around it -----------------------------------------------------------

: >"$TEST_DIR/queries2"
out=$(inside_sh --allow-net good.test.example -- "python3 $PY dns-udp 198.51.100.53 good.test.example; python3 $PY dns-tcp 198.51.100.53 good.test.example; python3 $PY dns-udp 8.8.8.8 good.test.example")
is "$out" "error: EHOSTUNREACH
error: ECONNREFUSED
error: EHOSTUNREACH" "DNS to another server (UDP, TCP, 8.8.8.8) is traffic under the rules: denied"
is "$(wc -l <"$TEST_DIR/queries2")" "0" "... nothing reached the other resolver"
out=$(inside --allow-net good.test.example -- udp 198.51.100.20 443 1200)
is "$out" "error: EHOSTUNREACH" "QUIC (UDP to 443) to an address no rule allows: denied"

: >"$TEST_DIR/hits"
out=$(inside_sh --map-root --cap-add ALL --allow-net good.test.example -- "
  ip route add 198.51.100.0/24 dev tap0; ip addr add 198.51.100.200/24 dev tap0
  python3 $PY connect 198.51.100.10 80
  ip -6 addr add 2001:db8::200/64 dev tap0 nodad; ip -6 route add 2001:db8::/32 dev tap0
  python3 $PY connect 2001:db8::11 80
  python3 $RAW 198.51.100.10 80; python3 $RAW 2001:db8::11 443; sleep 0.5")
like "$out" "^refused .*
refused .*
sent
sent$" "--cap-add ALL: its own addresses and routes on tap0, raw SYNs on tap0: refused or dropped"
is "$(cat "$TEST_DIR/hits")" "" "... no connection reached a server"
: >"$TEST_DIR/hits"
out=$(inside_sh --map-root --cap-add ALL --deny-net 198.51.100.0/24 -- "python3 $RAW ::ffff:198.51.100.10 80; python3 $RAW 64:ff9b::198.51.100.10 80; sleep 0.5")
is "$(cat "$TEST_DIR/hits")" "" "a raw SYN to ::ffff:198.51.100.10 (IPv4-mapped) or the NAT64 form is judged as 198.51.100.10: denied"
: >"$TEST_DIR/hits"
out=$(inside_sh --mtu 1500 --allow-net 198.51.100.7 -- "python3 $PY udp 198.51.100.7 5353 4000; python3 $PY udp 198.51.100.8 5353 4000")
is "$out" "echo 198.51.100.7:5353
error: EHOSTUNREACH" "a datagram in fragments (4000 bytes over --mtu 1500) is reassembled, then decided"
is "$(cat "$TEST_DIR/hits")" "udp 198.51.100.7:5353 4000" "... only the allowed one arrived, whole"

# --- what is said ---------------------------------------------------------------------------------

out=$(inside_sh --allow-net good.test.example -- "for i in 1 2 3 4 5; do python3 $PY connect 198.51.100.10 80; done >/dev/null; python3 $PY connect 198.51.100.10 443 >/dev/null")
is "$(err | grep -c '^sbx: net: denied tcp 198.51.100.10:80 ')" "1" "a destination tried five times is said once"
is "$(err | grep -c '^sbx: net: denied tcp 198.51.100.10:443 ')" "1" "... another port is another line"
out=$(inside --allow-net good.test.example -- connect-many 198.51.100.10 1000 1100)
is "$out" "101" "101 denied connections within a moment, each refused"
lines=$(err | grep -c '^sbx: net: denied')
if [ "$lines" -ge 10 ] && [ "$lines" -le 30 ]; then
  ok "... and said in rate-limited lines ($lines lines)"
else
  not_ok "... and said in rate-limited lines"
  diag "$lines lines"
fi

LOG=$TEST_DIR/log.json
rm -f "$LOG"
out=$(inside_sh --allow-net good.test.example --net-log "$LOG" -- "python3 $PY http good.test.example 80; python3 $PY resolve bad.test.example; python3 $PY connect 198.51.100.10 80")
check "--net-log FILE is made, mode 0600, owned by the caller" test "$(stat -c '%a %U' "$LOG")" = "600 $SBX_TEST_USER"
summary=$(python3 - "$LOG" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert e["time"].endswith("Z"), e
    if e["event"] == "dns":
        print("dns", e["proto"], e["name"], e["type"], e["rcode"], ",".join(e["answers"]), e["verdict"], e["rule"])
    else:
        print("connect", e["proto"], e["dst"], e["port"], e["name"], e["verdict"], e["rule"])
PY
)
like "$summary" "dns udp good\.test\.example A NOERROR 192\.0\.2\.10 allow --allow-net good\.test\.example" "the JSON log: the allowed name's answer, its addresses, the rule"
like "$summary" "connect tcp (192\.0\.2\.10|2001:db8::10) 80 good\.test\.example allow --allow-net good\.test\.example" "... the connection to it, with the name"
like "$summary" "dns udp bad\.test\.example A NXDOMAIN  deny None" "... the denied name"
like "$summary" "connect tcp 198\.51\.100\.10 80 (None|bad\.test\.example) deny None" "... the denied connection"

rm -f "$LOG"
out=$(inside_sh --net-log "$LOG" -- "python3 $PY http bad.test.example 80; python3 $PY udp quic.test.example 443 100")
is "$out" "hello from 198.51.100.10:80
echo 198.51.100.20:443" "learning mode (--net-log, no rules): everything goes"
learned=$(python3 -c "
import json, sys
seen = set()
for line in open('$LOG'):
    e = json.loads(line)
    assert e['verdict'] == 'allow' and e['rule'] is None
    if e['event'] == 'connect': seen.add('%s %s:%s %s' % (e['proto'], e['dst'], e['port'], e['name']))
print(sorted(seen))")
is "$learned" "['tcp 198.51.100.10:80 bad.test.example', 'udp 198.51.100.20:443 quic.test.example']" "... and the log lists each destination with its name: a profile's --allow-net in the making"
is "$(err)" "" "... with nothing on stderr"

# --- profiles, ps ---------------------------------------------------------------------------------

mkdir -p "$TEST_HOME/.config/sbx"
cat >"$TEST_HOME/.config/sbx/egress.conf" <<'EOF'
[run]
allow-net=good.test.example;192.0.2.0/24:8080
deny-net=192.0.2.10
EOF
chown -R "$SBX_TEST_USER:" "$TEST_HOME/.config"
out=$(inside_sh --profile egress -- "python3 $PY http 192.0.2.5 8080; python3 $PY http 192.0.2.5 80; python3 $PY each good.test.example 80")
is "$out" "hello from 192.0.2.5:8080
error: ECONNREFUSED
192.0.2.10 refused
2001:db8::10 ok" "profile keys allow-net= and deny-net= (lists) work as the options"

nsbx run --name policed --allow-net good.test.example --deny-net private -- sleep 30 &
named=$!
for _ in $(seq 100); do sbx ps | grep -q '^policed ' && break; sleep 0.05; done
like "$(sbx ps | grep '^policed ')" " slirp\+policy " "sbx ps marks a sandbox under a policy (NET slirp+policy)"
json=$(sbx ps --json | python3 -c "import json, sys; s = [x for x in json.load(sys.stdin) if x['name'] == 'policed'][0]; print(s['allow_net'], s['deny_net'], s['net_log'])")
is "$json" "['good.test.example'] ['private'] None" "sbx ps --json lists the rules"
sbx stop policed >/dev/null 2>&1
wait "$named" 2>/dev/null

# --- refusals -------------------------------------------------------------------------------------

out=$(nsbx run --net host --allow-net good.test.example -- true 2>&1); rc=$?
is "$rc" "125" "--net host with a rule: 125"
like "$(err)" "^sbx: --allow-net: cannot be enforced with --net host" "... saying it cannot be enforced"

done_testing
