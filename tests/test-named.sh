#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-named.sh: named sandboxes without a daemon: run --name, ps, exec, stop,
# rm, diff, as the unprivileged account.
. "$(dirname "$0")/libtest.sh"
require_rootless

# start NAME ARGS...: starts `sbx run --name NAME ARGS` in the background and
# waits until ps lists it running.
start () {
  local name=$1
  shift
  as_user "$SBX" run --name "$name" "$@" >"$TEST_DIR/$name.out" 2>&1 &
  for _ in $(seq 200); do
    sbx ps | grep -q "^$name .* running " && return 0
    sleep 0.02
  done
  return 1
}

# --- lifecycle --------------------------------------------------------------------

check "run --name starts a named sandbox that ps lists as running" start web --hostname web1 -- sleep 600
out=$(sbx ps)
like "$(printf '%s\n' "$out" | head -1)" "^NAME +PID +STATUS +UPTIME +COMMAND +NET +PORTS +LIMITS$" "ps prints the table header"
like "$out" "web +[0-9]+ +running +[0-9]+s +sleep 600 " "ps shows name, pid, status, uptime and command"
json=$(sbx ps --json)
check "ps --json is valid JSON" sh -c "printf '%s' '$json' | python3 -m json.tool >/dev/null"
is "$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["name"], d[0]["status"], d[0]["command"])')" \
  "web running ['sleep', '600']" "ps --json carries name, status and command"

is "$(sbx exec web -- hostname)" "web1" "exec sees the sandbox's hostname"
is "$(sbx exec web -- ps -e -o pid=,comm= | head -2 | awk '{print $1, $2}')" "1 sbx-init
2 sleep" "exec sees the sandbox's PID namespace (its command is PID 2)"
is "$(sbx exec web -- cat /proc/self/uid_map)" "$(sbx exec web -- cat /proc/1/uid_map)" "exec has the sandbox's uid_map"
is "$(sbx exec web -- readlink /proc/self/ns/mnt /proc/self/ns/net /proc/self/ns/user /proc/self/ns/time | tr '\n' ' ')" \
   "$(sbx exec web -- readlink /proc/2/ns/mnt /proc/2/ns/net /proc/2/ns/user /proc/2/ns/time | tr '\n' ' ')" \
   "exec joins the command's mount, net, user and time namespaces"
is "$(sbx exec web -- sh -c 'echo x > /tmp/shared-file; cat /tmp/shared-file')" "x" "exec writes into the sandbox's /tmp"
is "$(sbx exec web -- cat /tmp/shared-file)" "x" "a second exec sees files the first wrote"
is "$(sbx exec web -- id -u)" "$(test_uid)" "exec runs as the caller's uid inside"
is "$(sbx exec web -- sh -c 'exit 7'; echo $?)" "7" "exec passes the exit status through"
is "$(sbx exec web -- no-such-cmd-sbx 2>&1; echo $?)" "sbx: cannot run 'no-such-cmd-sbx': No such file or directory
127" "exec: a missing command gives 127"
is "$(sbx exec -e FOO=bar web -- sh -c 'echo $FOO')" "bar" "exec -e sets variables"
is "$(sbx exec -w /usr web -- pwd)" "/usr" "exec -w sets the working directory"
caps=$(sbx exec web -- grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status | awk '{print $2}' | sort -u)
is "$caps" "0000000000000000" "exec in a keep-id sandbox has no capabilities (effective, permitted, bounding, ambient)"
is "$(sbx exec web -- grep NoNewPrivs /proc/self/status | awk '{print $2}')" "1" "exec sets no_new_privs"

out=$(sbx run --name web -- true 2>&1); rc=$?
is "$rc:$out" "125:sbx: --name web: a sandbox named web is already running" "a name in use by a running sandbox is refused"

# --map-root: exec gets the same (reduced) set as the sandbox's command, no more.
check "a --map-root sandbox starts" start rooty --map-root -- sleep 600
want=$(sbx exec rooty -- awk '/^CapBnd/ {print $2}' /proc/2/status)
is "$(sbx exec rooty -- awk '/^CapEff/ {print $2}' /proc/self/status)" "$want" "exec in --map-root gets the command's capability set"
out=$(sbx exec rooty -- sh -c 'mount -t tmpfs x /mnt 2>&1; echo rc=$?')
like "$out" "permission denied" "exec in --map-root cannot mount (no CAP_SYS_ADMIN)"
like "$out" "^rc=(1|32)$" "... and mount fails"

# --- stop -----------------------------------------------------------------------------

