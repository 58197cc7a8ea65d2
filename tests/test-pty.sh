#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-pty.sh: the command's terminal.  On a terminal, `sbx run` and `sbx
# exec` give the command a pty of the sandbox's own and proxy it to the
# caller's terminal (src/pty.c); without one, relayed signals reach the
# command's whole process group.  A real pty drives sbx here
# (tests/helpers/ptydrive.py: a terminal emulator's side, which keeps the
# caller's side open too, to read its modes and its input queue), as the
# unprivileged account, whose terminal it then is.
. "$(dirname "$0")/libtest.sh"
require_rootless
command -v python3 >/dev/null || skip_all "python3 is not installed"

uid=$(test_uid)
as_user cp "${SBX_SOURCE_DIR:?}/tests/helpers/ptydrive.py" "$TEST_DIR/ptydrive.py"
TRY=${SBX_TRY_SYSCALL:?meson sets SBX_TRY_SYSCALL}
as_user cp "$TRY" "$TEST_DIR/try-syscall"

# drive [ARG...] < PYTHON: runs the python snippet as the account with
# ptydrive imported; SBX, DIR (the test's directory), TERM_ENV (an
# environment with TERM=xterm for full-screen programs) and ARGS are set.
drive () {
  {
    printf 'import os, signal, sys, time\nsys.path.insert(0, %s)\nimport ptydrive\n' "'$TEST_DIR'"
    printf 'SBX = %s\nDIR = %s\nARGS = sys.argv[1:]\n' "'$SBX'" "'$TEST_DIR'"
    printf 'TERM_ENV = dict(os.environ, TERM="xterm")\n'
    cat
  } > "$TEST_DIR/case.py"
  as_user python3 "$TEST_DIR/case.py" "$@" 2>&1
}

# field OUTPUT KEY: the value of the line "KEY: value" in OUTPUT.
field () { printf '%s\n' "$1" | sed -n "s/^$2: //p" | head -1; }

# has_line OUTPUT REGEX DESCRIPTION: a whole line of OUTPUT matches REGEX.
has_line () {
  if printf '%s\n' "$1" | grep -qxE -- "$2"; then
    ok "$3"
  else
    not_ok "$3"
    diag "got:  '$1'" "want a line: /$2/"
  fi
}

# gone PATTERN: no process of the account matches PATTERN (its command line).
gone () { ! pgrep -u "$uid" -f -- "$1" >/dev/null; }

# --- the command's terminal -------------------------------------------------------------

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "sh", "-c",
    "tty; stty size; stat -c 'owner: %U' $(tty); readlink /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; "
    "ps -o sid=,pgid=,tty= -p $$; echo fds: $(ls /proc/self/fd); echo raw-check; read x"], rows=31, cols=97)
