#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-man-examples.sh: every command in the EXAMPLES section of every man
# page (man/*.scd) runs, as the unprivileged account, and succeeds.
#
# An example is a literal block (``` ... ```) of an EXAMPLES section, run
# as one bash script with `set -e -o pipefail` in a fresh
# directory holding a small Makefile (all, install, test) and untrusted.sh,
# with HOME and the XDG dirs of its own and the shipped profiles in
# ~/.config/sbx.  A person typing the example waits
# for a sandbox started with `--name NAME ... &` before the next line; the
# script does the same.  Named sandboxes the example leaves are removed.
#
# A line ending in a comment "# needs SOMETHING" marks an example this host
# may lack (a systemd user manager for limits, network access): the block
# is skipped with that reason.  No example may reach any address but the
# host's loopback.
. "$(dirname "$0")/libtest.sh"
require_rootless

man=${SBX_SOURCE_DIR:?}/man
blocks=$TEST_DIR/blocks
mkdir -p "$blocks"

# Splits the EXAMPLES sections into $blocks/PAGE.N, one per literal block
# (``` ... ```), with scdoc's one escape undone (a backslash quotes the next
# character), so that what runs is what the rendered page shows.
for f in "$man"/*.scd; do
  page=$(basename "$f" .scd)
  awk -v out="$blocks/$page" '
    /^# / && !lit { on = ($0 == "# EXAMPLES"); next }
    on && /^```/ { if (lit) close(out "." n); else n++; lit = !lit; next }
    on && lit { gsub(/\\\\/, "\001"); gsub(/\\/, ""); gsub(/\001/, "\\"); print > (out "." n) }
  ' "$f"
done

# The fixture every example starts in: $1/work, with a home of its own
# beside it (not inside: a kept layer under the directory a sandbox writes
# to would be a layer inside its own lower).
fixture () {
  local dir=$1/work home=$1/home
  mkdir -p "$dir" "$home"
  printf '%s\n' \
    'all:' '	@echo built > build.log' '	@echo built' \
    'install:' '	mkdir -p /usr/local/bin' \
    "	printf '#!/bin/sh\\necho hello\\n' > /usr/local/bin/sbx-example-hello" \
    '	chmod 755 /usr/local/bin/sbx-example-hello' \
    'test:' '	@echo tests passed' > "$dir/Makefile"
  printf '%s\n' '#!/bin/sh' 'echo "untrusted.sh runs as $(id -u); network: $(ls /sys/class/net)"' \
    > "$dir/untrusted.sh"
  chmod 755 "$dir/untrusted.sh"
  # As a user who copied the shipped profiles where sbx.conf(5) says.
  mkdir -p "$home/.config/sbx"
  cp "$SBX_SOURCE_DIR"/profiles/*.conf "$home/.config/sbx/"
  if is_root; then chown -R "$SBX_TEST_USER:" "$1"; fi
}

# script BLOCK DIR: the example as a bash script.  A host port it
# publishes (-p [IP:]HOSTPORT:PORT) becomes one free now, everywhere in the
# block (the curl that fetches it too): the page's port may be taken here.
script () {
  local block=$1 dir=$2 line name port
  local -A ports=()
  for port in $(grep -oE -- '(-p|--publish)[ =]+([^ :]+:)?[0-9]+:' "$block" | grep -oE '[0-9]+:$' | tr -d :); do
    [ -n "${ports[$port]:-}" ] || ports[$port]=$(free_port)
  done
  cat <<EOF
set -e -o pipefail
export HOME=$dir/home XDG_CONFIG_HOME=$dir/home/.config XDG_DATA_HOME=$dir/home/.local/share
sbx () { "$SBX" "\$@"; }
# What a person would wait for before typing the next line.
wait_running () {
  for _ in \$(seq 200); do
    sbx ps | awk 'NR > 1 { print \$1 }' | grep -qx "\$1" && return 0
    sleep 0.05
  done
  echo "test: \$1 did not start" >&2
  return 1
}
# Named sandboxes left running or kept are removed; a job of the example
# still running after that (its sandbox would not stop) is killed, by pid.
leftovers () {
  for n in \$(sbx ps -a | awk 'NR > 1 { print \$1 }'); do sbx rm -f "\$n" >/dev/null 2>&1 || true; done
  for j in \$(jobs -p); do kill "\$j" 2>/dev/null || true; done
  wait
}
trap leftovers EXIT
cd "$dir/work"
EOF
  while IFS= read -r line; do
    for port in "${!ports[@]}"; do
      line=$(printf '%s' "$line" | perl -pe "s/(?<![0-9])$port(?![0-9])/${ports[$port]}/g")
    done
    printf '%s\n' "$line"
    if [[ $line =~ --name[=\ ]([A-Za-z0-9_.-]+).*\&[[:space:]]*$ ]]; then
      printf 'wait_running %s\n' "${BASH_REMATCH[1]}"
    fi
  done < "$block"
}

# Every page has examples, all in literal blocks: tab-indented lines would
# be rendered as one paragraph, the commands run together.
for f in "$man"/*.scd; do
  page=$(basename "$f" .scd)
  if ! grep -q '^# EXAMPLES' "$f"; then
    not_ok "$page has EXAMPLES"
  elif awk '/^# / { on = ($0 == "# EXAMPLES") } on && /^\t/ { bad = 1 } END { exit !bad }' "$f"; then
    not_ok "$page: EXAMPLES has tab-indented lines outside a literal block"
  else
    ok "$page has EXAMPLES, in literal blocks"
  fi
done

loopback_only='(https?|ftp)://(127\.0\.0\.1|localhost|\[::1\])[:/]'
before=$(snapshot_host)
i=0
for block in "$blocks"/*; do
  i=$((i + 1))
  name=$(basename "$block")
  first=$(head -1 "$block")
  desc="$name: $first$( [ "$(wc -l < "$block")" -gt 1 ] && echo ' ...')"
  reason=$(sed -n 's/.*# \(needs .*\)$/\1/p' "$block" | head -1)
  if [ -n "$reason" ]; then
    skip "$desc ($reason)"
    continue
  fi
  if grep -E -o '[a-z]+://[^ ]*' "$block" | grep -vqE "^$loopback_only"; then
    not_ok "$desc: reaches beyond loopback without '# needs network access'"
    continue
  fi
  missing=
  for prog in make python3 curl; do
    if grep -qw "$prog" "$block" && ! as_user sh -c "command -v $prog" >/dev/null; then missing=$prog; fi
  done
  if [ -n "$missing" ]; then
    skip "$desc (needs $missing, not installed)"
    continue
  fi
  dir=$TEST_DIR/ex/$i
  fixture "$dir"
  script "$block" "$dir" > "$dir.sh"
  out=$(as_user timeout 120 bash "$dir.sh" </dev/null 2>&1); rc=$?
  if [ "$rc" = 0 ]; then
    ok "$desc"
  else
    not_ok "$desc"
    diag "exit status $rc" "$(cat "$block")" "--- output:" "$out"
  fi
done
[ "$i" -gt 0 ] || not_ok "found no examples in $man"

after=$(snapshot_host)
is "$after" "$before" "the examples leave no process or mount behind"

done_testing
