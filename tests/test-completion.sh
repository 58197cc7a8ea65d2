#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-completion.sh: drives the shell completions as a shell would and
# checks they know every option `sbx run --help` lists.  The shells run as
# the test account in the test's environment: the sandbox names they offer
# are the account's, kept in the test's own XDG directories.
. "$(dirname "$0")/libtest.sh"
require_rootless

src=${SBX_SOURCE_DIR:?}/completions
[ -r /usr/share/bash-completion/bash_completion ] || skip_all "bash-completion is not installed"

# Every option of `sbx run --help` is known to each completion.
opts=$(sbx run --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
like "$opts" "--map-root" "sbx run --help lists the options the completions are checked against"
for f in sbx.bash _sbx sbx.fish; do
  missing=
  for o in $opts; do
    case $f in
      sbx.fish) grep -q -- "-l ${o#--}\b" "$src/$f" || missing="$missing $o" ;;
      *) grep -q -- "$o\b" "$src/$f" || missing="$missing $o" ;;
    esac
  done
  is "$missing" "" "$f knows every option of sbx run"
done

# The completions ask `sbx ps -a` for names: the binary under test first in
# PATH.
mkdir -p "$TEST_DIR/bin"
ln -s "$SBX" "$TEST_DIR/bin/sbx"
shell_path=$TEST_DIR/bin:$DESKTOP_PATH

# comp WORDS...: the bash completions for the last word of "WORDS".
comp () {
  as_user env PATH="$shell_path" bash --norc --noprofile -c '
    . /usr/share/bash-completion/bash_completion
    . "$1"
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _sbx sbx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
  ' bash "$src/sbx.bash" "$@"
}

is "$(comp sbx '')" "apply diff doctor exec help ps rm run stop " "bash: subcommands"
is "$(comp sbx do)" "doctor " "bash: doctor"
is "$(comp sbx doctor --)" "--help --json " "bash: doctor options"
is "$(comp sbx help d)" "diff doctor " "bash: help COMMAND knows doctor"
is "$(comp sbx ru)" "run " "bash: a subcommand prefix"
is "$(comp sbx run --ne)" "--net --net-log " "bash: run option prefix"
is "$(comp sbx run --rev)" "--review " "bash: run knows --review"
is "$(comp sbx run --net '')" "host none slirp " "bash: --net values"
is "$(comp sbx run --net=n)" "none " "bash: --net=VALUE values"
is "$(comp sbx run --cap-add sys_ad)" "sys_admin " "bash: --cap-add completes capability names"
is "$(comp sbx run --cap-drop AL)" "ALL " "bash: --cap-drop offers ALL"
is "$(comp sbx run --overlay '')" "auto fuse kernel " "bash: --overlay values"
is "$(comp sbx run --allow-net pr)" "private " "bash: --allow-net offers the presets"
is "$(comp sbx run --deny-net=h)" "host " "bash: --deny-net=VALUE too"
like "$(comp sbx run --map-root --)" "--bind .*--workdir" "bash: every option after another option"

# --profile NAME: the profiles in $XDG_CONFIG_HOME/sbx, without ".conf".
profiles=$TEST_HOME/.config/sbx
as_user mkdir -p "$profiles/sub.conf"
as_user touch "$profiles/build.conf" "$profiles/untrusted.conf" "$profiles/notes.txt"
is "$(comp sbx run --profile '')" "build untrusted " "bash: --profile completes the profile names"
is "$(comp sbx run --profile=u)" "untrusted " "bash: --profile=PREFIX"
like "$(comp sbx run --profile build --net none -- ls --al)" "--all" "bash: --profile's value is skipped before the inner command"
as_user mkdir -p comp-dir/subdir
is "$(cd "$TEST_DIR" && comp sbx run --workdir comp-dir/)" "comp-dir/subdir " "bash: --workdir completes directories"
like "$(comp sbx run --net none -- ls --al)" "--all" "bash: after -- the inner command's completion (ls options)"
like "$(comp sbx run --hostname h1 ls --al)" "--all" "bash: after the first non-option word too, skipping option values"
like "$(comp sbx run --net none uname)" "^uname " "bash: the inner command itself is completed from PATH"