sbx stop web
rc=$?
is "$rc" "0" "stop exits 0"
unlike "$(sbx ps)" "^web " "after stop, ps no longer lists it"
wait_gone "$(pgrep -u "$(test_uid)" -f 'sleep 600' | head -1)" 1 >/dev/null
check "start a sandbox that ignores SIGTERM" start stubborn -- sh -c "trap '' TERM; while :; do sleep 0.1; done"
t0=$(date +%s%N)
sbx stop --time 1 stubborn
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -ge 900 ]; then ok "stop --time 1 waits the grace time before SIGKILL"; else not_ok "stop --time 1 returned after ${ms} ms"; fi
unlike "$(sbx ps)" "^stubborn " "... and the sandbox is gone"
out=$(sbx stop --time=-1 rooty 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --time: '-1' is not a number of seconds" "stop --time rejects a negative"
out=$(sbx stop nosuch 2>&1); rc=$?
is "$rc:$out" "125:sbx: no sandbox named nosuch" "stop of an unknown name fails"
sbx stop --time 0 rooty

# --- stale state -------------------------------------------------------------------------

check "start a sandbox to kill" start doomed -- sleep 600
# The monitor, not PID 1 (a clone of it with the same command line).
monitor=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk '$2 == "sbx" && / --name doomed / {print $1}')
kill -KILL "$monitor"
sleep 0.3
like "$(sbx ps)" "doomed +[0-9]+ +stale " "after SIGKILL of its monitor, the sandbox is shown stale"
is "$(sbx exec doomed -- true 2>&1; echo $?)" "sbx: doomed is not running (stale)
125" "exec refuses a stale sandbox"
sbx rm doomed
unlike "$(sbx ps -a)" "doomed" "rm cleans stale state"
check "a name whose state is stale can be used again" start doomed -- sleep 600
sbx stop --time 0 doomed

# A stale state file whose pid now belongs to an unrelated live process must
# not be taken for the sandbox.  The decoy is the account's own, which a
# broken stop could signal (root's could not be).
background decoy sleep 600
wait_comm "$decoy" sleep
check "the decoy is the account's, which it may signal" as_user kill -0 "$decoy"
mkdir -p "$TEST_RUNTIME/sbx/fake"
cat > "$TEST_RUNTIME/sbx/fake/state" <<STATE
[sandbox]
version=1
name=fake
pid=$decoy
pid_start_time=1
command_pid=$decoy
command_start_time=1
monitor_pid=$decoy
created=1
command=sleep;
identity=keep-id
network=none
workdir=/
STATE
touch "$TEST_RUNTIME/sbx/fake/lock"
is_root && chown -R "$SBX_TEST_USER:" "$TEST_RUNTIME/sbx/fake"
like "$(sbx ps)" "fake +$decoy +stale " "a stale state with a reused live pid is shown stale"
is "$(sbx stop fake; echo $?)" "0" "stop does not signal the unrelated process"
check "... which is still alive (not a zombie)" alive "$decoy"
is "$(sbx exec fake -- true 2>&1; echo $?)" "sbx: fake is not running (stale)
125" "exec refuses it too"
sbx rm fake
check "rm removes the fake state" test ! -e "$TEST_RUNTIME/sbx/fake"

# A state whose lock a live monitor holds is never stale: with PID 1 gone
# (the monitor still cleaning up) or the file saying so, it is exiting.
mkdir -p "$TEST_RUNTIME/sbx/leaving"
cat > "$TEST_RUNTIME/sbx/leaving/state" <<STATE
[sandbox]
version=1
name=leaving
pid=$decoy
pid_start_time=1
command=sleep;
identity=keep-id
network=none
status=running
STATE
touch "$TEST_RUNTIME/sbx/leaving/lock"
is_root && chown -R "$SBX_TEST_USER:" "$TEST_RUNTIME/sbx/leaving"
# A stand-in for its monitor: holds the lock as sbx does (an OFD lock).
background holder python3 -c '
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(30)' "$TEST_RUNTIME/sbx/leaving/lock" "$TEST_DIR/leaving.locked"
for _ in $(seq 100); do [ -e "$TEST_DIR/leaving.locked" ] && break; sleep 0.05; done
like "$(sbx ps)" "leaving +$decoy +exiting " "a held lock with PID 1 gone: exiting, not stale"
sed -i 's/^status=running/status=exiting/; s/^pid_start_time=1/pid_start_time='"$(cut -d' ' -f22 /proc/$decoy/stat)"'/' \
  "$TEST_RUNTIME/sbx/leaving/state"
