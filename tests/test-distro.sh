#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-distro.sh: --rootfs with a real Debian tree: a minimal bookworm made
# with debootstrap once (cached in the build directory), owned as --map-root
# sees it (root -> the caller, id N -> subordinate START+N-1), then packages
# built and installed inside with dpkg and apt, files owned by several ids.
. "$(dirname "$0")/libtest.sh"
require_rootless
require_root || skip_all "debootstrap needs root to build the cached tree once (run the suite as root, as CI does)"
command -v debootstrap >/dev/null || skip_all "debootstrap is not installed"

uid=$(test_uid)
gid=$(test_gid)
read -r substart _ < <(subid_range /etc/subuid)
read -r subgstart _ < <(subid_range /etc/subgid)
cache=${SBX_BUILD_DIR:?}/debian-tree
tree=$cache/rootfs
stamp="$uid:$gid:$substart:$subgstart"

# The mirror of the host's apt sources (deb822 first, then one-line).
mirror () {
  local m
  m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  echo "${m:-http://deb.debian.org/debian}"
}

if [ "$(cat "$cache/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  if ! debootstrap --variant=minbase bookworm "$tree" "$(mirror)" >"$cache/debootstrap.log" 2>&1; then
    # Not sbx's failure: no mirror here.  A skip, even in CI, says so.
    echo "1..0 # SKIP debootstrap cannot reach the package mirror $(mirror) ($(tail -1 "$cache/debootstrap.log"))"
    rm -rf "$cache"
    exit 0
  fi
  # Own the tree as the test account's --map-root sees it.
  python3 - "$tree" "$uid" "$gid" "$substart" "$subgstart" <<'PY'
import os, sys
tree, uid, gid, su, sg = sys.argv[1], *map(int, sys.argv[2:])
def shift(i, own, start):
    return own if i == 0 else start + i - 1
for top, dirs, files in os.walk(tree):
    for name in [top] + [os.path.join(top, n) for n in dirs + files]:
        st = os.lstat(name)
        os.lchown(name, shift(st.st_uid, uid, su), shift(st.st_gid, gid, sg))
        if not os.path.islink(name):
            os.chmod(name, st.st_mode & 0o7777)  # chown clears setuid/setgid
PY
  chmod 755 "$cache"
  echo "$stamp" >"$cache/stamp"
fi

# run ARGS...: sbx --map-root on the tree, with a kept layer.
run () { sbx run --map-root -w / --rootfs "$tree" --upper "$TEST_DIR/layer" "$@"; }

is "$(run -- cat /etc/debian_version | cut -d. -f1)" "12" "the tree is Debian 12 and runs as the root"
is "$(run -- stat -c '%U:%G %a' /etc/shadow /usr/bin/passwd | tr '\n' ' ')" "root:shadow 640 root:root 4755 " \
  "inside, the tree's files have their owners back (root, the shadow group)"
like "$(run -v -- true 2>&1)" "overlay: kernel:/$" "a tree the caller's ranges own is one kernel overlay"

# A package with files of several owners, built and installed inside.
out=$(run -- sh -c '
  set -e
  mkdir -p /tmp/pkg/DEBIAN /tmp/pkg/usr/share/sbx-probe /tmp/pkg/var/lib/sbx-probe
  printf "Package: sbx-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx <sbx@example.invalid>\nDescription: probe\n" > /tmp/pkg/DEBIAN/control
  echo data > /tmp/pkg/usr/share/sbx-probe/file
  echo state > /tmp/pkg/var/lib/sbx-probe/state
  chown -R 1000:1000 /tmp/pkg/var/lib/sbx-probe
  dpkg-deb -b /tmp/pkg /tmp/sbx-probe.deb >/dev/null
  dpkg -i /tmp/sbx-probe.deb >/dev/null
  dpkg -s sbx-probe | grep Status
  stat -c "%u %n" /usr/share/sbx-probe/file /var/lib/sbx-probe/state
' 2>&1)
is "$out" "Status: install ok installed
0 /usr/share/sbx-probe/file
1000 /var/lib/sbx-probe/state" "dpkg -i of a locally built .deb installs files owned by root and by uid 1000"
is "$(stat -c %u "$TEST_DIR/layer/upper/usr/share/sbx-probe/file") $(stat -c %u "$TEST_DIR/layer/upper/var/lib/sbx-probe/state")" \
  "$uid $((substart + 999))" "on the host the files belong to the caller and to subordinate id START+999"
check "the tree itself is unchanged" test ! -e "$tree/usr/share/sbx-probe"
is "$(run -- dpkg -s sbx-probe 2>/dev/null | grep Status)" "Status: install ok installed" \
  "the installed package is still there in the next run on the same layer"

# apt resolves the local package offline (the sandbox has no network here);
# its --no-download refuses local paths ("not absolute"), so it is left out.
out=$(sbx run --map-root -w /tmp --net none --rootfs "$tree" --upper "$TEST_DIR/layer" -- sh -c '
  set -e
  mkdir -p /tmp/pkg2/DEBIAN /tmp/pkg2/usr/share/sbx-apt
  printf "Package: sbx-apt\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx <sbx@example.invalid>\nDescription: probe\n" > /tmp/pkg2/DEBIAN/control
  echo apt > /tmp/pkg2/usr/share/sbx-apt/file
  dpkg-deb -b /tmp/pkg2 /tmp/sbx-apt.deb >/dev/null
  apt-get install -y ./sbx-apt.deb >/dev/null 2>&1
  cat /usr/share/sbx-apt/file
' 2>&1)
is "$out" "apt" "apt-get install -y ./some.deb works in the tree, offline"

done_testing
