#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-hostile.sh: a sandbox is hostile (docs/security.md).  The test builds
# hostile trees the way an attacker would: a --map-root sandbox plants, in
# its own kept layer, message catalogs whose charset needs a gconv module,
# that module, an /etc/ld.so.preload, an NSS module in nsswitch.conf and
# fake fuse-overlayfs/newuidmap/newgidmap/sbx-net programs; a --rootfs image
# carries the same.  Then every host-side path of sbx is driven against
# them, under LANG=C.UTF-8 and a translated locale: run with a failing -w
# and a missing command, with either overlay driver; exec (with a failing
# -w too); ps, stop, diff, rm; a second run of the same name.
#
# The payload (tests/hostile/payload.c) appends a line to a log wherever it
# runs, with the process's Seccomp and NoNewPrivs: the sandbox's own
# command has 2 and 1, any sbx process that holds more has not.  It also
# leaves a file at a host path that the command reaches only through its
# writable layer.  Positive controls prove each payload really runs when
# the command itself triggers it.
. "$(dirname "$0")/libtest.sh"
require_rootless

src=${SBX_SOURCE_DIR:?meson sets SBX_SOURCE_DIR}/tests/hostile
command -v cc >/dev/null || skip_all "no C compiler (cc) to build the payload"

# --- the payload ----------------------------------------------------------------

P=$TEST_DIR/payload
LOGDIR=$TEST_DIR/log
LOG=$LOGDIR/records
MARK=$TEST_HOME/escaped
as_user mkdir -p "$P" "$LOGDIR"
defs=(-DSBX_LOG="\"$LOG\"" -DSBX_MARK="\"$MARK\"")
for via in gconv preload nss; do
  as_user cc -shared -fPIC -O1 -DVIA="\"$via\"" "${defs[@]}" -o "$P/$via.so" "$src/payload.c" \
    || skip_all "cannot build the payload (cc -shared)"
done
as_user cc -static -O1 -DPROGRAM -DVIA='"exec"' "${defs[@]}" -o "$P/program" "$src/payload.c" \
  || skip_all "cannot build the static payload (cc -static: libc6-dev's libc.a)"
as_user sh -c "cc -print-multiarch > '$P/multiarch'"
as_user python3 "$src/make-mo.py" "$P/evil.mo" KOI8-R
as_user cp "$src/plant.sh" "$P/plant.sh"
[ -e "/usr/lib/$(cat "$P/multiarch")/gconv/KOI8-R.so" ] \
  || skip_all "this host's glibc has no KOI8-R gconv module to stand in for"

# The locales the callers use: C.UTF-8 (glibc looks up catalogs for it too),
# and a translated one, built here when the host has none installed.
locales=(C.UTF-8)
if locale -a 2>/dev/null | grep -qix 'de_DE.utf8'; then
  locales+=(de_DE.UTF-8)
elif command -v localedef >/dev/null && [ -e /usr/share/i18n/locales/de_DE ] \
  && as_user mkdir -p "$TEST_DIR/locales" \
  && as_user localedef -i de_DE -f UTF-8 "$TEST_DIR/locales/de_DE.UTF-8" >/dev/null 2>&1; then
  locales+=(de_DE.UTF-8)
  export_locpath=1
else
  diag "no translated locale on this host (no de_DE.UTF-8, no localedef): C.UTF-8 only"
fi

# as_locale LOCALE COMMAND...: COMMAND as the account, in LOCALE.
as_locale () {
  local loc=$1
  shift
  as_user env LANG="$loc" LC_ALL="$loc" ${export_locpath:+LOCPATH="$TEST_DIR/locales"} "$@"
}

records () { cat "$LOG" 2>/dev/null; }

# drive TITLE WANT_RC COMMAND...: runs COMMAND and checks that no line the
# payload wrote meanwhile came from outside the command's restrictions
# (Seccomp 2, NoNewPrivs 1), and its exit status.
drive () {
  local title=$1 want=$2 before after out rc
  shift 2
  before=$(records | wc -l)
  out=$("$@" 2>&1)
  rc=$?
  after=$(records | tail -n +$((before + 1)) | grep -v ' seccomp=2 nnp=1 ')
  if [ -z "$after" ] && { [ "$want" = any ] || [ "$rc" = "$want" ]; }; then
    ok "$title"
  else
    not_ok "$title"
    diag "rc=$rc (want $want)" "$out" "payload ran in:" "$after"
  fi
}

run_args=(--bind "$LOGDIR")

# --- a kept layer over the host's / ----------------------------------------------

L=$TEST_DIR/layer
out=$(sbx run --map-root --upper "$L" "${run_args[@]}" -- sh "$P/plant.sh" / "$P" 2>&1)
is "$?" 0 "a --map-root sandbox plants its payloads in its kept layer ($out)"

