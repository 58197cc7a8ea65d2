#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-process.sh: exit statuses, signal relaying, errors from inside the
# sandbox, and what is left on the host after a normal exit, a failure, and
# SIGKILL of the monitor.
. "$(dirname "$0")/libtest.sh"
require_rootless

# status CMD...: prints the exit status of CMD.
status () { "$@" >/dev/null 2>&1; echo $?; }

# --- exit statuses ---------------------------------------------------------------------

is "$(status sbx run -- true)" "0" "exit 0 passes through"
is "$(status sbx run -- sh -c 'exit 3')" "3" "the command's exit status passes through"
is "$(status sbx run -- sh -c 'exit 255')" "255" "exit 255 passes through"
is "$(status sbx run -- sh -c 'kill -TERM $$')" "143" "death by SIGTERM gives 128+15"
is "$(status sbx run -- sh -c 'kill -KILL $$')" "137" "death by SIGKILL gives 128+9"
is "$(status sbx run -- sh -c 'kill -SEGV $$')" "139" "death by SIGSEGV gives 128+11"

out=$(sbx run -- no-such-command-sbx 2>&1); rc=$?
is "$rc" "127" "a command that is not found gives 127"
is "$out" "sbx: cannot run 'no-such-command-sbx': No such file or directory" \
  "... with one line naming it"
as_user sh -c 'printf "#!/bin/sh\necho hi\n" > noexec; chmod 644 noexec'
out=$(sbx run -- "$TEST_DIR/noexec" 2>&1); rc=$?
is "$rc" "126" "a command that is not executable gives 126"
like "$out" "^sbx: cannot run '$TEST_DIR/noexec': Permission denied$" "... with one line naming it"
out=$(sbx run -- /etc 2>&1); rc=$?
is "$rc" "126" "a directory as the command gives 126"

# --- errors inside the sandbox reach the user --------------------------------------------

as_user touch afile
out=$(sbx run --bind "$TEST_DIR/afile:/etc" -- true 2>&1); rc=$?
is "$rc" "125" "a bind that fails inside gives 125"
is "$out" "sbx: cannot bind $TEST_DIR/afile on /etc: a file cannot be bound over a directory" \
  "... and the precise reason from inside the sandbox"
out=$(sbx run -w /nonexistent-dir -- true 2>&1); rc=$?
is "$rc" "125" "a --workdir missing inside gives 125"
is "$out" "sbx: --workdir /nonexistent-dir: No such file or directory" "... naming it"
out=$(sbx run --monotonic -999999999 -- true 2>&1); rc=$?
is "$rc" "125" "an offset the kernel refuses gives 125"
like "$out" "^sbx: cannot set the clock offsets" "... with the reason"

# --- signals ---------------------------------------------------------------------------------

# Each case starts a sandbox whose command traps SIGNAL and exits with a
# code of its own, then signals the monitor on the host.
relay () {
  local sig=$1 code=$2 rc
  # A file of its own: the previous case's "ready" must not be taken for
  # this one's (the signal would come before the trap).
  as_user "$SBX" run -- sh -c "trap 'exit $code' $sig; echo ready; while :; do sleep 0.05; done" >"sig.$sig.out" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q ready "sig.$sig.out" 2>/dev/null && break; sleep 0.05; done
  local monitor
  # The monitor (comm sbx), not PID 1 (sbx-init, a clone with the same args).
  monitor=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk -v c="exit $code" '$2 == "sbx" && index($0, c) {print $1}')
  kill -"$sig" "$monitor"
  wait "$pid"
  rc=$?
  is "$rc" "$code" "SIG$sig to sbx reaches the command (it exits $code)"
}
relay TERM 42
relay INT 43
relay HUP 44
# Signals that would end sbx by default reach the command instead.
relay ALRM 45
relay PIPE 46
relay XCPU 47
relay USR2 48

