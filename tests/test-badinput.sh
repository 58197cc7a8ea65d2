#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-badinput.sh: a table of malformed invocations (issue 15): every
# option of run with junk, negatives, overflows, empty and missing values,
# options that contradict each other, bad profiles, and every other
# command.  Each must exit 125 with exactly one "sbx: " line naming the bad
# value (then the "Try ... --help" line for a usage error, and only then),
# print nothing on stdout, and leave nothing behind: no process of the
# account, no mount, no new file under the test's runtime, data and
# scratch directories.
. "$(dirname "$0")/libtest.sh"
require_rootless

scratch=$TEST_DIR/scratch
conf=$TEST_HOME/.config/sbx
as_user mkdir -p "$scratch/notalayer" "$scratch/emptydir" "$conf" "$TEST_HOME/.local/share"
as_user touch "$scratch/afile" "$scratch/notalayer/notes.txt"
printf '%s\n' '[run]' 'net=none' 'net=host' | as_user tee "$conf/dup.conf" >/dev/null
printf '%s\n' '[run]' 'bogus' | as_user tee "$conf/syntax.conf" >/dev/null
printf '%s\n' '[run]' 'hostname=-x' | as_user tee "$conf/badvalue.conf" >/dev/null
printf '%s\n' '[run]' 'frob=1' | as_user tee "$conf/unknown.conf" >/dev/null
printf '%s\n' '[run]' 'bind=/nonexistent-sbx' | as_user tee "$conf/nobind.conf" >/dev/null
printf '%s\n' 'net=none' | as_user tee "$conf/nogroup.conf" >/dev/null
as_user mkfifo "$conf/fifo.conf"
as_user ln -s /dev/zero "$conf/zero.conf"
long65=$(printf 'a%.0s' $(seq 65))

# The files that may change: the runtime and data directories sbx uses,
# and the scratch directory the --upper cases point into.
files () { find "$TEST_RUNTIME" "$TEST_HOME/.local/share" "$scratch" 2>/dev/null | sort; }

