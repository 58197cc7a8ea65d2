#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-holder.sh: the caller's holder (src/holder.c): runs with subordinate
# ranges make their user namespace in it and write their own maps, without
# newuidmap; the maps read as before; the holder is found safely, replaced
# when killed or out of date, leaves with its record, and no sandbox can
# reach it or another sandbox through it (docs/security.md).
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
record=$TEST_RUNTIME/sbx/.holder
maps='cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'

holder_pid () { awk '{print $1}' "$record" 2>/dev/null; }
# wait_holder [OLD]: waits until the record names a running holder other
# than OLD (a run without one starts one for the next runs, in the
# background) and prints its pid.
wait_holder () {
  local h
  for _ in $(seq 200); do
    h=$(holder_pid)
    if [ -n "$h" ] && [ "$h" != "${1:-}" ] && [ "$(cat "/proc/$h/comm" 2>/dev/null)" = sbx-holder ]; then
      echo "$h"
      return 0
    fi
    sleep 0.025
  done
  return 1
}
start_time () { local s; s=$(cat "/proc/$1/stat") && s=${s##*) } && echo "$s" | awk '{print $20}'; }
userns () { as_user stat -L -c %i "/proc/$1/ns/user"; }

# parent_ns PID: the inode of the parent of PID's user namespace, as the
# account sees it (NS_GET_PARENT).
parent_ns () {
  as_user python3 - "$1" <<'EOF'
import fcntl, os, sys
fd = os.open(f"/proc/{sys.argv[1]}/ns/user", os.O_RDONLY)
print(os.fstat(fcntl.ioctl(fd, 0xb702)).st_ino)
EOF
}

# command_pid ARGS: the host pid of the one process running exactly ARGS.
command_pid () {
  local p
  for _ in $(seq 100); do
    p=$(pgrep -u "$uid" -xf "$1" | head -1)
    [ -n "$p" ] && break
    sleep 0.05
  done
  echo "$p"
}

# --- the first run --------------------------------------------------------------

like "$(sbx run --net none -v -- true 2>&1)" "no holder \(none running with these ranges\); newuidmap and newgidmap map this run" \
  "the first run maps its ids with newuidmap and newgidmap, as without a holder"
h=$(wait_holder)
check "... and starts a holder for the next runs" test -n "$h"
unlike "$(sbx run --net none -v -- true 2>&1)" "no holder" "the next run goes through it"

# --- the maps read as before ---------------------------------------------------

for id in "" --map-root; do
  with=$(sbx run --net none $id -- sh -c "$maps")
  without=$(as_user env SBX_HOLDER=0 "$SBX" run --net none $id -- sh -c "$maps")
  is "$with" "$without" "uid_map, gid_map and setgroups inside are the same through the holder and with newuidmap per run (${id:-keep-id})"
done
like "$(sbx run --net none -- cat /proc/self/uid_map | head -1)" "^ *$uid +$uid +1$" "keep-id: the caller's uid is itself inside and out"
is "$(sbx run --net none --no-subids -- sh -c "$maps" | tr -s ' ' | sed 's/^ //')" "$(as_user env SBX_HOLDER=0 "$SBX" run --net none --no-subids -- sh -c "$maps" | tr -s ' ' | sed 's/^ //')" \
  "--no-subids maps as before"

# --- one holder, found again --------------------------------------------------

is "$(holder_pid)" "$h" "the runs since used the same holder"
check "it is recorded in \$XDG_RUNTIME_DIR/sbx/.holder and runs" alive "${h:-0}"
is "$(cat "/proc/$h/comm" 2>/dev/null)" "sbx-holder" "ps names it sbx-holder"
is "$(tr '\0' ' ' <"/proc/$h/cmdline" 2>/dev/null)" "sbx __holder " "its command line is sbx __holder (nothing of the run that started it)"
is "$(ls "/proc/$h/fd" 2>/dev/null | sort -n | tr '\n' ' ')" "0 1 2 3 4 " "it holds stdin/out/err (/dev/null), its watch and its record's directory only"
is "$(readlink "/proc/$h/fd/4")" "$TEST_RUNTIME/sbx" "... which is \$XDG_RUNTIME_DIR/sbx"
is "$(readlink "/proc/$h/fd/1")" "/dev/null" "... not the caller's terminal or pipe"
is "$(readlink "/proc/$h/cwd")" "/" "its working directory is /"
sbx run --net none -- true
is "$(holder_pid)" "$h" "the next run uses the same holder"
like "$(sbx doctor)" "holder: pid $h, user namespace [0-9]+; uids $uid, " "sbx doctor shows it, its namespace and its ranges"

check "a named sandbox starts" start_named held -- sleep 600
cmd=$(command_pid "sleep 600")
is "$(parent_ns "$cmd")" "$(userns "$h")" "the sandbox's user namespace is a child of the holder's"
is "$(parent_ns "$h")" "$(as_user stat -L -c %i /proc/self/ns/user)" "the holder's is a child of the caller's own"
like "$(sbx ps)" "^NAME " "sbx ps lists sandboxes..."
unlike "$(sbx ps -a)" "holder" "... and not the holder, which is none"

# --- what a sandbox can do with it --------------------------------------------

is "$(sbx run --net none --map-root -- python3 -c '
import errno, fcntl, os
fd = os.open("/proc/self/ns/user", os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0xb702)
    print("got the parent")
except OSError as e:
    print(errno.errorcode[e.errno])')" "EPERM" "a sandbox, even as root inside, cannot get its parent namespace (the holder's)"
unlike "$(sbx run --net none --map-root -- ps -e -o comm=)" "sbx-holder" "the holder is not in a sandbox's PID namespace"

# A host process of the account's hands a sandbox the holder's user
# namespace, another sandbox's, and pidfds of both; the kernel refuses every
# use of them (the sandbox holds no capability in either namespace).
cat >"$TEST_DIR/give.py" <<'EOF'
import os, socket, sys
path, holder, other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fds = [os.open(f"/proc/{holder}/ns/user", os.O_RDONLY), os.open(f"/proc/{other}/ns/user", os.O_RDONLY),
       os.pidfd_open(holder), os.pidfd_open(other)]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(1)
c, _ = s.accept()
socket.send_fds(c, [b"x"], fds)
c.close()
EOF
cat >"$TEST_DIR/use.py" <<'EOF'
import ctypes, errno, os, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_UNIX)
s.connect("/fds.sock")
_, fds, _, _ = socket.recv_fds(s, 1, 4)
out = []
for name, fd in (("holder", fds[0]), ("other", fds[1])):
    r = libc.setns(fd, 0x10000000)
    out.append(f"setns {name}: " + ("joined" if r == 0 else errno.errorcode[ctypes.get_errno()]))
