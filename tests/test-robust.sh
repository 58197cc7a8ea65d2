#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-robust.sh: what happens when things go wrong beside the command: a
# helper that dies (fuse-overlayfs, sbx-net), a full disk under the
# writable layer, two sandboxes on one kept layer; and options that must
# mean what they say (issue 15, one section per item).  Each was silent,
# wrong or lost data before.
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

# --- issue 15, item 1: an on/off option means what its value says ----------------------

is "$(sbx run --net none --map-root=false -- id -u)" "$(test_uid)" \
  "--map-root=false does not make the user root inside"
is "$(sbx run --net none --map-root=no -- id -u):$(sbx run --net none --map-root=1 -- id -u)" \
  "$(test_uid):0" "--map-root=no is keep-id, --map-root=1 is root"
is "$(sbx run --net none --verbose=no -- true 2>&1)" "" "--verbose=no says nothing"
is "$(as_user env HOME=/home-kept "$SBX" run --net none --clearenv=0 -- sh -c 'echo $HOME')" "/home-kept" \
  "--clearenv=0 keeps the environment"
rejects "sbx: --map-root: 'bogus' is not one of true, false, yes, no, 1, 0" --map-root=bogus
out=$(sbx ps --all=maybe 2>&1); rc=$?
is "$rc:$(printf '%s\n' "$out" | head -1)" "125:sbx: --all: 'maybe' is not one of true, false, yes, no, 1, 0" \
  "ps -a takes the same words (and refuses others)"

# --- issue 15, item 6: profiles ------------------------------------------------------------

conf=$TEST_HOME/.config/sbx
as_user mkdir -p "$conf"
# profile NAME LINE...: writes $conf/NAME.conf as the test account.
profile () {
  local name=$1
  shift
  printf '%s\n' "$@" | as_user tee "$conf/$name.conf" >/dev/null
}
# bad_profile WANT NAME: sbx run --profile NAME fails with 125 and the one
# line WANT, within 5 seconds.
bad_profile () {
  local out rc
  out=$(as_user timeout 5 "$SBX" run --profile "$2" -- true 2>&1); rc=$?
  is "$rc|$out" "125|$1" "profile $2: $1"
}
profile nobind '[run]' 'net=none' '' 'bind=/nonexistent-sbx'
bad_profile "sbx: $conf/nobind.conf:4: bind /nonexistent-sbx: No such file or directory" nobind
profile syntax2 '[run]' 'net=none' 'junk here'
bad_profile "sbx: $conf/syntax2.conf:3: 'junk here' is not key=value, a [group] header or a # comment" syntax2
profile dupnet '[run]' 'net=none' 'net=host'
bad_profile "sbx: $conf/dupnet.conf:3: net: given twice (first on line 2); a repeatable key takes a list separated by ';'" dupnet
as_user mkfifo "$conf/fifo.conf"
bad_profile "sbx: $conf/fifo.conf: not a regular file (a profile is a text file)" fifo
as_user ln -s /dev/zero "$conf/zero.conf"
bad_profile "sbx: $conf/zero.conf: not a regular file (a profile is a text file)" zero
as_user sh -c "{ echo '[run]'; head -c 1100000 /dev/zero | tr '\\0' '#'; echo; } > '$conf/huge.conf'"
bad_profile "sbx: $conf/huge.conf: larger than 1048576 bytes (a profile is a short text file)" huge

# --- issue 15, item 7: accepted silently though wrong ---------------------------------------

rejects "sbx: --tmpfs: '/proc': cannot mount over /proc, which sbx makes for the sandbox" --tmpfs /proc
rejects "sbx: --bind: '/tmp:/proc': cannot mount over /proc, which sbx makes for the sandbox" --bind /tmp:/proc
rejects "sbx: --bind: '/tmp:/x:rw': 'rw' is not a mode (the only one is ro)" --bind /tmp:/x:rw
rejects "sbx: --env: 'A B=1': 'A B' is not a variable name (letters, digits and '_', not starting with a digit)" -e 'A B=1'
rejects "sbx: --name given more than once ('a', then 'b'); it takes one value" --name a --name b
rejects "sbx: --allow-host-loopback: means nothing with --net none (there is no network)" --net none --allow-host-loopback
as_user mkdir -p "$TEST_DIR/userhome"
as_user touch "$TEST_DIR/userhome/.bashrc"
rejects "sbx: --upper: $TEST_DIR/userhome is not a layer sbx made: '.bashrc' is in the way (a layer's directory holds only upper, work, lock and layers; give a new or empty directory)" \
  --net none --upper "$TEST_DIR/userhome"
is "$(ls -A "$TEST_DIR/userhome")" ".bashrc" "... and nothing is made beside the user's files"

# --- issue 15, item 8: half-states ---------------------------------------------------------