s.expect("raw-check")
print("raw while it runs:", s.termios() != s.before)
s.send("\r")
print("rc:", s.wait(20))
print(s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" rc)" "0" "sbx run on a terminal: the command runs and exits 0"
has_line "$out" "/dev/pts/0" "... its terminal is /dev/pts/0 of the sandbox's own devpts"
has_line "$out" "31 97" "... with the caller's window size"
is "$(field "$out" owner)" "$(test_user_name)" "... and belongs to the caller inside"
is "$(printf '%s\n' "$out" | grep -c '^/dev/pts/0$')" "4" "... stdin, stdout and stderr are that pty (no fd of the caller's terminal inside)"
is "$(field "$out" fds)" "0 1 2 3" "... and no other fd (3 is ls's own directory)"
has_line "$out" " *2 +2 pts/0" "... it leads a session and process group whose controlling terminal is that pty"
is "$(field "$out" "raw while it runs")" "True" "the caller's terminal is raw while the sandbox runs..."
is "$(field "$out" "termios kept")" "True" "... and its modes are as before once sbx has exited"

# --- Ctrl-C, Ctrl-Z, job control --------------------------------------------------------------------

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "bash", "-c", "echo ready; sleep 3127; echo after"])
s.expect("ready")
s.send("\x03")
print("rc:", s.wait(10))
print("after:", "after" in s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" rc)" "130" "Ctrl-C ends bash -c 'sleep; echo after' at once with 130 (SIGINT from the sandbox's own line discipline)..."
is "$(field "$out" after)" "False" "... the script goes no further..."
check "... and its children are gone (no sleep 3127 left)" gone "sleep 3127"
is "$(field "$out" "termios kept")" "True" "... and the caller's terminal is as before"

out=$(drive <<'PY'
env = dict(os.environ, PS1="PROMPT$ ", TERM="dumb")
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "bash", "--norc", "--noprofile", "-i"], env=env)
s.expect("PROMPT")
sleep = ["sleep", "3130"]
s.send("sleep 3130\r")
ptydrive.wait_until(lambda: ptydrive.process_state(sleep) in ("S", "R"))
s.send("\x1a")
print("stopped:", s.expect("Stopped +sleep 3130") is not None and ptydrive.process_state(sleep) == "T")
mark = len(s.output)
s.send("fg\r")
ptydrive.wait_until(lambda: ptydrive.process_state(sleep) in ("S", "R"))
s.expect("sleep 3130", since=mark)
mark = len(s.output)
s.send("\x03")
ptydrive.wait_until(lambda: ptydrive.process_state(sleep) is None)
s.expect("PROMPT", since=mark)
s.send("sleep 3131 &\r")
s.send("kill $!; wait; echo done-$((20+22))\r")
print("done:", s.expect("done-42") is not None)
s.send("exit 7\r")
print("rc:", s.wait(20))
print("no job control complaint:", "no job control" not in s.text() and "cannot set terminal process group" not in s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" stopped)" "True" "bash -i inside: Ctrl-Z stops its foreground job (Stopped)..."
is "$(field "$out" done)" "True" "... fg brings it back, Ctrl-C ends it, & and kill %1 work..."
is "$(field "$out" "no job control complaint")" "True" "... and bash has job control (no 'no job control in this shell')"
is "$(field "$out" rc)" "7" "... exit 7 is sbx's status"
check "... no job left behind" gone "sleep 313[01]"

# --- the window size -----------------------------------------------------------------------------------------

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "bash", "-c",
    'trap "echo got-winch" WINCH; stty size; echo ready; '
    'for i in $(seq 200); do [ "$(stty size)" = "24 80" ] || break; sleep 0.05; done; sleep 0.2; stty size'])
s.expect("ready")
s.resize(50, 132)
print("rc:", s.wait(20))
print(s.text())
s.close()
PY
)
is "$(printf '%s\n' "$out" | grep -E '^[0-9]+ [0-9]+$' | tr '\n' ' ')" "24 80 50 132 " "a window-size change reaches the pty (stty size inside: 24 80, then 50 132)..."
like "$out" "got-winch" "... and the command gets SIGWINCH"

# --- full-screen programs ---------------------------------------------------------------------------------------

if command -v vi >/dev/null; then
  out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "sh", "-c",
    "vi -u NONE /tmp/note && sed 's/^/note: /' /tmp/note"], env=TERM_ENV)
print("drawn:", s.expect("/tmp/note") is not None)
time.sleep(0.3)
s.send("ihello from vi\x1b")
time.sleep(0.3)
s.send(":wq\r")
print("rc:", s.wait(20))
print("written:", "note: hello from vi" in s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
  is "$(field "$out" drawn) $(field "$out" rc)" "True 0" "vi starts full-screen inside and :wq quits it (status 0)..."
  is "$(field "$out" written)" "True" "... having written what was typed"
  is "$(field "$out" "termios kept")" "True" "... and the caller's terminal is as before"
else
  skip "vi is not installed (scripts/setup-host installs vim-tiny)"
fi
if command -v less >/dev/null; then
  out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "less", "/etc/os-release"], env=TERM_ENV)
print("shown:", s.expect("NAME=") is not None)
print("alternate screen:", s.expect("\x1b\\[\\?1049h", timeout=1) is not None)
s.send("q")
print("rc:", s.wait(20))
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
  is "$(field "$out" shown) $(field "$out" rc)" "True 0" "less shows a file inside and q quits it (status 0)..."
  is "$(field "$out" "alternate screen")" "True" "... on the alternate screen (its escape sequences pass through)"
  is "$(field "$out" "termios kept")" "True" "... and the caller's terminal is as before"
