#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-mounts.sh: the sandbox's root, /proc, /dev, /tmp, --bind, --ro-bind,
# --tmpfs, checked from inside and on the host afterwards.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
gid=$(test_gid)

# --- the root and what the setup leaves visible ----------------------------------

out=$(sbx run -- sh -c 'touch /etc/sbx-probe 2>&1; echo rc=$?')
like "$out" "Permission denied" "keep-id: a root-owned host directory stays unwritable inside"
out=$(sbx run -- sh -c 'mkdir /sbx-probe 2>&1; echo rc=$?')
like "$out" "Read-only file system" "the top of the root (the skeleton above the overlays) is read-only"
as_user sh -c "echo original > '$TEST_HOME/file'"
out=$(sbx run -- sh -c "echo changed > '$TEST_HOME/file' && echo new > '$TEST_HOME/new' && cat '$TEST_HOME/file' '$TEST_HOME/new'")
is "$out" "changed
new" "the caller's own files are writable inside (copy-up)"
is "$(cat "$TEST_HOME/file"):$(test -e "$TEST_HOME/new" && echo leaked)" "original:" \
  "... and the writes vanish with the sandbox: the host is untouched"
mi=$(sbx run -- cat /proc/self/mountinfo)
unlike "$mi" " /sys/root| /sys/layer| /sys/fuse| /tmp/root| /tmp/layer|/oldroot|staging" \
  "mountinfo shows nothing of the setup (no staging or old root)"
like "$(printf '%s\n' "$mi" | awk '$5 == "/" {print $6}' | head -1)" "^ro," "the root mount is ro"
like "$(printf '%s\n' "$mi" | awk '$5 == "/" {print $6}' | head -1)" "nosuid,nodev" "the root mount is nosuid,nodev"
like "$(printf '%s\n' "$mi" | awk '$5 == "/usr" {print $(NF-2)}' | head -1)" "^overlay$" "/usr is an overlay"

# --- /proc -------------------------------------------------------------------------

is "$(sbx run -- cat /proc/1/comm)" "sbx-init" "/proc is the sandbox's own (PID 1 is sbx-init)"
is "$(sbx run -- ls /proc | grep "^[0-9]" | tr '\n' ' ')" "1 2 " "/proc lists only the sandbox's processes"

# --- /dev ---------------------------------------------------------------------------

out=$(sbx run -- ls /dev | tr '\n' ' ')
is "$out" "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " \
  "/dev holds only the minimal set"
out=$(sbx run -- sh -c 'echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 | tr -d " " && head -c 8 /dev/urandom | wc -c && (echo x > /dev/full) 2>&1')
like "$out" "^00000000
8
.*No space left on device" "null, zero, urandom and full behave"
out=$(sbx run -- awk '$5 == "/dev/pts" {print $(NF-2), $NF}' /proc/self/mountinfo | tail -1)
like "$out" "^devpts .*ptmxmode=666" "/dev/pts is a devpts instance of its own with a usable ptmx"
is "$(sbx run -- readlink /dev/ptmx)" "pts/ptmx" "/dev/ptmx points into the own devpts"
out=$(sbx run -- python3 -c 'import os, pty; m, s = pty.openpty(); print(os.ttyname(s))')
like "$out" "^/dev/pts/0$" "a pty can be opened inside and is the first of its instance"
is "$(sbx run -- readlink /dev/fd /dev/stdin /dev/stdout /dev/stderr | tr '\n' ' ')" \
  "/proc/self/fd /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 " "the standard /dev symlinks exist"
is "$(sbx run -- stat -c %a /dev/shm)" "1777" "/dev/shm is a sticky world-writable tmpfs"
out=$(sbx run -- sh -c 'echo ok > /dev/shm/x && cat /dev/shm/x')
is "$out" "ok" "/dev/shm is writable"

# --- /tmp -----------------------------------------------------------------------------

as_user sh -c "echo secret > /tmp/sbx-host-file-$$"
at_exit "rm -f /tmp/sbx-host-file-$$"
out=$(sbx run -- sh -c "ls /tmp; stat -c '%a %U' /tmp; echo w > /tmp/sbx-w-$$ && cat /tmp/sbx-w-$$")
is "$out" "1777 root
w" "/tmp is a fresh, empty, writable tmpfs owned by root"
# The host's /tmp is open to the account: only the fresh tmpfs keeps it out.
at_exit "rm -f /tmp/sbx-w-$$"
check "nothing written to /tmp inside reaches the host" test ! -e /tmp/sbx-w-$$