# The payloads work: the command itself triggers each one, in its own
# restrictions (the log is empty of anything else).
before=$(records | wc -l)
sbx run --upper "$L" "${run_args[@]}" -- sh -c \
  'LC_ALL=C.UTF-8 ls /nonexistent; id -un 4242; /usr/bin/fuse-overlayfs; /usr/bin/newuidmap' \
  >/dev/null 2>&1
new=$(records | tail -n +$((before + 1)))
for via in gconv nss preload exec; do
  like "$new" "via=$via .* seccomp=2 nnp=1 " "positive control: the $via payload runs when the command triggers it"
done

for loc in "${locales[@]}"; do
  drive "run -w /gone, kernel overlay ($loc): PID 1 reports it without the sandbox's catalogs" 125 \
    as_locale "$loc" "$SBX" run --upper "$L" "${run_args[@]}" -w /gone -- true
  drive "run of a missing command, kernel overlay ($loc)" 127 \
    as_locale "$loc" "$SBX" run --upper "$L" "${run_args[@]}" -- /nonexistent
  drive "run --map-root (fuse-overlayfs) of a missing command ($loc)" 127 \
    as_locale "$loc" "$SBX" run --map-root --upper "$L" "${run_args[@]}" -- /nonexistent
  drive "run --map-root (fuse-overlayfs) -w /gone ($loc)" 125 \
    as_locale "$loc" "$SBX" run --map-root --upper "$L" "${run_args[@]}" -w /gone -- true
  drive "run --overlay fuse of a missing command ($loc)" 127 \
    as_locale "$loc" "$SBX" run --overlay fuse --upper "$L" "${run_args[@]}" -- /nonexistent
  drive "run with the default network over the planted layer ($loc)" 0 \
    as_locale "$loc" "$SBX" run --upper "$L" "${run_args[@]}" -- true
  drive "diff --upper of the planted layer ($loc)" 0 as_locale "$loc" "$SBX" diff --upper "$L"
done

# --- a named sandbox ---------------------------------------------------------------

out=$(sbx run --name hostile --map-root "${run_args[@]}" -- sh "$P/plant.sh" / "$P" 2>&1)
is "$?" 0 "a named --map-root sandbox plants its payloads in its layer ($out)"
wait_named () {
  for _ in $(seq 200); do
    sbx ps | grep -q "^$1 .* running " && return 0
    sleep 0.02
  done
  return 1
}
for loc in "${locales[@]}"; do
  ( as_user_exec env LANG="$loc" LC_ALL="$loc" "$SBX" run --name hostile "${run_args[@]}" -- sleep 60 ) \
    >/dev/null 2>&1 &
  bg=$!
  at_exit "kill $bg 2>/dev/null"
  check "a second run of the same name over the planted layer ($loc) starts" wait_named hostile
  drive "exec ($loc)" 0 as_locale "$loc" "$SBX" exec hostile -- true
  drive "exec -w /gone ($loc): the exec child reports it without the sandbox's catalogs" 125 \
    as_locale "$loc" "$SBX" exec -w /gone hostile -- true
  drive "exec of a missing command ($loc)" 127 as_locale "$loc" "$SBX" exec hostile -- /nonexistent
  drive "ps ($loc)" 0 as_locale "$loc" "$SBX" ps
  drive "ps --json ($loc)" 0 as_locale "$loc" "$SBX" ps --json
  drive "diff of the running sandbox ($loc)" 0 as_locale "$loc" "$SBX" diff hostile
  drive "stop ($loc)" 0 as_locale "$loc" "$SBX" stop --time 2 hostile
  wait "$bg" 2>/dev/null
  drive "run -w /gone of the named sandbox ($loc)" 125 \
    as_locale "$loc" "$SBX" run --name hostile "${run_args[@]}" -w /gone -- true
  drive "diff of the stopped sandbox ($loc)" 0 as_locale "$loc" "$SBX" diff hostile
done
drive "rm of the planted sandbox" 0 as_locale C.UTF-8 "$SBX" rm hostile
check "... and its layer is gone" test ! -e "$TEST_HOME/.local/share/sbx/hostile"

# --- a --rootfs image ---------------------------------------------------------------

