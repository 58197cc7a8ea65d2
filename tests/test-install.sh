#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-install.sh: installs as root inside a --map-root sandbox over the
# host's /, with the directory skeleton (the default) and with
# fuse-overlayfs (--overlay fuse), as the unprivileged account: dpkg -i of a
# package with thousands of files, make install of an autotools project,
# pip install --prefix=/usr/local of a wheel, apt-get install from a local
# file repository, ldconfig, replacing and deleting host files, chown and
# chmod of installed files; /etc/shadow stays unreadable and the host is
# untouched.  Then the skeleton itself (docs/rootfs.md): where it is and
# whose, what it holds, host changes picked up, directories the caller
# cannot read, a sandbox writing where it lies, and the stand-ins of dpkg's
# and apt's files.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
gid=$(test_gid)
read -r substart _ < <(subid_range /etc/subuid)
command -v fuse-overlayfs >/dev/null || skip_all "fuse-overlayfs is not installed"
require_device /dev/fuse
for tool in dpkg-deb dpkg-scanpackages apt-get autoreconf automake cc make; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed (sudo scripts/setup-host installs it)"
done
as_user python3 -c 'import setuptools, wheel, pip' 2>/dev/null \
  || skip_all "python3-pip, python3-setuptools and python3-wheel are needed (sudo scripts/setup-host)"
[ -e /etc/issue ] && [ -e /etc/issue.net ] && [ -e /etc/debian_version ] \
  || skip_all "not a Debian host (/etc/issue, /etc/issue.net, /etc/debian_version)"

# --- what is installed, made once by the account ----------------------------------------

src=$TEST_DIR/src
as_user mkdir -p "$src"

# A package with 3000 files in 30 directories, and a second one that depends
# on it and on host packages, in a local file repository.
as_user sh -c '
  set -e
  cd "$1"
  mkdir -p many/DEBIAN apt/DEBIAN apt/usr/share/sbx-probe-apt repo
  printf "Package: sbx-probe-many\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx <sbx@example.invalid>\nDescription: probe\n" > many/DEBIAN/control
  for d in $(seq 30); do
    mkdir -p many/usr/share/sbx-probe-many/d$d
    for f in $(seq 100); do echo "$d/$f" > many/usr/share/sbx-probe-many/d$d/f$f; done
  done
  printf "Package: sbx-probe-apt\nVersion: 1.0\nArchitecture: all\nDepends: dpkg, sbx-probe-many\nMaintainer: sbx <sbx@example.invalid>\nDescription: probe\n" > apt/DEBIAN/control
  echo apt > apt/usr/share/sbx-probe-apt/file
  dpkg-deb --root-owner-group -b many many.deb >/dev/null
  dpkg-deb --root-owner-group -b apt repo/sbx-probe-apt.deb >/dev/null
  cp many.deb repo/sbx-probe-many.deb
  cd repo && dpkg-scanpackages . /dev/null > Packages 2>/dev/null
' _ "$src"
echo "deb [trusted=yes] file:$src/repo ./" | as_user tee "$src/repo.list" >/dev/null

# An autotools project: configured and built here, installed inside.
as_user sh -c '
  set -e
  mkdir -p "$1/at/data" && cd "$1/at"
  printf "AC_INIT([sbxprobe-at], [1.0])\nAM_INIT_AUTOMAKE([foreign])\nAC_PROG_CC\nAC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n" > configure.ac
  printf "bin_PROGRAMS = sbxprobe-at\nsbxprobe_at_SOURCES = main.c\ndist_pkgdata_DATA = \$(wildcard \$(srcdir)/data/*.txt)\n" > Makefile.am
  printf "#include <stdio.h>\nint main (void) { puts (\"autotools\"); return 0; }\n" > main.c
  for i in $(seq 200); do echo $i > data/f$i.txt; done
  autoreconf -i >/dev/null 2>&1
  ./configure -q --prefix=/usr/local >/dev/null
  make -s >/dev/null 2>&1
' _ "$src" || skip_all "the autotools project does not build here"

