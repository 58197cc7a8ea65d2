#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-rootfs.sh: the layered root with real kernel overlayfs and real
# fuse-overlayfs, as the unprivileged account: copy-up, whiteouts, opaque
# directories, layer order and sharing, kept layers, --map-root installs over
# the host with the host unchanged, the permission boundary, ownership on the
# host, leftovers, bad input.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
gid=$(test_gid)
read -r substart _ < <(subid_range /etc/subuid)
command -v fuse-overlayfs >/dev/null || skip_all "fuse-overlayfs is not installed"
require_device /dev/fuse
[ -x /bin/busybox ] || skip_all "busybox-static is not installed (it makes the test trees)"

# tree DIR: a minimal root tree owned by the caller: busybox and a few files.
tree () {
  as_user mkdir -p "$1/bin" "$1/etc" "$1/data/dir" "$1/usr/local/bin"
  as_user cp /bin/busybox "$1/bin/busybox"
  for cmd in sh cat ls rm mkdir echo touch stat id test sleep chown mknod; do
    as_user ln -sf busybox "$1/bin/$cmd"
  done
  as_user sh -c "echo base > '$1/etc/release'; echo keep > '$1/data/keep'; echo old > '$1/data/dir/old'"
}
tree "$TEST_DIR/base"
base=$TEST_DIR/base

# on_tree DRIVER ARGS... -- CMD: sbx run on the test tree with that driver.
on_tree () {
  local driver=$1
  shift
  sbx run -w / --map-root --overlay "$driver" --rootfs "$base" "$@"
}

for driver in kernel fuse; do
  # --- copy-up, whiteouts, opaque directories -------------------------------------
  out=$(on_tree $driver -- sh -c 'echo new >> /etc/release; cat /etc/release')
  is "$out" "base
new" "$driver: a lower file can be changed inside (copy-up)"
  is "$(cat "$base/etc/release")" "base" "$driver: ... and the lower file is unchanged"
  out=$(on_tree $driver -- sh -c 'rm /data/keep; ls /data')
  is "$out" "dir" "$driver: a deleted lower file is gone inside (whiteout)"
  check "$driver: ... and still there on the host" test -e "$base/data/keep"
  out=$(on_tree $driver -- sh -c 'rm -rf /data/dir && mkdir /data/dir && echo n > /data/dir/new && ls /data/dir')
  is "$out" "new" "$driver: rm -rf dir; mkdir dir hides the old contents (opaque directory)"

  # --- kept layer -----------------------------------------------------------------------
  up=$TEST_DIR/keep-$driver
  on_tree $driver --upper "$up" -- sh -c 'echo kept > /etc/added; rm /data/keep; rm -rf /data/dir; mkdir /data/dir; echo n > /data/dir/new'
  out=$(on_tree $driver --upper "$up" -- sh -c 'cat /etc/added; ls /data; ls /data/dir')
  is "$out" "kept
dir
new" "$driver: a second run on the same --upper sees the first run's files, deletions and opaque dir"
  is "$(stat -c %u:%g "$up/upper/etc/added")" "$uid:$gid" "$driver: a file root wrote is the caller's in the kept layer on the host"
  is "$(as_user cat "$up/upper/etc/added")" "kept" "$driver: the kept layer is readable with normal tools"
  out=$(sbx diff --upper "$up" --lower "$base")
  like "$out" "A /etc/added" "$driver: diff --upper lists the added file"
  like "$out" "D /data/keep" "$driver: diff --upper lists the whiteout"
  like "$out" "D /data/dir/old" "$driver: diff --upper lists what the opaque dir hides"
  like "$out" "A /data/dir/new" "$driver: diff --upper lists the new file in the opaque dir"

  # --- ownership of files other ids wrote -------------------------------------------------
  on_tree $driver --upper "$up" -- sh -c 'touch /etc/owned && chown 1000:1000 /etc/owned'
  is "$(stat -c %u "$up/upper/etc/owned")" "$((substart + 999))" \
    "$driver: a file chowned to 1000 inside belongs to subordinate id START+999 on the host"
