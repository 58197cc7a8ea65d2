#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-run.sh: `sbx run` basics, checked from inside the sandbox.
. "$(dirname "$0")/libtest.sh"
require_rootless

uid=$(test_uid)
gid=$(test_gid)
read -r substart subcount < <(subid_range /etc/subuid)

out=$(sbx run -- id -u)
is "$out" "$uid" "keep-id: id -u inside is the caller's uid"

map=$(sbx run -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')
like "$map" "^$uid $uid 1" "keep-id: uid_map maps the caller's uid to itself"
like "$map" "0 $substart " "keep-id: uid_map maps 0 into the subordinate range"

map=$(sbx run --map-root -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')
is "$map" "0 $uid 1
1 $substart $subcount" "--map-root: uid_map is '0 UID 1' and '1 SUBSTART COUNT'"

done_testing