# Sandbox names for exec/stop/rm/diff: the completion asks `sbx ps -a`.
background comp_one "$SBX" run --net none --name comp-one -- sleep 60
background comp_two "$SBX" run --net none --name comp-two -- sleep 60
at_exit 'sbx rm -f comp-one comp-two >/dev/null 2>&1'
for _ in $(seq 100); do [ "$(sbx ps | grep -c '^comp-')" = 2 ] && break; sleep 0.05; done
for cmd in exec stop rm diff apply; do
  is "$(comp sbx $cmd comp-)" "comp-one comp-two " "bash: $cmd completes sandbox names"
done
like "$(comp sbx exec comp-one uname --al)" "--all" "bash: exec hands off to the inner command after the name"
is "$(comp sbx stop --ti)" "--time " "bash: stop options"
is "$(comp sbx exec --no)" "--no-pty " "bash: exec knows --no-pty"
is "$(comp sbx apply --)" "--color --dry-run --force --help --interactive --keep --upper " "bash: apply options"
is "$(comp sbx diff --p)" "--patch " "bash: diff options"
is "$(comp sbx rm --)" "--force --help --upper " "bash: rm options"
is "$(cd "$TEST_DIR" && comp sbx rm --upper comp-dir/)" "comp-dir/subdir " "bash: rm --upper completes directories"
is "$(comp sbx diff --color=a)" "always auto " "bash: --color values"

# PATHs of diff and apply: the paths the layer holds.
as_user mkdir -p "$TEST_DIR/cproj"
sbx run --net none --name pathlayer -w "$TEST_DIR" -- sh -c 'echo x > cproj/new-file; mkdir cproj/new-dir'
sbx run --net none --upper "$TEST_DIR/comp-up" -w "$TEST_DIR" -- sh -c 'echo y > cproj/up-file'
at_exit 'sbx rm pathlayer >/dev/null 2>&1'
is "$(comp sbx apply pathlayer "$TEST_DIR/cproj/new-")" "$TEST_DIR/cproj/new-dir $TEST_DIR/cproj/new-file " \
  "bash: apply NAME completes the paths the layer holds"
is "$(comp sbx diff -p pathlayer cproj/n)" "cproj/new-dir cproj/new-file " "bash: ... relative to the current directory too"
is "$(comp sbx diff --upper "$TEST_DIR/comp-up" cproj/)" "cproj/up-file " "bash: ... and those of --upper DIR"
is "$(comp sbx apply pathlayer --d)" "--dry-run " "bash: options after the name"

if command -v fish >/dev/null; then
  # Not --no-config: that also hides fish's own completions (ls's, here).
  as_user mkdir -p "$TEST_DIR/fish"
  fcomp () {
    as_user env PATH="$shell_path" HOME="$TEST_DIR/fish" XDG_CONFIG_HOME="$TEST_DIR/fish" \
      fish -c "source $src/sbx.fish; complete -C '$*'" 2>&1 | cut -f1 | sort | tr '\n' ' '
  }
  like "$(fcomp 'sbx ')" "apply diff doctor exec help ps rm run stop" "fish: subcommands"
  is "$(fcomp "sbx apply pathlayer $TEST_DIR/cproj/new-")" "$TEST_DIR/cproj/new-dir $TEST_DIR/cproj/new-file " \
    "fish: apply NAME completes the paths the layer holds"
  is "$(fcomp "sbx diff --upper $TEST_DIR/comp-up cproj/")" "cproj/up-file " "fish: ... and those of --upper DIR, relative"
  like "$(fcomp 'sbx apply path')" "pathlayer" "fish: apply completes sandbox names"
  like "$(fcomp 'sbx apply --dr')" "--dry-run" "fish: apply options"
  is "$(fcomp 'sbx doctor --')" "--help --json " "fish: doctor options"
  as_user cp -r "$profiles" "$TEST_DIR/fish/"  # fcomp's XDG_CONFIG_HOME
  is "$(fcomp 'sbx run --profile ')" "build untrusted " "fish: --profile completes the profile names"
  like "$(fcomp 'sbx run --profile build ls --al')" "--all" "fish: --profile's value is skipped before the inner command"
  is "$(fcomp 'sbx stop comp-')" "comp-one comp-two " "fish: stop completes sandbox names"
  is "$(fcomp 'sbx run --ne')" "--net --net-log " "fish: run option prefix"
  is "$(fcomp 'sbx run --net ')" "host none slirp " "fish: --net values"
  is "$(fcomp 'sbx run --allow-net ')" "host private " "fish: --allow-net offers the presets"
  like "$(fcomp 'sbx run --net none -- ls --al')" "--all" "fish: after -- the inner command's completion"
  like "$(fcomp 'sbx run --hostname h ls --al')" "--all" "fish: after the first non-option word too"
  like "$(fcomp 'sbx run --net none unam')" "^uname " "fish: the inner command itself"