done

# The kernel driver shows what it stores; fuse-overlayfs with --map-root
# squashes lower files to root (its squash_to_root), which is its purpose.
is "$(on_tree kernel --upper "$TEST_DIR/keep-kernel" -- stat -c %u /etc/owned)" "1000" \
  "kernel: a chown inside is seen inside"

# --- a kept layer is not synced at its end -------------------------------------------------
# Its kernel overlays are volatile (no syncfs of the whole filesystem at
# their unmount); a mark of this boot in its work directory stands for
# writes not yet known to be on disk (docs/rootfs.md, "A kept layer").

boot=$(cat /proc/sys/kernel/random/boot_id)
up=$TEST_DIR/keep-unsynced
mounts=$(sbx run --map-root --net none --upper "$up" -- sh -c 'echo one > /usr/local/one; grep " - overlay " /proc/self/mountinfo')
like "$mounts" "volatile" "a kept layer's kernel overlays are mounted volatile"
unlike "$(grep -v volatile <<<"$mounts")" "upperdir=$up" "... every one of them"
unlike "$(sbx run --map-root --net none -- grep " - overlay " /proc/self/mountinfo)" "volatile" \
  "a throwaway layer's are not (a tmpfs has nothing to sync)"
is "$(ls "$up/work")" "kernel" "after a run no mark is left in the layer's work directory"
is "$(sbx run --map-root --net none --upper "$up" -- cat /usr/local/one)" "one" \
  "the next run mounts the layer again (the kernel's mark of the volatile mount is cleared) and sees its files"

background killed "$SBX" run --map-root --net none --upper "$up" -- sh -c 'echo two > /usr/local/two; echo started; exec sleep 1000'
wait_comm "$killed" sbx
for _ in $(seq 100); do [ -e "$up/upper/usr/local/two" ] && break; sleep 0.05; done
init=$(pgrep -P "$killed" -x sbx-init)
kill -KILL "$killed"
wait_gone "${init:-0}" 2
is "$(ls "$up/work")" "kernel
unsynced-$boot" "a monitor killed while the command ran leaves the mark of this boot"
is "$(sbx run --map-root --net none --upper "$up" -- cat /usr/local/one /usr/local/two 2>&1)" "one
two" "... and the next run of the same boot uses the layer (the page cache still holds its writes)"
is "$(ls "$up/work")" "kernel" "... and removes the mark at its end"

# The mark of another boot: the machine went down while a sandbox wrote.
as_user mkdir "$up/work/unsynced-00000000-0000-0000-0000-000000000000"
out=$(sbx run --map-root --net none --upper "$up" -- sh -c 'echo three > /usr/local/three' 2>&1)
rc=$?
is "$rc:$out" "125:sbx: --upper $up: the machine went down while a sandbox was writing this layer, \
and sbx does not wait for a layer's writes to reach the disk: the last of them may be missing or cut \
short.  Look at it (sbx diff), then remove $up/work/unsynced-00000000-0000-0000-0000-000000000000 to \
use it again" "a layer marked by another boot is refused with what happened and what to remove"
check "... before its command ran" test ! -e "$up/upper/usr/local/three"
is "$(ls "$up/work")" "kernel
unsynced-00000000-0000-0000-0000-000000000000" "... and the mark is left as it was"
as_user rmdir "$up/work/unsynced-00000000-0000-0000-0000-000000000000"
is "$(sbx run --map-root --net none --upper "$up" -- cat /usr/local/two)" "two" "once removed, the layer is used again"

