#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-robust.sh: what happens when things go wrong beside the command: a
# helper that dies (fuse-overlayfs, sbx-net), a full disk under the
# writable layer, two sandboxes on one kept layer.  Each was silent or lost
# data before.
. "$(dirname "$0")/libtest.sh"
require_rootless

# start BG_VAR ARGS...: `sbx run ARGS` in the background, its output in
# robust.out, once its command printed "started".
start () {
  local var=$1
  shift
  rm -f robust.out
  ( as_user_exec "$SBX" "$@" >robust.out 2>&1 ) &
  eval "$var=\$!"
  at_exit "kill $! 2>/dev/null"
  for _ in $(seq 200); do grep -q started robust.out 2>/dev/null && return 0; sleep 0.02; done
  return 1
}

# helper_of NAME MONITOR: the pid of the helper NAME that MONITOR started.
helper_of () { pgrep -P "$2" -x "$1" | head -1; }

# --- a helper that dies ------------------------------------------------------------

port=$(free_port)
start run "run" --name robust-net -p "$port:8000" -- sh -c 'echo started; exec sleep 600'
monitor=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk '$2 == "sbx" && /robust-net/ {print $1}')
net=$(helper_of sbx-net "$monitor")
check "sbx-net runs beside the sandbox" test -n "$net"
kill -SEGV "$net"
wait "$run"
rc=$?
# (A sanitizer build's sbx-net reports the signal itself and exits 1.)
how="killed by SIGSEGV"
sanitized && how="exit status 1"
is "$rc:$(tail -1 robust.out)" \
  "125:sbx: sbx-net, the network helper, died ($how); the sandbox was stopped" \
  "a dead sbx-net stops the sandbox: one line naming it and how it died, 125"
out=$(python3 -c "
import socket
s = socket.socket()
try:
    s.connect(('127.0.0.1', $port)); print('open')
except OSError as e:
    print(e.strerror)")
is "$out" "Connection refused" "... and its published port is closed, not left accepting clients"
unlike "$(sbx ps -a)" "robust-net +[0-9]+ +running" "... and ps no longer calls it running"
check "... and no sbx-net is left, not even a zombie" sh -c "! pgrep -u $(test_uid) -x sbx-net"
as_user "$SBX" rm robust-net >/dev/null 2>&1

if "$SBX" doctor 2>/dev/null | grep -q '✓ fuse-overlayfs'; then
  start run "run" --map-root --overlay fuse --net none -- sh -c 'echo started; sleep 2; ls /usr/bin >/dev/null'
  monitor=$(ps -u "$(test_uid)" -o pid=,comm=,args= | awk '$2 == "sbx" && /sleep 2; ls/ {print $1}')
  fuse=$(helper_of fuse-overlayfs "$monitor")
  check "fuse-overlayfs serves the --map-root --overlay fuse sandbox" test -n "$fuse"
  kill -KILL "$fuse"
  wait "$run"
  rc=$?
  is "$rc:$(grep -v started robust.out)" \
    "125:sbx: fuse-overlayfs failed (killed by SIGKILL), while the command ran; the sandbox was stopped" \
    "a dead fuse-overlayfs stops the sandbox: one line naming it and how it died, 125"
else
  skip "fuse-overlayfs is not usable here (sbx doctor)"
  skip "fuse-overlayfs is not usable here (sbx doctor)"
fi

# --- one sandbox at a time on a kept layer -------------------------------------------

start run "run" --net none --upper "$TEST_DIR/shared-layer" -- sh -c 'echo started; exec sleep 600'
out=$(sbx run --net none --upper "$TEST_DIR/shared-layer" -- true 2>&1)
like "$?:$out" "^125:sbx: --upper $TEST_DIR/shared-layer: the layer in $TEST_DIR/shared-layer is in use \(sbx run -- sh -c echo started; exec sleep 600, pid [0-9]+\); one sandbox at a time may write a layer$" \
  "a second run on a kept layer in use: refused, naming the sandbox that holds it"
kill "$run"
wait "$run" 2>/dev/null
is "$(sbx run --net none --upper "$TEST_DIR/shared-layer" -- echo free 2>&1)" "free" \
  "... and the layer is free again once that sandbox ended"

# --- a full disk under the writable layer -------------------------------------------------

# Every write that returned success is on disk afterwards; every failure is
# reported to the writer (at write(), or at the latest at close()).
full_disk () {
  local driver=$1 path=$2
  shift 2
  local disk=$TEST_DIR/disk-$driver
  mkdir -p "$disk"
  mount -t tmpfs -o size=4M,mode=0700 "sbx-test-disk" "$disk" && chown "$SBX_TEST_USER:" "$disk"
  at_exit "umount -l '$disk'"
  # dd and the shell report the error of write() or close() in their status.
  out=$(sbx run --net none "$@" --upper "$disk/layer" -- sh -c "
    dd if=/dev/zero of=$path/big bs=64k count=200 2>/dev/null; echo big=\$?
    echo after > $path/small; echo small=\$?" 2>&1)
  local big=${out#*big=} small=${out#*small=}
  big=${big%%[!0-9]*}
  small=${small%%[!0-9]*}
  local upper=$disk/layer/upper$path
  local ok=1
  [ "$big" != 0 ] || [ "$(stat -c %s "$upper/big" 2>/dev/null)" = 13107200 ] || ok=0
  [ "$small" != 0 ] || [ "$(cat "$upper/small" 2>/dev/null)" = after ] || ok=0
  [ "$big" != 0 ] || [ "$small" != 0 ] || ok=0 # 12.5 MB cannot fit in 4 MB
  if [ "$ok" = 1 ]; then
    ok "a full disk under the $driver driver: every write that succeeded is on disk, every failure was reported"
  else
    not_ok "a full disk under the $driver driver: every write that succeeded is on disk, every failure was reported"
    diag "$out" "on disk: $(ls -l "$upper" 2>&1)"
  fi
}
if is_root; then
  full_disk kernel "$TEST_HOME"
  # Root inside writing into the host's /usr/local: through the kernel
  # with the directory skeleton (the default), and through fuse-overlayfs.
  full_disk skeleton /usr/local --map-root
  if "$SBX" doctor 2>/dev/null | grep -q '✓ fuse-overlayfs'; then
    full_disk fuse-overlayfs /usr/local --map-root --overlay fuse
  else
    skip "fuse-overlayfs is not usable here (sbx doctor)"
  fi
else
  skip "needs root to make a small disk (a tmpfs) for the layer"
  skip "needs root to make a small disk (a tmpfs) for the layer"
  skip "needs root to make a small disk (a tmpfs) for the layer"
fi

done_testing
