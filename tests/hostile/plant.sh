#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# plant.sh ROOT PAYLOADS: what a hostile sandbox leaves in its tree for sbx's
# own processes to find (tests/test-hostile.sh).  Run inside a sandbox with
# ROOT=/ (root inside, a kept layer), or on the host to build a --rootfs
# image (ROOT=the image).  PAYLOADS holds the payload's builds.
set -eu
root=$1
p=$2
# Every file is removed before it is written: over the host's / with the
# directory skeleton, a host file can be replaced but not written in place
# (docs/rootfs.md), and an attacker replaces it.
put () { rm -f "$2"; cp "$1" "$2"; }
arch=$(cat "$p/multiarch")
gconv=$root/usr/lib/$arch/gconv

# Message catalogs in KOI8-R, for the locales sbx's callers use (C.UTF-8
# has catalogs too: glibc skips only "C" and "POSIX").  glibc converts a
# translation to the locale's charset with iconv, which loads the KOI8-R
# converter by path from the gconv directory: the tree's, planted here.
for lang in C.UTF-8 C.utf8 de de_DE en en_US; do
  mkdir -p "$root/usr/share/locale/$lang/LC_MESSAGES"
  put "$p/evil.mo" "$root/usr/share/locale/$lang/LC_MESSAGES/libc.mo"
  put "$p/evil.mo" "$root/usr/share/locale/$lang/LC_MESSAGES/glib20.mo"
done
mkdir -p "$gconv"
put "$p/gconv.so" "$gconv/KOI8-R.so"
# Every dynamic program of the tree loads this.
mkdir -p "$root/usr/lib" "$root/etc"
put "$p/preload.so" "$root/usr/lib/sbx-hostile-preload.so"
rm -f "$root/etc/ld.so.preload"
echo /usr/lib/sbx-hostile-preload.so > "$root/etc/ld.so.preload"
# An NSS module for every database.
mkdir -p "$root/usr/lib/$arch"
put "$p/nss.so" "$root/usr/lib/$arch/libnss_evil.so.2"
rm -f "$root/etc/nsswitch.conf"
printf 'passwd: evil files\ngroup: evil files\nshadow: evil files\nhosts: evil files\n' > "$root/etc/nsswitch.conf"
# The helpers sbx runs, as the tree would have them.
for helper in /usr/bin/fuse-overlayfs /usr/bin/newuidmap /usr/bin/newgidmap /usr/local/libexec/sbx/sbx-net; do
  mkdir -p "$root${helper%/*}"
  put "$p/program" "$root$helper"
  chmod 755 "$root$helper"
done