# A kept layer is the sandbox's: what PID 1 removes in it (the kernel's
# mark, an old unwritten copy of dpkg's status) is reached without
# following a symlink planted there.
outside=$TEST_DIR/outside
as_user mkdir -p "$outside/incompat/volatile" "$outside/dpkg"
as_user touch "$outside/incompat/volatile/dirty"
as_user sh -c "echo 'Package: outside' > '$outside/dpkg/status'"
as_user touch -d 2001-01-01 "$outside/dpkg/status"
planted=$TEST_DIR/keep-planted
sbx run --map-root --net none --upper "$planted" -- true
# Relative links: they lead there whatever PID 1's mount namespace shows.
as_user sh -c "chmod -R u+rwx '$planted/work/kernel/usr'; rm -rf '$planted/work/kernel/usr/work'"
as_user ln -s "$(realpath --relative-to="$planted/work/kernel/usr" "$outside")" "$planted/work/kernel/usr/work"
as_user mkdir -p "$planted/upper/var/lib"
as_user rm -rf "$planted/upper/var/lib/dpkg"
as_user ln -s "$(realpath --relative-to="$planted/upper/var/lib" "$outside/dpkg")" "$planted/upper/var/lib/dpkg"
sbx run --map-root --net none --upper "$planted" -- true >/dev/null 2>&1
check "a symlink planted as a unit's work directory does not lead PID 1 to remove the mark it points at" \
  test -e "$outside/incompat/volatile/dirty"
check "... nor one planted as a directory of the layer to an old copy of dpkg's status" test -e "$outside/dpkg/status"

# --- layers ------------------------------------------------------------------------------

as_user mkdir -p "$TEST_DIR/l1/etc" "$TEST_DIR/l2/etc"
as_user sh -c "echo one > '$TEST_DIR/l1/etc/release'; echo two > '$TEST_DIR/l2/etc/release'; echo only1 > '$TEST_DIR/l1/etc/one'"
for driver in kernel fuse; do
  out=$(on_tree $driver --layer "$TEST_DIR/l1" --layer "$TEST_DIR/l2" -- sh -c 'cat /etc/release /etc/one')
  is "$out" "two
only1" "$driver: later --layer wins over earlier ones and the rootfs; all are merged"
done

# Two sandboxes on the same layers at once do not see each other's writes.
as_user sh -c "'$SBX' run -w / --net none --map-root --rootfs '$base' --layer '$TEST_DIR/l1' -- sh -c 'echo a > /etc/mine; sleep 1; ls /etc' > '$TEST_DIR/share.a' 2>&1 &
               '$SBX' run -w / --net none --map-root --rootfs '$base' --layer '$TEST_DIR/l1' -- sh -c 'echo b > /etc/theirs; sleep 1; ls /etc' > '$TEST_DIR/share.b' 2>&1 & wait"
is "$(tr '\n' ' ' < "$TEST_DIR/share.a")" "mine one release " "two sandboxes share lower layers: the first sees only its own write"
is "$(tr '\n' ' ' < "$TEST_DIR/share.b")" "one release theirs " "... and the second only its own"
check "... and the shared layer is unchanged" test ! -e "$TEST_DIR/l1/etc/mine" -a ! -e "$TEST_DIR/l1/etc/theirs"

# --- paths that mean something to overlay option syntax ---------------------------------------

odd="$TEST_DIR/odd:dir,with\\chars"
as_user mkdir -p "$odd/etc"
as_user sh -c "echo odd > '$odd/etc/odd'"
as_user ln -s "$odd" "$TEST_DIR/odd-link"
for driver in kernel fuse; do
  is "$(on_tree $driver --layer "$odd" -- cat /etc/odd)" "odd" "$driver: a --layer with ':' ',' '\\' in its name works"
  is "$(on_tree $driver --layer "$TEST_DIR/odd-link" -- cat /etc/odd)" "odd" "$driver: a --layer given as a symlink is its target"
done
is "$(on_tree kernel --layer "$TEST_DIR/l1/../l2" -- cat /etc/release)" "two" "a --layer with '..' is resolved as the caller sees it"

# --- --map-root over the host's / ---------------------------------------------------------------

