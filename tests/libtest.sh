# SPDX-License-Identifier: GPL-2.0-or-later
# libtest.sh: sourced by every tests/test-*.sh.  Prints TAP.
#
# The rootless path is what sbx is for, so tests run sbx as an unprivileged
# account with subordinate ranges: the caller itself when it is not root, or
# $SBX_TEST_USER (default sbxtest, created by scripts/setup-host) when the
# suite runs as root, as in CI.  Cases that need root are marked and skipped
# one by one otherwise.
#
# Environment: SBX (path of the sbx binary, set by meson), SBX_MUST_WORK=1
# (a skip of a core capability is a failure), SBX_TEST_USER, SBX_TEST_TMPDIR
# (the scratch base instead of /var/lib/sbx-tests[/USER]).  Nothing else of
# the caller's environment reaches the commands the tests run (as_user).

set -u

: "${SBX:?SBX must point at the sbx binary (meson sets it)}"
SBX_TEST_USER=${SBX_TEST_USER:-sbxtest}
SBX_MUST_WORK=${SBX_MUST_WORK:-}

_tap_n=0
_tap_failed=0

# --- TAP -------------------------------------------------------------------

ok () { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }

not_ok () {
  _tap_n=$((_tap_n + 1))
  _tap_failed=$((_tap_failed + 1))
  echo "not ok $_tap_n - $*"
}

# skip REASON: one skipped test point (a case that cannot run here).
skip () { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; }

diag () { printf '%s\n' "$@" | sed 's/^/# /'; }

# skip_all REASON: the whole script cannot run here.  Under SBX_MUST_WORK=1
# that is a failure: CI must prove the core, not skip it.
skip_all () {
  if [ -n "$SBX_MUST_WORK" ]; then
    echo "1..1"
    echo "not ok 1 - cannot run: $* (SBX_MUST_WORK=1)"
    exit 1
  fi
  echo "1..0 # SKIP $*"
  exit 0
}

# skip_unless_root REASON: a script whose cases all need the real root (a
# network namespace of the test's own): run by an ordinary user it skips
# as a whole, even under SBX_MUST_WORK=1, since the same suite run by root
# (as CI also does) proves them.
skip_unless_root () {
  is_root && return 0
  echo "1..0 # SKIP $*"
  exit 0
}