# The table: KIND, the text the "sbx: " line must contain, the arguments
# (as shell words).  KIND u: a usage error (the Try line follows); h: an
# error of the host or of a profile (no Try line).
table=$(cat <<'EOF'
u	no command given	
u	'frob' is not an sbx command	frob
u	unknown option --frob	--frob
u	'rnu' is not an sbx command	help rnu
u	no command given	run
u	no command given	run --
u	the command is an empty string	run -- ""
u	unknown option --frob	run --frob -- true
u	unknown option -x	run -x true
u	unknown option --bind-ro	run --bind-ro /tmp -- true
u	missing argument for --bind	run --bind
u	missing argument for --net	run --net
u	missing argument for -w	run -w
u	missing argument for --name	run --name
u	missing argument for -e	run -e
u	--map-root: 'x' is not one of	run --map-root=x -- true
u	--map-root: '' is not one of	run --map-root= -- true
u	--map-root: 'TRUE' is not one of	run --map-root=TRUE -- true
u	--no-subids: '2' is not one of	run --no-subids=2 -- true
u	--clearenv: 'on' is not one of	run --clearenv=on -- true
u	--verbose: 'yes please' is not one of	run "--verbose=yes please" -- true
u	--share-tty: 'maybe' is not one of	run --share-tty=maybe -- true
u	--no-pty: 'off' is not one of	run --no-pty=off -- true
u	--allow-host-loopback: 'maybe' is not one of	run --allow-host-loopback=maybe -- true
u	--no-ipv6: '-1' is not one of	run --no-ipv6=-1 -- true
u	--map-root given more than once	run --map-root --map-root=false -- true
u	--verbose given more than once	run -v --verbose -- true
u	--rootfs: empty value	run --rootfs "" -- true
h	--rootfs: /nonexistent-sbx: No such file or directory	run --rootfs /nonexistent-sbx -- true
h	--rootfs: /etc/passwd: not a directory	run --rootfs /etc/passwd -- true
u	--layer: empty value	run --layer "" -- true
h	--layer: /nonexistent-sbx: No such file or directory	run --layer /nonexistent-sbx -- true
u	--upper: empty value	run --upper "" -- true
h	/nonexistent-sbx/x: No such file or directory	run --upper /nonexistent-sbx/x -- true
h	$scratch/afile: not a directory	run --upper "$scratch/afile" -- true
h	'notes.txt' is in the way	run --upper "$scratch/notalayer" -- true
h	$scratch/afile/x: Not a directory	run --upper "$scratch/afile/x" -- true
u	--upper given more than once ('$scratch/a', then '$scratch/b')	run --upper "$scratch/a" --upper "$scratch/b" -- true
u	--upper: '$scratch/n': a named sandbox keeps its layer	run --name n --upper "$scratch/n" -- true
u	--upper-size: the writable layer is kept on disk with --upper DIR	run --upper-size 1G --upper "$scratch/u" -- true
u	--upper-size: the writable layer is kept on disk with --name	run --upper-size 1G --name capped -- true
u	--review: keeps the layer in	run --review --upper "$scratch/r" -- true
u	--review: applies changes to the host's /; with --layer	run --review --layer "$scratch/emptydir" -- true
u	--review: applies changes to the host's /; with --rootfs	run --review --rootfs "$scratch/emptydir" -- true
u	--upper-size: the layer of --review is kept on disk	run --review --upper-size 1G -- true
u	--upper-size: the layer of --review is kept on disk	run --review --name r --upper-size 1G -- true
u	--review: 'later' is not one of	run --review=later -- true
u	--upper-size: '0'	run --upper-size 0 -- true
u	--upper-size: '-1'	run --upper-size -1 -- true
u	--upper-size: '101%'	run --upper-size 101% -- true
u	--upper-size: '0%'	run --upper-size 0% -- true
u	--upper-size: 'junk'	run --upper-size junk -- true
u	--upper-size: '99999999999999999999'	run --upper-size 99999999999999999999 -- true
u	--tmp-size: ''	run --tmp-size "" -- true
u	--tmp-size: '1x'	run --tmp-size 1x -- true
u	--shm-size: '-5M'	run --shm-size -5M -- true
u	--shm-size: '18446744073709551615'	run --shm-size 18446744073709551615 -- true
u	--overlay: 'bogus' is not one of auto, kernel, fuse	run --overlay bogus -- true
u	--overlay: '' is not one of auto, kernel, fuse	run --overlay "" -- true
u	--bind: empty value	run --bind "" -- true
u	--bind: ':/x'	run --bind :/x -- true
u	--bind: '/tmp:': empty destination	run --bind /tmp: -- true
u	--bind: '/a:/b:/c' is not SRC[:DST][:ro]	run --bind /a:/b:/c -- true
u	--bind: '/tmp:rel': 'rel' is neither an absolute DST nor the mode ro	run --bind /tmp:rel -- true
u	--bind: 'rel/x' is not an absolute path	run --bind /tmp:rel/x -- true
u	--bind: '/tmp:/x:rw': 'rw' is not a mode	run --bind /tmp:/x:rw -- true
u	--bind: '/tmp:/x:shared': 'shared' is not a mode	run --bind /tmp:/x:shared -- true
u	--bind: '/tmp:/x:ro:ro'	run --bind /tmp:/x:ro:ro -- true
u	--bind: '/tmp:/': cannot mount over /	run --bind /tmp:/ -- true
u	--bind: '/tmp:/proc': cannot mount over /proc	run --bind /tmp:/proc -- true
u	--bind: '/tmp:/dev': cannot mount over /dev	run --bind /tmp:/dev -- true
u	--bind: '/tmp:/dev/shm': cannot mount over /dev/shm	run --bind /tmp:/dev/shm -- true
u	--bind: '/tmp:/dev/null': cannot mount over /dev/null	run --bind /tmp:/dev/null -- true
u	--bind: '/tmp:/dev/ptmx': cannot mount over /dev/ptmx	run --bind /tmp:/dev/ptmx -- true
u	--bind: '/tmp:/dev/pts': cannot mount over /dev/pts	run --bind /tmp:/dev/pts -- true
u	--bind: '/tmp:/dev/pts/0': cannot mount on /dev/pts/0, inside /dev/pts	run --bind /tmp:/dev/pts/0 -- true
u	--bind: '/tmp:/sys': cannot mount over /sys	run --bind /tmp:/sys -- true
u	--bind: '/tmp:/sys/fs/cgroup': cannot mount on /sys/fs/cgroup, inside /sys	run --bind /tmp:/sys/fs/cgroup -- true
u	--bind: '/tmp:/proc/sys': cannot mount over /proc/sys	run --bind /tmp:/proc/sys -- true
u	--bind: '/tmp:/proc/sys/kernel': cannot mount on /proc/sys/kernel, inside /proc/sys	run --bind /tmp:/proc/sys/kernel -- true
u	--bind: '/tmp:/proc/kcore': cannot mount over /proc/kcore	run --bind /tmp:/proc/kcore -- true
u	--bind: '/tmp:/proc/../dev': cannot mount over /dev	run --bind /tmp:/proc/../dev -- true
u	--bind: '/proc': cannot mount over /proc	run --bind /proc -- true
h	--bind /nonexistent-sbx: No such file or directory	run --bind /nonexistent-sbx -- true
h	relative-missing-sbx: No such file or directory	run --bind /tmp:/x:ro --bind relative-missing-sbx:/y -- true
u	--ro-bind: '/tmp:/x:rw': 'rw' is not a mode	run --ro-bind /tmp:/x:rw -- true
u	--ro-bind: '/tmp:/sys': cannot mount over /sys	run --ro-bind /tmp:/sys -- true
u	--tmpfs: 'rel' is not an absolute path	run --tmpfs rel -- true
u	--tmpfs: '' is not an absolute path	run --tmpfs "" -- true
u	--tmpfs: '0' is not a size	run --tmpfs /x:0 -- true
u	--tmpfs: 'junk' is not a size	run --tmpfs /x:junk -- true
u	--tmpfs: '-1M' is not a size	run --tmpfs /x:-1M -- true
u	--tmpfs: '99999999999999999999' is not a size	run --tmpfs /x:99999999999999999999 -- true
u	--tmpfs: '/proc': cannot mount over /proc	run --tmpfs /proc -- true
u	--tmpfs: '/dev': cannot mount over /dev	run --tmpfs /dev -- true
u	--tmpfs: '/dev/pts': cannot mount over /dev/pts	run --tmpfs /dev/pts -- true
u	--tmpfs: '/sys/x': cannot mount on /sys/x, inside /sys	run --tmpfs /sys/x -- true
u	--tmpfs: '/': cannot mount over /	run --tmpfs / -- true
u	--tmpfs: '/proc/sys:1M': cannot mount over /proc/sys	run --tmpfs /proc/sys:1M -- true
u	--workdir: 'rel' is not an absolute path	run -w rel -- true
u	--workdir: '' is not an absolute path	run --workdir "" -- true
u	--workdir given more than once ('/', then '/usr')	run -w / --workdir /usr -- true
u	--net: 'bogus' is not one of slirp, none, host	run --net bogus -- true
u	--net: '' is not one of slirp, none, host	run --net "" -- true
u	--net given more than once ('none', then 'host')	run --net none --net host -- true
u	-p: '8080' is not [HOSTIP:]HOSTPORT:PORT	run -p 8080 -- true
u	-p: '' is not [HOSTIP:]HOSTPORT:PORT	run -p "" -- true
u	-p: '0:80': a port is a number from 1 to 65535	run -p 0:80 -- true
u	-p: '65536:80': a port is a number from 1 to 65535	run -p 65536:80 -- true
u	-p: '99999999999999999999:80': a port	run -p 99999999999999999999:80 -- true
u	-p: '8080:-1': a port	run -p 8080:-1 -- true
u	-p: 'x:80': a port	run --publish x:80 -- true
u	-p: '8080:80/sctp': the protocol is tcp or udp	run -p 8080:80/sctp -- true
u	-p: 'nohost:8080:80': 'nohost' is not an IP address	run -p nohost:8080:80 -- true
u	-p: '[::1:8080:80': an IPv6 address goes in brackets	run -p "[::1:8080:80" -- true
u	-p: '8080:80' needs the default network (--net slirp), not --net none	run --net none -p 8080:80 -- true
u	-p: '8080:80' needs the default network (--net slirp), not --net host	run --net host -p 8080:80 -- true
u	--allow-host-loopback: means nothing with --net none	run --net none --allow-host-loopback -- true
u	--allow-host-loopback: means nothing with --net host	run --net host --allow-host-loopback -- true
u	--no-ipv6: means nothing with --net none	run --net none --no-ipv6 -- true
u	--mtu: means nothing with --net host	run --net host --mtu 9000 -- true
u	--mtu: '100' is not an MTU	run --mtu 100 -- true
u	--mtu: '99999999999' is not an MTU	run --mtu 99999999999 -- true
u	--mtu: '-1' is not an MTU	run --mtu -1 -- true
u	--mtu: '' is not an MTU	run --mtu "" -- true
u	--mtu: 'abc' is not an MTU	run --mtu abc -- true
u	--allow-net: 'privat': not a rule	run --allow-net privat -- true
u	--allow-net: '': 	run --allow-net "" -- true
u	--deny-net: '192.0.2.0/33'	run --deny-net 192.0.2.0/33 -- true
u	--allow-net: 'host': the host is reached only with --allow-host-loopback	run --allow-net host -- true
u	--allow-net: means nothing with --net none	run --net none --allow-net 192.0.2.0/24 -- true
u	--deny-net: cannot be enforced with --net host	run --net host --deny-net private -- true
u	--net-log: empty value	run --net-log "" -- true
u	--net-log: means nothing with --net none	run --net none --net-log x.json -- true
u	--memory: '0' is not a size above zero	run --memory 0 -- true
u	--memory: '-1' is not a size above zero	run --memory -1 -- true
u	--memory: 'junk' is not a size above zero	run --memory junk -- true
u	--memory: '' is not a size above zero	run --memory "" -- true
u	--memory: '99999999999999999999' is not a size above zero	run --memory 99999999999999999999 -- true
u	--cpus: '0' is not a number of CPUs	run --cpus 0 -- true
u	--cpus: '-1' is not a number of CPUs	run --cpus -1 -- true
u	--cpus: '1.2345678' is not a number of CPUs	run --cpus 1.2345678 -- true
u	--cpus: '99999' is not a number of CPUs	run --cpus 99999 -- true
u	--cpus: 'abc' is not a number of CPUs	run --cpus abc -- true
u	--cpus: '.5' is not a number of CPUs	run --cpus .5 -- true
u	--pids-limit: '0' is not a number from 1 to 4194304	run --pids-limit 0 -- true
u	--pids-limit: '-5' is not a number	run --pids-limit -5 -- true
u	--pids-limit: '4194305' is not a number	run --pids-limit 4194305 -- true
u	--pids-limit: 'x' is not a number	run --pids-limit x -- true
u	--io-weight: '0' is not a weight	run --io-weight 0 -- true
u	--io-weight: '10001' is not a weight	run --io-weight 10001 -- true
u	--io-weight: '' is not a weight	run --io-weight "" -- true
u	--name: '' is not a valid name	run --name "" -- true
u	--name: '-x' is not a valid name	run --name -x -- true
u	--name: 'a b' is not a valid name	run --name "a b" -- true
u	--name: '../x' is not a valid name	run --name ../x -- true
u	--name: '$long65' is not a valid name	run --name $long65 -- true
u	--name given more than once ('a', then 'b')	run --name a --name b -- true
u	--hostname: '' is not a valid hostname	run --hostname "" -- true
u	--hostname: 'a b' is not a valid hostname	run --hostname "a b" -- true
u	--hostname: '-x' is not a valid hostname	run --hostname=-x -- true
u	--hostname: '$long65' is not a valid hostname	run --hostname $long65 -- true
u	--hostname given more than once ('a', then 'b')	run --hostname a --hostname b -- true
u	--env: '' is not KEY=VALUE	run -e "" -- true
u	--env: '=x' is not KEY=VALUE	run -e =x -- true
u	--env: 'A B=1': 'A B' is not a variable name	run -e "A B=1" -- true
u	--env: '1A=x': '1A' is not a variable name	run -e 1A=x -- true
u	--env: 'A-B=1': 'A-B' is not a variable name	run --env A-B=1 -- true
u	--env: 'A B': 'A B' is not a variable name	run -e "A B" -- true
u	--monotonic: 'abc' is not a whole number of seconds	run --monotonic abc -- true
u	--monotonic: '1.5' is not a whole number of seconds	run --monotonic 1.5 -- true
u	--monotonic: '' is not a whole number of seconds	run --monotonic "" -- true
u	--boottime: '99999999999999999999' is not a whole number	run --boottime 99999999999999999999 -- true
u	--boottime: '-' is not a whole number of seconds	run --boottime - -- true
u	--cap-add: 'NOPE' is not a capability	run --cap-add NOPE -- true
u	--cap-add: '' is not a capability	run --cap-add "" -- true
u	--cap-add: '12' is not a capability	run --cap-add 12 -- true
u	--cap-drop: 'CAP_' is not a capability	run --cap-drop CAP_ -- true
u	--seccomp: 'off' is not one of default, unconfined	run --seccomp off -- true
u	--seccomp: '' is not one of default, unconfined	run --seccomp "" -- true
u	--profile: '' is not a profile name	run --profile "" -- true
u	--profile: '../x' is not a profile name	run --profile ../x -- true
u	--profile: '.hidden' is not a profile name	run --profile .hidden -- true
u	--profile: 'a/b' is not a profile name	run --profile a/b -- true
h	--profile: $conf/missing.conf: No such file or directory	run --profile missing -- true
h	$conf/dup.conf:3: net: given twice (first on line 2)	run --profile dup -- true
h	$conf/syntax.conf:2: 'bogus' is not key=value	run --profile syntax -- true
h	$conf/badvalue.conf:2: hostname: '-x' is not a valid hostname	run --profile badvalue -- true
h	$conf/unknown.conf:2: frob: unknown key	run --profile unknown -- true
h	$conf/nobind.conf:2: bind /nonexistent-sbx: No such file or directory	run --profile nobind -- true
h	$conf/nogroup.conf:1: net: a key before any group	run --profile nogroup -- true
h	$conf/fifo.conf: not a regular file	run --profile fifo -- true
h	$conf/zero.conf: not a regular file	run --profile zero -- true
u	--hostname: 'a_b' is not a valid hostname	run --profile dup --hostname a_b -- true
u	unexpected argument 'extra'	ps extra
u	--all: 'x' is not one of	ps --all=x
u	--json: 'maybe' is not one of	ps --json=maybe
u	--all given more than once	ps -a -a
u	unknown option --frob	ps --frob
u	no sandbox name given	exec
u	'a b' is not a valid sandbox name	exec "a b" -- true
u	no command given	exec box
u	no command given	exec box --
h	no sandbox named nosuch	exec nosuch -- true
u	--no-pty: 'off' is not one of	exec --no-pty=off box -- true
u	--clearenv: 'x' is not one of	exec --clearenv=x box -- true
u	--share-tty: '2' is not one of	exec --share-tty=2 box -- true
u	--env: 'A B': 'A B' is not a variable name	exec -e "A B" box -- true
u	--workdir: 'rel' is not an absolute path	exec -w rel box -- true
u	--workdir given more than once ('/', then '/usr')	exec -w / -w /usr box -- true
u	no sandbox name given	stop
u	'a b' is not a valid sandbox name	stop "a b"
u	--time: 'x' is not a number of seconds	stop --time x box
u	--time: '-1' is not a number of seconds	stop --time -1 box
u	--time: '99999999999' is not a number of seconds	stop --time 99999999999 box
u	--time given more than once ('1', then '2')	stop --time 1 --time 2 box
h	no sandbox named nosuch	stop nosuch
u	no sandbox name given	rm
u	'a b' is not a valid sandbox name	rm "a b"
u	--force: 'maybe' is not one of	rm --force=maybe box
u	--upper: empty value	rm --upper ""
u	--upper DIR takes no NAME ('box')	rm --upper "$scratch/emptydir" box
h	--upper /nonexistent-sbx: No such file or directory	rm --upper /nonexistent-sbx
h	'notes.txt' is in the way	rm --upper "$scratch/notalayer"
h	--upper $scratch/afile: not a directory	rm --upper "$scratch/afile"
h	no sandbox named nosuch	rm nosuch
u	no sandbox name given	diff
u	'a b' is not a valid sandbox name	diff "a b"
u	--json cannot be combined with -p or --stat	diff --json -p box
u	--color: 'sometimes' is not one of auto, always, never	diff --color=sometimes box
u	--json: '2' is not one of	diff --json=2 box
h	no sandbox named nosuch	diff nosuch
h	/nonexistent-sbx: No such file or directory	diff --upper /nonexistent-sbx
u	no sandbox name given	apply
u	--color: 'x' is not one of auto, always, never	apply --color=x box
u	--dry-run: 'maybe' is not one of	apply --dry-run=maybe box
h	no sandbox named nosuch	apply nosuch
h	/nonexistent-sbx: No such file or directory	apply --upper /nonexistent-sbx
u	unexpected argument 'extra'	doctor extra
u	--json: 'x' is not one of	doctor --json=x
EOF
)