# Directories are root's inside with both drivers; files too with
# fuse-overlayfs (squash_to_root), while with the directory skeleton they
# stay the host's (docs/rootfs.md).
out=$(sbx run --map-root -- sh -c 'stat -c "%U:%G" /usr/bin /etc/passwd; install -m 755 /bin/true /usr/local/bin/sbx-probe && /usr/local/bin/sbx-probe && echo installed')
is "$out" "root:root
nobody:nogroup
installed" "--map-root over the host: directories are root's inside, files the host's, and an install into /usr/local works"
out=$(sbx run --map-root --overlay fuse -- sh -c 'stat -c "%U:%G" /usr/bin /etc/passwd; install -m 755 /bin/true /usr/local/bin/sbx-probe && /usr/local/bin/sbx-probe && echo installed')
is "$out" "root:root
root:root
installed" "--map-root --overlay fuse over the host: host files are root's inside and an install into /usr/local works"
# (The host's /usr/local is out of the account's reach anyway.)  Where the
# caller may write on the host, root inside writes into the throwaway layer
# all the same: the caller's home (kernel overlay) and a directory of the
# caller's that fuse-overlayfs serves.
as_user mkdir "$TEST_DIR/mr"
out=$(cd "$TEST_HOME" && as_user "$SBX" run --map-root -- sh -c "echo y > '$TEST_HOME/probe' && cat '$TEST_HOME/probe'" 2>&1)
is "$out" "y" "--map-root: root inside writes into the caller's home"
check "... and the host's is untouched" test ! -e "$TEST_HOME/probe"
out=$(sbx run --map-root --overlay fuse -- sh -c "echo x > '$TEST_DIR/mr/probe' && cat '$TEST_DIR/mr/probe'" 2>&1)
is "$out" "x" "--map-root, fuse: root inside writes into a directory of the caller's"
check "... and the host's is untouched" test ! -e "$TEST_DIR/mr/probe"
# The same from the home where there is no skeleton (an unusable cache
# directory): fuse-overlayfs serves $TEST_DIR, which holds the kernel
# overlay of the home.
as_user touch "$TEST_DIR/not-a-cache"
no_skeleton () { as_user env XDG_CACHE_HOME="$TEST_DIR/not-a-cache" "$SBX" "$@"; }
beside_home () {
  local out
  out=$(cd "$TEST_HOME" && no_skeleton run --map-root -- sh -c \
    "echo x > '$TEST_DIR/mr/beside' && cat '$TEST_DIR/mr/beside'" 2>/dev/null)
  [ "$out" = x ] || { diag "$out"; return 1; }
}
check "--map-root without a skeleton: root inside creates a file beside the caller's home (fuse-overlayfs above its kernel overlay)" \
  beside_home
out=$(cd "$TEST_HOME" && no_skeleton run --map-root -- sh -c "mkdir '$TEST_DIR/mr/newdir' && echo made" 2>/dev/null)
is "$out" "made" "... and a directory there (a new home beside the caller's, as useradd -m makes)"
out=$(cd "$TEST_HOME" && no_skeleton run --map-root -v -- true 2>&1)
like "$out" "^sbx: warning: no directory skeleton \\(cannot create $TEST_DIR/not-a-cache: .*\\); root inside writes into the host's system directories through fuse-overlayfs \\(slower\\)" \
  "without a usable cache directory: one warning, and fuse-overlayfs as before"
like "$out" "fuse:/usr" "... which serves /usr"
for driver in auto fuse; do
  out=$(sbx run --map-root --overlay $driver --upper "$TEST_DIR/host-layer-$driver" -- sh -c 'mkdir -p /usr/local/lib/sbx-probe && echo x > /usr/local/lib/sbx-probe/f')
  is "$(stat -c %u:%g "$TEST_DIR/host-layer-$driver/upper/usr/local/lib/sbx-probe/f")" "$uid:$gid" \
    "--map-root, $driver: the installed file lands in the upper, owned by the caller"
done
is "$(stat -c %a "$TEST_DIR/host-layer-auto")" "700" \
  "a new --upper DIR is 0700: other users cannot run what the subordinate ids own there"