for name, fd in (("holder", fds[2]), ("other", fds[3])):
    try:
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        out.append(f"kill {name}: sent")
    except OSError as e:
        out.append(f"kill {name}: " + errno.errorcode[e.errno])
    r = libc.syscall(438, fd, 0, 0)  # pidfd_getfd: ptrace access
    out.append(f"getfd {name}: " + ("got" if r >= 0 else errno.errorcode[ctypes.get_errno()]))
print("; ".join(out))
EOF
chmod 644 "$TEST_DIR/give.py" "$TEST_DIR/use.py"
for id in "" --map-root; do
  rm -f "$TEST_DIR/fds.sock"
  background giver python3 "$TEST_DIR/give.py" "$TEST_DIR/fds.sock" "$h" "$cmd"
  for _ in $(seq 100); do [ -S "$TEST_DIR/fds.sock" ] && break; sleep 0.02; done
  got=$(sbx run --net none $id --bind "$TEST_DIR/fds.sock:/fds.sock" --ro-bind "$TEST_DIR/use.py:/use.py" -- python3 /use.py 2>&1)
  diag "$got"
  like "$got" "^setns holder: (EPERM|EINVAL); setns other: (EPERM|EINVAL); kill holder: (EPERM|EINVAL|ESRCH); getfd holder: (EPERM|EINVAL|ESRCH); kill other: (EPERM|EINVAL|ESRCH); getfd other: (EPERM|EINVAL|ESRCH)$" \
    "given fds of the holder and of another sandbox, a sandbox (${id:-keep-id}) cannot join, signal or ptrace them"
  wait "$giver" 2>/dev/null
done
check "the other sandbox lives on" alive "$cmd"
check "the holder lives on" alive "$h"

if is_root; then
  other_user=nobody
  is "$(setpriv --reuid="$other_user" --regid=nogroup --clear-groups /usr/bin/python3 -c "
import os
try:
    os.open('/proc/$h/ns/user', os.O_RDONLY)
    print('opened')
except OSError as e:
    print(e.strerror)" 2>&1)" "Permission denied" "another user cannot open the holder's user namespace"
else
  skip "another user: needs root to act as one"
fi
sbx stop held >/dev/null 2>&1

# --- records that name something else ----------------------------------------

# A process of the account's that holds no namespace of ours.
background decoy sleep 600
wait_comm "$decoy" sleep
as_user sh -c "echo '$decoy $(start_time "$decoy")' > '$record'"
sbx run --net none -- true
isnt_decoy=$(wait_holder "$decoy")
check "a record naming another process of the account's is not used: a new holder is started" test -n "$isnt_decoy"
check "... and the process named is left alone" alive "$decoy"