before_host=$(snapshot_host)
before_files=$(files)
count=0
while IFS=$'\t' read -r kind needle args; do
  [ -n "$kind" ] || continue
  eval "set -- $args"
  needle=$(eval "printf '%s' \"$needle\"")
  count=$((count + 1))
  out=$(sbx "$@" 2>"$TEST_DIR/err"); rc=$?
  err=$(cat "$TEST_DIR/err")
  first=$(printf '%s\n' "$err" | head -1)
  lines=$(printf '%s\n' "$err" | wc -l)
  cmd=
  case "${1:-}" in run|ps|exec|stop|rm|diff|apply|doctor) cmd=" $1" ;; esac
  [ "${1:-}" = help ] && cmd=
  hint="Try 'sbx$cmd --help' for more information."
  why=
  [ "$rc" = 125 ] || why="exit $rc"
  [ -z "$out" ] || why="$why; stdout: $out"
  case "$first" in "sbx: "*) ;; *) why="$why; no 'sbx: ' line first" ;; esac
  printf '%s' "$first" | grep -qF -- "$needle" || why="$why; the line does not name '$needle'"
  if [ "$kind" = u ]; then
    [ "$lines" = 2 ] && [ "$(printf '%s\n' "$err" | sed -n 2p)" = "$hint" ] || why="$why; not the line and the hint"
  else
    [ "$lines" = 1 ] || why="$why; not exactly one line (no hint for an error of the host)"
  fi
  now_files=$(files)
  [ "$now_files" = "$before_files" ] || why="$why; files left: $(diff <(echo "$before_files") <(echo "$now_files") | grep '^>' | head -3 | tr '\n' ' ')"
  now_host=$(snapshot_host)
  [ "$now_host" = "$before_host" ] || why="$why; processes or mounts left: $(diff <(echo "$before_host") <(echo "$now_host") | grep "^[<>]" | head -3 | tr "\n" " ")"
  if [ -z "$why" ]; then
    ok "sbx $args"
  else
    not_ok "sbx $args"
    diag "$why" "$err"
    # Each case is judged on its own.
    before_files=$now_files
    before_host=$now_host
  fi
done <<<"$table"
is "$([ "$count" -ge 150 ] && echo yes)" "yes" "the table has at least 150 cases ($count)"

done_testing