like "$(sbx ps)" "leaving +$decoy +exiting " "a held lock and a live PID 1 whose state says exiting: exiting"
is "$(sbx exec leaving -- true 2>&1; echo $?)" "sbx: leaving is not running (exiting)
125" "exec refuses an exiting sandbox"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
like "$(sbx ps)" "leaving +$decoy +stale " "the same state once its lock is free: stale"
sbx rm leaving
kill "$decoy" 2>/dev/null

# --- rm ---------------------------------------------------------------------------------------

check "start a sandbox to remove" start busy -- sleep 600
out=$(sbx rm busy 2>&1); rc=$?
is "$rc:$out" "125:sbx: busy is running; stop it first or use 'sbx rm -f busy'" "rm refuses a running sandbox"
sbx rm -f busy
unlike "$(sbx ps -a)" "busy" "rm -f stops and removes it"
out=$(sbx rm busy 2>&1); rc=$?
is "$rc:$out" "125:sbx: no sandbox named busy" "rm of an unknown name fails"

# A sandbox that is starting holds the name but has no state file yet, so a
# lookup reports it stopped: rm must take the name's lock before it removes
# the kept layer, or the starting sandbox loses its live upper.  A process
# holding the lock (as a starting monitor does) stands in for it.
check "a stopped named sandbox with a kept layer" sbx run --net none --name keeper -- true
background holder python3 -c '
import fcntl, os, struct, sys, time
os.makedirs(sys.argv[1], 0o700, exist_ok=True)
fd = os.open(sys.argv[1] + "/lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(60)' "$TEST_RUNTIME/sbx/keeper" "$TEST_DIR/keeper.locked"
for _ in $(seq 100); do [ -e "$TEST_DIR/keeper.locked" ] && break; sleep 0.05; done
like "$(sbx ps -a)" "keeper +- +stopped " "a name held without a state file is listed as stopped"
out=$(sbx rm keeper 2>&1); rc=$?
is "$rc:$out" "125:sbx: cannot remove keeper: it is in use (a sandbox of that name is running or starting)" \
  "rm refuses a name whose lock is held, even when it looks stopped"
check "... and its kept layer is still there" test -d "$TEST_HOME/.local/share/sbx/keeper/upper"
kill "$holder"; wait "$holder" 2>/dev/null
is "$(sbx rm keeper 2>&1; echo $?)" "0" "once the lock is free, rm removes it"
check "... the kept layer and the runtime state" test ! -e "$TEST_HOME/.local/share/sbx/keeper" -a ! -e "$TEST_RUNTIME/sbx/keeper"

# --- names and races -----------------------------------------------------------------------------

out=$(sbx run --name "-bad" -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: unknown option -b|^125:sbx: --name: '-bad' is not a valid name" "a name starting with '-' is refused"
for bad in "a/b" ".hidden" "$(printf 'x%.0s' $(seq 65))" "a b" ""; do
  out=$(sbx run --name "$bad" -- true 2>&1); rc=$?
  like "$rc:$out" "^125:sbx: --name: '.*' is not a valid name" "--name '$bad' is refused"
done
check "a 64-byte name is fine" sbx run --name "$(printf 'x%.0s' $(seq 64))" -- true

# Two `sbx run --name same` at the same moment: exactly one wins.
racers=()
for i in 1 2 3 4; do
  as_user "$SBX" run --name race -- sleep 2 >"race.$i" 2>&1 &
  racers+=($!)
done
wait "${racers[@]}"
winners=$(grep -L "already running" race.* | wc -l)
is "$winners" "1" "of four concurrent 'run --name race', exactly one runs"
# The losers removed nothing of the winner's new kept layer (each saw the
# directory missing, some made it).
check "... and the winner's kept layer is still there" \
  test -d "$TEST_HOME/.local/share/sbx/race/upper" -a -d "$TEST_HOME/.local/share/sbx/race/work"

# ps while sandboxes start and stop never fails nor shows half state.
( for i in $(seq 10); do as_user "$SBX" run --name "churn$i" -- true; done ) &
churn=$!
bad=0
while kill -0 "$churn" 2>/dev/null; do
  out=$(sbx ps --json 2>&1) || bad=1
  printf '%s' "$out" | python3 -m json.tool >/dev/null 2>&1 || bad=1
done
wait "$churn"
is "$bad" "0" "ps --json stays valid while sandboxes start and stop"

# --- diff --------------------------------------------------------------------------------------

up=$TEST_DIR/upper
lower=$TEST_DIR/lower
as_user mkdir -p "$up/etc" "$up/newdir" "$up/opq" "$up/opq2" "$lower/etc" "$lower/opq" "$lower/opq2" "$lower/gone-dir"
as_user sh -c "echo a > '$lower/etc/hostname'; echo b > '$lower/etc/keep'; echo c > '$lower/opq/old'; echo d > '$lower/opq2/old2'; echo e > '$lower/gone'"
as_user sh -c "echo x > '$up/etc/hostname'; echo new > '$up/newdir/file'; echo n > '$up/opq/new'; touch '$up/.wh.gone' '$up/.wh.gone-dir' '$up/opq2/.wh..wh..opq'"
as_user setfattr -n user.overlay.opaque -v y "$up/opq" 2>/dev/null || as_user python3 -c "import os; os.setxattr('$up/opq', 'user.overlay.opaque', b'y')"
out=$(sbx diff --upper "$up" --lower "$lower")
is "$out" "C /etc
C /etc/hostname
D /gone
D /gone-dir
A /newdir
A /newdir/file
C /opq
A /opq/new
D /opq/old
C /opq2
D /opq2/old2" "diff lists A/C/D sorted: .wh. whiteouts, opaque dirs by xattr and by .wh..wh..opq"
json=$(sbx diff --json --upper "$up" --lower "$lower")
is "$(printf '%s' "$json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "11" "diff --json is valid and complete"
if is_root; then
  mknod "$up/chardev-gone" c 0 0
  touch "$lower/chardev-gone"
  like "$(sbx diff --upper "$up" --lower "$lower")" "D /chardev-gone" "a 0/0 character device is a whiteout (kernel overlay)"
else
  skip "mknod of a 0/0 whiteout needs root"
fi
# sbx diff NAME: a stopped --map-root sandbox over the host's / and a layer,
# that added, changed and deleted files and made an install into /usr/local
# (through fuse-overlayfs).  Exactly those, sorted: not the dpkg and apt lock
# files sbx copies up in advance, which nobody changed.
nl=$TEST_DIR/named-layer
as_user mkdir -p "$nl/sbxprobe"
as_user sh -c "echo old > '$nl/sbxprobe/change'; echo x > '$nl/sbxprobe/gone'; echo same > '$nl/sbxprobe/same'"
out=$(sbx run --net none --name changer --map-root --layer "$nl" -- sh -c \
  'echo new > /sbxprobe/added; echo more >> /sbxprobe/change; rm /sbxprobe/gone; install -m 755 /bin/true /usr/local/bin/sbx-probe' 2>&1)
is "$?:$out" "0:" "a named --map-root sandbox adds, changes and deletes files, then stops"
want="C /sbxprobe
A /sbxprobe/added
C /sbxprobe/change
D /sbxprobe/gone
C /usr
C /usr/local
C /usr/local/bin
A /usr/local/bin/sbx-probe"
is "$(sbx diff changer 2>&1)" "$want" "diff NAME lists exactly what the stopped sandbox added, changed and deleted, sorted"
json=$(sbx diff --json changer)
is "$(printf '%s' "$json" | python3 -c 'import json,sys; print("\n".join(c["kind"] + " " + c["path"] for c in json.load(sys.stdin)))')" \
  "$want" "diff --json NAME carries the same changes"
sbx rm changer

# Several names at once, as podman: each reported, the others still done.
for n in multi-a multi-b; do
  background bg_pid "$SBX" run --net none --name "$n" -- sleep 60
done
for _ in $(seq 200); do [ "$(sbx ps | grep -c '^multi-')" = 2 ] && break; sleep 0.02; done
out=$(sbx stop --time 1 multi-a nosuch multi-b 2>&1); rc=$?
is "$rc:$out" "125:sbx: no sandbox named nosuch" "stop NAME...: an unknown name is reported on its own line, exit 125"
is "$(sbx ps | grep -c '^multi-')" "0" "... and the names around it are stopped"
out=$(sbx rm multi-a nosuch multi-b 2>&1); rc=$?
is "$rc:$out" "125:sbx: no sandbox named nosuch" "rm NAME...: the same"
is "$(sbx ps -a | grep -c '^multi-'):$(ls "$TEST_HOME/.local/share/sbx" | grep -c '^multi-')" "0:0" \
  "... and both layers are gone"

out=$(sbx diff --upper "$TEST_DIR/none" 2>&1); rc=$?
is "$rc:$out" "125:sbx: $TEST_DIR/none: No such file or directory" "diff of a missing layer fails clearly"
out=$(sbx diff 2>&1); rc=$?
like "$rc:$out" "^125:sbx: no sandbox name given" "diff needs a name or --upper"

done_testing
