#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# test-source.py SOURCE_DIR: rules of docs/security.md that the source itself
# must keep, checked on every C file of src/ and helpers/ (TAP):
#  - every fd sbx makes is close-on-exec: each call that makes one names a
#    CLOEXEC flag (dup() and pipe() have none: F_DUPFD_CLOEXEC, pipe2());
#  - error texts come from sbx_util_strerror() alone: strerror() and
#    g_strerror() read message catalogs and convert charsets by path,
#    which inside a sandbox are the sandbox's;
#  - the locale is set in main() only, with LC_MESSAGES "C".
import glob
import os
import re
import sys

root = sys.argv[1]
files = sorted(glob.glob(os.path.join(root, "src", "*.c")) + glob.glob(os.path.join(root, "helpers", "*.c")))
# Build tools: run at build time, never beside a sandbox.
files = [f for f in files if not f.endswith("seccomp-gen.c")]

FD_CALLS = ("open", "openat", "socket", "socketpair", "pipe2", "memfd_create", "accept4",
            "signalfd", "fsopen", "fsmount", "open_tree", "epoll_create1", "eventfd", "inotify_init1")
BANNED = {"dup": "use fcntl (fd, F_DUPFD_CLOEXEC, 0)", "pipe": "use pipe2 (fds, O_CLOEXEC)",
          "accept": "use accept4 (..., SOCK_CLOEXEC)", "strerror": "use sbx_util_strerror ()",
          "g_strerror": "use sbx_util_strerror ()", "strerror_r": "use sbx_util_strerror ()"}


def strip_comments_and_strings(text):
    """The code alone, with the same line breaks."""
    out = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    out = re.sub(r"//[^\n]*", "", out)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', out)


def calls(code, name):
    """(line, argument text) of each call of @name."""
    for m in re.finditer(r"(?<![\w.>])%s\s*\(" % re.escape(name), code):
        i, depth = m.end(), 1
        while depth and i < len(code):
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
        yield code.count("\n", 0, m.start()) + 1, code[m.end():i - 1]


problems = {"cloexec": [], "banned": [], "locale": []}
for f in files:
    code = strip_comments_and_strings(open(f, encoding="utf-8").read())
    rel = os.path.relpath(f, root)
    for name in FD_CALLS:
        for line, args in calls(code, name):
            if "CLOEXEC" not in args:
                problems["cloexec"].append("%s:%d: %s() without a CLOEXEC flag" % (rel, line, name))
    for line, args in calls(code, "fcntl"):
        if "F_DUPFD" in args and "F_DUPFD_CLOEXEC" not in args:
            problems["cloexec"].append("%s:%d: fcntl(F_DUPFD) without CLOEXEC" % (rel, line))
    for name, instead in BANNED.items():
        for line, _ in calls(code, name):
            if not (rel == os.path.join("src", "util.c") and name == "strerror"):
                problems["banned"].append("%s:%d: %s(): %s" % (rel, line, name, instead))
    for line, args in calls(code, "setlocale"):
        if rel != os.path.join("src", "main.c"):
            problems["locale"].append("%s:%d: setlocale() outside main()" % (rel, line))
    for line, args in calls(code, "uselocale"):
        problems["locale"].append("%s:%d: uselocale()" % (rel, line))
if not re.search(r'setlocale\s*\(\s*LC_MESSAGES\s*,\s*"C"\s*\)', open(os.path.join(root, "src", "main.c")).read()):
    problems["locale"].append('src/main.c: no setlocale (LC_MESSAGES, "C")')

titles = {
    "cloexec": "every fd-making call in src/ and helpers/ names a CLOEXEC flag",
    "banned": "no strerror()/g_strerror()/dup()/pipe()/accept(): error texts from sbx_util_strerror() only",
    "locale": "the locale is set in main() alone, with LC_MESSAGES \"C\"",
}
print("1..%d" % len(titles))
failed = 0
for n, (key, title) in enumerate(titles.items(), 1):
    if problems[key]:
        failed += 1
        print("not ok %d - %s" % (n, title))
        for p in problems[key]:
            print("# " + p)
    else:
        print("ok %d - %s (%d files)" % (n, title, len(files)))
sys.exit(1 if failed else 0)