# --- --bind, --ro-bind ------------------------------------------------------------------

as_user mkdir -p src/sub dst
as_user sh -c 'echo data > src/file'
out=$(sbx run --bind "$TEST_DIR/src:/tmp/in" -- sh -c 'cat /tmp/in/file; echo new > /tmp/in/new; echo rc=$?')
is "$out" "data
rc=0" "--bind SRC:DST shows SRC at DST, writable"
is "$(cat src/new)" "new" "a write through --bind lands on the host"
is "$(stat -c %u:%g src/new)" "$uid:$gid" "... owned by the caller"
out=$(sbx run --bind "$TEST_DIR/src:/tmp/in:ro" -- sh -c 'cat /tmp/in/file; echo x > /tmp/in/x; echo rc=$?' 2>&1)
like "$out" "data
.*Read-only file system
rc=[12]" "--bind SRC:DST:ro is read-only"
out=$(sbx run --ro-bind "$TEST_DIR/src" -- sh -c "echo x > '$TEST_DIR/src/x'; echo rc=\$?" 2>&1)
like "$out" "Read-only file system" "--ro-bind SRC binds at the same path, read-only"
check "a failed write through --ro-bind leaves the host untouched" test ! -e src/x
out=$(sbx run --ro-bind "$TEST_DIR/src/file:/tmp/f" -- cat /tmp/f)
is "$out" "data" "a single file can be bound"
out=$(cd "$TEST_DIR" && as_user "$SBX" run --bind src:/tmp/rel -- cat /tmp/rel/file)
is "$out" "data" "a relative SRC is resolved against the caller's cwd"
as_user ln -s "$TEST_DIR/src" link
out=$(sbx run --bind "$TEST_DIR/link:/tmp/l" -- cat /tmp/l/file)
is "$out" "data" "a symlink as SRC is followed as the caller sees it"
# A later mount stacks on an earlier one, in command-line order.
out=$(sbx run --tmpfs /tmp/stack --bind "$TEST_DIR/src:/tmp/stack/in" -- cat /tmp/stack/in/file)
is "$out" "data" "mounts apply in command-line order (a bind inside a --tmpfs)"
# A bind destination that is a symlink pointing outside resolves inside the sandbox.
out=$(sbx run --tmpfs /tmp/t --bind "$TEST_DIR/src:/tmp/t/x" -- sh -c 'ls /tmp/t/x')
like "$out" "file" "binds under a fresh tmpfs create their mount point"
as_user mkdir -p symroot
as_user ln -s /etc symroot/etc-link
out=$(sbx run --bind "$TEST_DIR/symroot:/tmp/sr" --bind "$TEST_DIR/src:/tmp/sr/etc-link" -- sh -c 'cat /etc/file')
is "$out" "data" "a bind destination that is a symlink to /etc lands on the sandbox's /etc"

# --- --tmpfs ---------------------------------------------------------------------------

out=$(sbx run --tmpfs /tmp/scratch:1M -- sh -c 'stat -c "%a %u %g" /tmp/scratch; df -k /tmp/scratch | awk "NR==2 {print \$2}"')
is "$out" "755 $uid $gid
1024" "--tmpfs DST:SIZE: owned by the caller, mode 0755, of that size"
out=$(sbx run --map-root --tmpfs /tmp/scratch -- stat -c "%a %u %g" /tmp/scratch)
is "$out" "755 0 0" "--tmpfs with --map-root belongs to root inside"
out=$(sbx run --tmpfs /tmp/small:64K -- sh -c 'head -c 100000 /dev/zero > /tmp/small/f; echo rc=$?' 2>&1)
like "$out" "No space left on device" "the --tmpfs size is enforced"