done_testing () {
  echo "1..$_tap_n"
  [ "$_tap_failed" -eq 0 ]
  exit $?
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check () {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# todo BUG DESCRIPTION COMMAND...: a check of a known bug, as a TAP TODO
# point: its failure is expected and fails nothing; once it passes, meson
# reports an unexpected pass, and the TODO goes.
todo () {
  local bug=$1 desc=$2
  shift 2
  _tap_n=$((_tap_n + 1))
  if "$@"; then echo "ok $_tap_n - $desc # TODO $bug"; else echo "not ok $_tap_n - $desc # TODO $bug"; fi
}

# is GOT WANT DESCRIPTION
is () {
  if [ "$1" = "$2" ]; then
    ok "$3"
  else
    not_ok "$3"
    diag "got:  '$1'" "want: '$2'"
  fi
}

# like GOT PATTERN DESCRIPTION: GOT matches the extended regex PATTERN.
like () {
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    ok "$3"
  else
    not_ok "$3"
    diag "got:  '$1'" "want: /$2/"
  fi
}

unlike () {
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    not_ok "$3"
    diag "got:  '$1'" "must not match: /$2/"
  else
    ok "$3"
  fi
}

# rejects WANT ARGS...: `sbx run ARGS -- true` must fail with 125, its first
# line being WANT (when WANT starts with "sbx: ") or containing it.
rejects () {
  local want=$1
  shift
  local out rc first
  out=$(sbx run "$@" -- true 2>&1)
  rc=$?
  first=$(printf '%s\n' "$out" | head -1)
  if [ "$rc" = 125 ] && { [ "$first" = "$want" ] || { [ "${want#sbx: }" = "$want" ] \
       && printf '%s' "$first" | grep -qF -- "$want"; }; }; then
    ok "rejects: $*"
  else
    not_ok "rejects: $*"
    diag "rc=$rc" "$out" "want: $want"
  fi
}

# --- the unprivileged account ------------------------------------------------

is_root () { [ "$(id -u)" -eq 0 ]; }

# The environment of every command run as the account, whoever runs the
# suite: nothing of the caller's (a desktop's DBUS_SESSION_BUS_ADDRESS,
# DISPLAY or SSH_AUTH_SOCK would change what sbx does), a desktop's PATH
# (no sbin), and the test's own HOME and XDG directories, so that nothing
# lands in the caller's real ones.  Set once TEST_DIR exists (below).
_test_env=()

# as_user COMMAND...: runs COMMAND as the unprivileged test account (the
# caller itself when it is not root) in that environment.
as_user () {
  if is_root; then
    setpriv --reuid="$SBX_TEST_USER" --regid="$SBX_TEST_USER" --init-groups \
      env -i "${_test_env[@]}" "$@"
  else
    env -i "${_test_env[@]}" "$@"
  fi
}

# as_user_exec COMMAND...: as as_user, but replaces the calling (sub)shell,
# so that a background job's $! is the command itself and can be killed.
as_user_exec () {
  if is_root; then
    exec setpriv --reuid="$SBX_TEST_USER" --regid="$SBX_TEST_USER" --init-groups \
      env -i "${_test_env[@]}" "$@"
  else
    exec env -i "${_test_env[@]}" "$@"
  fi
}

# background VAR COMMAND...: starts COMMAND as the account in the background,
# sets VAR to its pid, and makes sure it is gone when the test ends.
background () {
  local var=$1
  shift
  ( as_user_exec "$@" ) &
  eval "$var=\$!"
  at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
}

# wait_comm PID COMM: waits (up to 5 s) until PID runs COMM, e.g. a
# background job once it is past setpriv and env.
wait_comm () {
  local tries=100
  until [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || [ "$tries" -eq 0 ]; do
    sleep 0.05
    tries=$((tries - 1))
  done
}

# start_named NAME ARGS...: `sbx run --name NAME --net none ARGS` in the
# background, once ps lists it running.
start_named () {
  local name=$1
  shift
  background _ "$SBX" run --name "$name" --net none "$@"
  for _ in $(seq 200); do
    sbx ps | grep -q "^$name .* running " && return 0
    sleep 0.02
  done
  return 1
}

# free_port: a TCP port free on the host's loopback now (the kernel picks
# it), so that no test depends on a fixed port being free.
free_port () {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sbx ARGS...: the binary under test, as the unprivileged account.
sbx () { as_user "$SBX" "$@"; }

test_uid () { if is_root; then id -u "$SBX_TEST_USER"; else id -u; fi; }
test_gid () { if is_root; then id -g "$SBX_TEST_USER"; else id -g; fi; }
test_user_name () { if is_root; then echo "$SBX_TEST_USER"; else id -un; fi; }

# The first subordinate range of the test account: "START COUNT".
subid_range () {
  local file=$1 name uid
  name=$(test_user_name)
  uid=$(test_uid)
  awk -F: -v n="$name" -v u="$uid" '($1 == n || $1 == u) && NF == 3 { print $2, $3; exit }' "$file"
}

# require_rootless: the account must exist, have ranges and reach the build.
require_rootless () {
  if is_root && ! id "$SBX_TEST_USER" >/dev/null 2>&1; then
    skip_all "no test account $SBX_TEST_USER (run scripts/setup-host)"
  fi
  if [ -z "$(subid_range /etc/subuid)" ] || [ -z "$(subid_range /etc/subgid)" ]; then
    skip_all "$(test_user_name) has no subordinate ranges in /etc/subuid and /etc/subgid"
  fi
  if ! as_user test -x "$SBX"; then
    skip_all "$(test_user_name) cannot execute $SBX (a directory on the way is not world-readable)"
  fi
  if ! as_user unshare -U true 2>/dev/null; then
    skip_all "unprivileged user namespaces are not allowed on this host"
  fi
}

# require_device PATH: the account can open the device PATH read-write
# (a desktop's /dev/fuse and /dev/net/tun are 0666).
require_device () {
  as_user sh -c "exec 3<>$1" 2>/dev/null || skip_all "$1 is not usable by $(test_user_name)"
}

# sanitized: sbx was built with AddressSanitizer, whose shadow memory makes
# sizes meaningless.
sanitized () { grep -qa -m1 __asan_init "$SBX"; }

# --- a build the account can reach ---------------------------------------------

# A clone in root's home (/root is 0700) is out of the test account's reach.
# Run by root, the script then goes on in a mount namespace of its own where
# the directory in the way is a 0755 tmpfs holding only the tree, bound at
# its own path: the host's permissions stay as they are, and nothing of it
# outlives the script.
_searchable_by_account () {
  setpriv --reuid="$SBX_TEST_USER" --regid="$SBX_TEST_USER" --init-groups test -x "$1" 2>/dev/null
}
_reach_build () {
  local tree blocked= dir stash
  is_root && [ -z "${SBX_TEST_REACHED:-}" ] && id "$SBX_TEST_USER" >/dev/null 2>&1 || return 0
  _searchable_by_account "$SBX" && return 0
  tree=${SBX_SOURCE_DIR:-$(dirname "$(dirname "$(dirname "$SBX")")")}
  # The outermost directory on the way to the tree that the account cannot
  # search.
  dir=$tree
  while [ "$dir" != / ]; do
    _searchable_by_account "$dir" || blocked=$dir
    dir=$(dirname "$dir")
  done
  [ -n "$blocked" ] && [ "$blocked" != "$tree" ] || return 0
  stash=$(mktemp -d /run/sbx-test-reach.XXXXXX) || return 0
  exec unshare -m --propagation private -- bash -c '
    set -e
    tree=$1 blocked=$2 stash=$3; shift 3
    mount --rbind "$tree" "$stash"
    mount -t tmpfs -o mode=0755 sbx-test-reach "$blocked"
    mkdir -p "$tree"
    mount --rbind "$stash" "$tree"
    umount -l "$stash"
    rmdir "$stash"
    exec env SBX_TEST_REACHED=1 bash "$@"' _ "$tree" "$blocked" "$stash" "$0" "$@"
}
_reach_build "$@"

# --- scratch space -------------------------------------------------------------

# Not under /tmp or /var/tmp (the sandbox gets fresh ones, so a test's
# directory there would not exist inside) nor /home (profiles/untrusted.conf
# hides it): /var/lib/sbx-tests, and for an account that runs the suite
# itself a directory of its own there, which scripts/setup-host makes.
if [ -n "${SBX_TEST_TMPDIR:-}" ]; then
  _test_base=$SBX_TEST_TMPDIR
elif is_root; then
  _test_base=/var/lib/sbx-tests
  mkdir -p "$_test_base" && chmod 755 "$_test_base"
else
  _test_base=/var/lib/sbx-tests/$(id -un)
fi
[ -d "$_test_base" ] && [ -w "$_test_base" ] \
  || skip_all "no scratch directory $_test_base of $(id -un) (sudo scripts/setup-host makes it)"
# The account's cache (XDG_CACHE_HOME): the directory skeleton of --map-root
# (docs/rootfs.md) lives there, and making it takes seconds; as a desktop
# user's, it is made once and shared by every script, which sbx's lock
# allows.  A test of the skeleton itself sets a cache of its own.
if is_root; then
  TEST_CACHE=$_test_base/.cache-$SBX_TEST_USER
else
  TEST_CACHE=$_test_base/.cache
fi
if [ ! -d "$TEST_CACHE" ]; then
  mkdir -p -m 700 "$TEST_CACHE"
  if is_root && id "$SBX_TEST_USER" >/dev/null 2>&1; then
    chown "$SBX_TEST_USER:" "$TEST_CACHE"
  fi
fi
TEST_DIR=$(mktemp -d "$_test_base/test.XXXXXX")
chmod 755 "$TEST_DIR"
TEST_HOME=$TEST_DIR/home
TEST_RUNTIME=$TEST_DIR/run
mkdir -p "$TEST_HOME" "$TEST_RUNTIME"
chmod 700 "$TEST_RUNTIME"
if is_root && id "$SBX_TEST_USER" >/dev/null 2>&1; then
  chown -R "$SBX_TEST_USER:" "$TEST_DIR"
fi
# The desktop's PATH, without sbin (what --map-root's root PATH is for).
DESKTOP_PATH=/usr/local/bin:/usr/bin:/bin
_test_env=(PATH="$DESKTOP_PATH" HOME="$TEST_HOME" USER="$(test_user_name)"
  LOGNAME="$(test_user_name)" XDG_RUNTIME_DIR="$TEST_RUNTIME"
  XDG_DATA_HOME="$TEST_HOME/.local/share" XDG_CONFIG_HOME="$TEST_HOME/.config"
  XDG_CACHE_HOME="$TEST_CACHE" XDG_STATE_HOME="$TEST_HOME/.local/state" LANG=C.UTF-8)
# SBX_TEST_PASSENV: names of the caller's variables a script needs to pass on
# (the systemd guest's session bus for the limits), nothing else.
for _v in ${SBX_TEST_PASSENV:-}; do
  [ -n "${!_v+x}" ] && _test_env+=("$_v=${!_v}")
done

_cleanup_hooks=()
at_exit () { _cleanup_hooks+=("$*"); }

_cleanup () {
  local h
  for h in "${_cleanup_hooks[@]}"; do eval "$h" || true; done
  # Files created with subordinate ids cannot be removed by the account
  # itself; remove them from a sandbox where those ids are mapped.
  if ! rm -rf "$TEST_DIR" 2>/dev/null && [ -d "$TEST_DIR" ]; then
    (cd / && env -i PATH="$DESKTOP_PATH" HOME=/ "$SBX" run --map-root --net none -w / --bind "$TEST_DIR" \
      -- rm -rf "$TEST_DIR") 2>/dev/null || true
    rm -rf "$TEST_DIR" 2>/dev/null || true
  fi
}
trap _cleanup EXIT
cd "$TEST_DIR" || exit 1

# --- leftovers -------------------------------------------------------------------

# snapshot_host: the test account's processes, and the mounts of the host's
# mount table it could have left: the account can mount there only through
# fusermount3 (a FUSE mount carries user_id=UID), and the root-only cases
# mount under $TEST_DIR.  Other users' mounts are not ours to judge.
snapshot_host () {
  {
    # Zombies are dead: a sandbox's PID 1 orphaned by a killed monitor waits
    # for the host's init to reap it.  The holder outlives runs by design
    # and leaves with the test's runtime directory (test-holder.sh); it and
    # its starter are named sbx-holder from their fork on, and "exe" for
    # the moment of its exec of /proc/self/exe.
    ps -o pid=,stat=,comm= -u "$(test_uid)" 2>/dev/null | awk '$2 !~ /^Z/ {print $1, $3}' \
      | grep -v -E ' (ps|sh|bash|setpriv|env|grep|sort|sleep|timeout|awk|sbx-holder|exe)$' | sort
    awk -v dir="$TEST_DIR" -v uid="$(test_uid)" '
      index($5, dir) == 1 || $NF ~ ("(^|,)user_id=" uid "(,|$)") { $1 = $2 = ""; print }' \
      /proc/self/mountinfo | sort
  }
}

# alive PID: the process exists and is not a zombie.
alive () {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# wait_gone PID [SECONDS]: waits until PID is dead (gone or a zombie).
wait_gone () {
  local pid=$1 tries=$(( ${2:-5} * 20 ))
  while alive "$pid" && [ "$tries" -gt 0 ]; do
    sleep 0.05
    tries=$((tries - 1))
  done
  ! alive "$pid"
}
