#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-limits.sh: the resource limit options on a host without a systemd
# user manager (as the development machines are): strict values, and a clear
# refusal instead of a run without the limits.  Enforcement itself is proven
# in the systemd guest (tests/vm/cgroup.sh, meson test --suite vm).
. "$(dirname "$0")/libtest.sh"
require_rootless

# The CPUs as sbx counts them: sysconf(_SC_NPROCESSORS_ONLN), which getconf
# asks too.  Not nproc(1): it honours the affinity mask and OMP_NUM_THREADS.
ncpu=$(getconf _NPROCESSORS_ONLN)
before=$(snapshot_host)
for v in x 0 -1M 1X 1.5 99999999999999999999 17179869184G ""; do
  rejects "sbx: --memory: '$v' is not a size above zero (use e.g. 512M or 2G)" --memory "$v"
done
for v in 0 0.0 -1 "$((ncpu + 1))" 0.0000001 1e3 . 1. abc 99999999999999999999; do
  rejects "sbx: --cpus: '$v' is not a number of CPUs above zero and at most $ncpu (this machine's)" --cpus "$v"
done
for v in 0 -5 4194305 99999999999 x 1.5; do
  rejects "sbx: --pids-limit: '$v' is not a number from 1 to 4194304" --pids-limit "$v"
done
for v in 0 10001 -1 x; do
  rejects "sbx: --io-weight: '$v' is not a weight from 1 to 10000" --io-weight "$v"
done

# No session bus here: a limit cannot be enforced, so sbx does not run.
out=$(sbx run --memory 64M --pids-limit 100 -- echo ran 2>&1)
rc=$?
is "$rc" "125" "--memory without a systemd user manager: exit 125"
like "$out" "^sbx: --memory 64M, --pids-limit 100: no systemd user manager to enforce them" \
  "... naming the limits and what is missing"
like "$out" "loginctl enable-linger" "... and how to fix it"
unlike "$out" "ran" "... and the command never ran"
out=$(sbx run --cpus 0.5 -- echo ran 2>&1)
like "$out" "^sbx: --cpus 0.5: no systemd user manager" "--cpus is refused the same way"
# A bus address that leads nowhere: GDBus is asked, and fails.
out=$(as_user env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent "$SBX" run --io-weight 50 -- echo ran 2>&1)
rc=$?
is "$rc" "125" "--io-weight with a session bus address that leads nowhere: exit 125"
like "$out" "^sbx: --io-weight 50: no D-Bus session bus" "... naming the limit and the bus"
out=$(as_user env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent "$SBX" run -- echo ran 2>&1)
is "$out" "ran" "no limits and a dead bus address: runs without a scope, silently"
out=$(sbx run -- echo ran 2>&1)
is "$out" "ran" "no limits and no bus: runs without a scope, silently"
after=$(snapshot_host)
is "$after" "$before" "no process or mount is left after any of these"

done_testing