# A process inside a sandbox, in a user namespace of its own there: a
# grandchild of ours, refused even though it is owned by the account.
check "a sandbox whose command made a user namespace starts" start_named nest -- unshare -U sleep 4242
inner=$(command_pid "sleep 4242")
as_user sh -c "echo '$inner $(start_time "$inner")' > '$record'"
sbx run --net none -- true
nh=$(wait_holder "$inner")
check "a record naming a process inside a sandbox is not used" test -n "$inner" -a -n "$nh"
is "$(parent_ns "$nh")" "$(as_user stat -L -c %i /proc/self/ns/user)" "the holder started instead is a child of the caller's namespace"
check "the sandbox's process is left alone" alive "$inner"
sbx stop nest >/dev/null 2>&1
h=$nh

# --- its life -----------------------------------------------------------------

kill -9 "$h"
wait_gone "$h" 2
like "$(sbx run --net none -- cat /proc/self/uid_map)" "^ *$uid +$uid +1" "killed between runs, the next run still works..."
h2=$(wait_holder "$h")
check "... and starts a new holder" test -n "$h2"

kill -9 "$h2"
wait_gone "$h2" 2
pids=()
for i in 1 2 3 4; do
  ( sbx run --net none -- true; echo $? >"$TEST_DIR/par.$i" ) &
  pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$TEST_DIR"/par.* | tr '\n' ' ')" "0 0 0 0 " "four first runs at once all succeed"
h3=$(wait_holder "$h2")
sleep 0.5 # the other starters, which found it
n=0
for p in $(pgrep -u "$uid" -xf 'sbx __holder'); do
  { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$TEST_RUNTIME" && n=$((n + 1))
done
is "$n" "1" "... and start one holder between them"

if is_root; then
  # /etc/subuid changes: the next run maps the new range, through a new
  # holder, and the old one goes.  A start past every range in the file.
  cp -p /etc/subuid "$TEST_DIR/subuid.saved"
  at_exit "cp -p '$TEST_DIR/subuid.saved' /etc/subuid"
  read -r _ count < <(subid_range /etc/subuid)
  new_start=$(awk -F: 'NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m + 65536 }' /etc/subuid)
  name=$(test_user_name)
  awk -F: -v n="$name" -v u="$uid" -v s="$new_start" 'BEGIN { OFS = ":" } ($1 == n || $1 == u) && NF == 3 { $2 = s } { print }' \
    "$TEST_DIR/subuid.saved" >/etc/subuid
  like "$(sbx run --net none --map-root -- cat /proc/self/uid_map | sed -n 2p)" "^ *1 +$new_start +$count$" \
    "after /etc/subuid changed, the next run maps the new range"
  h4=$(wait_holder "$h3")
  check "... and starts a new holder" test -n "$h4"
  check "... and the old one leaves" wait_gone "$h3" 2
  out=$(sbx run --net none --map-root -v -- cat /proc/self/uid_map 2>&1)
  like "$(printf '%s\n' "$out" | grep -v '^sbx:' | sed -n 2p)" "^ *1 +$new_start +$count$" "... and the next run maps it..."
  unlike "$out" "no holder" "... through the new holder"
  cp -p "$TEST_DIR/subuid.saved" /etc/subuid
  sbx run --net none -- true
  h3=$(wait_holder "$h4")
else
  skip "changing /etc/subuid needs root"
fi

rm -f "$record"
check "the holder leaves when its record goes" wait_gone "$h3" 2
sbx run --net none -- true
h5=$(wait_holder "$h3")
as_user sh -c "echo '1 1' > '$TEST_DIR/other' && mv '$TEST_DIR/other' '$record'"
check "... or names another" wait_gone "$h5" 2
sbx run --net none -- true
h6=$(wait_holder "$h5")
rm -rf "$TEST_RUNTIME/sbx"
check "... or its directory goes (logout removes the runtime directory)" wait_gone "$h6" 2
check "no holder of this test's is left" sh -c "! pgrep -u $uid -x sbx-holder | while read -r p; do { tr '\\0' '\\n' <\"/proc/\$p/environ\"; } 2>/dev/null; done | grep -qx 'XDG_RUNTIME_DIR=$TEST_RUNTIME'"

like "$(sbx doctor)" "holder: none running" "sbx doctor says when none runs"
out=$(sbx __holder 2>&1); rc=$?
is "$rc:$out" "125:sbx: __holder is how sbx keeps its user namespace; run 'sbx run'" "sbx __holder run by hand (without its watch) refuses with 125"
as_user env SBX_HOLDER=0 "$SBX" run --net none -- true
check "SBX_HOLDER=0 starts none" test ! -e "$record"
done_testing
