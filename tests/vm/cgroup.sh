#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/cgroup.sh SBX: the resource limits, in a real systemd guest.
#
# Run by ../shared/vm/vm-tap (meson test --suite vm) inside a Debian guest
# with systemd as PID 1, a pure cgroup v2 tree, and our user's manager with
# cpu, memory, pids and io delegated.  Everything is checked from where a
# user would look: the cgroup files inside the sandbox, systemctl --user, the
# exit status and sbx's own message.
SBX=${1:?usage: cgroup.sh SBX}
export SBX
# The guest's user has no /var/lib/sbx-tests of its own; its home is fine
# (no profile hides it here).  The limits need its session bus.
export SBX_TEST_TMPDIR=${SBX_TEST_TMPDIR:-$HOME/sbx-tests}
export SBX_TEST_PASSENV="DBUS_SESSION_BUS_ADDRESS"
mkdir -p "$SBX_TEST_TMPDIR"
. "$(dirname "$0")/../libtest.sh"

[ -n "${SBX_IN_VM:-}" ] || skip_all "not in the systemd guest (run through shared/vm/vm-tap)"
busctl --user status >/dev/null 2>&1 || skip_all "no systemd user manager on the session bus"

# active UNIT: systemctl --user's word on it.
state () { systemctl --user is-active "$1" 2>/dev/null; }

# --- the scope -------------------------------------------------------------------

out=$(sbx run --net none -- cat /proc/self/cgroup 2>&1)
is "$out" "0::/" "without limits the sandbox still gets a scope, the root of its cgroup namespace"

start_named () { # NAME ARGS...: a named sandbox in the background, once it runs
  local name=$1
  shift
  background bgpid "$SBX" run --name "$name" --net none "$@" -- sleep 60
  for _ in $(seq 100); do
    [ "$(state "sbx-$name.scope")" = active ] && sbx ps | grep -q "^$name " && return 0
    sleep 0.05
  done
  return 1
}

check "a named sandbox is the scope sbx-NAME.scope, active while it runs" start_named t1
desc=$(systemctl --user show -p Description --value sbx-t1.scope)
is "$desc" "sbx: sleep 60" "the scope's description names the command"
sbx stop --time 1 t1 >/dev/null 2>&1
for _ in $(seq 40); do [ "$(state sbx-t1.scope)" = active ] || break; sleep 0.05; done
isnt_active () { [ "$(state "$1")" != active ]; }
check "the scope is gone after the sandbox stops" isnt_active sbx-t1.scope

# An anonymous sandbox's sbx returns without waiting for PID 1's teardown
# (monitor.c, leave_early): its scope still ends, with PID 1.
unit=$(sbx run -v --net none -- true 2>&1 | sed -n 's/^sbx: scope \(sbx-[0-9]*\.scope\),.*/\1/p')
like "$unit" '^sbx-[0-9]+\.scope$' "-v names an anonymous sandbox's scope"
for _ in $(seq 40); do [ "$(state "$unit")" = active ] || break; sleep 0.05; done
check "... which is gone once the sandbox is" isnt_active "$unit"

# --- memory ----------------------------------------------------------------------

out=$(sbx run --net none --memory 64M -- cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max 2>&1)
is "$out" "$(printf '67108864\n0')" "--memory 64M: memory.max inside is 64 MiB, no swap beyond it"
out=$(sbx run --net none --memory 64M -- sh -c 'head -c 200M /dev/zero | tail >/dev/null' 2>&1)
rc=$?
is "$rc" "137" "--memory 64M: a 200M allocation is killed (exit 137)"
like "$out" "^sbx: command killed: memory limit 64M reached$" "... and sbx says why"
out=$(sbx run --net none --memory 64M -- sh -c 'x=$(head -c 200M /dev/zero | tail); echo survived' 2>&1)
rc=$?
is "$rc" "0" "--memory: an OOM kill of a child leaves the command running (OOMPolicy=continue)"
like "$out" "sbx: warning: memory limit 64M reached" "... with a warning that the limit was reached"
out=$(sbx run --net none --memory 64M -- sh -c 'head -c 20M /dev/zero | tail >/dev/null; echo fine' 2>&1)
is "$out" "fine" "--memory 64M: 20M fits, and no message"

# --- pids ------------------------------------------------------------------------