# --- caps of the RAM-backed filesystems -------------------------------------------------
# What a tmpfs holds stays in RAM charged to no process, so every tmpfs of a
# sandbox is capped: the throwaway layer (--upper-size, 25% of the RAM),
# /tmp, /var/tmp, /run and a --tmpfs without SIZE (--tmp-size, 10%),
# /dev/shm (--shm-size, 64M).  tmpfs computes "size=N%" against the RAM's
# pages (MemTotal) and rounds up to a page; df -k shows the cap in KiB.

mem_kib=$(awk '$1 == "MemTotal:" {print $2}' /proc/meminfo)
page_kib=$(( $(getconf PAGESIZE) / 1024 ))
# pct_kib N: the size in KiB of a tmpfs mounted with size=N%.
pct_kib () { echo $(( ($1 * mem_kib / 100 + page_kib - 1) / page_kib * page_kib )); }
# near GOT WANT DESCRIPTION: GOT is WANT KiB, give or take two pages.
near () {
  case $1 in
    '' | *[!0-9]*) not_ok "$3"; diag "got: '$1'" "want: $2 KiB"; return ;;
  esac
  if [ "$1" -ge $(( $2 - 2 * page_kib )) ] && [ "$1" -le $(( $2 + 2 * page_kib )) ]; then
    ok "$3"
  else
    not_ok "$3"
    diag "got:  $1 KiB" "want: $2 KiB (give or take two pages of $page_kib KiB)"
  fi
}
# caps ARGS...: the size in KiB of each filesystem inside `sbx run ARGS`,
# one "PATH KIB" line each.  A kernel overlay (and fuse-overlayfs) reports
# its upper's filesystem: /usr and the caller's home show the layer's tmpfs.
caps () {
  sbx run "$@" -- sh -c 'for p in /usr "$HOME" /tmp /var/tmp /run /dev/shm /tmp/t; do
    [ -e "$p" ] && echo "$p $(df -Pk "$p" | awk "NR == 2 {print \$2}")"; done' 2>&1
}
# cap_of PATH: the size of PATH in the last caps output.
cap_of () { printf '%s\n' "$out" | awk -v p="$1" '$1 == p {print $2}'; }

diag "MemTotal: $mem_kib KiB; 25%: $(pct_kib 25) KiB, 10%: $(pct_kib 10) KiB"
out=$(caps --tmpfs /tmp/t)
diag "$out"
near "$(cap_of /usr)" "$(pct_kib 25)" "the throwaway layer (df /usr) is capped at 25% of the RAM"
near "$(cap_of "$TEST_HOME")" "$(pct_kib 25)" "... and so is the caller's home (the same layer)"
for p in /tmp /var/tmp /run; do
  near "$(cap_of $p)" "$(pct_kib 10)" "$p is capped at 10% of the RAM"
done
near "$(cap_of /tmp/t)" "$(pct_kib 10)" "a --tmpfs without SIZE is capped at 10% of the RAM"
is "$(cap_of /dev/shm)" "65536" "/dev/shm is capped at 64M"

out=$(caps --map-root --tmpfs /tmp/t)
near "$(cap_of /usr)" "$(pct_kib 25)" "--map-root: the layer (df /usr, fuse-overlayfs) is capped at 25%"
near "$(cap_of /tmp)" "$(pct_kib 10)" "--map-root: /tmp is capped at 10%"
is "$(cap_of /dev/shm)" "65536" "--map-root: /dev/shm is capped at 64M"

out=$(caps --upper-size 2M --tmp-size 1M --shm-size 3M --tmpfs /tmp/t)
is "$(printf '%s\n' "$out" | awk '{print $2}' | tr '\n' ' ')" "2048 2048 1024 1024 1024 3072 1024 " \
  "--upper-size, --tmp-size and --shm-size set the caps (/usr ~ /tmp /var/tmp /run /dev/shm --tmpfs)"
out=$(caps --tmp-size 1M --tmpfs /tmp/t:2M)
is "$(cap_of /tmp/t)" "2048" "a --tmpfs with SIZE keeps its SIZE"
out=$(caps --upper-size 5% --tmp-size 3% --shm-size=1%)
near "$(cap_of /usr)" "$(pct_kib 5)" "--upper-size N% is a percentage of the RAM"
near "$(cap_of /run)" "$(pct_kib 3)" "--tmp-size N% is a percentage of the RAM"
near "$(cap_of /dev/shm)" "$(pct_kib 1)" "--shm-size N% is a percentage of the RAM"

