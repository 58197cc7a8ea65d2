#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-doctor.sh: `sbx doctor` on this machine (as the test account, as an
# account without subordinate ranges, and where user namespaces fail): one
# ✓/✗ line per check, a fix under every ✗, the exit status, --json.
. "$(dirname "$0")/libtest.sh"
require_rootless

before=$(snapshot_host)

out=$(sbx doctor 2>&1); rc=$?
diag "$out"
for label in 'user.max_user_namespaces' 'user namespace' /etc/subuid /etc/subgid newuidmap \
  newgidmap 'kernel overlay' /dev/fuse fuse-overlayfs /dev/net/tun sbx-net \
  'systemd user manager' 'cgroup v2 delegation' dev.tty.legacy_tiocsti; do
  like "$out" "^(✓|✗) $label: " "doctor checks $label"
done
for knob in kernel.unprivileged_userns_clone kernel.apparmor_restrict_unprivileged_userns; do
  f=/proc/sys/${knob//.//}
  if [ -e "$f" ]; then
    like "$out" "^(✓|✗) $knob: " "doctor checks $knob (present here)"
  else
    unlike "$out" "$knob" "doctor leaves out $knob (not in this kernel)"
  fi
done
# Every ✗ line is followed by its fix.
missing=$(printf '%s\n' "$out" | awk '/^✗/ { want = $0; next } want != "" && !/^    fix: ./ { print want } { want = "" } END { if (want != "") print want }')
is "$missing" "" "every ✗ line is followed by a '    fix: COMMAND' line"
unlike "$(printf '%s\n' "$out" | grep -B1 '^    fix:' | grep '^✓')" "." "no fix under a ✓ line"

like "$out" "^✓ user namespace: created one" "the test account can create a user namespace"
like "$out" "^✓ /etc/subuid: $(test_user_name) has [0-9]+ ids from $(subid_range /etc/subuid | cut -d' ' -f1)" \
  "the test account's subordinate uid range, with its start"
like "$out" "^✓ kernel overlay: " "the kernel overlay mounts in a user namespace here"
like "$out" "^✓ sbx-net: .*\(libslirp [0-9]+\.[0-9]+" "sbx-net is found, with the libslirp version"
like "$out" "legacy_tiocsti: $(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 'not in this kernel').*seccomp filter denies it" \
  "legacy_tiocsti: the host's value, and that sbx blocks TIOCSTI anyway"

if printf '%s\n' "$out" | grep -q '^✓ systemd user manager'; then
  skip "a systemd user manager answers here; the no-manager case cannot be shown"
else
  like "$out" "^✗ systemd user manager: no D-Bus session bus" "no user manager here: ✗ with the reason"
  like "$out" "fix: loginctl enable-linger $(test_user_name)" "... and the advice (loginctl enable-linger)"
  like "$out" "^✗ cgroup v2 delegation: not checked" "cgroup delegation is not checked without the manager"
fi

# The exit status says whether the checks the default `sbx run` needs passed.
json=$(sbx doctor --json 2>&1); jrc=$?
check "--json prints valid JSON" sh -c 'printf "%s" "$1" | python3 -m json.tool >/dev/null' sh "$json"
needed_failed=$(printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for c in d["checks"] if c["need"] == "needed" and not c["ok"]))')
is "$rc" "$([ "$needed_failed" = 0 ] && echo 0 || echo 1)" "exit status 0 exactly when no needed check failed"
is "$jrc" "$rc" "--json exits as the text output does"
is "$(printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ids = [c["id"] for c in d["checks"]]
ok = all(isinstance(c["ok"], bool) and c["need"] in ("needed", "wanted", "limits", "info")
         and (c["fix"] is None) == c["ok"] for c in d["checks"])
print(d["ok"] == all(c["ok"] for c in d["checks"] if c["need"] == "needed"), ok,
      "userns" in ids and "subuid" in ids and "cgroup_delegation" in ids)')" "True True True" \
  "--json: ok, and per check id, need, ok, detail and a fix exactly when it failed"
is "$(printf '%s' "$json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["checks"]))')" \
  "$(printf '%s\n' "$out" | grep -c '^[✓✗] ')" "--json has as many checks as the text has lines"

# Where user namespaces cannot be made (an unmapped one, here), doctor says
# so and exits 1.
out=$(as_user unshare -U "$SBX" doctor 2>&1); rc=$?
is "$rc" "1" "exit 1 when a needed check fails (no user namespace)"
like "$out" "^✗ user namespace: unshare\(CLONE_NEWUSER\): " "... the ✗ line names the failed step"
like "$out" "^The default sbx run cannot work here" "... and the summary says so"

# Usage errors.
out=$(sbx doctor extra 2>&1); rc=$?
is "$rc|$out" "125|sbx: unexpected argument 'extra'
Try 'sbx doctor --help' for more information." "doctor refuses an argument"
out=$(sbx doctor --frob 2>&1); rc=$?
is "$rc|$out" "125|sbx: unknown option --frob
Try 'sbx doctor --help' for more information." "doctor refuses an unknown option"
out=$(sbx doctor --help); rc=$?
like "$rc $out" "^0 Usage: sbx doctor \[OPTIONS\]" "doctor --help"
like "$out" "--json" "doctor --help lists --json"

# An account without subordinate ranges: the test account itself, in a
# mount namespace of the test's own where /etc/subuid and /etc/subgid lack
# its lines (no account is made for it).
if is_root; then
  user=$SBX_TEST_USER
  for f in subuid subgid; do
    awk -F: -v n="$user" -v u="$(id -u "$user")" '$1 != n && $1 != u' "/etc/$f" >"$TEST_DIR/$f"
  done
  out=$(unshare -m bash -c 'mount --make-rprivate / && mount --bind "$1/subuid" /etc/subuid \
      && mount --bind "$1/subgid" /etc/subgid && shift && exec "$@"' _ "$TEST_DIR" \
    setpriv --reuid="$user" --regid="$user" --init-groups env -i "${_test_env[@]}" "$SBX" doctor 2>&1)
  rc=$?
  diag "$out"
  like "$out" "^✗ /etc/subuid: no range for $user" "an account without ranges: ✗ /etc/subuid"
  like "$out" "fix: sudo usermod --add-subuids [0-9]+-[0-9]+ $user" "... with the usermod --add-subuids command"
  like "$out" "fix: sudo usermod --add-subgids [0-9]+-[0-9]+ $user" "... and usermod --add-subgids"
  # The proposed range overlaps no one's.
  range=$(printf '%s\n' "$out" | sed -n 's/.*--add-subuids \([0-9]*\)-\([0-9]*\).*/\1 \2/p')
  overlap=$(awk -F: -v r="$range" 'BEGIN { split(r, a, " ") } NF == 3 && $2 <= a[2] && $2 + $3 - 1 >= a[1]' "$TEST_DIR/subuid")
  is "$range:$overlap" "${range:-none}:" "... for a range that overlaps no one else's"
  is "$rc" "0" "missing subordinate ranges have a fallback: still exit 0"
else
  skip "needs root to hide the account's ranges in a mount namespace"
fi

after=$(snapshot_host)
is "$after" "$before" "doctor leaves no process or mount behind"

done_testing
