#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-distro.sh: --rootfs with a real Debian tree: the bookworm minbase
# that scripts/setup-host made once (no test reaches a mirror), extracted by
# the test account itself inside `sbx run --map-root`, so that it is owned
# as --map-root sees it (root -> the caller, id N -> subordinate START+N-1);
# then packages built and installed inside with dpkg and apt, files owned by
# several ids.  The same for root's run and for the account's own.
# SBX_DISTRO_TARBALL names another tarball of a Debian 12 tree.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
read -r substart _ < <(subid_range /etc/subuid)
tarball=${SBX_DISTRO_TARBALL:-/var/cache/sbx-tests/bookworm-minbase.tar}
[ -r "$tarball" ] || skip_all "no Debian tree at $tarball (sudo scripts/setup-host makes it, once)"
tree=$TEST_DIR/rootfs

# tar as root inside keeps the owners; the device nodes cannot be made in a
# user namespace, and sbx mounts a /dev of its own anyway.
as_user mkdir "$tree"
out=$(sbx run --map-root --net none --bind "$TEST_DIR" -- \
  tar -x --numeric-owner --exclude='./dev/*' -f - -C "$tree" <"$tarball" 2>&1)
is "$?:$out" "0:" "the test account extracts the tree, owners and all, inside sbx run --map-root"

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