as_user mkdir -m 755 "$TEST_DIR/open-layer"
out=$(sbx run --upper "$TEST_DIR/open-layer" -- true 2>&1)
like "$out" "^sbx: warning: --upper $TEST_DIR/open-layer is open to other users" \
  "an existing --upper DIR open to others gets a warning naming it"
for driver in auto fuse kernel; do
  out=$(sbx run --map-root --overlay $driver -- sh -c 'cat /etc/shadow 2>&1; echo rc=$?')
  like "$out" "Permission denied" "--map-root: /etc/shadow stays unreadable ($driver)"
done
if is_root; then
  mkdir -m 700 /var/lib/sbx-tests/private-$$ && echo secret > /var/lib/sbx-tests/private-$$/s
  at_exit "rm -rf /var/lib/sbx-tests/private-$$"
  for driver in auto fuse; do
    out=$(sbx run --map-root --overlay $driver -- sh -c "ls /var/lib/sbx-tests/private-$$ 2>&1; cat /var/lib/sbx-tests/private-$$/s 2>&1")
    unlike "$out" "secret" "--map-root, $driver: another user's 0700 directory stays unreadable"
  done
else
  skip "needs root to make a directory of another user"
  skip "needs root to make a directory of another user"
fi
out=$(sbx run --map-root --overlay kernel -- sh -c 'stat -c %U /usr/bin; touch /usr/local/x 2>&1')
like "$out" "^nobody" "--overlay kernel over the host: host files stay nobody's (DESIGN.md)"
like "$out" "cannot touch" "... and root cannot write into them"
out=$(sbx run --map-root -v -- true 2>&1)
like "$out" "skeleton:/usr" "--verbose says which driver serves what: the directory skeleton with --map-root"
unlike "$out" "fuse:" "... and no fuse-overlayfs anywhere"
like "$(sbx run --map-root --overlay fuse -v -- true 2>&1)" "fuse:/usr" "... fuse-overlayfs with --overlay fuse"
like "$(sbx run -v -- true 2>&1)" "kernel:/usr" "keep-id: the kernel driver serves /usr"

# A small .deb installed with dpkg over the host's / (--map-root), host unchanged.
if command -v dpkg-deb >/dev/null; then
  pkg=$TEST_DIR/pkg
  as_user mkdir -p "$pkg/DEBIAN" "$pkg/usr/local/share/sbx-probe"
  as_user sh -c "printf 'Package: sbx-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx <sbx@example.invalid>\nDescription: probe\n' > '$pkg/DEBIAN/control'; echo data > '$pkg/usr/local/share/sbx-probe/file'"
  as_user dpkg-deb --root-owner-group -b "$pkg" "$TEST_DIR/sbx-probe.deb" >/dev/null
  out=$(sbx run --map-root --upper "$TEST_DIR/dpkg-layer" -- sh -c "dpkg -i '$TEST_DIR/sbx-probe.deb' >/dev/null 2>&1 && dpkg -s sbx-probe | grep Status && cat /usr/local/share/sbx-probe/file")
  is "$out" "Status: install ok installed
data" "--map-root: dpkg -i installs a package over the host's /"
  # (The host's dpkg database is out of the account's reach anyway.)
  check "... and the layer holds its files and dpkg's record of it" \
    grep -qx 'Package: sbx-probe' "$TEST_DIR/dpkg-layer/upper/var/lib/dpkg/status"
else
  skip "dpkg-deb not installed"
fi

# --- layers under the host's /tmp ------------------------------------------------------------------
# fuse-overlayfs turns the /proc/self/fd/N it is given back into paths of its
# own mount namespace: the staging tmpfs there used to cover /tmp, and every
# layer below it failed with "cannot retrieve path for /proc/self/fd/9".

