#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-profile.sh: `sbx run --profile NAME` (sbx.conf(5)): a profile's values
# reach the sandbox, the command line wins, repeatable options merge
# (profile first), a bad profile is refused with PATH:LINE, and the shipped
# profiles work.
. "$(dirname "$0")/libtest.sh"
require_rootless

conf=$TEST_HOME/.config/sbx
as_user mkdir -p "$conf" "$TEST_DIR/work"
src=${SBX_SOURCE_DIR:?}

# profile NAME LINE...: writes $conf/NAME.conf as the test account.
profile () {
  local name=$1
  shift
  printf '%s\n' "$@" | as_user tee "$conf/$name.conf" >/dev/null
}

# in_work COMMAND...: runs COMMAND (sbx ...) from $TEST_DIR/work.
in_work () { (cd "$TEST_DIR/work" && "$@"); }

before=$(snapshot_host)

# --- a profile's values reach the sandbox ------------------------------------------

profile basic '# a comment' '[run]' 'hostname=from-profile' 'net=none' 'env=A=1;B=2' 'map-root=true'
out=$(sbx run --profile basic -- sh -c 'hostname; echo "$A $B"; id -u; ls /sys/class/net | tr "\n" " "' 2>&1)
is "$out" "from-profile
1 2
0
lo " "hostname, env list, map-root and net from the profile show inside"

profile flags '[run]' 'map-root=false' 'clearenv=true' 'env=KEEP=yes'
is "$(sbx run --profile flags --net none -- sh -c 'id -u; echo "${HOME:-unset} $KEEP"')" \
  "$(test_uid)
unset yes" "a flag set to false stays off; clearenv=true clears"
# The command line's words, for every on/off key (issue 15).
profile words '[run]' 'map-root=yes' 'clearenv=0' 'net=none'
is "$(sbx run --profile words -- sh -c 'id -u; echo "${HOME:+home}"')" "0
home" "on/off keys take yes and 0 as the command line does"
is "$(sbx run --profile words --map-root=false -- id -u)" "$(test_uid)" \
  "--map-root=false on the command line undoes a profile's map-root"

# --- the command line wins -------------------------------------------------------------

is "$(sbx run --hostname cli --profile basic -- hostname)" "cli" \
  "a single-valued option before --profile overrides the profile"
is "$(sbx run --profile basic --hostname cli -- hostname)" "cli" \
  "a single-valued option after --profile overrides the profile"
like "$(sbx run --profile basic --net slirp -- ls /sys/class/net | tr '\n' ' ')" "tap0" \
  "--net slirp on the command line overrides net=none"

# --- repeatable options: the profile's first, then the command line's ----------------------

is "$(sbx run --profile basic -e B=3 -e C=4 -- sh -c 'echo "$A $B $C"')" "1 3 4" \
  "env: the profile's entries, then the command line's (later wins)"
as_user mkdir -p "$TEST_DIR/b1" "$TEST_DIR/b2" "$TEST_DIR/b3"
as_user touch "$TEST_DIR/b1/one" "$TEST_DIR/b2/two" "$TEST_DIR/b3/three"
profile mounts '[run]' 'net=none' 'tmpfs=/data' "bind=$TEST_DIR/b1:/data/b1;$TEST_DIR/b2:/data/b2;"
out=$(sbx run --profile mounts --bind "$TEST_DIR/b3:/data/b1/b3" -- sh -c 'ls /data/b1 /data/b2 /data/b1/b3' 2>&1)
is "$out" "/data/b1:
b3
one

/data/b1/b3:
three

/data/b2:
two" "mounts: the profile's tmpfs and bind list first, the command line's bind stacks on them"

# bind=. is the current directory where sbx runs.
profile here '[run]' 'net=none' 'bind=.'
in_work sbx run --profile here -- touch made-inside
check "bind=. binds the current directory (a write inside lands on the host)" \
  test -e "$TEST_DIR/work/made-inside"

# --- the shipped profiles -------------------------------------------------------------------

as_user cp "$src/profiles/build.conf" "$src/profiles/untrusted.conf" "$conf/"
out=$(in_work sbx run --profile build -- sh -c 'id -u; touch built; ls /sys/class/net | tr "\n" " "' 2>&1)
is "$out" "0
lo tap0 " "profiles/build.conf: root inside, the network on"
check "profiles/build.conf binds the current directory" test -e "$TEST_DIR/work/built"
is "$(stat -c %u "$TEST_DIR/work/built")" "$(test_uid)" \
  "profiles/build.conf: a file written inside belongs to the caller on the host"