# A write beyond the cap fails as on a full disk.
out=$(sbx run --shm-size 1M -- sh -c 'head -c 2M /dev/zero > /dev/shm/f; echo rc=$?' 2>&1)
like "$out" "No space left on device" "a write beyond --shm-size fails"
out=$(sbx run --tmp-size 1M -- sh -c 'head -c 2M /dev/zero > /tmp/f; echo rc=$?' 2>&1)
like "$out" "No space left on device" "a write beyond --tmp-size fails in /tmp"
out=$(sbx run --tmp-size 1M -- sh -c 'head -c 2M /dev/zero > /run/user/$(id -u)/f; echo rc=$?' 2>&1)
like "$out" "No space left on device" "... and in /run"
out=$(sbx run --upper-size 2M -- sh -c 'head -c 4M /dev/zero > "$HOME/f"; echo rc=$?' 2>&1)
like "$out" "No space left on device" "a write beyond --upper-size fails (kernel overlay, the home)"
check "... and nothing reached the host" test ! -e "$TEST_HOME/f"
out=$(sbx run --map-root --upper-size 2M -- sh -c 'head -c 4M /dev/zero > /usr/local/f; echo rc=$?' 2>&1)
like "$out" "No space left on device" "a write beyond --upper-size fails (--map-root, /usr/local)"

for opt in --upper-size --tmp-size --shm-size; do
  for v in 0 -1 1X '' 18446744073709551616; do
    rejects "$opt: '$v' is not a size above zero" "$opt" "$v"
  done
  for v in 101% 0%; do
    rejects "$opt: '$v' is not a size (a percentage of the RAM is a whole number from 1% to 100%)" "$opt=$v"
  done
done
rejects "sbx: --upper-size: the writable layer is kept on disk with --upper DIR, not in memory; --upper-size caps only the throwaway layer" \
  --upper-size 1G --upper "$TEST_DIR/kept"
check "... and DIR was not created" test ! -e "$TEST_DIR/kept"
rejects "sbx: --upper-size: the writable layer is kept on disk with --name, not in memory; --upper-size caps only the throwaway layer" \
  --name capped --upper-size 1G

# Profile keys, through the same setters.
as_user mkdir -p "$TEST_HOME/.config/sbx"
printf '[run]\nupper-size=3M\ntmp-size=2M\nshm-size=1M\n' | as_user tee "$TEST_HOME/.config/sbx/caps.conf" >/dev/null
out=$(caps --profile caps --tmpfs /tmp/t)
is "$(printf '%s\n' "$out" | awk '{print $2}' | tr '\n' ' ')" "3072 3072 2048 2048 2048 1024 2048 " \
  "upper-size, tmp-size and shm-size in a profile set the caps"
out=$(caps --profile caps --shm-size 4M)
is "$(cap_of /dev/shm)" "4096" "... and the command line wins over the profile"
printf '[run]\nshm-size=0\n' | as_user tee "$TEST_HOME/.config/sbx/badcap.conf" >/dev/null
rejects "sbx: $TEST_HOME/.config/sbx/badcap.conf:2: shm-size: '0' is not a size above zero (use e.g. 64M, 1.5G or 10%)" \
  --profile badcap

# A kernel interface mounted elsewhere on the host (a chroot's /proc, as a
# debootstrap leaves while it works): no overlay takes it as a layer, and
# the host's processes have no business inside.
if is_root; then
  kdir=$TEST_DIR/chroot-proc
  mkdir -p "$kdir"
  if mount -t proc proc "$kdir"; then
    at_exit "umount '$kdir' 2>/dev/null"
    for driver in kernel fuse; do
      out=$(sbx run --map-root --overlay $driver -- sh -c "ls -A '$kdir' | wc -l" 2>&1)
      is "$out" "0" "$driver driver: a proc mounted elsewhere on the host is an empty directory inside"
    done
    umount "$kdir"
  else
    skip "cannot mount a proc at $kdir"
    skip "cannot mount a proc at $kdir"
  fi
else
  skip "needs root to mount a proc elsewhere on the host"
  skip "needs root to mount a proc elsewhere on the host"
fi

done_testing
