#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# make-mo.py OUT CHARSET: a gettext catalog (.mo) that declares CHARSET and
# translates the usual error texts, for tests/test-hostile.sh.  glibc
# converts a translation from the catalog's charset to the locale's with
# iconv, and loads the gconv module of CHARSET to do it.
import struct
import sys

out, charset = sys.argv[1], sys.argv[2]
texts = [
    "No such file or directory", "Permission denied", "Not a directory",
    "Operation not permitted", "Invalid argument", "Unknown error",
]
entries = {b"": ("Content-Type: text/plain; charset=%s\n" % charset).encode()}
for t in texts:
    entries[t.encode()] = ("hostile: " + t).encode()
keys = sorted(entries)  # gettext searches the originals by strcmp order
n = len(keys)
orig, trans, data = [], [], b""
base = 28 + 16 * n
for k in keys:
    orig.append((len(k), base + len(data)))
    data += k + b"\0"
for k in keys:
    trans.append((len(entries[k]), base + len(data)))
    data += entries[k] + b"\0"
blob = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
blob += b"".join(struct.pack("<2I", *e) for e in orig + trans) + data
with open(out, "wb") as f:
    f.write(blob)