else
  skip "less is not installed (scripts/setup-host installs it)"
fi

# --- every way out gives the terminal back -----------------------------------------------------------------------

out=$(drive <<'PY'
for name, args in (("sigkill", ["--", "sh", "-c", "echo ready; kill -KILL $$"]),
                   ("missing", ["--", "sbx-no-such-command"]),
                   ("workdir", ["-w", "/sbx-gone", "--", "true"]),
                   ("escape", ["--", "sh", "-c", "echo ready; sleep 3132"])):
    s = ptydrive.Session([SBX, "run", "--net", "none", *args])
    if name == "escape":
        s.expect("ready")
        s.send("~.")
    print("%s: %s %s" % (name, s.wait(20), s.termios() == s.before))
    if name != "sigkill":
        print("%s-text: %s" % (name, s.text().strip().replace("\n", " | ")))
    s.close()
PY
)
is "$(field "$out" sigkill)" "137 True" "the command killed by SIGKILL: 137, and the caller's terminal as before"
is "$(field "$out" missing)" "127 True" "a command that does not exist: 127 (sbx's error after the pty is up), terminal as before..."
like "$(field "$out" missing-text)" "^sbx: cannot run 'sbx-no-such-command'" "... with sbx's message, on a line of its own"
is "$(field "$out" workdir)" "125 True" "sbx's own error (-w /sbx-gone): 125, terminal as before"
is "$(field "$out" escape)" "137 True" "the escape ~. ends the sandbox (SIGKILL: 137), terminal as before"
check "... and nothing of it is left" gone "sleep 3132"

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "bash", "-c", "echo ready; sleep 3133"])
s.expect("ready")
s.hangup()
print("rc:", s.wait(20))
s.close()
PY
)
like "$(field "$out" rc)" "^(129|1)$" "the caller's terminal closed (hangup): sbx ends (SIGHUP: 129)..."
check "... and so does the sandbox" gone "sleep 3133"

# --- the escapes of sbx itself ----------------------------------------------------------------------------------

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "sh", "-c", "stty size; echo ready; read x; stty size; echo got=$x"], job=True)
s.expect("ready")
s.send("~\x1a")
print("stopped:", s.stopped())
print("given back while stopped:", s.termios() == s.before)
s.resize(40, 120)
s.fg()
print("raw again:", ptydrive.wait_until(lambda: s.termios() != s.before))
s.send("a~~b\r")
print("rc:", s.wait(20))
print(s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" stopped)" "True" "~^Z at the start of a line suspends sbx as a job..."
is "$(field "$out" "given back while stopped")" "True" "... with the caller's terminal given back..."
is "$(field "$out" "raw again")" "True" "... fg makes it raw again..."
is "$(printf '%s\n' "$out" | grep -xE '[0-9]+ [0-9]+' | tr '\n' ' ')" "24 80 40 120 " "... and sends the window size again (changed while stopped)"
like "$out" "got=a~~b" "a ~ inside a line is typed as it is"
is "$(field "$out" "termios kept")" "True" "... and the terminal is as before at the end"

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "sh", "-c", "read x; echo got=$x"])
time.sleep(0.5)
s.send("~~x\r")
print("rc:", s.wait(20))
print(s.text())
s.close()
PY
)
like "$out" "got=~x" "~~ at the start of a line sends one ~"

out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--", "sh", "-c", "echo started; read x; echo got=$x"], job=True, foreground=False)
print("output from the background:", s.expect("started") is not None)
time.sleep(0.3)
print("left alone in the background:", s.termios() == s.before)
s.fg()
print("raw in the foreground:", ptydrive.wait_until(lambda: s.termios() != s.before))
s.send("late\r")
print("rc:", s.wait(20))
print(s.text())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" "output from the background")" "True" "started in the background (&): the command's output is shown..."
is "$(field "$out" "left alone in the background")" "True" "... the caller's terminal is left as it is..."
is "$(field "$out" "raw in the foreground")" "True" "... fg makes it raw..."
like "$out" "got=late" "... and what is typed then reaches the command"

