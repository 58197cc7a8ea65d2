#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-cli.sh: the command line: help, version, and every kind of bad input
# rejected with one line, exit 125, before anything is created.
. "$(dirname "$0")/libtest.sh"
require_rootless

# --- help and version ---------------------------------------------------------------

out=$(sbx --version); rc=$?
is "$rc" "0" "--version exits 0"
like "$(printf '%s\n' "$out" | head -1)" "^sbx [0-9]+\.[0-9]+\.[0-9]+$" "--version prints the version first"
for lib in glib json-glib libcap libseccomp libslirp; do
  like "$out" "^$lib [0-9]" "--version lists $lib"
done
out=$(sbx --help); rc=$?
is "$rc" "0" "--help exits 0"
like "$out" "^Usage: sbx COMMAND" "--help shows the usage"
like "$out" "  run " "--help lists run"
out=$(sbx run --help); rc=$?
is "$rc" "0" "run --help exits 0"
for opt in map-root no-subids bind ro-bind tmpfs workdir net hostname env clearenv monotonic boottime share-tty no-pty; do
  like "$out" "--$opt" "run --help lists --$opt"
done
for group in Identity Filesystem Network Process; do
  like "$out" "^$group:" "run --help groups the options ($group)"
done
is "$(sbx help run)" "$out" "help run prints the same as run --help"
is "$(sbx run -h)" "$out" "run -h prints the same as run --help"
like "$out" "--profile NAME" "run --help lists --profile"
for cmd in ps exec stop rm diff doctor; do
  out=$(sbx "$cmd" --help); rc=$?
  is "$rc" "0" "$cmd --help exits 0"
  like "$out" "^Usage: sbx $cmd " "$cmd --help: the usage first"
  like "$(printf '%s\n' "$out" | tail -1)" "^See sbx-$cmd\(1\)\.$" "$cmd --help: the man page last"
  is "$(sbx help "$cmd")" "$out" "help $cmd prints the same as $cmd --help"
  is "$(sbx "$cmd" -h)" "$out" "$cmd -h prints the same as $cmd --help"
done
like "$(sbx --help)" "  doctor " "--help lists doctor"

# --- usage errors -----------------------------------------------------------------------

# bad ARGS...: sbx ARGS must fail with 125 and exactly two lines: "sbx: ..."
# naming the problem, then the hint.
bad () {
  local want=$1 hint=$2
  shift 2
  local out rc
  out=$(sbx "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" = 125 ] && [ "$(printf '%s\n' "$out" | head -1)" = "$want" ] \
     && [ "$(printf '%s\n' "$out" | sed -n 2p)" = "Try '$hint --help' for more information." ] \
     && [ "$(printf '%s\n' "$out" | wc -l)" = 2 ]; then
    ok "rejects: sbx $*"
  else
    not_ok "rejects: sbx $*"
    diag "rc=$rc" "$out" "want: $want"
  fi
}

# bad_host WANT ARGS...: sbx ARGS fails with 125 and exactly one line, WANT:
# an error of the host (a missing path), not of the command line, gets no
# "Try ... --help" (issue 15).
bad_host () {
  local want=$1
  shift
  local out rc
  out=$(sbx "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" = 125 ] && [ "$out" = "$want" ]; then
    ok "refuses without a usage hint: sbx $*"
  else
    not_ok "refuses without a usage hint: sbx $*"
    diag "rc=$rc" "$out" "want: $want"
  fi
}