# A wheel with a module and a console script.
as_user sh -c '
  set -e
  mkdir -p "$1/py/sbxprobe_py" && cd "$1/py"
  printf "def hello():\n    print(\"wheel\")\n" > sbxprobe_py/__init__.py
  printf "from setuptools import setup\nsetup(name=\"sbxprobe-py\", version=\"1.0\", packages=[\"sbxprobe_py\"],\n      entry_points={\"console_scripts\": [\"sbxprobe-py=sbxprobe_py:hello\"]})\n" > setup.py
  python3 -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$1/wheels" . >/dev/null 2>&1
' _ "$src" || skip_all "cannot make a wheel here"
wheel=$(ls "$src"/wheels/*.whl)

# A shared library, for ldconfig.
as_user sh -c 'cd "$1" && printf "int sbxprobe (void) { return 42; }\n" > lib.c && cc -shared -fPIC -Wl,-soname,libsbxprobe.so.1 -o libsbxprobe.so.1.0 lib.c' _ "$src"

# What of the host the sandboxes write over: it must not change.
host_state () {
  sha256sum /etc/issue /etc/issue.net /etc/debian_version /var/lib/dpkg/status
  ls -la /usr/local /usr/local/bin /usr/local/lib /etc/apt/sources.list.d /opt
  stat -c '%n %a %u:%g' /usr/local/src /usr/local/games 2>&1
}
before=$(host_state)

for driver in auto fuse; do
  layer=$TEST_DIR/layer-$driver
  # run ARGS... -- CMD: --map-root over the host's / with this driver, the
  # layer kept, from the test's directory.
  run () { sbx run --net none --map-root --overlay $driver --upper "$layer" -w "$TEST_DIR" "$@"; }

  # --- dpkg -i of a package with thousands of files ---------------------------------------
  out=$(run -- sh -c "dpkg -i '$src/many.deb' >/dev/null && dpkg -s sbx-probe-many | grep Status \
    && cat /usr/share/sbx-probe-many/d30/f100 && find /usr/share/sbx-probe-many -type f | wc -l" 2>&1)
  is "$out" "Status: install ok installed
30/100
3000" "$driver: dpkg -i installs a package of 3000 files over the host's /"
  is "$(find "$layer/upper/usr/share/sbx-probe-many" -type f ! -name '.wh.*' | wc -l)" "3000" \
    "$driver: ... and the layer holds its files"
  is "$(stat -c %u:%g "$layer/upper/usr/share/sbx-probe-many/d1/f1")" "$uid:$gid" \
    "$driver: ... owned by the caller on the host (root inside)"
  check "$driver: ... and dpkg's record of it" grep -qx 'Package: sbx-probe-many' "$layer/upper/var/lib/dpkg/status"
  out=$(run -- sh -c 'dpkg -s sbx-probe-many | grep Status; dpkg -L sbx-probe-many | wc -l' 2>&1)
  is "$out" "Status: install ok installed
3034" "$driver: the next run on the layer knows the package"

  # --- apt-get install from a local file repository -------------------------------------
  # Only the test's repository: the sandbox has no network.
  apt_opts="-o Dir::Etc::SourceList=$src/repo.list -o Dir::Etc::SourceParts=/nonexistent -o APT::Get::List-Cleanup=0"
  apt_install () {
    local out
    out=$(run -- sh -c "apt-get $apt_opts update >/dev/null 2>&1; apt-get $apt_opts install -y sbx-probe-apt >/dev/null 2>&1; \
      dpkg -s sbx-probe-apt | grep Status; cat /usr/share/sbx-probe-apt/file" 2>&1)
    [ "$out" = "Status: install ok installed
apt" ] || { diag "$out"; return 1; }
  }
  if [ $driver = auto ]; then
    check "$driver: apt-get install from a local file repository" apt_install
  else
    # apt's /var/lib/apt/lists/partial is _apt's, 0700: fuse-overlayfs, as
    # the caller, can neither read nor copy it up, and apt-get update
    # fails there.  The skeleton has an empty directory of root's in its
    # place (docs/rootfs.md).
    todo "fuse-overlayfs: unreadable lists/partial" "$driver: apt-get install from a local file repository" apt_install
  fi
  out=$(run -- sh -c "apt-get $apt_opts remove -y sbx-probe-apt >/dev/null 2>&1; dpkg -s sbx-probe-apt 2>&1 | grep -c 'install ok installed'; test -e /usr/share/sbx-probe-apt/file && echo left" 2>&1)
  is "$out" "0" "$driver: ... and apt-get remove removes it"

  # --- make install ------------------------------------------------------------------------
  out=$(run -- sh -c 'cd "$1" && make -s install >/dev/null 2>&1 && sbxprobe-at && ls /usr/local/share/sbxprobe-at | wc -l' _ "$src/at" 2>&1)
  is "$out" "autotools
200" "$driver: make install of an autotools project into /usr/local"

  # --- pip install --prefix=/usr/local ------------------------------------------------------
  # (Debian's pip puts --prefix=/usr/local under /usr/local/local.)
  out=$(run -- sh -c "python3 -m pip install -q --no-index --no-deps --prefix=/usr/local '$wheel' >/dev/null 2>&1; \
    init=\$(find /usr/local -path '*/sbxprobe_py/__init__.py' | head -1); \
    PYTHONPATH=\${init%/sbxprobe_py/__init__.py} python3 -c 'import sbxprobe_py; sbxprobe_py.hello()'" 2>&1)
  is "$out" "wheel" "$driver: pip install --prefix=/usr/local of a wheel"

  # --- ldconfig -------------------------------------------------------------------------------
  out=$(run -- sh -c "install -m 755 '$src/libsbxprobe.so.1.0' /usr/local/lib/ && ldconfig && ldconfig -p | grep -c 'libsbxprobe.so.1 '" 2>&1)
  is "$out" "1" "$driver: ldconfig caches a library installed into /usr/local/lib"

  # --- replacing and deleting host files ------------------------------------------------------
  out=$(run -- sh -c "echo new-issue > /tmp/i && install -m 644 /tmp/i /etc/issue && cat /etc/issue; \
    echo net > /etc/issue.net.new && mv /etc/issue.net.new /etc/issue.net && cat /etc/issue.net; \
    echo motd > /tmp/m && cp -f /tmp/m /etc/motd && sed -i s/motd/sed/ /etc/motd && cat /etc/motd; \
    rm /etc/debian_version && test ! -e /etc/debian_version && echo deleted; \
    rm -r /usr/share/doc/dpkg && test ! -e /usr/share/doc/dpkg && echo tree-deleted" 2>&1)
  is "$out" "new-issue
net
sed
deleted
tree-deleted" "$driver: root inside replaces (install, mv, cp -f, sed -i) and deletes host files and trees"
  replaced_then_deleted () {
    local out
    out=$(run -- sh -c 'sed -i s/a/a/ /etc/issue.net && rm /etc/issue.net && test ! -e /etc/issue.net && echo deleted' 2>&1)
    [ "$out" = deleted ] || { diag "$out"; return 1; }
  }
  if [ $driver = auto ]; then
    check "$driver: ... and deletes a host file it has just replaced" replaced_then_deleted
  else
    # fuse-overlayfs 1.10 unlinks the upper copy and makes no whiteout:
    # the host's file is back (a second rm removes it).
    todo "fuse-overlayfs: no whiteout for a file in both layers" \
      "$driver: ... and deletes a host file it has just replaced" replaced_then_deleted
  fi

  # --- chown and chmod --------------------------------------------------------------------------
  # fuse-overlayfs with squash_to_root shows every file as root's, what it
  # stores too; the layer keeps the owner given.
  chowned=1000:1000
  [ $driver = fuse ] && chowned=0:0
  out=$(run -- sh -c 'chmod 700 /usr/local/bin/sbxprobe-at && chown 1000:1000 /usr/local/share/sbxprobe-at/f1.txt \
    && chmod 750 /usr/local/src && mkdir -p /opt/sbx-probe && chown 1000:1000 /opt/sbx-probe \
    && stat -c "%a %u:%g %n" /usr/local/bin/sbxprobe-at /usr/local/share/sbxprobe-at/f1.txt /usr/local/src /opt/sbx-probe' 2>&1)
  is "$out" "700 0:0 /usr/local/bin/sbxprobe-at
644 $chowned /usr/local/share/sbxprobe-at/f1.txt
750 0:0 /usr/local/src
755 $chowned /opt/sbx-probe" "$driver: chown and chmod of installed files and of host directories"
  is "$(stat -c '%a %u' "$layer/upper/usr/local/bin/sbxprobe-at" "$layer/upper/usr/local/share/sbxprobe-at/f1.txt" | tr '\n' ' ')" \
    "700 $uid 644 $((substart + 999)) " "$driver: ... as the layer keeps them on the host (uid 1000 is subordinate START+999)"

  # --- what stays out of reach ------------------------------------------------------------------
  out=$(run -- sh -c 'cat /etc/shadow 2>&1; cat /var/lib/dpkg/status >/dev/null && echo status-readable')
  like "$out" "Permission denied" "$driver: /etc/shadow stays unreadable"
  like "$out" "status-readable" "$driver: ... while what the caller may read is readable"

  # sbx diff reads the layer: the installs are there, the copies sbx made
  # of dpkg's files are not (unchanged).
  out=$(sbx diff --upper "$layer" 2>&1)
  like "$out" "A /usr/share/sbx-probe-many/d1/f1" "$driver: sbx diff lists the installed files"
  like "$out" "C /var/lib/dpkg/status" "$driver: ... dpkg's database"
  like "$out" "D /etc/debian_version" "$driver: ... and the deleted host file"
  unlike "$out" "/var/lib/dpkg/(diversions|statoverride)|/var/lib/apt/lists/lock|/var/cache/debconf/passwords.dat" \
    "$driver: ... and not the copies nobody changed"
done
is "$(host_state)" "$before" "the host is untouched"

# --- what the skeleton cannot do: change a host file in place ---------------------------------------
# The kernel cannot copy up a file whose owner the sandbox does not map:
# appending to a host file, a hard link to it or a chmod of it are refused
# (replacing it works, above).  fuse-overlayfs can (docs/rootfs.md).
out=$(sbx run --net none --map-root -- sh -c 'echo x >> /etc/issue; ln /etc/issue /etc/issue.hard; chmod 600 /etc/issue; echo done' 2>&1)
like "$out" "Permission denied" "skeleton: appending to a host file is refused"
like "$out" "Operation not permitted" "skeleton: ... so are a hard link to it and a chmod of it"
out=$(sbx run --net none --map-root --overlay fuse -- sh -c 'echo x >> /etc/issue && ln /etc/issue /etc/issue.hard && chmod 600 /etc/issue && echo done' 2>&1)
is "$out" "done" "fuse: appending to a host file, a hard link to it and a chmod of it work"

# --- the skeleton -------------------------------------------------------------------------------

skel=$TEST_CACHE/sbx/skeleton
is "$(stat -c '%a %u' "$TEST_CACHE/sbx" "$skel" "$skel/tree" | tr '\n' ' ')" "700 $uid 700 $uid 700 $uid " \
  "the skeleton is in \$XDG_CACHE_HOME/sbx/skeleton, the caller's alone"
standins=$(cd "$skel/tree" && find . -type f | sed 's/^\.//' | sort)
is "$(find "$skel/tree" ! -type d ! -type f | wc -l)" "0" "... and holds directories and files only"
like "$standins" "/var/lib/dpkg/status" "... the files: stand-ins of the host's that package managers change in place"
is "$(grep -cvxE '/var/lib/dpkg/(lock|lock-frontend|triggers/Lock|status|diversions|statoverride)|/var/lib/apt/lists/lock|/var/cache/apt/archives/lock|/var/cache/debconf/passwords.dat|/var/log/dpkg.log|/var/log/apt/history.log' <<<"$standins")" \
  "0" "... and no other"
same=1
for f in $standins; do
  [ "$(stat -c '%u %a %Y' "$skel/tree$f")" = "$uid $(stat -c '%a %Y' "$f")" ] || { diag "$f: $(stat -c '%u %a %Y' "$skel/tree$f" "$f")"; same=0; }
  if as_user test -r "$f"; then
    as_user cmp -s "$f" "$skel/tree$f" || { diag "$f: not the host's content"; same=0; }
  else
    [ ! -s "$f" ] && [ ! -s "$skel/tree$f" ] || { diag "$f: closed to the caller, yet not empty"; same=0; }
  fi
done
is "$same" "1" "... each the caller's, with the host file's mode, times and content (empty for a closed lock file)"
sbx run --net none --map-root --upper "$TEST_DIR/standin-layer" -- true
is "$(find "$TEST_DIR/standin-layer/upper" -type f | wc -l)" "0" "a run copies none of them into its writable layer"
out=$(sbx run --net none --map-root --upper "$TEST_DIR/standin-layer" -- sh -c 'echo sbx-appended >> /var/log/dpkg.log && stat -c "%U %a" /var/log/dpkg.log')
is "$out" "root $(stat -c %a /var/log/dpkg.log)" "... root inside appends to one: the kernel copies the stand-in up"
is "$(tail -1 "$TEST_DIR/standin-layer/upper/var/log/dpkg.log")" "sbx-appended" "... into the layer"
is "$(head -c 4096 "$TEST_DIR/standin-layer/upper/var/log/dpkg.log")" "$(head -c 4096 /var/log/dpkg.log)" \
  "... with the host file's content before it"
# A host file changed since its stand-in was made: the stamp no longer
# describes it (simulated: the stamp's line for it changed), and the next
# start makes the stand-in again.
as_user sh -c "echo stale > '$skel/tree/var/lib/dpkg/status'"
as_user sed -i 's|^file [^ ]* /var/lib/dpkg/status$|file 0:0:0:0.000000000 /var/lib/dpkg/status|' "$skel/stamp"
like "$(sbx run --net none --map-root -v -- head -c 4096 /var/lib/dpkg/status 2>&1)" \
  "^sbx: skeleton $skel/tree: checked [0-9]+ directories, mirrored" "a changed host file makes the next start update the skeleton"
check "... and its stand-in is the host's file again" as_user cmp -s /var/lib/dpkg/status "$skel/tree/var/lib/dpkg/status"
# A kept layer from before the stand-ins holds a copy of dpkg's status that
# nothing wrote since (older than its birth): it goes, the stand-in shows.
as_user mkdir -p "$TEST_DIR/old-layer/upper/var/lib/dpkg"
as_user sh -c "echo 'Package: stale-copy' > '$TEST_DIR/old-layer/upper/var/lib/dpkg/status'"
as_user touch -d 2001-01-01 "$TEST_DIR/old-layer/upper/var/lib/dpkg/status"
out=$(sbx run --net none --map-root --upper "$TEST_DIR/old-layer" -- head -c 4096 /var/lib/dpkg/status)
is "$out" "$(head -c 4096 /var/lib/dpkg/status)" "a kept layer's old copy of dpkg's status that nothing wrote no longer hides the host's"
check "... it is gone from the layer" test ! -e "$TEST_DIR/old-layer/upper/var/lib/dpkg/status"
is "$(stat -c '%a' "$skel/tree/usr" "$skel/tree/etc" | tr '\n' ' ')" "$(stat -c '%a' /usr /etc | tr '\n' ' ')" \
  "... with the modes of the host's"
like "$(sbx run --map-root -v -- true 2>&1)" "^sbx: skeleton $skel/tree: checked [0-9]+ directories" \
  "--verbose says what opening it cost"

# A sandbox that writes where the skeleton lies writes its own layer.
out=$(sbx run --net none --map-root -- sh -c "mkdir '$skel/tree/usr/planted' && touch '$skel/tree/usr/bin/planted' && echo planted")
is "$out" "planted" "a sandbox may write where the skeleton lies..."
check "... into its own layer: the skeleton is unchanged" test ! -e "$skel/tree/usr/planted" -a ! -e "$skel/tree/usr/bin/planted"
is "$(sbx run --net none --map-root -- sh -c 'ls -d /usr/planted /usr/bin/planted 2>&1 | grep -c "No such"')" "2" \
  "... and the next sandbox sees nothing of it"

# A skeleton others could write to is not used.
private=$TEST_DIR/cache
as_user mkdir -m 700 "$private"
out=$(as_user env XDG_CACHE_HOME="$private" "$SBX" run --net none --map-root -v -- true 2>&1)
like "$out" "^sbx: skeleton $private/sbx/skeleton/tree: made [0-9]+ directories in" "a new cache: the skeleton is made"
as_user chmod 777 "$private/sbx/skeleton"
out=$(as_user env XDG_CACHE_HOME="$private" "$SBX" run --net none --map-root -v -- true 2>&1)
like "$out" "^sbx: warning: no directory skeleton \\($private/sbx/skeleton is not yours alone" \
  "a skeleton directory others may write to is refused, with a warning"
like "$out" "fuse:/usr" "... and fuse-overlayfs serves the host's directories instead"
as_user chmod 700 "$private/sbx/skeleton"
as_user chmod 777 "$private/sbx/skeleton/tree"
out=$(as_user env XDG_CACHE_HOME="$private" "$SBX" run --net none --map-root -v -- true 2>&1)
like "$out" "^sbx: skeleton $private/sbx/skeleton/tree: made [0-9]+ directories" \
  "a tree others may write to is made anew"
check "... the caller's alone" test "$(stat -c %a "$private/sbx/skeleton/tree")" = 700

# A full check is due when the last one is old (every ten minutes): it
# finds what the cheap check at the start does not look at.
as_user sed -i 's/^verified .*/verified 0/' "$private/sbx/skeleton/stamp"
like "$(as_user env XDG_CACHE_HOME="$private" "$SBX" run --net none --map-root -v -- true 2>&1)" \
  "^sbx: skeleton $private/sbx/skeleton/tree: checked [0-9]+ directories, mirrored [0-9]+ again" \
  "an old stamp: every directory is checked"

if is_root; then
  # Host changes are picked up at the next start.
  probe=/opt/sbx-test-$$
  at_exit "rm -rf $probe"
  mkdir -p "$probe/sub/deeper"
  out=$(sbx run --net none --map-root -- sh -c "stat -c %U $probe/sub/deeper && touch $probe/sub/deeper/f && echo written" 2>&1)
  is "$out" "root
written" "a directory the host's root made since is root's inside at the next start"
  rm -r "$probe"
  mkdir -m 700 "$probe" && echo s3cr3t-content > "$probe/secret"
  out=$(sbx run --net none --map-root -- sh -c "ls -A $probe; cat $probe/secret 2>/dev/null || echo unreadable; stat -c '%U %a' $probe; touch $probe/mine && echo written" 2>&1)
  is "$out" "unreadable
root 700
written" "a directory the caller cannot read is an empty one of root's inside, with the host's mode, and writable"
  out=$(sbx run --net none --map-root --overlay fuse -- sh -c "cat $probe/secret 2>&1")
  unlike "$out" "s3cr3t-content" "... fuse: its files stay unreadable"
  check "... and the host's is untouched" test ! -e "$probe/mine"
  rm -r "$probe"
  is "$(sbx run --net none --map-root -- sh -c "ls -d $probe 2>&1 | grep -c 'No such'")" "1" \
    "a directory removed from the host is gone inside at the next start"

  # What a sandbox sees of dpkg's and apt's files follows the host's
  # until the sandbox changes them (the stand-ins, then its own copy).  The host's /var/log/apt is covered by a directory
  # of the test's own, in a mount namespace of its own.
  fake=$TEST_DIR/fake-apt-log
  mkdir -m 755 "$fake"
  echo one > "$fake/history.log"
  in_fake () {
    unshare -m --propagation private sh -c 'mount --bind "$0" /var/log/apt && exec "$@"' "$fake" \
      setpriv --reuid="$uid" --regid="$gid" --init-groups env -i "${_test_env[@]}" XDG_CACHE_HOME="$private" \
      "$SBX" run --net none --map-root --upper "$TEST_DIR/copies" -- "$@"
  }
  is "$(in_fake cat /var/log/apt/history.log 2>&1)" "one" "a sandbox sees apt's log (its stand-in)"
  echo two > "$fake/history.log"
  is "$(in_fake cat /var/log/apt/history.log 2>&1)" "two" "... which follows the host's, changed since"
  in_fake sh -c 'echo mine >> /var/log/apt/history.log' 2>/dev/null
  echo three > "$fake/history.log"
  is "$(in_fake cat /var/log/apt/history.log 2>&1)" "two
mine" "... until the sandbox changes it: then it is the sandbox's"
else
  for _ in 1 2 3 4 5 6 7 8; do skip "needs root to change the host's directories"; done
fi

done_testing