tmpdir=$(as_user mktemp -d /tmp/sbx-rootfs.XXXXXX)
at_exit "rm -rf '$tmpdir' 2>/dev/null || sbx run --map-root --net none --bind '$tmpdir' -- rm -rf '$tmpdir'"
as_user mkdir -p "$tmpdir/l1/etc"
as_user sh -c "echo tmp-layer > '$tmpdir/l1/etc/sbx-tmp'"
out=$(sbx run --net none --map-root --overlay fuse --upper "$tmpdir/up1" -- sh -c 'echo kept > /etc/sbx-tmp-upper; cat /etc/sbx-tmp-upper' 2>&1)
is "$out" "kept" "fuse: an --upper under the host's /tmp works"
is "$(as_user cat "$tmpdir/up1/upper/etc/sbx-tmp-upper" 2>&1)" "kept" "... and what root wrote inside is there on the host"
is "$(sbx run --net none --map-root --overlay fuse --layer "$tmpdir/l1" -- cat /etc/sbx-tmp 2>&1)" "tmp-layer" \
  "fuse: a --layer under the host's /tmp works"
tree "$tmpdir/base"
is "$(sbx run -w / --net none --map-root --overlay fuse --rootfs "$tmpdir/base" -- cat /etc/release 2>&1)" "base" \
  "fuse: a --rootfs under the host's /tmp works"
out=$(as_user env XDG_DATA_HOME="$tmpdir/data" "$SBX" run --net none --name tmpdata --map-root --overlay fuse -- sh -c 'echo n > /etc/sbx-tmp-named' 2>&1)
is "$?:$out" "0:" "fuse: --name with XDG_DATA_HOME under the host's /tmp works"
like "$(as_user env XDG_DATA_HOME="$tmpdir/data" "$SBX" diff tmpdata 2>&1)" "A /etc/sbx-tmp-named" \
  "... and its kept layer holds the file"
as_user env XDG_DATA_HOME="$tmpdir/data" "$SBX" rm tmpdata
if [ -d /sys/kernel/mm ]; then
  # A layer in sysfs is the one fuse-overlayfs cannot reach (its staging
  # directory covers the host's /sys): the daemon's complaint must name
  # the option and the user's directory, never the fd it was handed.
  out=$(on_tree fuse --layer /sys/kernel/mm -- true 2>&1)
  rc=$?
  like "$rc:$out" "^125:sbx: --layer /sys/kernel/mm: fuse-overlayfs failed \\(exit status [0-9]+\\): " \
    "a fuse-overlayfs failure names the option and the directory"
  unlike "$out" "/proc/self/fd" "... and no fd path"
else
  skip "no /sys/kernel/mm"
  skip "no /sys/kernel/mm"
fi

# --- the kernel refuses a layer -------------------------------------------------------------------
# procfs is no filesystem overlayfs takes as a layer; the message used to
# blame "needs Linux 5.11" whatever the kernel said.

out=$(on_tree kernel --layer /proc/sys/kernel -- true 2>&1)
rc=$?
like "$rc:$out" "^125:sbx: cannot mount a kernel overlay on /: --layer /proc/sys/kernel: .+ \(Invalid argument\)$" \
  "--overlay kernel refused by the kernel: the message names the layer, the kernel's reason and the errno"
like "$out" "not supported" "... in the kernel's words"
unlike "$out" "5\.11|/proc/self/fd" "... without a wrong guess or an fd path"

# --- nothing left behind ------------------------------------------------------------------------

before=$(snapshot_host)
sbx run --map-root -- true
sbx run --map-root --overlay fuse -- true
# (That fuse-overlayfs stops at once is checked below through its unblocked
# SIGTERM, not by a time: the tests make no timing assertions.)
sbx run --map-root --rootfs "$TEST_DIR/nonexistent" -- true 2>/dev/null
as_user "$SBX" run --map-root --overlay fuse -- sh -c 'echo started; sleep 1000' >kill.out 2>&1 &
for _ in $(seq 100); do grep -q started kill.out 2>/dev/null && break; sleep 0.05; done
# The monitor, and its own daemon (other sandboxes of the account may run
# fuse-overlayfs meanwhile).
monitor=$(ps -u "$uid" -o pid=,ppid=,comm=,args= | awk -v me=$! '$1 == me || $2 == me' \
  | awk '$3 == "sbx" && /sleep 1000/ {print $1}' | head -1)
