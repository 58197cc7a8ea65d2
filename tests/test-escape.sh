#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-escape.sh: attempts to get out of the sandbox, or to gain inside what
# the caller lacks outside, each expected to fail in a specific way.  Run as
# the unprivileged account.  tests/helpers/try-syscall makes single raw
# system calls, each in a child of its own, and prints the errno (or the
# signal that killed it).
#
# A check can only prove something if a broken sandbox would fail it: the
# "host untouched" checks aim at what the account CAN change on the host (its
# own files, /dev/shm, a marker it plants in the host's /tmp), and a call is
# said to fail "from the filter" only where the same call without the filter
# (--seccomp=unconfined) gives something else.  Where the kernel says EPERM
# either way, tests/unit/test-seccomp.c proves the filter's rule instead.
. "$(dirname "$0")/libtest.sh"
require_rootless

TRY=${SBX_TRY_SYSCALL:?meson sets SBX_TRY_SYSCALL}
uid=$(test_uid)
as_user cp "$TRY" "$TEST_DIR/try-syscall"
TRY=$TEST_DIR/try-syscall

# try ARGS... -- NAME...: the errno of each call inside `sbx run ARGS`.
try () {
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  sbx run "${args[@]}" -- "$TRY" "$@" 2>&1
}

# result OUTPUT NAME: what try-syscall said for NAME in OUTPUT (EPERM, OK...).
# (Under a pty an injected character may be echoed at the start of a line.)
result () { printf '%s\n' "$1" | sed -n "s/^\(.*[^[:alnum:]_]\)\{0,1\}$2: //p" | head -1; }

# filter_check TITLE FILTERED UNCONFINED: EPERM with the filter, something
# else without it (--seccomp=unconfined, the same options otherwise): only
# then is the EPERM the filter's.
filter_check () {
  local title="$1: EPERM from the filter (without it: ${3:-no answer})"
  if [ "$2" = EPERM ] && [ -n "$3" ] && [ "$3" != EPERM ]; then
    ok "$title"
  else
    not_ok "$title"
    diag "with the filter: ${2:-no answer}" "without: ${3:-no answer}"
  fi
}

# A file of the account's in the host's /tmp: any view of the host's /tmp
# from inside (its root reached, its /tmp let through) shows it.
host_marker=/tmp/sbx-host-marker-$$
as_user touch "$host_marker"
at_exit "rm -f '$host_marker'"
check "(set-up) a marker in the host's /tmp, for the checks below to look for" test -f "$host_marker"

out=$(as_user "$TRY" getpid crash getpid)
is "$out" "getpid: OK
crash: SIGSEGV
getpid: OK" "try-syscall: a call that kills its process (SIGSEGV) is reported, and the next calls still run"

# --- the filesystem ------------------------------------------------------------------