# sbx reaps what it started before it returns: run under a subreaper (a
# service manager, a CI runner), no zombie of the sandbox is left to it.
out=$(as_user python3 -c '
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
for _ in range(3):
    subprocess.run([sys.argv[1], "run", "--net", "none", "--", "true"], check=True)
time.sleep(0.2)
zombies = 0
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        break
    zombies += 1
print(zombies)' "$SBX" 2>&1)
is "$out" "0" "a caller that is a subreaper collects no zombie of sbx's (PID 1 is reaped)"

# Killing sbx exec ends its command and what the command started.
background execbox "$SBX" run --net none --name execbox -- sleep 600
for _ in $(seq 200); do sbx ps | grep -q "^execbox .* running " && break; sleep 0.02; done
as_user "$SBX" exec execbox -- sh -c 'sleep 601 & sleep 602 & sh -c "sleep 603 &"; echo started; sleep 604' \
  >exec.out 2>&1 &
for _ in $(seq 100); do grep -q started exec.out 2>/dev/null && break; sleep 0.05; done
execpid=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk '$2 == "sbx" && /exec execbox/ {print $1}')
is "$(sbx exec execbox -- ps -e -o comm= | grep -c '^sleep$')" "5" "sbx exec's command and its children run"
kill -KILL "$execpid"
for _ in $(seq 40); do [ "$(sbx exec execbox -- ps -e -o comm= | grep -c '^sleep$')" = 1 ] && break; sleep 0.05; done
is "$(sbx exec execbox -- ps -e -o args= | grep '^sleep' | tr '\n' ' ')" "sleep 600 " \
  "after SIGKILL of sbx exec, its command and all it started are gone; the sandbox's own command is not"
sbx stop --time 0 execbox

# --- nothing left behind --------------------------------------------------------------------

before=$(snapshot_host)
sbx run -- true
sbx run --bind /nonexistent -- true 2>/dev/null
sbx run --bind "$TEST_DIR/afile:/etc" -- true 2>/dev/null
sbx run -- no-such-command-sbx 2>/dev/null
after=$(snapshot_host)
is "$after" "$before" "no process or mount is left after success, a usage error, a setup failure or an exec failure"

# A kept layer's directory made for a run that fails before its command
# starts goes again: a port sbx cannot bind (one a listener of the test's
# holds, picked free at run time), a bind that fails inside.
background holder python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$TEST_DIR/busy.port"
for _ in $(seq 100); do [ -s "$TEST_DIR/busy.port" ] && break; sleep 0.05; done
busy=$(cat "$TEST_DIR/busy.port")
out=$(sbx run --upper "$TEST_DIR/new-layer" -p "$busy:80" -- true 2>&1)
is "$?:$out" "125:sbx: -p $busy:80: address already in use" "a host port in use is refused before the command starts"
check "a failed -p leaves no --upper directory behind" test ! -e "$TEST_DIR/new-layer"
sbx run --map-root --upper "$TEST_DIR/new-layer" --bind "$TEST_DIR/afile:/etc" -- true 2>/dev/null
check "a setup failure inside leaves no --upper directory behind (not even the layer's lock files)" \
  test ! -e "$TEST_DIR/new-layer"
[ -e "$TEST_DIR/new-layer" ] && diag "$(find "$TEST_DIR/new-layer" -ls)"
sbx run --name never-ran -p "$busy:80" -- true 2>/dev/null
is "$(sbx ps -a | grep -c never-ran)" "0" "a named sandbox that never started leaves no kept layer for ps -a"
as_user mkdir "$TEST_DIR/old-layer"
sbx run --upper "$TEST_DIR/old-layer" -p "$busy:80" -- true 2>/dev/null
check "... but a directory that was there before stays" test -d "$TEST_DIR/old-layer"
kill "$holder"
wait "$holder" 2>/dev/null

# SIGKILL of the monitor: everything inside dies within a second.
as_user "$SBX" run -- sh -c 'sleep 1000 & sleep 1001 & echo started; wait' >kill.out 2>&1 &
sbx_pid=$!
for _ in $(seq 100); do grep -q started kill.out 2>/dev/null && break; sleep 0.05; done
monitor=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk '$2 == "sbx" && /sleep 1000/ {print $1}')
# Only this sandbox's processes: another test's leftovers are not ours to judge.
inner=$(pgrep -u "$(test_uid)" -f '^sleep 100[01]$' | tr '\n' ' ')
inner_init=$(pgrep -P "$monitor" -x sbx-init)
is "$(echo $inner | wc -w)" "2" "the sandbox's processes run (seen from the host)"
kill -KILL "$monitor"
wait "$sbx_pid" 2>/dev/null
gone=1
for p in $inner $inner_init; do wait_gone "$p" 1 || gone=0; done
is "$gone" "1" "after SIGKILL of sbx every process inside is gone within a second"
after=$(snapshot_host)
is "$after" "$before" "after SIGKILL of sbx no process or mount is left on the host"

done_testing