before=$(snapshot_host)
bad "sbx: no command given" "sbx"
bad "sbx: 'frob' is not an sbx command" "sbx" frob
bad "sbx: 'rnu' is not an sbx command; did you mean 'run'?" "sbx" rnu
bad "sbx: 'dcotor' is not an sbx command; did you mean 'doctor'?" "sbx" dcotor
bad "sbx: 'exce' is not an sbx command; did you mean 'exec'?" "sbx" exce
bad "sbx: 'stpo' is not an sbx command; did you mean 'stop'?" "sbx" stpo
bad "sbx: 'rnu' is not an sbx command; did you mean 'run'?" "sbx" help rnu
bad "sbx: unknown option --frob" "sbx" --frob
bad "sbx: no command given" "sbx run" run
bad "sbx: no command given" "sbx run" run --
bad "sbx: the command is an empty string" "sbx run" run -- ""
bad "sbx: unknown option --frob" "sbx run" run --frob -- true
bad "sbx: unknown option -x" "sbx run" run -x true
bad "sbx: missing argument for --bind" "sbx run" run --bind
bad "sbx: --bind: empty value" "sbx run" run --bind "" -- true
bad "sbx: --bind: empty value" "sbx run" run --bind= -- true
bad_host "sbx: --bind /nonexistent-sbx: No such file or directory" run --bind /nonexistent-sbx -- true
bad_host "sbx: --layer: /nonexistent-sbx: No such file or directory" run --layer /nonexistent-sbx -- true
bad_host "sbx: --upper: /nonexistent-sbx/x: No such file or directory" run --upper /nonexistent-sbx/x -- true
bad "sbx: --bind: '/a:/b:/c' is not SRC[:DST][:ro] (':' in a path is not supported)" "sbx run" run --bind /a:/b:/c -- true
bad "sbx: --bind: '/tmp:relative': 'relative' is neither an absolute DST nor the mode ro" "sbx run" run --bind /tmp:relative -- true
bad "sbx: --bind: 'rel/x' is not an absolute path" "sbx run" run --bind /tmp:rel/x -- true
bad "sbx: --bind: '/tmp:/': cannot mount over / (use --rootfs)" "sbx run" run --bind /tmp:/ -- true
bad "sbx: --ro-bind: '/tmp:/x:rw': 'rw' is not a mode (the only one is ro)" "sbx run" run --ro-bind /tmp:/x:rw -- true
# Issue 15: modes other tools have are not taken for something else.
bad "sbx: --bind: '/tmp:/x:rw': 'rw' is not a mode (the only one is ro)" "sbx run" run --bind /tmp:/x:rw -- true
bad "sbx: --bind: '/tmp:/x:Z': 'Z' is not a mode (the only one is ro)" "sbx run" run --bind /tmp:/x:Z -- true
bad "sbx: --tmpfs: 'rel' is not an absolute path" "sbx run" run --tmpfs rel -- true
bad "sbx: --tmpfs: 'junk' is not a size (use e.g. 64M or 1G)" "sbx run" run --tmpfs /x:junk -- true
bad "sbx: --tmpfs: '-1M' is not a size (use e.g. 64M or 1G)" "sbx run" run --tmpfs /x:-1M -- true
bad "sbx: --tmpfs: '0' is not a size (use e.g. 64M or 1G)" "sbx run" run --tmpfs /x:0 -- true
bad "sbx: --tmpfs: '99999999999999999999' is not a size (use e.g. 64M or 1G)" "sbx run" run --tmpfs /x:99999999999999999999 -- true
bad "sbx: --tmpfs: '17179869184G' is not a size (use e.g. 64M or 1G)" "sbx run" run --tmpfs /x:17179869184G -- true
bad "sbx: --workdir: 'rel' is not an absolute path" "sbx run" run -w rel -- true
bad "sbx: --net: 'bogus' is not one of slirp, none, host" "sbx run" run --net bogus -- true
bad "sbx: --hostname: '' is not a valid hostname (letters, digits, '-' and '.', at most 64 bytes)" "sbx run" run --hostname "" -- true
long=$(printf 'a%.0s' $(seq 65))
bad "sbx: --hostname: '$long' is not a valid hostname (letters, digits, '-' and '.', at most 64 bytes)" "sbx run" run --hostname "$long" -- true
bad "sbx: --hostname: 'a b' is not a valid hostname (letters, digits, '-' and '.', at most 64 bytes)" "sbx run" run --hostname "a b" -- true
bad "sbx: --env: '' is not KEY=VALUE" "sbx run" run -e "" -- true
bad "sbx: --env: '=x' is not KEY=VALUE" "sbx run" run -e =x -- true
bad "sbx: --monotonic: 'abc' is not a whole number of seconds" "sbx run" run --monotonic abc -- true
bad "sbx: --monotonic: '1.5' is not a whole number of seconds" "sbx run" run --monotonic 1.5 -- true
bad "sbx: --boottime: '' is not a whole number of seconds" "sbx run" run --boottime "" -- true
bad "sbx: --boottime: '99999999999999999999' is not a whole number of seconds" "sbx run" run --boottime 99999999999999999999 -- true
# An on/off option: alone, or =true|false|yes|no|1|0 (DESIGN.md), nothing else.
for v in maybe TRUE on ""; do
  bad "sbx: --no-pty: '$v' is not one of true, false, yes, no, 1, 0" "sbx run" run --no-pty="$v" -- true
done
bad "sbx: --no-pty: 'off' is not one of true, false, yes, no, 1, 0" "sbx exec" exec --no-pty=off box -- true
after=$(snapshot_host)
is "$after" "$before" "bad input leaves no process or mount behind"

# Options end at the command: its own options are not sbx's.
is "$(sbx run echo -w --bind x)" "-w --bind x" "options after the command belong to the command"
is "$(sbx run -- printf '%s' --help)" "--help" "-- ends sbx's options"
is "$(sbx run --hostname=h1 --net=none -- hostname)" "h1" "--opt=VAL works"
is "$(sbx run --no-pty echo x)" "x" "an on/off option takes no separate value: the word after --no-pty is the command"
like "$(sbx exec --help)" "--no-pty" "exec --help lists --no-pty"

done_testing