# A small dynamic system: the loader, libc, a shell and a few programs of
# the host's, with the payloads planted.
img=$TEST_DIR/image
copy_into_image () {
  local f
  for f in "$@"; do
    as_user mkdir -p "$img$(dirname "$f")"
    as_user cp -L "$f" "$img$f"
  done
}
arch=$(cat "$P/multiarch")
progs=(/bin/sh /usr/bin/true /usr/bin/ls)
copy_into_image "${progs[@]}" $(ldd "${progs[@]}" | awk '$2 == "=>" { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u) \
  "/usr/lib/$arch/gconv/gconv-modules" "/usr/lib/$arch/gconv/gconv-modules.cache"
as_user mkdir -p "$img/proc" "$img/dev" "$img/sys" "$img/tmp" "$img/run" "$img/etc"
as_user sh "$P/plant.sh" "$img" "$P"
drive "positive control: the image's own ld.so.preload runs in the command only" 0 \
  sbx run --rootfs "$img" "${run_args[@]}" -- /usr/bin/true
like "$(records | tail -1)" "via=preload .* seccomp=2 nnp=1 " "... and it did run there"
for loc in "${locales[@]}"; do
  drive "run --rootfs of a missing command ($loc)" 127 \
    as_locale "$loc" "$SBX" run --rootfs "$img" "${run_args[@]}" -- /nonexistent
  drive "run --rootfs -w /gone ($loc)" 125 \
    as_locale "$loc" "$SBX" run --rootfs "$img" "${run_args[@]}" -w /gone -- /usr/bin/true
  drive "run --rootfs --overlay fuse with the image's fake fuse-overlayfs ($loc)" 127 \
    as_locale "$loc" "$SBX" run --map-root --overlay fuse --rootfs "$img" "${run_args[@]}" -- /nonexistent
done

# --- nothing reached the host ---------------------------------------------------------

escapes=$(records | grep -v ' seccomp=2 nnp=1 ')
is "$escapes" "" "no sbx process ran a payload of the sandbox (every record has Seccomp 2 and NoNewPrivs 1)"
is "$(ls "$TEST_HOME" | grep '^escaped' | tr '\n' ' ')" "" \
  "no payload wrote to the host (the command's writes land in its layer)"

# --- the layer must be the caller's alone --------------------------------------------

as_user mkdir -m 0775 "$TEST_DIR/group-writable"
rejects "sbx: --upper: $TEST_DIR/group-writable is writable by its group: they could plant files in the sandbox's layer; 'chmod go-w $TEST_DIR/group-writable' closes it" \
  --upper "$TEST_DIR/group-writable"
check "... and nothing was made in it" test -z "$(ls -A "$TEST_DIR/group-writable")"
before=$(ls -A /var/tmp)
out=$(sbx run --upper /var/tmp -- true 2>&1)
is "$?:${out%%$'\n'*}" "125:sbx: --upper: /var/tmp belongs to uid 0, not to you: another user could plant files in the sandbox's layer" \
  "--upper of another user's directory (root's /var/tmp): refused, 125"
is "$(ls -A /var/tmp)" "$before" "... and nothing was made in it"
if is_root; then
  mkdir -m 0777 "$TEST_DIR/foreign" && chown root:root "$TEST_DIR/foreign"
  rejects "sbx: --upper: $TEST_DIR/foreign belongs to uid 0, not to you: another user could plant files in the sandbox's layer" \
    --upper "$TEST_DIR/foreign"
  as_user mkdir -m 0700 "$TEST_DIR/mine" "$TEST_DIR/mine/upper"
  chown root "$TEST_DIR/mine/upper"
  rejects "sbx: --upper: $TEST_DIR/mine/upper belongs to uid 0, not to you: another user could plant files in the sandbox's layer" \
    --upper "$TEST_DIR/mine"
else
  skip "needs root to give a directory to another user"
  skip "needs root to give a directory to another user"
fi

# --- what PID 1 and the command hold ------------------------------------------------------

out=$(sbx run --map-root --cap-add ALL -- sh -c 'ls -l /proc/[0-9]*/fd/ 2>&1' | awk '/ -> / { print $NF }' \
  | grep -vE '^(/dev/null|/dev/pts/[0-9]+|pipe:\[[0-9]+\]|socket:\[[0-9]+\]|anon_inode:.*|/proc/[0-9]+/fd)$')
is "$out" "" "--cap-add ALL --map-root: every fd of every process inside is its own (no host file or directory)"
out=$(sbx run --map-root --cap-add ALL -- ls /proc/1/fd 2>&1)
like "$out" "Permission denied" "... and PID 1's fds cannot even be listed"
if is_root; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  background bg_pid "$SBX" run --name fds -p "$port:80" -- sleep 60
  for _ in $(seq 200); do sbx ps | grep -q "^fds .* running " && break; sleep 0.02; done
  pid1=$(sbx ps | awk '$1 == "fds" { print $2 }')
  out=$(ls -l "/proc/$pid1/fd" | awk '/ -> / { print $NF }' | sed -E 's/^socket:\[[0-9]+\]$/socket/' | sort | tr '\n' ' ')
  is "$out" "/dev/null /dev/null /dev/null anon_inode:[signalfd] socket socket " \
    "PID 1 holds /dev/null, its two sockets to sbx and sbx-net and its signalfd: no lock file, no listener, no host directory"
  holders=$(ss -ltnpH "sport = :$port" | grep -o '"[^"]*"' | sort -u | tr '\n' ' ')
  is "$holders" '"sbx-net" ' "the published port's listening socket is sbx-net's alone"
  sbx stop --time 1 fds >/dev/null 2>&1
else
  skip "needs root to read PID 1's fds from the host"
  skip "needs root to see who holds a listening socket"
fi

done_testing
