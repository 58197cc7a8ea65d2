#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-apply.sh: `sbx diff -p/--stat` and `sbx apply`, as the unprivileged
# account: a project changed inside a named sandbox and in an --upper
# layer, its patch and diffstat checked exactly, dry runs, paths, the
# interactive apply on a pty, conflicts, what leaves the layer; then
# hostile layers made by the sandbox itself (a symlink to ~/.bashrc, a
# directory turned into a symlink, a symlink swapped into the host's path
# while apply runs, a fifo, a socket, a setuid file, a hard link to a file
# outside the project, a name with a newline, a file of a subordinate id
# with mode 0600), with both overlay drivers, the host tree compared byte
# for byte.
. "$(dirname "$0")/libtest.sh"
require_rootless

# snap DIR [SKIP...]: every entry below DIR, one line each (path, type and
# mode, owner, size, content hash or target, a file's modification time),
# those at or below a SKIP left out: what "nothing changed" compares.
snap () {
  python3 - "$@" <<'EOF'
import hashlib, os, stat, sys
top, skips = sys.argv[1], sys.argv[2:]
def skipped(p):
    return any(p == s or p.startswith(s.rstrip("/") + "/") for s in skips)
out = []
for root, dirs, files in os.walk(top):
    for name in dirs + files:
        p = os.path.join(root, name)
        if skipped(p):
            continue
        st = os.lstat(p)
        extra = ""
        if stat.S_ISLNK(st.st_mode):
            extra = os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                extra = hashlib.sha256(f.read()).hexdigest() + " " + str(st.st_mtime_ns)
        out.append("%r %o %d:%d %d %r" % (p, st.st_mode, st.st_uid, st.st_gid,
                                         0 if stat.S_ISDIR(st.st_mode) else st.st_size, extra))
print("\n".join(sorted(out)))
EOF
}

# A pty for `apply -i` and colours: pty.py ANSWERS COMMAND...: answers
# (comma-separated) each prompt, then prints what the terminal showed.
mkdir -p "$TEST_DIR/tools" "$TEST_DIR/layers"
chown "$(test_uid):$(test_gid)" "$TEST_DIR/tools" "$TEST_DIR/layers"
cat > "$TEST_DIR/tools/onpty.py" <<'EOF'
import os, pty, select, sys, time
answers = [a for a in sys.argv[1].split(",") if a]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b""
def pump(prompts=None, timeout=60):
    global buf
    end = time.time() + timeout
    while time.time() < end:
        if prompts is not None and buf.count(b",?]? ") >= prompts:
            return True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            buf += data
    return False
for n, a in enumerate(answers, 1):
    if not pump(n):
        break
    os.write(fd, a.encode() + b"\n")
pump()
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
on_pty () { as_user python3 "$T/onpty.py" "$@"; }