data=$TEST_HOME/.local/share/sbx
out=$(as_user env -u XDG_RUNTIME_DIR "$SBX" run --net none --name half -- true 2>&1); rc=$?
is "$rc|$out" "125|sbx: --name: XDG_RUNTIME_DIR is not set (named sandboxes keep their state there)" \
  "--name without XDG_RUNTIME_DIR: 125 naming it"
check "... and no data directory is left" test ! -e "$data/half"
rejects "sbx: --upper: '$TEST_DIR/half-upper': a named sandbox keeps its layer in \$XDG_DATA_HOME/sbx/half; --name and --upper cannot be combined" \
  --net none --name half --upper "$TEST_DIR/half-upper"
check "--name with --upper: refused, nothing made" test ! -e "$TEST_DIR/half-upper" -a ! -e "$data/half"
# A run that fails inside before its command starts leaves no layer.
as_user touch "$TEST_DIR/afile"
out=$(sbx run --net none --name half --bind "$TEST_DIR/afile:/etc" -- true 2>&1); rc=$?
out2=$(sbx run --net none --upper "$TEST_DIR/half-upper" --bind "$TEST_DIR/afile:/etc" -- true 2>&1); rc2=$?
is "$rc:$rc2:$(ls -A "$data" "$TEST_RUNTIME/sbx" 2>/dev/null | grep -c half)" "125:125:0" \
  "a run that fails before its command leaves no runtime or data directory of its name"
check "... nor its --upper DIR" test ! -e "$TEST_DIR/half-upper"
# A monitor killed while it wrote the state (through "state.XXXXXX", renamed
# over "state") leaves the name's lock and that temporary file.
as_user sh -c 'mkdir -p "$1/sbx/halfstate" && : > "$1/sbx/halfstate/lock" && : > "$1/sbx/halfstate/state.Ab12Cd"' _ "$TEST_RUNTIME"
out=$(sbx rm halfstate 2>&1); rc=$?
is "$rc|$out" "0|" "sbx rm takes a name whose monitor was killed while it wrote the state"
check "... and its runtime directory, the temporary state file with it, is gone" \
  test ! -e "$TEST_RUNTIME/sbx/halfstate"

# --- issue 15, item 11: sbx rm --upper DIR ----------------------------------------------

kept=$TEST_DIR/kept-layer
sbx run --net none --map-root --upper "$kept" -w / -- sh -c '
  mkdir -p /opt/sub/deep && touch /opt/sub/deep/f && chown -R 1234:1234 /opt/sub && chmod 700 /opt/sub' 2>&1
as_user rm -rf "$kept" 2>/dev/null
check "a kept layer holds files of a subordinate id that the user cannot delete (rm -rf)" \
  test -d "$kept/upper/opt/sub"
out=$(sbx rm --upper "$TEST_DIR/userhome" 2>&1); rc=$?
is "$rc|$out" "125|sbx: --upper $TEST_DIR/userhome is not a layer sbx made: '.bashrc' is in the way (a layer's directory holds only upper, work, lock and layers; give a new or empty directory)" \
  "sbx rm --upper refuses a directory that is not a layer"
start run "run" --net none --upper "$kept" -- sh -c 'echo started; exec sleep 600'
out=$(sbx rm --upper "$kept" 2>&1); rc=$?
like "$rc|$out" "^125\|sbx: cannot remove $kept: the layer in $kept is in use \(sbx run -- sh -c echo started; exec sleep 600, pid [0-9]+\)" \
  "sbx rm --upper refuses a layer in use"
kill "$run"; wait "$run" 2>/dev/null
out=$(sbx rm --upper "$kept" 2>&1); rc=$?
is "$rc|$out" "0|" "sbx rm --upper removes a kept layer whatever ids own its files"
check "... and DIR is gone" test ! -e "$kept"

# --- issue 15, item 12: messages ---------------------------------------------------------

out=$(sbx run --net none --bind /nonexistent-sbx -- true 2>&1); rc=$?
is "$rc|$out" "125|sbx: --bind /nonexistent-sbx: No such file or directory" \
  "a missing bind source: one line, no 'Try ... --help' (not a usage error)"
as_user sh -c "printf '#!/bin/nope-sbx\necho hi\n' > '$TEST_DIR/script'; chmod 755 '$TEST_DIR/script'"
out=$(sbx run --net none -- "$TEST_DIR/script" 2>&1); rc=$?
is "$rc|$out" "126|sbx: cannot run '$TEST_DIR/script': its interpreter /bin/nope-sbx is missing" \
  "run: a script whose #! interpreter is missing is reported as such (126)"
start run "run" --net none --name robust-exec -- sh -c 'echo started; exec sleep 600'
out=$(sbx exec robust-exec -- "$TEST_DIR/script" 2>&1); rc=$?
is "$rc|$out" "126|sbx: cannot run '$TEST_DIR/script': its interpreter /bin/nope-sbx is missing" \
  "exec: the same"
kill "$run"; wait "$run" 2>/dev/null

done_testing