# --- nothing is lost at the end ---------------------------------------------------------------------------------------

out=$(drive <<'PY'
ok = 0
for i in range(5):
    s = ptydrive.Session([SBX, "run", "--net", "none", "--", "python3", "-c",
        "import os\nos.write(1, b'x' * 300000 + b'TAIL')"])
    s.wait(20)
    t = s.output
    ok += t.count(b"x") == 300000 and t.endswith(b"TAIL")
    s.close()
print("complete:", ok)
PY
)
is "$(field "$out" complete)" "5" "300000 bytes written just before the command exits arrive whole, 5 runs out of 5"

# --- TIOCSTI ---------------------------------------------------------------------------------------------------

if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ]; then
  out=$(drive <<'PY'
s = ptydrive.Session([SBX, "run", "--net", "none", "--seccomp=unconfined", "--", "python3", "-c",
    "import fcntl, os, termios, tty\ntty.setcbreak(0)\nfcntl.ioctl(0, termios.TIOCSTI, b'#')\nprint('inside read:', os.read(0, 1))"])
print("rc:", s.wait(20))
print(s.text())
print("caller input:", s.pending_input())
s.close()
PY
)
  like "$out" "inside read: b'#'" "TIOCSTI inside (no filter) lands in the sandbox's own pty: the command reads it back..."
  is "$(field "$out" "caller input")" "0" "... and the caller's terminal got nothing as input"
else
  skip "TIOCSTI needs CAP_SYS_ADMIN here (dev.tty.legacy_tiocsti is 0): nothing to inject"
fi

# --- pipes beside the terminal ------------------------------------------------------------------------------------------