# bash reads the files with builtins only; the inner dash forks sleep until
# a fork fails, which is fatal to it (exit 2).
out=$(sbx run --net none --pids-limit 20 -- bash -c '
  read -r v </sys/fs/cgroup/pids.max; echo max=$v
  sh -c "for i in \$(seq 40); do sleep 30 >/dev/null 2>&1 & done" 2>/dev/null
  echo sh_rc=$?
  read -r v </sys/fs/cgroup/pids.current; echo current=$v
  while read -r k v; do echo events_$k=$v; done </sys/fs/cgroup/pids.events' 2>&1)
like "$out" "max=20" "--pids-limit 20: pids.max inside is 20"
cur=$(printf '%s\n' "$out" | sed -n 's/^current=//p')
if [ -n "$cur" ] && [ "$cur" -le 20 ]; then
  ok "--pids-limit 20: a fork loop of 40 stops at the limit ($cur tasks)"
else
  not_ok "--pids-limit 20: a fork loop of 40 stops at the limit"
  diag "$out"
fi
like "$out" "sh_rc=2" "... the forking shell is refused a fork"
like "$out" "events_max=[1-9]" "... and pids.events counts the refusals"

# --- cpu -------------------------------------------------------------------------

# Busy for 3 s of wall clock; the share of one CPU from cpu.stat's usage_usec.
out=$(sbx run --net none --cpus 0.2 -- sh -c '
  cat /sys/fs/cgroup/cpu.max
  u0=$(sed -n "s/^usage_usec //p" /sys/fs/cgroup/cpu.stat); t0=$(date +%s%N)
  timeout 3 sh -c "while :; do :; done"
  u1=$(sed -n "s/^usage_usec //p" /sys/fs/cgroup/cpu.stat); t1=$(date +%s%N)
  echo $(( (u1 - u0) * 1000 * 100 / (t1 - t0) ))' 2>&1)
is "$(printf '%s\n' "$out" | sed -n 1p)" "20000 100000" "--cpus 0.2: cpu.max inside is 20 ms per 100 ms"
pct=$(printf '%s\n' "$out" | sed -n 2p)
if [ -n "$pct" ] && [ "$pct" -ge 14 ] && [ "$pct" -le 26 ]; then
  ok "--cpus 0.2: a busy loop gets ${pct}% of one CPU (20% ± 30%)"
else
  not_ok "--cpus 0.2: a busy loop gets 20% ± 30% of one CPU"
  diag "$out"
fi

# --- io --------------------------------------------------------------------------

ucg=/sys/fs/cgroup/user.slice/user-$(id -u).slice/user@$(id -u).service
out=$(sbx run --net none --io-weight 50 -- cat /sys/fs/cgroup/io.weight 2>&1)
rc=$?
if [ -e "$ucg/io.weight" ]; then
  is "$out" "default 50" "--io-weight 50: io.weight inside reads back 50"
else
  # UML's kernel has neither BFQ nor iocost: systemd cannot apply it.
  is "$rc" "125" "--io-weight where the kernel has no io.weight: sbx refuses to run unlimited"
  like "$out" "^sbx: --io-weight: the limit is not in force" "... and says which limit and why"
fi
# The scope is asked for while newuidmap and newgidmap run (monitor.c): a
# refusal still waits for both and leaves no process behind.
leftovers () { pgrep -u "$(id -u)" -x 'newuidmap|newgidmap|sbx|sbx-init' >/dev/null; }
settled () { for _ in $(seq 40); do leftovers || return 0; sleep 0.05; done; return 1; }
out=$(sbx run --net none --memory 1G --io-weight 50 -- true 2>&1)
check "after a run with limits, in force or refused, no helper, monitor or PID 1 is left" settled

# --- exec joins the scope --------------------------------------------------------

check "a named sandbox with --pids-limit runs" start_named t2 --pids-limit 30
out=$(sbx exec t2 -- sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max' 2>&1)
is "$out" "$(printf '0::/\n30')" "sbx exec joins the sandbox's scope and its limits"
line=$(sbx ps | grep '^t2 ')
like "$line" "pids=30" "sbx ps shows the limits"
sbx stop --time 1 t2 >/dev/null 2>&1

# --- SIGKILL of sbx ----------------------------------------------------------------

check "a named sandbox with --memory runs" start_named t3 --memory 128M
monitor=$bgpid
kill -KILL "$monitor"
for _ in $(seq 60); do isnt_active sbx-t3.scope && break; sleep 0.05; done
check "after SIGKILL of sbx the scope is gone within 3 s" isnt_active sbx-t3.scope
left=$(systemctl --user list-units --all --no-legend 'sbx-*' | grep -c active)
is "$left" "0" "no sbx scope is left active"

# --- no user manager ----------------------------------------------------------------

out=$(env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent "$SBX" run --net none --memory 64M -- true 2>&1)
rc=$?
is "$rc" "125" "--memory without a session bus: exit 125"
like "$out" "^sbx: --memory 64M: no systemd user manager.*loginctl enable-linger" \
  "... naming the limit, what is missing and how to fix it"
out=$(env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent "$SBX" run --net none -- echo unlimited 2>&1)
is "$out" "unlimited" "no limits and no session bus: runs without a scope, silently"

done_testing
