#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-run.sh: `sbx run` identity, namespaces, PID 1 and the process model,
# checked from inside the sandbox, as the unprivileged account.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
gid=$(test_gid)
read -r substart subcount < <(subid_range /etc/subuid)
read -r gsubstart gsubcount < <(subid_range /etc/subgid)

# --- identity -----------------------------------------------------------------

is "$(sbx run -- id -u)" "$uid" "keep-id: id -u inside is the caller's uid"
is "$(sbx run -- id -g)" "$gid" "keep-id: id -g inside is the caller's gid"

map=$(sbx run -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')
like "$map" "^$uid $uid 1" "keep-id: uid_map has 'UID UID 1'"
like "$map" "^0 $substart " "keep-id: uid 0 inside comes from the subordinate range"
total=$(printf '%s\n' "$map" | awk '{ n += $3 } END { print n }')
is "$total" "$((subcount + 1))" "keep-id: the whole subordinate range is mapped besides the caller"
map=$(sbx run -- cat /proc/self/gid_map | awk '{print $1, $2, $3}')
like "$map" "^$gid $gid 1" "keep-id: gid_map has 'GID GID 1'"

map=$(sbx run --map-root -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')
is "$map" "0 $uid 1
1 $substart $subcount" "--map-root: uid_map is '0 UID 1' and '1 SUBSTART COUNT'"
map=$(sbx run --map-root -- cat /proc/self/gid_map | awk '{print $1, $2, $3}')
is "$map" "0 $gid 1
1 $gsubstart $gsubcount" "--map-root: gid_map is '0 GID 1' and '1 SUBSTART COUNT'"
is "$(sbx run --map-root -- id -u)" "0" "--map-root: id -u inside is 0"

out=$(sbx run --no-subids -- sh -c 'cat /proc/self/uid_map; cat /proc/self/setgroups' 2>&1 | awk '{print $1, $2, $3}')
is "$out" "$uid $uid 1
deny  " "--no-subids: a single line and setgroups deny, no warning"

# Files the sandbox writes into a bind belong to the caller on the host.
as_user mkdir -p shared
out=$(sbx run --bind "$TEST_DIR/shared" -- sh -c "echo hi > '$TEST_DIR/shared/keep'; echo done")
is "$out" "done" "a write into a --bind succeeds"
is "$(stat -c %u:%g shared/keep)" "$uid:$gid" "a file written into a --bind is owned by the caller on the host"
sbx run --map-root --bind "$TEST_DIR/shared" -- sh -c "echo hi > '$TEST_DIR/shared/root'"
is "$(stat -c %u:%g shared/root)" "$uid:$gid" "with --map-root, root's files in a --bind are the caller's on the host"

# --- namespaces ------------------------------------------------------------------

ns_list="user pid mnt net uts ipc cgroup time"
host_ns=$(as_user sh -c "for n in $ns_list; do readlink /proc/self/ns/\$n; done")
in_ns=$(sbx run --monotonic 10 -- sh -c "for n in $ns_list; do readlink /proc/self/ns/\$n; done")
for n in $ns_list; do
  h=$(printf '%s\n' "$host_ns" | grep "^$n:")
  i=$(printf '%s\n' "$in_ns" | grep "^$n:")
  if [ -n "$i" ] && [ "$h" != "$i" ]; then ok "own $n namespace ($i)"; else not_ok "own $n namespace (host $h, inside $i)"; fi
done
in_net=$(sbx run --net host -- readlink /proc/self/ns/net)
is "$in_net" "$(printf '%s\n' "$host_ns" | grep '^net:')" "--net host keeps the host's network namespace"

host_up=$(awk '{print int($1)}' /proc/uptime)
in_up=$(sbx run --boottime 86400 -- awk '{print int($1)}' /proc/uptime)
if [ $((in_up - host_up)) -ge 86390 ] && [ $((in_up - host_up)) -le 86410 ]; then
  ok "--boottime 86400 moves the uptime inside by a day"
else
  not_ok "--boottime 86400 moves the uptime inside by a day (host $host_up, inside $in_up)"
fi
mono=$(sbx run --monotonic 5000 -- python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC)))')
host_mono=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC)))')
if [ $((mono - host_mono)) -ge 4990 ] && [ $((mono - host_mono)) -le 5010 ]; then
  ok "--monotonic 5000 moves CLOCK_MONOTONIC inside"
