#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-root.sh: the cases about root: sbx invoked by root, the refusal to
# run setuid or with file capabilities, and the fallback to a single mapping
# for an account without subordinate ranges or without newuidmap (simulated
# in a private mount namespace).  Run by an account, "root" is uid 0 of a
# user namespace of its own (as in a rootless container), and the cases
# that need the real root are skipped one by one.
. "$(dirname "$0")/libtest.sh"
require_rootless

# root_sbx ARGS...: sbx run by root.
if is_root; then
  root_sbx () { "$SBX" "$@"; }
  who="root"
else
  root_sbx () { as_user unshare -Ur "$SBX" "$@"; }
  who="uid 0 of a user namespace"
fi

# --- invoked by root ------------------------------------------------------------------

out=$(root_sbx run -- sh -c 'id -u; cat /proc/self/uid_map' 2>&1)
is "$(printf '%s\n' "$out" | awk '{print $1, $2, $3}' | sed 's/ *$//')" "0
0 0 1" "as $who: uid 0 inside, a single mapping, no warning"
# The real root could change the host's hostname: only the UTS namespace
# keeps --hostname inside.
host_name=$(hostname)
out=$(root_sbx run --map-root --hostname rootbox -- hostname)
is "$out:$(hostname)" "rootbox:$host_name" "as $who: --hostname names the sandbox, and the host keeps its name"
[ "$(hostname)" = "$host_name" ] || hostname "$host_name"
is "$(root_sbx run --map-root -- ls /dev | tr '\n' ' ')" "$(sbx run -- ls /dev | tr '\n' ' ')" \
  "as $who: /dev holds the same minimal set as the account's"

if ! is_root; then
  skip "a setuid, setgid or file-capability copy of sbx needs root to make"
  skip "the single-mapping fallback needs root to hide /etc/subuid from the account"
  done_testing
fi

# --- privileged copies are refused ---------------------------------------------------------

cp "$SBX" "$TEST_DIR/sbx-suid"
chown root:root "$TEST_DIR/sbx-suid"
chmod 4755 "$TEST_DIR/sbx-suid"
out=$(as_user "$TEST_DIR/sbx-suid" run -- id -u 2>&1); rc=$?
is "$rc:$out" "125:sbx: refusing to run setuid, setgid or with file capabilities" \
  "a setuid-root copy of sbx refuses to run"
cp "$SBX" "$TEST_DIR/sbx-sgid"
chmod 2755 "$TEST_DIR/sbx-sgid"
out=$(as_user "$TEST_DIR/sbx-sgid" run -- id -u 2>&1); rc=$?
is "$rc:$out" "125:sbx: refusing to run setuid, setgid or with file capabilities" \
  "a setgid copy of sbx refuses to run"
if command -v setcap >/dev/null; then
  cp "$SBX" "$TEST_DIR/sbx-caps"
  chmod 755 "$TEST_DIR/sbx-caps"
  setcap cap_sys_admin+ep "$TEST_DIR/sbx-caps"
  out=$(as_user "$TEST_DIR/sbx-caps" run -- id -u 2>&1); rc=$?
  is "$rc:$out" "125:sbx: refusing to run setuid, setgid or with file capabilities" \
    "a copy of sbx with file capabilities refuses to run"
else
  skip "setcap not installed"
fi

# --- the single-mapping fallback --------------------------------------------------------------

user=$SBX_TEST_USER
uid=$(id -u "$user")
gid=$(id -g "$user")
# in_private_ns SETUP COMMAND...: runs COMMAND as the test account in a mount
# namespace where the shell snippet SETUP has changed the host's files.
in_private_ns () {
  local setup=$1
  shift
  unshare -m sh -c "mount --make-rprivate / && $setup && exec setpriv --reuid=$user --regid=$user --init-groups env -i PATH=/usr/bin:/bin HOME=$TEST_HOME \"\$@\"" sh "$@"
}
: >"$TEST_DIR/empty"
out=$(in_private_ns "mount --bind $TEST_DIR/empty /etc/subuid" "$SBX" run -- sh -c 'cat /proc/self/uid_map; cat /proc/self/setgroups' 2>&1)
is "$(printf '%s\n' "$out" | awk '{print $1, $2, $3}')" "sbx: warning: no
$uid $uid 1
deny  " "no subordinate uid range: single mapping, setgroups deny"
like "$(printf '%s\n' "$out" | head -1)" "^sbx: warning: no subordinate uid range in /etc/subuid for $user; mapping only uid $uid and gid $gid \(see 'sbx doctor'\)$" \
  "... with one warning line naming the cause"
out=$(in_private_ns "mount --bind $TEST_DIR/empty /etc/subgid" "$SBX" run --map-root -- cat /proc/self/gid_map 2>&1)
is "$(printf '%s\n' "$out" | awk '{print $1, $2, $3}')" "sbx: warning: no
0 $gid 1" "no subordinate gid range: --map-root maps only 0 to the caller"
out=$(in_private_ns "mount --bind /dev/null /usr/bin/newuidmap" "$SBX" run -- cat /proc/self/uid_map 2>&1)
like "$out" "^sbx: warning: newuidmap/newgidmap not found \(install the uidmap package\)" \
  "newuidmap missing: a warning naming the package"
is "$(printf '%s\n' "$out" | tail -1 | awk '{print $1, $2, $3}')" "$uid $uid 1" "... and the single mapping"
out=$(in_private_ns "mount --bind $TEST_DIR/empty /etc/subuid" "$SBX" run --no-subids -- true 2>&1)
is "$out" "" "--no-subids asks for the single mapping: no warning"

done_testing