data=$TEST_HOME/.local/share/sbx
# What sbx keeps of its own (layers, runtime state) is not the host tree
# the checks compare.
# The test's own tools and the --upper layers go in directories of their
# own for the same reason.
T=$TEST_DIR/tools
L=$TEST_DIR/layers
skips=("$data" "$TEST_RUNTIME" "$T" "$L")
P=$TEST_DIR/p      # the project
R=${P#/}           # as the patch's a/ and b/ labels have it

# --- a project changed in a named sandbox (kernel overlay, keep-id) ------------------------------

as_user mkdir -p "$P/opq" "$P/keep"
as_user sh -c "cd '$P' && echo hello > file && printf '#!/bin/sh\necho hi\n' > script \
  && echo gone > gone && echo old > opq/old && echo same > keep/same"
as_user mkdir -p "$TEST_DIR/decoy"
as_user sh -c "echo secret > '$TEST_DIR/decoy/secret'; echo 'alias ls=ls' > '$TEST_HOME/.bashrc'"
sleep 0.05 # the host's files are older than anything the sandbox makes

out=$(sbx run --net none --name ed -w "$P" -- sh -c "echo more >> file && chmod 755 script \
  && rm gone && rm -rf opq && mkdir opq && echo new > opq/new && ln -s file link \
  && mkdir newdir && echo nf > newdir/nf && echo added > added && printf 'a\000b' > bin" 2>&1)
is "$?:$out" "0:" "a named sandbox changes the project: added, changed, deleted, a mode, a directory replaced, a symlink"
like "$(cat "$data/ed/layers")" "created=[0-9]+\.[0-9]{9}" "the named layer records when it was made"

want="C $P
A $P/added
A $P/bin
C $P/file
D $P/gone
A $P/link
A $P/newdir
A $P/newdir/nf
C $P/opq
A $P/opq/new
D $P/opq/old
C $P/script"
is "$(sbx diff ed "$P")" "$want" "diff NAME PATH lists the project's changes, sorted"
is "$(cd "$P" && sbx diff ed . | head -1)" "C $P" "a relative PATH is the current directory's"
is "$(sbx diff ed "$P/opq")" "C $P/opq
A $P/opq/new
D $P/opq/old" "diff NAME PATH: only at or below PATH"

want="diff --git a/$R/added b/$R/added
new file mode 100644
--- /dev/null
+++ b/$R/added
@@ -0,0 +1 @@
+added
diff --git a/$R/bin b/$R/bin
new file mode 100644
Binary files /dev/null and b/$R/bin differ
diff --git a/$R/file b/$R/file
--- a/$R/file
+++ b/$R/file
@@ -1 +1,2 @@
 hello
+more
diff --git a/$R/gone b/$R/gone
deleted file mode 100644
--- a/$R/gone
+++ /dev/null
@@ -1 +0,0 @@
-gone
new symlink $P/link -> file
new directory $P/newdir (mode 0755)
diff --git a/$R/newdir/nf b/$R/newdir/nf
new file mode 100644
--- /dev/null
+++ b/$R/newdir/nf
@@ -0,0 +1 @@
+nf
diff --git a/$R/opq/new b/$R/opq/new
new file mode 100644
--- /dev/null
+++ b/$R/opq/new
@@ -0,0 +1 @@
+new
diff --git a/$R/opq/old b/$R/opq/old
deleted file mode 100644
--- a/$R/opq/old
+++ /dev/null
@@ -1 +0,0 @@
-old
diff --git a/$R/script b/$R/script
old mode 100644
new mode 100755"
out=$(sbx diff -p ed "$P")
is "$out" "$want" "diff -p: git's unified diff for files, one line for symlinks and directories, exactly"
unlike "$out" $'\033' "diff -p through a pipe: no colour"
is "$(sbx diff --patch --color=never ed "$P")" "$want" "--patch --color=never: the same"
if command -v git >/dev/null; then
  # Its files (not the binary one: git wants its blobs for that).
  files=$(sbx diff -p ed "$P/added" "$P/file" "$P/gone" "$P/newdir" "$P/opq" "$P/script")
  as_user git init -q "$T/gitcheck"
  as_user sh -c "cd '$T/gitcheck' && mkdir -p '$R' && cp -a '$P/.' '$R/' \
    && printf '%s\n' \"\$1\" | git apply --check -" _ "$files" >"$T/git.out" 2>&1
  is "$?:$(cat "$T/git.out")" "0:" "git apply takes the patch of the files as it is"
  rm -rf "$T/gitcheck"
else
  skip "git is not installed"
fi

# The diffstat, as git's.
w=$(( ${#P} + 10 ))
row () { printf ' %-*s | %s\n' "$w" "$1" "$2"; }
want="$(row "$P/added" "1 +")
$(row "$P/bin" "Bin 0 -> 3 bytes")
$(row "$P/file" "1 +")
$(row "$P/gone" "1 -")
$(row "$P/link" "1 +")
$(row "$P/newdir" "new directory")
$(row "$P/newdir/nf" "1 +")
$(row "$P/opq/new" "1 +")
$(row "$P/opq/old" "1 -")
$(row "$P/script" "0")
 10 files changed, 5 insertions(+), 2 deletions(-)"
is "$(sbx diff --stat ed "$P")" "$want" "diff --stat: one line per change and git's summary, exactly"
like "$(sbx diff --stat -p ed "$P")" "deletions\(-\)

diff --git" "--stat -p: the stat, a blank line, the patch"

# Colour as git's, on a terminal or asked for.
out=$(on_pty "" "$SBX" diff -p ed "$P")
like "$out" $'\033\\[32m\\+more\033\\[m' "on a terminal: added lines green"
like "$out" $'\033\\[31m-gone\033\\[m' "... deleted lines red"
like "$out" $'\033\\[36m@@ -1 \\+1,2 @@\033\\[m' "... hunk headers cyan"
like "$out" $'\033\\[1mdiff --git' "... headers bold"
unlike "$(on_pty "" "$SBX" diff -p --color=never ed "$P")" $'\033' "--color=never on a terminal: none"
like "$(sbx diff -p --color=always ed "$P")" $'\033\\[32m' "--color=always through a pipe: colour"
like "$(sbx diff --stat --color=always ed "$P")" $'\033\\[32m\\+\033\\[m' "--stat --color=always: + green"
out=$(sbx diff -p --color=sometimes ed 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --color: 'sometimes' is not one of auto, always, never" "--color: a bad value is a usage error"
out=$(sbx diff --json -p ed 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --json cannot be combined with -p" "--json with -p is a usage error"

# --dry-run changes nothing: not the host, not the layer.
before=$(snap "$TEST_DIR" "${skips[@]}")
# (The layer's lock names its last holder: sbx's bookkeeping, not the layer.)
layer_before=$(snap "$data" "$data/ed/lock")
out=$(sbx apply --dry-run ed "$P" 2>&1); rc=$?
is "$rc:$out" "0:A $P/added
A $P/bin
C $P/file
D $P/gone
A $P/link
A $P/newdir/nf
A $P/opq/new
D $P/opq/old
C $P/script" "apply --dry-run lists what it would apply"
is "$(snap "$TEST_DIR" "${skips[@]}")" "$before" "apply --dry-run changed nothing on the host, byte for byte"
is "$(snap "$data" "$data/ed/lock")" "$layer_before" "... nor in the layer"

# apply PATH1 PATH2: those alone.
out=$(sbx apply ed "$P/file" "$P/gone" 2>&1); rc=$?
is "$rc:$out" "0:C $P/file
D $P/gone" "apply NAME PATH1 PATH2 applies those two"
is "$(cat "$P/file"):$(test -e "$P/gone"; echo $?)" "hello
more:1" "... file changed, gone deleted"
is "$(snap "$TEST_DIR" "${skips[@]}" "$P/file" "$P/gone")" "$(printf '%s\n' "$before" | grep -v -e "'$P/file'" -e "'$P/gone'")" \
  "... and nothing else changed, byte for byte"
is "$(stat -c %U "$P/file")" "$(test_user_name)" "... the file is the caller's"
like "$(sbx diff ed "$P")" "^C $P
A $P/added" "... the layer still holds the others"
unlike "$(sbx diff ed "$P")" "$P/(file|gone)$" "... but not the applied ones"

# -i on a terminal: d shows the diff, y applies, n skips, q stops.
out=$(on_pty "d,y,n,y,q" "$SBX" apply -i --color=never ed "$P"); rc=$?
like "$out" "\(1/7\) Apply A $P/added \[y,n,d,q,a,\?\]\? d" "apply -i asks for each change, as git add -p"
like "$out" "\+\+\+ b/$R/added
@@ -0,0 \+1 @@
\+added
\(1/7\) Apply A $P/added" "... d shows its diff and asks again"
like "$out" "\(4/7\) Apply A $P/newdir/nf \[y,n,d,q,a,\?\]\? q" "... until q"
is "$rc:$(cat "$P/added"):$(test -e "$P/bin"; echo $?):$(readlink "$P/link"):$(test -e "$P/newdir"; echo $?)" \
  "0:added:1:file:1" "... y applied, n and q did not"
as_user sh -c "printf '?\nn\nn\nn\nn\nn\n' | '$SBX' apply -i --dry-run ed '$P' >'$T/i.out' 2>&1"
like "$(cat "$T/i.out")" "d - show the diff of this change" "apply -i: ? lists the answers"

# --keep leaves what it applied in the layer; without it, it goes.
upper_p=$data/ed/upper$P
out=$(sbx apply --keep ed "$P/script" 2>&1)
is "$out:$(stat -c %a "$P/script"):$(test -e "$upper_p/script"; echo $?)" "C $P/script:755:0" \
  "apply --keep: the mode applied, the entry still in the layer"
is "$(sbx diff ed "$P/script")" "" "... where diff no longer lists it: the same as the host's now"
out=$(sbx apply ed "$P" 2>&1); rc=$?
is "$rc:$out" "0:A $P/bin
A $P/newdir/nf
A $P/opq/new
D $P/opq/old" "apply NAME PATH: the rest"
is "$(sbx diff ed "$P")" "" "... the layer holds no change of the project any more"
is "$(cd "$P" && ls -A opq):$(cat newdir/nf 2>/dev/null || cat "$P/newdir/nf"):$(stat -c %a "$P/newdir")" "new:nf:755" \
  "... the replaced directory holds only the new file; the new one has the layer's mode"
is "$(find "$upper_p" 2>/dev/null)" "$upper_p
$upper_p/script" "... its entries and directories left the layer (opaque marks too), but the one kept"
is "$(snap "$P/keep")" "$(printf '%s\n' "$before" | grep "'$P/keep/")" "an untouched directory of the project is as it was"

# --- conflicts ---------------------------------------------------------------------------------------

as_user sh -c "cd '$P' && echo c1 > c1 && echo c2 > c2 && echo c3 > c3"
sleep 0.05
sbx run --net none --name cf -w "$P" -- sh -c 'echo sandbox > c1; rm c2; echo sandbox > c3; echo sandbox > c4'
sleep 0.05
as_user sh -c "cd '$P' && echo host >> c1 && echo host >> c2 && echo host > c4"
out=$(sbx apply cf "$P" 2>&1); rc=$?
is "$rc:$out" "1:sbx: conflict: C $P/c1: changed on the host since the sandbox changed it; not applied (--force applies it)
sbx: conflict: D $P/c2: changed on the host since the sandbox deleted it; not applied (--force applies it)
C $P/c3
sbx: conflict: C $P/c4: changed on the host since the sandbox changed it; not applied (--force applies it)" \
  "a host file changed after the sandbox touched it is a conflict: left out, exit 1"
is "$(cat "$P/c1"):$(cat "$P/c2"):$(cat "$P/c3"):$(cat "$P/c4")" "c1
host:c2
host:sandbox:host" "... the host's files stay; the one without conflict is applied"
out=$(sbx apply --force cf "$P" 2>&1); rc=$?
is "$rc:$out" "0:C $P/c1
D $P/c2
C $P/c4" "apply --force applies the conflicts"
is "$(cat "$P/c1"):$(test -e "$P/c2"; echo $?):$(cat "$P/c4")" "sandbox:1:sandbox" "... as the sandbox left them"
sbx rm cf ed

# --- refusals -------------------------------------------------------------------------------------------

background run_pid "$SBX" run --net none --name busy -w "$P" -- sh -c 'echo x > busy; sleep 60'
for _ in $(seq 200); do sbx ps | grep -q '^busy ' && break; sleep 0.05; done
out=$(sbx apply busy "$P" 2>&1); rc=$?
is "$rc:$out" "125:sbx: busy is running: applying its changes while it writes them would race with it; stop it first ('sbx stop busy')" \
  "apply of a running sandbox is refused (125)"
sbx stop --time 1 busy
background run_pid "$SBX" run --net none --upper "$L/busy" -w "$P" -- sh -c 'echo x > busy; sleep 60'
for _ in $(seq 200); do [ -e "$L/busy/layers" ] && break; sleep 0.05; done
sleep 0.2
out=$(sbx apply --upper "$L/busy" "$P" 2>&1); rc=$?
like "$rc:$out" "^125:sbx: $L/busy: the layer in $L/busy is in use \(sbx run -- sh -c echo x > busy; sleep 60, pid [0-9]+\); one sandbox at a time may write a layer: applying its changes while it is written would race with the writer; stop it first\$" \
  "apply of a layer a running sandbox writes is refused (125), naming the sandbox"
kill "$run_pid" 2>/dev/null; wait "$run_pid" 2>/dev/null
as_user mkdir -p "$L/lay"
sbx run --net none --name onlayer --layer "$L/lay" -w "$P" -- sh -c 'echo x > lay-file'
out=$(sbx apply onlayer 2>&1); rc=$?
like "$rc:$out" "^125:sbx: onlayer lies on --layer directories" "apply of a --layer sandbox is refused (125)"
sbx rm onlayer busy
out=$(sbx apply 2>&1); rc=$?
like "$rc:$out" "^125:sbx: no sandbox name given" "apply needs a name or --upper"
out=$(sbx apply nosuch 2>&1); rc=$?
is "$rc:$out" "125:sbx: no sandbox named nosuch" "apply of an unknown name"
like "$(sbx help apply)" "Usage: sbx apply \[OPTIONS\] NAME \| --upper DIR \[PATH...\]" "sbx help apply"
like "$(sbx --help)" "apply NAME" "sbx --help lists apply"

# --- an --upper layer, with a whiteout as fuse-overlayfs writes it without mknod -----------------------

U=$L/up
Q=$TEST_DIR/q
as_user mkdir -p "$Q/d"
as_user sh -c "cd '$Q' && echo one > one && echo two > two && echo planted > planted && echo x > d/x"
sleep 0.05
sbx run --net none --upper "$U" -w "$Q" -- sh -c 'echo ONE > one && rm two && rm -rf d && echo new > d'
like "$(cat "$U/layers")" "created=[0-9]+\.[0-9]{9}" "an --upper layer records when it was made (DIR/layers)"
as_user touch "$U/upper$Q/.wh.planted"
is "$(sbx diff --upper "$U" "$Q")" "C $Q
C $Q/d
C $Q/one
D $Q/planted
D $Q/two" "diff --upper DIR PATH"
like "$(sbx diff -p --upper "$U" "$Q/d")" "^deleted directory $Q/d
diff --git a/${Q#/}/d b/${Q#/}/d
new file mode 100644" "a directory replaced by a file: the directory goes, the file comes"
before=$(snap "$TEST_DIR" "${skips[@]}")
out=$(sbx apply --upper "$U" "$Q" 2>&1); rc=$?
is "$rc:$out" "0:C $Q/d
C $Q/one
D $Q/planted
D $Q/two" "apply --upper DIR PATH"
is "$(cat "$Q/d"):$(cat "$Q/one"):$(ls "$Q" | tr '\n' ' ')" "new:ONE:d one " "... the host has the sandbox's tree"
is "$(snap "$TEST_DIR" "${skips[@]}" "$Q")" "$(printf '%s\n' "$before" | grep -v -e "'$Q'" -e "'$Q/")" \
  "... nothing outside it changed"
is "$(find "$U/upper$Q" 2>/dev/null)" "" "... and the .wh. whiteout left the layer with the rest"

# Where the layer's filesystem keeps no birth time (ext2 with 128-byte
# inodes), the time the layer was made stands in for it (root only: a
# loop mount).
if is_root && command -v mkfs.ext2 >/dev/null; then
  N=$TEST_DIR/nb
  as_user mkdir -p "$N"
  as_user sh -c "echo one > '$N/one'; echo two > '$N/two'"
  truncate -s 32M "$T/nobtime.img"
  mkfs.ext2 -q -F -I 128 "$T/nobtime.img" >/dev/null 2>&1
  mkdir -p "$L/nobtime"
  mount -o loop "$T/nobtime.img" "$L/nobtime"
  at_exit "umount -l '$L/nobtime'"
  chown "$(test_uid):$(test_gid)" "$L/nobtime"
  sleep 0.05
  sbx run --net none --upper "$L/nobtime/layer" -w "$N" -- sh -c 'echo ONE >> one; echo TWO >> two'
  sleep 0.05
  as_user sh -c "echo host >> '$N/two'"
  is "$(stat -c %W "$L/nobtime/layer/upper$N/one")" "0" "a layer on a filesystem without birth times"
  out=$(sbx apply --upper "$L/nobtime/layer" "$N" 2>&1); rc=$?
  is "$rc:$out" "1:C $N/one
sbx: conflict: C $N/two: changed on the host since the sandbox changed it; not applied (--force applies it)" \
    "... conflicts are judged by the time the layer was made"
  is "$(cat "$N/one"):$(cat "$N/two")" "one
ONE:two
host" "... the file without conflict applied, the other left"
else
  skip "root only: a filesystem without birth times (a loop mount of ext2)"
fi

# Default scope: what lies below directories the caller cannot write is
# reported as skipped, the rest applied.
sbx run --net none --map-root --upper "$L/up2" -w "$Q" -- sh -c 'echo in > in-project; echo x > /etc/sbx-apply-probe'
out=$(sbx apply --upper "$L/up2" 2>&1); rc=$?
like "$out" "sbx: skipped: A /etc/sbx-apply-probe: you cannot write /etc" "apply without PATH: a change below /etc is skipped, said so"
like "$out" "^A $Q/in-project\$" "... the project's change is applied"
is "$rc:$(cat "$Q/in-project"):$(test -e /etc/sbx-apply-probe; echo $?)" "0:in:1" "... exit 0, /etc untouched"
out=$(sbx apply --upper "$L/up2" /etc 2>&1); rc=$?
is "$rc" "1" "... asked for by PATH, it fails the apply (exit 1)"

# --- sbx run --review ----------------------------------------------------------------------------------

# The sandboxes --review keeps or removes, and the runtime state of any.
reviews () { ls -A "$data" 2>/dev/null | grep '^review-' | tr '\n' ' '; ls -A "$TEST_RUNTIME/sbx" 2>/dev/null | grep '^review-' | tr '\n' ' '; }
# The name in the line that says a review's sandbox is kept.
kept_name () { printf '%s\n' "$1" | sed -n 's/^sbx: the changes are kept in the sandbox \([^ ]*\) (.*/\1/p'; }

# review_cases LABEL RUN-OPTIONS...: --review on a pty (y to one file, n
# to another) and without one (kept, then diff and apply), with the
# overlay driver of RUN-OPTIONS.
review_cases () {
  local label=$1 V=$TEST_DIR/rv-$1 out rc before name
  shift
  as_user mkdir -p "$V"
  as_user sh -c "cd '$V' && echo a > a && echo b > b && echo c > c"
  sleep 0.05
  before=$(snap "$TEST_DIR" "${skips[@]}" "$V")
  out=$(on_pty "y,n,n,y" "$SBX" run --review --net none "$@" -w "$V" -- \
    sh -c 'echo A >> a; echo B >> b; rm c; echo new > n'); rc=$?
  like "$out" "$V/a +\| 1 " "$label: --review on a pty: the summary (a diffstat) first"
  like "$out" "\(1/4\) Apply C $V/a \[y,n,d,q,a,\?\]\? " "$label: ... then the interactive apply"
  like "$out" "\(4/4\) Apply A $V/n " "$label: ... of every change"
  like "$out" "sbx: every change applied or declined; review-[a-z0-9]{6} removed" "$label: ... all decided: said, and the sandbox removed"
  is "$rc:$(cat "$V/a" | tr '\n' ' '):$(cat "$V/b"):$(cat "$V/c"):$(cat "$V/n")" "0:a A :b:c:new" \
    "$label: ... y applied (a, n), n declined (b, the deletion of c): exit 0, the command's"
  is "$(snap "$TEST_DIR" "${skips[@]}" "$V")" "$before" "$label: ... nothing outside the project changed, byte for byte"
  is "$(reviews)" "" "$label: ... no sandbox, no layer, no runtime state left"

  # Without a terminal: kept as a named sandbox, named on stderr.
  before=$(snap "$TEST_DIR" "${skips[@]}")
  out=$(sbx run --review --net none "$@" -w "$V" -- sh -c 'echo out; echo AA >> a; echo nn > n' \
    </dev/null 2>"$T/review.err"); rc=$?
  name=$(kept_name "$(cat "$T/review.err")")
  is "$rc:$out" "0:out" "$label: --review without a terminal: the command's output and status"
  is "$(cat "$T/review.err")" "sbx: the changes are kept in the sandbox $name (no terminal to review them on): 'sbx diff $name' shows them, 'sbx apply $name' applies them, 'sbx rm $name' discards them" \
    "$label: ... one line on stderr names the sandbox that keeps the changes"
  like "$name" "^review-[a-z0-9]{6}\$" "$label: ... a name of --review's own"
  is "$(snap "$TEST_DIR" "${skips[@]}")" "$before" "$label: ... the host unchanged, byte for byte"
  is "$(sbx diff "$name" "$V")" "C $V
C $V/a
C $V/n" "$label: ... 'sbx diff NAME' shows the changes"
  like "$(sbx ps -a)" "^$name +- +stopped" "$label: ... 'sbx ps -a' lists it, stopped"
  out=$(sbx apply "$name" "$V" 2>&1); rc=$?
  is "$rc:$out:$(tail -1 "$V/a"):$(cat "$V/n")" "0:C $V/a
C $V/n:AA:nn" "$label: ... 'sbx apply NAME' applies them"
  sbx rm "$name"
  is "$(reviews)" "" "$label: ... and 'sbx rm NAME' removes it"
}

review_cases kernel
if command -v fuse-overlayfs >/dev/null && [ -c /dev/fuse ]; then
  review_cases fuse --map-root --overlay fuse
else
  skip "fuse-overlayfs is not usable here"
fi

V=$TEST_DIR/rv-kernel
# The command fails: its status is sbx's, and the review happens all the
# same; q leaves the rest, kept and named.
out=$(on_pty "y,q" "$SBX" run --review --net none -w "$V" -- sh -c 'echo 3 > three; echo 4 > four; exit 3'); rc=$?
name=$(kept_name "$out")
like "$out" "\(1/2\) Apply A $V/four " "a failing command is reviewed all the same"
like "$out" "\(2/2\) Apply A $V/three " "... every change asked about"
is "$rc:$(cat "$V/four"):$(test -e "$V/three"; echo $?)" "3:4:1" "... sbx exits with its status (3); y applied, q did not"
like "$out" "sbx: the changes are kept in the sandbox $name \(not all of them applied or declined\): 'sbx diff $name' shows them" \
  "... what q left is kept, and said"
is "$(sbx diff "$name" "$V")" "C $V
A $V/three" "... the kept sandbox holds what was not applied"
sbx rm "$name"

# A conflict: the host's file changed while the sandbox ran.  Not applied,
# kept; the exit status is still the command's.
as_user sh -c "echo host > '$V/cf'"
as_user mkdir -p "$T/sig"
sleep 0.05
on_pty "" "$SBX" run --review --net none --bind "$T/sig" -w "$V" -- \
  sh -c "echo sandbox > cf; touch '$T/sig/written'; while [ ! -e '$T/sig/go' ]; do sleep 0.05; done" >"$T/cf.out" 2>&1 &
cf_pid=$!
for _ in $(seq 200); do [ -e "$T/sig/written" ] && break; sleep 0.05; done
as_user sh -c "echo changed >> '$V/cf'"
as_user touch "$T/sig/go"
wait "$cf_pid"; rc=$?
out=$(cat "$T/cf.out")
name=$(kept_name "$out")
like "$out" "sbx: conflict: C $V/cf: changed on the host since the sandbox changed it" "a conflict in the review is reported"
is "$rc:$(cat "$V/cf" | tr '\n' ' ')" "0:host changed " "... the host's file stays; sbx exits with the command's status"
like "$name" "^review-" "... the sandbox is kept, named"
sbx rm "$name"

# Nothing changed: said, and nothing kept.
out=$(sbx run --review --net none -w "$V" -- true </dev/null 2>&1); rc=$?
like "$rc:$out" "^0:sbx: the command changed nothing; review-[a-z0-9]{6} removed\$" "--review of a command that changed nothing: said, removed"
is "$(reviews)" "" "... nothing left"

# --name: that name keeps the layer (and is the hostname, as for --name).
out=$(sbx run --review --name rvnamed --net none -w "$V" -- sh -c 'hostname; echo x > named' </dev/null 2>"$T/review.err"); rc=$?
is "$rc:$out:$(kept_name "$(cat "$T/review.err")")" "0:rvnamed:rvnamed" "--review --name NAME keeps the layer under NAME"
is "$(sbx diff rvnamed "$V")" "C $V
A $V/named" "... 'sbx diff NAME' shows it"
sbx rm rvnamed
# Without --name the hostname stays the host's, as for a throwaway layer.
out=$(sbx run --review --net none -- hostname </dev/null 2>/dev/null)
is "$out" "$(hostname)" "--review alone keeps the host's hostname (its name is no name the caller gave)"

# Contradictions: 125 naming the options, nothing left behind.
list_state () { find "$data" "$TEST_RUNTIME" "$L" 2>/dev/null | sort; }
state_before=$(list_state)
out=$(sbx run --review --upper "$L/rv" -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --review: keeps the layer in \\\$XDG_DATA_HOME/sbx/NAME until it is reviewed; --upper '$L/rv'" "--review --upper: refused (125), naming both"
out=$(sbx run --review --rootfs "$L" -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --review: applies changes to the host's /; with --rootfs" "--review --rootfs: refused (125)"
out=$(sbx run --review --layer "$L" -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --review: applies changes to the host's /; with --layer" "--review --layer: refused (125)"
out=$(sbx run --review --upper-size 1G -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --upper-size: the layer of --review is kept on disk" "--review --upper-size: refused (125)"
out=$(as_user env -u XDG_RUNTIME_DIR "$SBX" run --review -- true 2>&1); rc=$?
like "$rc:$out" "^125:sbx: --review: XDG_RUNTIME_DIR is not set" "--review without \$XDG_RUNTIME_DIR: refused (125)"
is "$(list_state)" "$state_before" "... none of them left anything: no layer, no runtime state, no --upper DIR"

# --- hostile layers ---------------------------------------------------------------------------------------

# The swap loop: while it runs, the host directory $1 is now and then a
# symlink to the decoy, or gone.
cat > "$T/swap.py" <<'EOF'
import os, sys, time
d, decoy, stop = sys.argv[1], sys.argv[2], sys.argv[3]
real = d + ".real"
open(sys.argv[4], "w").close()
while not os.path.exists(stop):
    try:
        os.rename(d, real)
        os.symlink(decoy, d)
        time.sleep(0.0005)
        os.unlink(d)
        os.rename(real, d)
        time.sleep(0.001)
    except OSError:
        pass
if os.path.islink(d):
    os.unlink(d)
if os.path.isdir(real):
    os.rename(real, d)
EOF

# Extended attributes a sandbox can set: a user one, and root's file
# capability (CAP_NET_BIND_SERVICE, effective) where the driver keeps it.
cat > "$T/xattr.py" <<'EOF'
import os, struct, sys
with open(sys.argv[1], "w") as f:
    f.write("cap")
os.setxattr(sys.argv[1], "user.note", b"x")
try:
    os.setxattr(sys.argv[1], "security.capability", struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0))
except OSError:
    pass
EOF

# hostile NAME H RUN-OPTIONS...: a --map-root sandbox plants everything in
# the project H/proj (and writes H/outside through a hard link); apply NAME
# H/proj must write nothing outside H/proj.  H is one overlay of its own
# (the working directory), where a hard link reaches H/outside.
hostile () {
  local name=$1 H=$2
  local X=$H/proj
  shift 2
  as_user mkdir -p "$X/dir/inner" "$X/race/d" "$X/opq" "$H/outside"
  as_user sh -c "echo inner > '$X/dir/inner/f'; echo secret > '$H/outside/secret'; echo gone > '$X/gone'; echo old > '$X/opq/old'"
  as_user ln -s "$TEST_DIR/decoy" "$X/link"
  sleep 0.05
  out=$(sbx run --net none --map-root "$@" --name "$name" -w "$H" -- sh -c "
    set -e
    cd proj
    rm gone && rm -rf opq && mkdir opq && echo new > opq/new
    rm link && mkdir link && echo f > link/f
    ln -s '$TEST_HOME/.bashrc' bashrc-link
    rm -rf dir && ln -s '$TEST_HOME' dir
    mkfifo fifo
    python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'
    printf x > suid && chmod 4755 suid
    ln ../outside/secret hardlink && echo pwned >> hardlink
    printf nl > 'new
line'
    printf sub > subfile && chown 1000:1000 subfile && chmod 600 subfile
    python3 '$T/xattr.py' capfile
    for i in \$(seq 300); do echo \$i > race/d/f\$i; done" 2>&1)
  is "$?:$out" "0:" "$name: a sandbox plants its hostile layer"
  local upper_x=$data/$name/upper$X
  is "$(stat -c '%u %a' "$upper_x/subfile")" "$(( $(subid_range /etc/subuid | cut -d' ' -f1) + 999 )) 600" \
    "$name: the layer holds a file of a subordinate id, mode 0600"
  is "$(stat -c %i "$upper_x/hardlink")" "$(stat -c %i "$data/$name/upper$H/outside/secret")" \
    "$name: ... and a hard link to a file outside the project"
  like "$(sbx diff "$name" "$X")" "A \"$X/new\\\\nline\"" "$name: diff quotes a name with a newline"
  like "$(sbx diff -p "$name" "$X")" "diff --git \"a/${X#/}/new\\\\nline\" \"b/${X#/}/new\\\\nline\"" "$name: diff -p too, as git"
  like "$(sbx diff -p "$name" "$X/subfile")" "^\+sub" "$name: diff -p reads the subordinate id's 0600 file"
  is "$(sbx diff "$name" "$X/link")" "C $X/link
A $X/link/f" "$name: a host symlink the sandbox replaced by a directory: nothing of where it points is listed"

  local before outside_before decoy_before ino_before
  before=$(snap "$TEST_DIR" "${skips[@]}" "$X")
  outside_before=$(snap "$H/outside")
  decoy_before=$(snap "$TEST_DIR/decoy")
  ino_before=$(stat -c %i "$H/outside/secret")
  rm -f "$T/stop" "$T/started"
  background swap_pid python3 "$T/swap.py" "$X/race/d" "$TEST_DIR/decoy" "$T/stop" "$T/started"
  for _ in $(seq 100); do [ -e "$T/started" ] && break; sleep 0.05; done
  out=$(sbx apply "$name" "$X" 2>&1); rc=$?
  as_user touch "$T/stop"
  diag "$name: during the swaps $(printf '%s\n' "$out" | grep -c "^A $X/race/d/f") files were applied, $(printf '%s\n' "$out" | grep -c "conflict: A $X/race/d/f") refused"
  wait "$swap_pid"
  is "$rc" "1" "$name: apply exits 1 (a fifo, a socket, swapped paths)"
  like "$out" "sbx: not applied: A $X/fifo: it is a fifo; sbx apply makes only files, directories and symlinks" "$name: a fifo is refused"
  like "$out" "sbx: not applied: A $X/sock: it is a socket" "$name: a socket is refused"
  like "$out" "sbx: warning: $X/suid: setuid bit dropped \(mode 4755 applied as 0755\)" "$name: setuid dropped, with a warning"
  like "$out" "sbx: warning: $X/capfile: extended attributes not copied: .*user\.note" "$name: extended attributes not copied, with a warning"
  is "$(python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]), open(sys.argv[1]).read())' "$X/capfile")" "[] cap" \
    "$name: ... the file has none on the host"
  like "$out" "^A \"$X/new\\\\nline\"\$" "$name: the name with a newline is quoted in apply's output"
  like "$out" "sbx: conflict: A $X/race/d/f[0-9]+: ($X/race/d is a symlink on the host|its directory $X/race/d is gone from the host)" \
    "$name: the swapped directory was met, and refused"
  is "$(snap "$TEST_DIR/decoy")" "$decoy_before" "$name: the decoy directory is as it was (nothing written through the swapped symlink)"
  is "$(snap "$H/outside"):$(stat -c %i "$H/outside/secret")" "$outside_before:$ino_before" \
    "$name: the file hard-linked (and written) in the layer is as it was on the host"
  is "$(cat "$TEST_HOME/.bashrc")" "alias ls=ls" "$name: ~/.bashrc is as it was"
  is "$(readlink "$X/bashrc-link")" "$TEST_HOME/.bashrc" "$name: the symlink to it is applied as a symlink"
  is "$(readlink "$X/dir")" "$TEST_HOME" "$name: the directory turned into a symlink is one, ~ untouched"
  is "$(test -e "$X/fifo" || test -e "$X/sock"; echo $?)" "1" "$name: no fifo, no socket on the host"
  is "$(stat -c '%a %U' "$X/suid")" "755 $(test_user_name)" "$name: the setuid file is 0755 and the caller's"
  is "$(cat "$X/hardlink"):$(stat -c %h "$X/hardlink")" "secret
pwned:1" "$name: the hard link became a file of its own, its content copied"
  is "$(cat "$X/new
line")" "nl" "$name: the file named with a newline is applied"
  is "$(test -e "$X/gone"; echo $?):$(ls -A "$X/opq")" "1:new" "$name: a deletion and a replaced directory are applied (the driver's whiteouts and opaque marks read)"
  is "$(test -L "$X/link"; echo $?):$(ls -A "$X/link")" "1:f" "$name: the symlink replaced by a directory is one on the host"
  is "$(stat -c '%a %U' "$X/subfile"):$(cat "$X/subfile")" "600 $(test_user_name):sub" \
    "$name: the subordinate id's 0600 file is applied, the caller's"
  is "$(snap "$TEST_DIR" "${skips[@]}" "$X")" "$before" "$name: nothing outside the project changed, byte for byte"
  is "$(ls -Ab "$X" | tr '\n' ' ')" "bashrc-link capfile dir hardlink link new\\nline opq race subfile suid " \
    "$name: the project holds what was applied, nothing else"
  is "$(find "$X/race" -mindepth 1 -not -path "$X/race/d" -not -path "$X/race/d/*")" "" \
    "$name: the swap loop left the race directory whole"
  local f lost=
  for f in $(printf '%s\n' "$out" | sed -n "s|^A $X/race/d/||p"); do
    [ "$(cat "$X/race/d/$f" 2>/dev/null)" = "${f#f}" ] || lost="$lost $f"
  done
  is "$lost" "" "$name: what was applied between the swaps is in the project's own directory"
  local left
  left=$(sbx diff "$name" "$H")
  like "$left" "A $X/fifo" "$name: the layer keeps what was not applied (the fifo)"
  like "$left" "C $H/outside/secret" "$name: ... and what lies outside the path asked for"
  unlike "$left" "(suid|subfile|hardlink|bashrc-link|capfile)\$" "$name: ... and not what was applied"
  sbx rm "$name"
}

hostile evil-kernel "$TEST_DIR/h1"
if command -v fuse-overlayfs >/dev/null && [ -c /dev/fuse ]; then
  hostile evil-fuse "$TEST_DIR/h2" --overlay fuse
else
  skip "fuse-overlayfs is not usable here"
fi

done_testing