else
  skip "fish is not installed"
fi

if command -v zsh >/dev/null; then
  out=$(as_user zsh -f -c "autoload -Uz compinit; compinit -u -D; fpath=($src \$fpath); autoload -Uz _sbx; print -r -- \${+functions[_sbx]}" 2>&1)
  is "$out" "1" "zsh: the completion function loads"
  # zcomp LINE: what zsh's completion offers for LINE, typed into an
  # interactive zsh on a pseudo-terminal (zpty); every compadd is recorded.
  cat > "$TEST_DIR/zcomp.zsh" <<'EOF'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; print -rl -- $__hits >> $ZCOMP_HITS; builtin compadd "$@" }'
zpty -w -n z "$2"$'\t'
for i in {1..50}; do [[ -s $ZCOMP_HITS ]] && break; sleep 0.1; done
sleep 0.3
zpty -d z
EOF
  zcomp () {
    rm -f "$TEST_DIR/zhits"
    as_user env PATH="$shell_path" ZCOMP_HITS="$TEST_DIR/zhits" timeout 20 zsh -f "$TEST_DIR/zcomp.zsh" "$src" "$1" >/dev/null 2>&1
    grep -v '^$' "$TEST_DIR/zhits" 2>/dev/null | sort -u | tr '\n' ' '
  }
  like "$(zcomp 'sbx ')" "apply diff doctor exec help ps rm run stop" "zsh: subcommands"
  like "$(zcomp "sbx apply pathlayer $TEST_DIR/cproj/new-")" "$TEST_DIR/cproj/new-dir $TEST_DIR/cproj/new-file" \
    "zsh: apply NAME completes the paths the layer holds"
  like "$(zcomp "sbx diff --upper $TEST_DIR/comp-up cproj/")" "cproj/up-file" "zsh: ... and those of --upper DIR, relative"
  like "$(zcomp 'sbx apply pathl')" "pathlayer" "zsh: apply completes sandbox names"
  like "$(zcomp 'sbx apply --dr')" "--dry-run" "zsh: apply options"
  is "$(zcomp 'sbx doctor --')" "--help --json " "zsh: doctor options"
  is "$(zcomp 'sbx run --profile ')" "build untrusted " "zsh: --profile completes the profile names"
  like "$(zcomp 'sbx run --pro')" "--profile" "zsh: --profile is a run option"
  is "$(zcomp 'sbx run --no-pty=')" "0 1 false no true yes " "zsh: --no-pty= offers the on/off words"
  like "$(zcomp 'sbx exec --no')" "--no-pty" "zsh: --no-pty is an exec option"
  is "$(zcomp 'sbx run --deny-net ')" "host private " "zsh: --deny-net offers the presets"
else
  skip "zsh is not installed"
fi

done_testing