# untrusted.conf without its limits (they need a systemd user manager).
grep -Ev '^(memory|pids-limit|cpus)=' "$src/profiles/untrusted.conf" | as_user tee "$conf/nolimits.conf" >/dev/null
out=$(in_work sbx run --map-root --profile nolimits -- sh -c '
  ls /sys/class/net; ls -A /home | wc -l; echo "$PATH $HOME"; grep ^CapEff /proc/self/status' 2>&1)
is "$out" "lo
0
/usr/local/bin:/usr/bin:/bin /tmp
CapEff:	0000000000000000" "profiles/untrusted.conf: no network, empty /home, clean env, no capabilities"
out=$(sbx run --profile untrusted -- true 2>&1); rc=$?
if [ "$rc" = 0 ]; then
  ok "profiles/untrusted.conf runs (a user manager with delegated controllers is here)"
else
  is "$rc:$(printf '%s\n' "$out" | grep -c 'untrusted.conf')" "125:0" \
    "profiles/untrusted.conf parses; only its limits fail without a user manager"
  diag "$out"
fi

# --- bad profiles ---------------------------------------------------------------------------

# bad_profile WANT ARGS...: sbx run ARGS fails with 125 and the one line WANT.
bad_profile () {
  local want=$1 out rc
  shift
  out=$(sbx run "$@" -- true 2>&1 >/dev/null); rc=$?
  if [ "$rc" = 125 ] && [ "$out" = "$want" ]; then
    ok "refused: $want"
  else
    not_ok "refused: $want"
    diag "rc=$rc" "$out"
  fi
}
p=$conf
profile unknown '[run]' '# comment' 'net=none' 'frob = 1'
bad_profile "sbx: $p/unknown.conf:4: frob: unknown key (the keys are the long options of sbx run)" --profile unknown
profile badnet '' '[run]' 'hostname=x' 'net=bogus'
bad_profile "sbx: $p/badnet.conf:4: net: 'bogus' is not one of slirp, none, host" --profile badnet
profile badbind '[run]' 'bind=/tmp;/a:/b:/c'
bad_profile "sbx: $p/badbind.conf:2: bind: '/a:/b:/c' is not SRC[:DST][:ro] (':' in a path is not supported)" --profile badbind
profile badflag '[run]' 'map-root=maybe'
bad_profile "sbx: $p/badflag.conf:2: map-root: 'maybe' is not one of true, false, yes, no, 1, 0" --profile badflag
profile badswitch '[run]' 'no-pty=maybe'
bad_profile "sbx: $p/badswitch.conf:2: no-pty: 'maybe' is not one of true, false, yes, no, 1, 0" --profile badswitch
profile badcap '[run]' 'cap-add=CHOWN;NOPE'
bad_profile "sbx: $p/badcap.conf:2: cap-add: 'NOPE' is not a capability (see capabilities(7), or ALL)" --profile badcap
profile badport '[run]' 'publish=8080'
bad_profile "sbx: $p/badport.conf:2: publish: '8080' is not [HOSTIP:]HOSTPORT:PORT (a lone port is not enough)" --profile badport
profile badgroup '[run]' 'net=none' '[Run]' 'net=none'
bad_profile "sbx: $p/badgroup.conf:3: [Run]: unknown group (a profile has only [run])" --profile badgroup
profile nested '[run]' 'profile=basic'
bad_profile "sbx: $p/nested.conf:2: profile: a profile cannot load another profile" --profile nested
profile dup '[run]' 'hostname=ok' 'hostname=-bad'
bad_profile "sbx: $p/dup.conf:3: hostname: given twice (first on line 2); a repeatable key takes a list separated by ';'" --profile dup
profile badrule '[run]' 'allow-net=pypi.org:443;privat'
bad_profile "sbx: $p/badrule.conf:2: allow-net: 'privat': not a rule (the forms are CIDR[:PORTS][/tcp|/udp], NAME[:PORTS], *.NAME[:PORTS], private or host)" --profile badrule
profile badnetlog '[run]' 'net=none' 'net-log=x.json'
bad_profile "sbx: $p/badnetlog.conf:3: net-log: means nothing with --net none (there is no network)" --profile badnetlog
profile syntax '[run]' 'junk'
bad_profile "sbx: $p/syntax.conf:2: 'junk' is not key=value, a [group] header or a # comment" --profile syntax
bad_profile "sbx: --profile: $p/missing.conf: No such file or directory (example profiles are in $(
  sed -n 's/.*SBX_PROFILES_DIR "\(.*\)"/\1/p' "${SBX_BUILD_DIR:?}/config.h"))" --profile missing

# bad_name NAME: --profile NAME is a usage error naming the value.
bad_name () {
  local out rc
  out=$(sbx run --profile "$1" -- true 2>&1); rc=$?
  is "$rc|$out" "125|sbx: --profile: '$1' is not a profile name (a file name in \$XDG_CONFIG_HOME/sbx without '.conf', not starting with '.', without '/')
Try 'sbx run --help' for more information." "--profile '$1' is refused (no paths)"
}
as_user cp "$conf/basic.conf" "$TEST_DIR/outside.conf"
bad_name ../../outside
bad_name "$TEST_DIR/outside"
bad_name sub/basic
bad_name .hidden
bad_name ""
out=$(sbx run --profile basic --net bogus -- true 2>&1); rc=$?
is "$rc|$(printf '%s\n' "$out" | head -1)" "125|sbx: --net: 'bogus' is not one of slirp, none, host" \
  "a bad command-line value is still a usage error with a profile"

after=$(snapshot_host)
is "$after" "$before" "profiles leave no process or mount behind"

done_testing