cat > "$TEST_DIR/inner.sh" <<'EOF'
cat
[ -t 0 ] || echo stdin-not-tty
[ -t 1 ] && echo stdout-tty
read x < /dev/tty
echo "typed=$x"
EOF
chmod 644 "$TEST_DIR/inner.sh"
out=$(drive <<'PY'
s = ptydrive.Session(["sh", "-c", 'echo piped | "$0" run --net none -- sh "$1/inner.sh"', SBX, DIR])
s.expect("stdout-tty")
print("raw at the end of a pipeline:", s.termios() != s.before)
s.send("keys\r")
print("rc:", s.wait(20))
print(s.text())
s.close()
PY
)
like "$out" "^piped$" "at the end of a pipeline (stdin a pipe): stdin stays the pipe inside..."
is "$(field "$out" "raw at the end of a pipeline")" "True" "... sbx takes the keyboard (raw)..."
like "$out" "^typed=keys$" "... and what is typed reaches the command's terminal (/dev/tty inside)"
# In the middle of one (stdout a pipe), the keyboard is the end's: sbx leaves
# the terminal alone, and the reader at the end gets what is typed.
out=$(drive <<'PY'
s = ptydrive.Session(["sh", "-c", '"$0" run --net none -- sh -c "echo ready >&2; exec sleep 3137" '
                      '| { read k < /dev/tty; echo "reader got $k" >&2; cat; }', SBX])
s.expect("ready")
time.sleep(0.3)
print("terminal left alone:", s.termios() == s.before)
s.send("keys\r")
print("reader:", s.expect("reader got keys", timeout=10) is not None)
s.send("\x03")
print("rc:", s.wait(20))
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
is "$(field "$out" "terminal left alone")" "True" "sbx feeding a pipe (stdout a pipe): the caller's terminal is left as it is..."
is "$(field "$out" reader)" "True" "... the keyboard goes to the reader at the end of the pipeline, not into the sandbox..."
for _ in $(seq 100); do gone "sleep 3137" && break; sleep 0.05; done
check "... and the caller's Ctrl-C still ends the command (a signal to sbx, relayed)" gone "sleep 3137"

# --- --no-pty -------------------------------------------------------------------------------------------------------

out=$(drive <<'PY'
for name, opt in (("off", "--no-pty"), ("true", "--no-pty=true"), ("yes", "--no-pty=yes"),
                  ("false", "--no-pty=false"), ("zero", "--no-pty=0")):
    s = ptydrive.Session([SBX, "run", "--net", "none", opt, "--", "sh", "-c",
        "[ -t 0 ] && echo stdin-tty; ps -o tty= -p $$"])
    s.wait(20)
    print("%s: %s" % (name, " ".join(s.text().split())))
    s.close()
PY
)
is "$(field "$out" off)" "stdin-tty ?" "--no-pty: the command gets sbx's terminal as its streams, in a new session without a controlling terminal (as before)"
is "$(field "$out" true) $(field "$out" yes)" "stdin-tty ? stdin-tty ?" "--no-pty=true and =yes: the same"
is "$(field "$out" false) $(field "$out" zero)" "stdin-tty pts/0 stdin-tty pts/0" "--no-pty=false and =0: a pty of the sandbox's own"
mkdir -p "$TEST_HOME/.config/sbx"
printf '[run]\nno-pty=yes\n' > "$TEST_HOME/.config/sbx/nopty.conf"
chown -R "$uid" "$TEST_HOME/.config" 2>/dev/null
out=$(drive <<'PY'
for name, opts in (("profile", ["--profile", "nopty"]), ("overridden", ["--profile", "nopty", "--no-pty=no"])):
    s = ptydrive.Session([SBX, "run", "--net", "none", *opts, "--", "sh", "-c", "ps -o tty= -p $$"])
    s.wait(20)
    print("%s: %s" % (name, " ".join(s.text().split())))
    s.close()
PY
)
is "$(field "$out" profile)" "?" "no-pty=yes in a profile: no pty"
is "$(field "$out" overridden)" "pts/0" "... and --no-pty=no on the command line wins"

# --- without a terminal: signals reach the process group ----------------------------------------------------------------

relay_case () {
  local what=$1
  shift
  rm -f "$TEST_DIR/child-got-term"
  # The parent survives SIGTERM; only a signal to the whole group reaches
  # the child, which then says so and ends.
  background pid sh -c 'exec "$@" </dev/null >/dev/null 2>&1' sh "$@" python3 -c "
import os, signal, time
if os.fork() == 0:
    def term(*_):
        open('$TEST_DIR/child-got-term', 'w').write('yes')
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    open('$TEST_DIR/child-ready', 'w').write('yes')
    time.sleep(60)
    os._exit(1)
signal.signal(signal.SIGTERM, lambda *_: None)
os.wait()
"
  for _ in $(seq 100); do [ -e "$TEST_DIR/child-ready" ] && break; sleep 0.05; done
  rm -f "$TEST_DIR/child-ready"
  kill -TERM "$pid"
  wait_gone "$pid" 20
  is "$(cat "$TEST_DIR/child-got-term" 2>/dev/null)" "yes" "$what: SIGTERM to sbx reaches the command's child too (its process group)"
}
relay_case "sbx run, no terminal" "$SBX" run --net none --bind "$TEST_DIR" --
# bash waits for its background sleep; both go.
background pid sh -c 'exec "$@" </dev/null >/dev/null 2>&1' sh "$SBX" run --net none -- bash -c 'sleep 3134 & wait'
for _ in $(seq 100); do pgrep -u "$uid" -f "sleep 3134" >/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait_gone "$pid" 20
check "sbx run -- bash -c 'sleep & wait', SIGTERM to sbx: the background sleep is gone too" gone "sleep 3134"
# SIGINT from a python parent: a shell's background job would ignore it.
out=$(drive <<'PY'
import subprocess
p = subprocess.Popen([SBX, "run", "--net", "none", "--", "bash", "-c", "echo ready; sleep 3135; echo after"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
p.stdout.readline()
p.send_signal(signal.SIGINT)
print("rc:", p.wait(20))
print("after:", b"after" in p.stdout.read())
PY
)
is "$(field "$out" rc) $(field "$out" after)" "130 False" "no terminal: SIGINT to sbx ends bash -c 'sleep; echo after' with 130 (the sleep gets it too)"
check "... and the sleep is gone" gone "sleep 3135"

# --- sbx exec ------------------------------------------------------------------------------------------------------------------

background named sh -c 'exec "$@" </dev/null >/dev/null 2>&1' sh "$SBX" run --name ptyx --net none --bind "$TEST_DIR" -- sleep 600
for _ in $(seq 200); do sbx ps | grep -q "^ptyx .* running " && break; sleep 0.02; done
at_exit "'$SBX' stop --time 1 ptyx >/dev/null 2>&1"
out=$(drive <<'PY'
s = ptydrive.Session([SBX, "exec", "ptyx", "--", "sh", "-c",
    "tty; stty size; readlink /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; ps -o sid=,tty= -p $$; exit 3"], rows=33, cols=99)
print("rc:", s.wait(20))
print(s.text())
print("termios kept:", s.termios() == s.before)
s.close()
s = ptydrive.Session([SBX, "exec", "ptyx", "--", "bash", "-c", "echo ready; sleep 3136; echo after"])
s.expect("ready")
s.send("\x03")
print("ctrl-c:", s.wait(10), "after" in s.text(), s.termios() == s.before)
s.close()
s = ptydrive.Session([SBX, "exec", "ptyx", "--", "sbx-no-such-command"])
print("missing:", s.wait(10), s.termios() == s.before, s.text().strip())
s.close()
PY
)
is "$(field "$out" rc)" "3" "sbx exec on a terminal: exit 3 comes back..."
has_line "$out" "/dev/pts/[0-9]+" "... its terminal is a pty of the sandbox's devpts..."
has_line "$out" "33 99" "... with the caller's window size..."
is "$(printf '%s\n' "$out" | grep -cE '^/dev/pts/[0-9]+$')" "4" "... stdin, stdout and stderr are that pty"
has_line "$out" " *[0-9]+ pts/[0-9]+" "... its controlling terminal"
is "$(field "$out" "termios kept")" "True" "... and the caller's terminal is as before"
is "$(field "$out" ctrl-c)" "130 False True" "sbx exec: Ctrl-C ends bash -c 'sleep; echo after' with 130, terminal as before"
check "... and its sleep is gone" gone "sleep 3136"
like "$(field "$out" missing)" "^127 True sbx: cannot run 'sbx-no-such-command'" "sbx exec of a missing command: 127, its message through the pty, terminal as before"
relay_case "sbx exec, no terminal" "$SBX" exec ptyx --

# The exec child finds the pty master in the sandbox's tree, which the
# command controls (root inside with CAP_SYS_ADMIN here): a FIFO (whose open
# would block), a symlink, a bind of another device in its place are all
# refused, and exec says so instead of hanging or using them.
for plant in "mkfifo /dev/pts/ptmx" "ln -s /dev/tty /dev/pts/ptmx" \
             "touch /dev/pts/ptmx && mount --bind /dev/null /dev/pts/ptmx"; do
  background planted sh -c 'exec "$@" </dev/null >/dev/null 2>&1' sh "$SBX" run --name ptyh --net none \
    --map-root --cap-add SYS_ADMIN -- sh -c "mount -t tmpfs x /dev/pts && $plant && touch /tmp/planted && exec sleep 600"
  for _ in $(seq 200); do sbx exec --no-pty ptyh -- test -e /tmp/planted 2>/dev/null </dev/null && break; sleep 0.05; done
  out=$(drive <<'PY'
s = ptydrive.Session([SBX, "exec", "ptyh", "--", "echo", "ran"])
print("rc:", s.wait(20))
print("text:", s.text().strip())
print("termios kept:", s.termios() == s.before)
s.close()
PY
)
  is "$(field "$out" rc) $(field "$out" "termios kept")" "125 True" "sbx exec, /dev/pts/ptmx planted ($plant): refused with 125, terminal as before..."
  like "$(field "$out" text)" "^sbx: cannot exec in ptyh: .*/dev/pts/ptmx.*(not the ptmx device of a devpts|symbolic links)" "... saying why"
  sbx stop --time 1 ptyh >/dev/null 2>&1
  wait_gone "$planted" 10
done

done_testing