out=$(sbx run --map-root -- sh -c 'mount -o remount,rw / 2>&1; echo rc=$?')
like "$out" "rc=(1|32)" "remount / read-write: refused (no CAP_SYS_ADMIN)"
# Both targets are writable by the account on the host (its test directory,
# and /dev/shm, a submount of /): only the read-only bind stops the writes.
shm_target=/dev/shm/sbx-escape-$$
dir_target=$TEST_DIR/sbx-escape
at_exit "rm -f '$shm_target'"
out=$(sbx run --ro-bind /:/mnt/hostroot -- sh -c "echo x > /mnt/hostroot$dir_target; echo x > /mnt/hostroot$shm_target; echo done" 2>&1)
is "$(printf '%s\n' "$out" | grep -c 'Read-only file system')" "2" "write through a --ro-bind of / and through a submount below it (/dev/shm): EROFS, both"
check "... and nothing reached the host (where the account may write both)" test ! -e "$dir_target" -a ! -e "$shm_target"
src=sbx-escape-$$
out=$(sbx run --map-root --cap-add SYS_ADMIN -- sh -c "mount --make-rshared / && mount -t tmpfs $src /mnt && mount --bind /mnt /media && grep -c ' $src ' /proc/self/mountinfo" 2>&1)
is "$out" "2" "mount --make-rshared / then mount twice (with CAP_SYS_ADMIN): done inside..."
check "... and nothing propagates to the host (no $src in its mount table)" sh -c "! grep -q ' $src ' /proc/self/mountinfo"
out=$(sbx run --map-root -- python3 -c '
import os
os.makedirs("/tmp/jail", exist_ok=True)
os.chroot("/tmp/jail")
for _ in range(64):
    os.chdir("..")
os.chroot(".")
print(sorted(os.listdir("/tmp")))' 2>&1)
is "$out" "['jail']" "chroot back out (the classic escape): lands on the sandbox's root, not the host's"
# Root inside pivots onto a tmpfs of its own, then lists the tmp directory
# under every mount it can see (the old root among them): had the host's root
# or its /tmp been left anywhere in the sandbox, the marker would show.  After
# the pivot only sh's builtins are at hand (the new root is empty).
out=$(sbx run --map-root --cap-add SYS_ADMIN -- sh -c '
  mount -t tmpfs new /mnt && mkdir /mnt/old && cd /mnt && /usr/sbin/pivot_root . old && cd / && echo pivoted
  while read -r _ _ _ _ mp _; do
    for f in "$mp"/tmp/*; do echo "$f"; done
  done < /old/proc/self/mountinfo' 2>&1)
like "$out" "^pivoted" "pivot_root again (root inside, CAP_SYS_ADMIN): it pivots onto a tmpfs..."
like "$out" "^/old/tmp/" "... the old root (the sandbox's) is in reach at /old..."
unlike "$out" "${host_marker#/tmp/}" "... and no mount in reach shows the host's /tmp (the marker planted there)"
out=$(sbx run --map-root --cap-add SYS_ADMIN -- sh -c 'umount /tmp && ls -A /tmp | wc -l')
is "$out" "0" "--cap-add SYS_ADMIN: unmounting the fresh /tmp uncovers an empty directory, not the host's /tmp"
out=$(sbx run -- sh -c 'ls /proc/1/root/ 2>&1; readlink /proc/1/root 2>&1; echo done')
like "$out" "Permission denied" "open /proc/1/root (PID 1 is sbx-init, not dumpable): denied"
host_init_ns=$(readlink /proc/1/ns/mnt 2>/dev/null || echo none)
out=$(sbx run -- ls /proc | grep '^[0-9]' | tr '\n' ' ')
is "$out" "1 2 " "the host's processes are not in /proc (only the sandbox's)"

# --- processes ----------------------------------------------------------------------------

as_user sleep 300 &
victim=$!
sleep 0.2
victim_pid=$(pgrep -u "$uid" -n -x sleep)
out=$(sbx run -- sh -c "kill -9 $victim_pid 2>&1; echo rc=\$?")
like "$out" "rc=1" "kill a host process by pid: it does not exist inside (ESRCH)"
out=$(sbx run -- python3 -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, $victim_pid, 0, 0)  # PTRACE_ATTACH
print(r, os.strerror(ctypes.get_errno()))")
like "$out" "^-1 No such process" "ptrace a host process: no such process"
sbx run --map-root -- sh -c 'kill -9 -1' 2>/dev/null
check "kill -9 -1 inside (as root inside) kills nothing outside" kill -0 "$victim_pid"
kill "$victim_pid" 2>/dev/null
wait "$victim" 2>/dev/null

# --- privileges ------------------------------------------------------------------------------

out=$(sbx run --map-root -- sh -c 'cp /usr/bin/id /usr/local/bin/sbx-suid-id && chmod 4755 /usr/local/bin/sbx-suid-id && setpriv --reuid=1000 --regid=1000 --clear-groups /usr/local/bin/sbx-suid-id -u' 2>&1)
is "$out" "1000" "a setuid-root copy of id in the writable layer gains nothing (no_new_privs, nosuid)"
out=$(sbx run -- sh -c 'ls -l /usr/bin/passwd | cut -c1-10; passwd --status root 2>&1 | head -1; echo rc=$?' 2>&1)
like "$out" "^-rwsr-xr-x" "the host's setuid /usr/bin/passwd is there..."
unlike "$out" "^root [LPN]" "... but it runs without privileges (cannot read /etc/shadow)"
out=$(sbx run -- grep -E '^(NoNewPrivs|CapEff|CapBnd|CapAmb|CapPrm|CapInh)' /proc/self/status | awk '{print $2}' | sort -u | tr '\n' ' ')
is "$out" "0000000000000000 1 " "keep-id: no capability in any set, no_new_privs 1"
# A read-only file of the account's own: root of a nested user namespace (the
# account, with CAP_DAC_OVERRIDE) may write it inside, where it lands in the
# sandbox's layer; a sandbox that let writes through would change the host's.
as_user sh -c "echo host > '$TEST_DIR/owned' && chmod 444 '$TEST_DIR/owned'"
out=$(sbx run -- sh -c "unshare -Ur sh -c 'grep CapEff /proc/self/status; echo x >> /etc/passwd; echo nested >> $TEST_DIR/owned && echo wrote' 2>&1; echo rc=\$?")
like "$out" "CapEff:.*ffffffff" "unshare -U inside: a nested user namespace has capabilities..."
like "$out" "(Permission denied|Read-only)" "... over nothing it does not own (/etc/passwd stays unwritable)..."
like "$out" "wrote" "... over the account's own files (a 0444 one is written inside)..."
is "$(cat "$TEST_DIR/owned")" "host" "... whose host copy stays unchanged (the write went to the sandbox's layer)"
out=$(try -- mknod_block mknod_char)
like "$out" "mknod_block: EPERM" "mknod a block device: EPERM"
like "$out" "mknod_char: EPERM" "mknod a character device: EPERM"
out=$(try --map-root -- mknod_block)
like "$out" "mknod_block: EPERM" "mknod a block device as root inside: EPERM"

# --- the system call filter ---------------------------------------------------------------------

# Every call is made twice with the same options (root inside with every
# capability), with the filter and without it.  try-syscall's arguments make
# the kernel answer something else than EPERM where it can (the call works,
# or fails on an argument before any capability check): then EPERM inside is
# the filter's.
# contrast: calls the kernel answers otherwise on any kernel sbx supports.
contrast="keyctl add_key request_key perf_event_open io_uring_enter io_uring_register reboot swapon clock_settime settimeofday quotactl nfsservctl uselib"
# kernel: calls the kernel may refuse with EPERM itself: a capability it
# checks first (modules, kexec, acct, swapoff), a sysctl (syslog under
# dmesg_restrict; bpf, io_uring_setup where disabled), an older kernel
# (open_by_handle_at, lookup_dcookie, bpf: a capability or sysctl first).
# The filter is credited only where this kernel says something else;
# tests/unit/test-seccomp.c proves its rule for each of them anyway.
kernel="bpf io_uring_setup open_by_handle_at lookup_dcookie init_module finit_module delete_module kexec_load kexec_file_load acct swapoff syslog"
if [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null)" != 1 ]; then
  contrast="$contrast userfaultfd"
else
  like "$(try -- userfaultfd)" "^userfaultfd: OK" "userfaultfd: allowed, as the host allows it to unprivileged users (vm.unprivileged_userfaultfd 1)"
fi
# The 32-bit ABI, asked of the host first: without IA32 emulation int 0x80
# kills the caller there too, and there is nothing to deny.
host_int80=$(as_user "$TRY" int80)
case $host_int80 in
  "int80: OK") contrast="$contrast int80" ;;
  "int80: SIGSEGV") skip "the 32-bit ABI: this kernel has no IA32 emulation (int 0x80 dies with SIGSEGV on the host)" ;;
  *) skip "the 32-bit ABI: int 0x80 on the host gives '${host_int80#int80: }' (not x86_64?)" ;;
esac
filtered=$(try --map-root --cap-add ALL -- $contrast $kernel)
unconfined=$(try --map-root --cap-add ALL --seccomp=unconfined -- $contrast $kernel)
for call in $contrast $kernel; do
  f=$(result "$filtered" "$call")
  u=$(result "$unconfined" "$call")
  what="$call, even with --cap-add ALL"
  [ "$call" = int80 ] && what="the 32-bit ABI (int 0x80 on x86_64), even with --cap-add ALL"
  case " $kernel " in
    *" $call "*)
      if [ "$u" = EPERM ]; then
        # The kernel's own EPERM: this run cannot tell the filter's from it.
        is "$f" "EPERM" "$what: EPERM (the kernel refuses it too: EPERM without the filter; the filter's rule is proven by the unit test)"
        continue
      fi ;;
    *) ;;
  esac
  filter_check "$what" "$f" "$u"
done
is "$(sbx run --seccomp=unconfined -- "$TRY" keyctl 2>/dev/null)" "keyctl: OK" "--seccomp=unconfined lifts the filter (keyctl works)"
is "$(try -- unshare_user getpid)" "unshare_user: OK
getpid: OK" "nested user namespaces are allowed (decided: docs/security.md)"

# --- the terminal ---------------------------------------------------------------------------------

# Under a real pty: a command that pushes "id\n" into its terminal would have
# the caller's shell run it.  The driver keeps the caller's side of its pty
# open and counts what waits in its input queue at the end (FIONREAD):
# keystrokes injected into the caller's terminal would wait there for the
# caller's shell.
pty_test () {
  as_user python3 - "$SBX" "$TRY" "$@" <<'PY'
import fcntl, os, select, struct, sys, termios, time
sbx, tr, *extra = sys.argv[1:]
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 1024)
    os.execv(sbx, [sbx, "run", *extra, "--", tr, "tiocsti", "tioclinux"])
out = b""
exited = False
end = time.time() + 10
while time.time() < end:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    elif exited:
        break  # gone, and nothing left to read
    if not exited and os.waitpid(pid, os.WNOHANG)[0]:
        exited = True
# Out of canonical mode first: a line not ended yet counts then too.
import tty
tty.setraw(slave, termios.TCSANOW)  # not TCSAFLUSH: that would discard it
pending = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
# What the sandbox printed, and what waits as input for the caller's shell.
text = out.decode(errors="replace").replace("\r", "")
print(text.strip())
print("caller-input: %d" % pending)
PY
}
# By default the command's terminal is a pty of the sandbox's own (its own
# devpts): TIOCSTI can only reach that one.
out=$(pty_test)
unconfined=$(pty_test --seccomp=unconfined)
is "$(result "$out" tiocsti)" "EPERM" "TIOCSTI on the command's terminal (the sandbox's own pty): EPERM..."
like "$(result "$unconfined" tiocsti)" "^(OK|EIO)$" "... and without the filter it lands in the sandbox's own pty (OK; EIO where dev.tty.legacy_tiocsti is 0)..."
is "$(result "$out" caller-input) $(result "$unconfined" caller-input)" "0 0" "... and never in the caller's terminal (nothing waits in its input queue)"
filter_check "TIOCLINUX on the command's terminal" "$(result "$out" tioclinux)" "$(result "$unconfined" tioclinux)"
# --no-pty: the caller's terminal is among the command's fds, but not its
# controlling terminal (a new session).
out=$(pty_test --no-pty)
unconfined=$(pty_test --no-pty --seccomp=unconfined)
is "$(result "$out" tiocsti)" "EPERM" "--no-pty: TIOCSTI into the caller's pty (new session): EPERM..."
like "$(result "$unconfined" tiocsti)" "^(EPERM|EIO)$" "... and without the filter too: the new session alone keeps it out (not its controlling terminal; EIO where dev.tty.legacy_tiocsti is 0)"
is "$(result "$unconfined" caller-input)" "0" "... nothing waits in the caller's input queue"
filter_check "--no-pty: TIOCLINUX on the caller's pty" "$(result "$out" tioclinux)" "$(result "$unconfined" tioclinux)"
out=$(pty_test --share-tty)
unconfined=$(pty_test --share-tty --seccomp=unconfined)
filter_check "TIOCSTI with --share-tty (the caller's session)" "$(result "$out" tiocsti)" "$(result "$unconfined" tiocsti)"
is "$(result "$out" caller-input)" "0" "... nothing waits in the caller's input queue"
# The control that shows the queue check can fail: with the caller's session
# and no filter, the injected byte does wait for the caller's shell.
if [ "$(result "$unconfined" tiocsti)" = OK ]; then
  is "$(result "$unconfined" caller-input)" "1" "... (control: --share-tty --seccomp=unconfined does push a byte into the caller's input queue)"
else
  skip "the queue control needs TIOCSTI without CAP_SYS_ADMIN (dev.tty.legacy_tiocsti is 0 here)"
fi

# --- the caller's session --------------------------------------------------------------------------

python3 - "$TEST_DIR/abstract.ready" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0sbx-escape-%d" % os.getpid())
s.listen(1)
open(sys.argv[1], "w").write("\0sbx-escape-%d" % os.getpid())
s.settimeout(20)
try:
    s.accept()
except OSError:
    pass
PY
listener=$!
for _ in $(seq 50); do [ -s "$TEST_DIR/abstract.ready" ] && break; sleep 0.1; done
name=$(tr -d '\0' < "$TEST_DIR/abstract.ready")
out=$(sbx run -- python3 -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect('\0$name'); print('connected')
except OSError as e:
    print(e.strerror)")
is "$out" "Connection refused" "connect to a host abstract unix socket: refused (own network namespace)"
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null

if is_root; then
  bus_dir=/run/user/$uid
  made=
  [ -d "$bus_dir" ] || { mkdir -p "$bus_dir"; chown "$uid" "$bus_dir"; chmod 700 "$bus_dir"; made=1; }
  as_user python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind('$bus_dir/bus'); s.listen(1)
open('$TEST_DIR/bus.ready', 'w').close(); s.settimeout(20)
try: s.accept()
except OSError: pass" &
  bus=$!
  for _ in $(seq 50); do [ -e "$TEST_DIR/bus.ready" ] && break; sleep 0.1; done
  out=$(as_user env DBUS_SESSION_BUS_ADDRESS="unix:path=$bus_dir/bus" XDG_RUNTIME_DIR="$bus_dir" "$SBX" run -- sh -c "
    ls -A $bus_dir; echo \"[\$DBUS_SESSION_BUS_ADDRESS]\"; echo \$XDG_RUNTIME_DIR
    python3 -c \"
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('$bus_dir/bus'); print('connected')
except OSError as e:
    print(e.strerror)\"")
  is "$out" "[]
$bus_dir
No such file or directory" "the caller's D-Bus session bus: not inside (fresh /run/user/UID, variable dropped)"
  kill "$bus" 2>/dev/null
  rm -f "$bus_dir/bus"
  [ -n "$made" ] && rm -rf "$bus_dir"
else
  skip "needs root to stand up a session bus socket at /run/user/UID"
fi
if is_root; then
  # A system socket anyone may connect to (as the system bus, docker.sock or
  # the journal are): the host's /run is not inside, not even read-only.
  sock=/run/sbx-escape-$$.sock
  python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind('$sock'); os.chmod('$sock', 0o666); s.listen(1)
open('$TEST_DIR/run.ready', 'w').close(); s.settimeout(20)
try: s.accept()
except OSError: pass" &
  runsock=$!
  for _ in $(seq 50); do [ -e "$TEST_DIR/run.ready" ] && break; sleep 0.1; done
  out=$(sbx run -- python3 -c "
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('$sock'); print('connected')
except OSError as e:
    print(e.strerror)")
  is "$out" "No such file or directory" "connect to a world-writable socket in the host's /run: not there (a fresh /run)"
  kill "$runsock" 2>/dev/null; wait "$runsock" 2>/dev/null
  rm -f "$sock"
else
  skip "needs root to stand up a socket in the host's /run"
fi
out=$(sbx run --map-root --cap-add SYS_ADMIN -- sh -c 'umount /run && ls -A /run | wc -l')
is "$out" "0" "--cap-add SYS_ADMIN: unmounting the fresh /run uncovers an empty directory, not the host's /run"
out=$(as_user env SSH_AUTH_SOCK=/tmp/ssh-x/agent.1 DISPLAY=:0 WAYLAND_DISPLAY=wayland-0 "$SBX" run -- sh -c 'echo "[$SSH_AUTH_SOCK$DISPLAY$WAYLAND_DISPLAY]"; ls /tmp | wc -l')
is "$out" "[]
0" "ssh-agent, X11 and Wayland: variables dropped, host /tmp (their sockets, the marker) not there"

# --- kernel interfaces --------------------------------------------------------------------------------

out=$(sbx run --map-root -- sh -c 'echo 1 > /proc/sys/kernel/sysrq 2>&1; echo rc=$?; python3 -c "open(\"/proc/sys/kernel/domainname\", \"w\").write(\"x\")" 2>&1 | tail -1')
like "$out" "rc=[12]" "write /proc/sys/kernel/*: refused"
like "$out" "Read-only file system" "... /proc/sys is read-only"
if [ -e /proc/sysrq-trigger ]; then
  out=$(sbx run --map-root -- sh -c 'echo h > /proc/sysrq-trigger 2>&1; echo rc=$?')
  like "$out" "rc=[12]" "write /proc/sysrq-trigger: refused"
else
  skip "this kernel has no /proc/sysrq-trigger"
fi
out=$(sbx run --map-root -- sh -c 'head -c 16 /proc/kcore 2>/dev/null | wc -c; cat /proc/keys /proc/timer_list 2>/dev/null | wc -c; ls /sys/firmware | wc -l')
is "$out" "0
0
0" "read /proc/kcore, /proc/keys, /proc/timer_list, /sys/firmware: masked (empty)"
out=$(sbx run --map-root -- sh -c 'echo x > /sys/kernel/uevent_helper 2>&1; touch /sys/x 2>&1; echo rc=$?')
like "$out" "Read-only file system" "/sys is read-only"

# --- bind targets ---------------------------------------------------------------------------------------

as_user mkdir -p "$TEST_DIR/payload" "$TEST_DIR/decoy" "$TEST_DIR/target"
as_user sh -c "echo payload > '$TEST_DIR/payload/file'"
as_user ln -s /etc "$TEST_DIR/decoy/etc-link"
out=$(sbx run --bind "$TEST_DIR/decoy:/tmp/d" --bind "$TEST_DIR/payload:/tmp/d/etc-link" -- cat /etc/file 2>&1)
is "$out" "payload" "a bind destination that is a symlink to /etc lands on the sandbox's /etc"
# The host side, where the account may write: a symlink (in a host directory
# bound in) to a directory of the account's, and a mount point to create
# below it.  Resolved on the host, the mount point would appear there.
as_user ln -s "$TEST_DIR/target" "$TEST_DIR/decoy/target-link"
out=$(sbx run --bind "$TEST_DIR/decoy:/tmp/d" --bind "$TEST_DIR/payload:/tmp/d/target-link/sub" -- cat "$TEST_DIR/target/sub/file" 2>&1)
is "$out" "payload" "a bind destination below a symlink to a host directory of the account's lands inside..."
is "$(ls -A "$TEST_DIR/target")" "" "... and its mount point is not made in the host's directory"
out=$(sbx run --bind "$TEST_DIR/payload:/tmp/x/../../etc/x2" -- cat /etc/x2/file 2>&1)
is "$out" "payload" "a destination with .. (/tmp/x/../../etc/x2) is the sandbox's /etc/x2"
# More .. than the path is deep: joined to the new root's path on the host,
# it would climb out of it to the account's test directory.
out=$(sbx run --bind "$TEST_DIR/payload:/../../../../../../../..$TEST_DIR/dotdot" -- cat "$TEST_DIR/dotdot/file" 2>&1)
is "$out" "payload" "a destination that climbs above / with .. stops at the sandbox's root..."
check "... and makes nothing in the host's directory it names" test ! -e "$TEST_DIR/dotdot"

# --- what the setup leaves in the command's reach -----------------------------------------------------------

out=$(as_user sh -c "exec 7</ 8</etc; '$SBX' run --map-root -- ls /proc/self/fd" | sort -n | tr '\n' ' ')
is "$out" "0 1 2 3 " "no fd reaches the command: neither the setup's nor the caller's (7 and 8, host dirs)"
out=$(sbx run --map-root -- sh -c 'ps -e -o comm= | sort | tr "\n" " "')
is "$out" "ps sbx-init sh sort tr " "fuse-overlayfs (which holds host fds) is not a process of the sandbox"

# --- network and limits (once they exist) ----------------------------------------------------------------------

if "$SBX" run --help | grep -q -- --allow-host-loopback; then
  python3 -m http.server 0 --bind 127.0.0.1 >"$TEST_DIR/http.log" 2>&1 &
  web=$!
  sleep 0.5
  port=$(ss -ltnp 2>/dev/null | awk -v p="pid=$web," 'index($0, p) {split($4, a, ":"); print a[2]; exit}')
  # The same request with the option first: the server is there to reach.
  out=$(sbx run --allow-host-loopback -- sh -c "curl -s -m 5 http://10.0.2.2:$port/ >/dev/null; echo rc=\$?")
  is "$out" "rc=0" "the host's 127.0.0.1 through 10.0.2.2 with --allow-host-loopback: reached..."
  out=$(sbx run -- sh -c "curl -s -m 5 http://10.0.2.2:$port/ >/dev/null; echo rc=\$?")
  unlike "$out" "rc=0" "... and without it: refused"
  kill "$web"
else
  skip "networking (--allow-host-loopback) is not in this build"
fi
if "$SBX" run --help | grep -q -- --pids-limit; then
  out=$(sbx run --pids-limit 20 -- sh -c 'for i in $(seq 50); do sleep 5 & done 2>&1 | tail -1; echo done' 2>&1)
  rc=$?
  if [ "$rc" -eq 125 ] && printf '%s' "$out" | grep -q "no systemd user manager"; then
    # No user manager here: sbx refuses to run unlimited.  The fork loop
    # stopped at the limit is proven in the systemd guest (tests/vm/cgroup.sh).
    ok "exhaust pids under --pids-limit: without a user manager sbx refuses to run at all"
  else
    like "$out" "(Resource temporarily unavailable|cannot fork)" "exhaust pids under --pids-limit: forks fail"
  fi
else
  skip "resource limits (--pids-limit) are not in this build"
fi

# --- sbx exec ------------------------------------------------------------------------

# The command makes namespaces of its own with a planted file, then waits:
# an exec that joined those would run what the command planted.
start_named esc-ns -- unshare -Urm sh -c 'mount -t tmpfs x /usr/local && echo TROJAN > /usr/local/marker && exec sleep 60'
sleep 0.3
out=$(sbx exec esc-ns -- cat /usr/local/marker 2>&1); rc=$?
is "$rc" "125" "sbx exec into a sandbox whose command left for namespaces of its own: refused (125)"
like "$out" "^sbx: cannot exec in esc-ns: its command has left the sandbox's user namespace" "... saying why"
sbx stop --time 1 esc-ns >/dev/null 2>&1
start_named esc-env -- sleep 60
# (XDG_RUNTIME_DIR is the test's own, where the sandbox is registered.)
out=$(as_user env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent SSH_AUTH_SOCK=/tmp/agent DISPLAY=:0 \
  "$SBX" exec esc-env -- sh -c 'echo "[$DBUS_SESSION_BUS_ADDRESS$SSH_AUTH_SOCK$DISPLAY]" $XDG_RUNTIME_DIR')
is "$out" "[] /run/user/$uid" "sbx exec drops the caller's session variables as run does"
sbx stop --time 1 esc-env >/dev/null 2>&1

done_testing