else
  not_ok "--monotonic 5000 moves CLOCK_MONOTONIC inside (host $host_mono, inside $mono)"
fi

# --- PID 1 and the PID namespace -------------------------------------------------------

is "$(sbx run -- sh -c 'echo $$')" "2" "the command is PID 2"
out=$(sbx run -- ps -e -o pid=,comm= | awk '{print $1, $2}')
is "$out" "1 sbx-init
2 ps" "ps -e inside lists only sandbox processes (PID 1 is sbx-init)"
# A process of the account itself, which only the PID namespace keeps out
# of reach (a process of root's could not be signalled anyway).
background host_pid sleep 300
wait_comm "$host_pid" sleep
check "the account's own host process can be signalled outside" as_user kill -0 "$host_pid"
out=$(sbx run -- sh -c "kill -0 $host_pid 2>&1; echo rc=\$?" | tr '\n' ' ')
like "$out" "No such process.*rc=1" "... but not from inside (its pid does not exist there)"
# Orphans are reaped by PID 1: a grandchild whose parent exits must not stay a zombie.
out=$(sbx run -- sh -c '(sleep 0.2 &) ; sleep 0.5; ps -e -o stat=,comm= | grep -c "^Z" || true')
is "$out" "0" "PID 1 reaps orphaned children (no zombies)"

# --- sessions ----------------------------------------------------------------------

is "$(sbx run -- python3 -c 'import os; print(os.getsid(0) == os.getpid())')" "True" \
  "the command leads a new session by default"
is "$(sbx run --share-tty -- python3 -c 'import os; print(os.getsid(0))')" "0" \
  "--share-tty keeps the caller's session (its leader is outside)"

# --- uts, env, workdir -----------------------------------------------------------------

is "$(sbx run --hostname box-1 -- hostname)" "box-1" "--hostname sets the hostname inside"
# (That the host keeps its name is checked in test-root.sh: only root could
# change it.)
is "$(sbx run -- hostname)" "$(hostname)" "without --hostname the host's name is kept"

out=$(as_user env FOO=outer "$SBX" run -e BAR=1 -e FOO=inner -- sh -c 'echo $FOO $BAR')
is "$out" "inner 1" "-e sets and overrides variables"
# Root's PATH for --map-root when the caller's (a desktop's) has no sbin.
desktop=/usr/local/bin:/usr/bin:/bin
root_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
is "$(as_user env PATH=$desktop "$SBX" run --map-root -- sh -c 'echo $PATH; command -v ldconfig')" \
  "$root_path
/usr/sbin/ldconfig" "--map-root with a PATH without sbin: root's PATH inside (ldconfig found)"
is "$(as_user env PATH=$desktop "$SBX" run -- sh -c 'echo $PATH')" "$desktop" \
  "keep-id keeps the caller's PATH"
is "$(as_user env PATH=/opt/x/sbin:$desktop "$SBX" run --map-root -- sh -c 'echo $PATH')" \
  "/opt/x/sbin:$desktop" "--map-root keeps a PATH that has an sbin directory"
is "$(as_user env PATH=$desktop "$SBX" run --map-root -e PATH=/bin:/usr/bin -- sh -c 'echo $PATH')" \
  "/bin:/usr/bin" "-e PATH=... wins over root's PATH"

out=$(as_user env FOO=outer "$SBX" run --clearenv -e ONLY=1 -- /usr/bin/env | sort | tr '\n' ' ')
is "$out" "ONLY=1 PWD=$TEST_DIR " "--clearenv leaves only -e variables and PWD"
out=$(as_user env FOO=passed "$SBX" run --clearenv -e FOO -- /usr/bin/env | grep FOO)
is "$out" "FOO=passed" "-e KEY passes the caller's value"

is "$(sbx run -- pwd)" "$TEST_DIR" "the working directory defaults to the caller's cwd"
is "$(sbx run -w /usr/share -- pwd)" "/usr/share" "-w sets the working directory"
is "$(sbx run --workdir=/etc -- pwd)" "/etc" "--workdir=DIR works too"
out=$(as_user sh -c "mkdir -p /tmp/gone-$$ && cd /tmp/gone-$$ && '$SBX' run -- pwd" 2>&1)
rmdir "/tmp/gone-$$" 2>/dev/null
is "$out" "sbx: warning: /tmp/gone-$$ does not exist inside the sandbox; starting in /
/" "a cwd missing inside (under /tmp) gives one warning line and starts in /"

done_testing