fuse_pid=$(pgrep -P "${monitor:-0}" -x fuse-overlayfs | head -1)
check "with --overlay fuse a fuse-overlayfs daemon runs (outside the sandbox's PID namespace)" test -n "$fuse_pid"
is "$(sbx run --map-root --overlay fuse -- sh -c 'ps -e -o comm= | grep -c fuse-overlayfs')" "0" "fuse-overlayfs is not visible inside"
sigblk=$(awk '/^SigBlk/ {print $2}' "/proc/$fuse_pid/status" 2>/dev/null)
is "$(( (0x${sigblk:-4000} >> 14) & 1 ))" "0" "the daemon does not block SIGTERM (sbx stops it with one)"
is "$(ps -o pgid= -p "$fuse_pid" | tr -d ' ')" "$fuse_pid" \
  "... and has a process group of its own (a ^C or timeout(1) for the caller's group is the sandbox's)"
kill -KILL "$monitor"
gone=1
for p in $fuse_pid $(pgrep -u "$uid" -f 'sleep 1000'); do wait_gone "$p" 2 || gone=0; done
is "$gone" "1" "after SIGKILL of sbx the fuse-overlayfs daemon and the command are gone"
after=$(snapshot_host)
is "$after" "$before" "no process or mount is left after a normal exit, a failure and SIGKILL"

# --- bad input ------------------------------------------------------------------------------------

as_user touch "$TEST_DIR/afile"
as_user mkdir -p "$TEST_DIR/readonly-dir"
as_user chmod 555 "$TEST_DIR/readonly-dir"
rejects "sbx: --rootfs: $TEST_DIR/missing: No such file or directory" --rootfs "$TEST_DIR/missing"
rejects "sbx: --rootfs: $TEST_DIR/afile: not a directory" --rootfs "$TEST_DIR/afile"
rejects "sbx: --layer: $TEST_DIR/missing: No such file or directory" --layer "$TEST_DIR/missing"
rejects "sbx: --layer: $TEST_DIR/afile: not a directory" --layer "$TEST_DIR/afile"
rejects "sbx: --upper: $TEST_DIR/afile: not a directory" --upper "$TEST_DIR/afile"
rejects "sbx: --upper: $TEST_DIR/readonly-dir/x: Permission denied" --upper "$TEST_DIR/readonly-dir/x"
rejects "sbx: --upper: $TEST_DIR/missing/x: No such file or directory" --upper "$TEST_DIR/missing/x"
rejects "overlaps the layer $base" --rootfs "$base" --upper "$base/etc"
rejects "sbx: --overlay: 'btrfs' is not one of auto, kernel, fuse" --overlay btrfs
rejects "sbx: --rootfs: empty value" --rootfs ""
# A run refused for another option makes no --upper DIR where it could.
rejects "sbx: --rootfs: $TEST_DIR/missing: No such file or directory" \
  --upper "$TEST_DIR/refused-upper" --rootfs "$TEST_DIR/missing"
check "a refused run created no --upper DIR" test ! -e "$TEST_DIR/refused-upper"
if is_root; then
  # /dev/fuse closed to the account, in a mount namespace of the test's own.
  mknod -m 600 "$TEST_DIR/fuse-closed" c 10 229
  out=$(unshare -m sh -c "mount --bind '$TEST_DIR/fuse-closed' /dev/fuse && exec setpriv --reuid=$uid --regid=$gid --init-groups env HOME=$TEST_HOME '$SBX' run --overlay fuse -- true" 2>&1)
  rc=$?
  is "$rc:$(printf '%s\n' "$out" | head -1)" "125:sbx: --overlay fuse: /dev/fuse: Permission denied (desktops have it mode 0666; see 'sbx doctor')" \
    "--overlay fuse without a usable /dev/fuse is refused with the reason"
else
  skip "needs root to close /dev/fuse in a private mount namespace"
fi

done_testing
