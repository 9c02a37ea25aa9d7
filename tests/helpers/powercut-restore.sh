#!/bin/sh
# SPDX-License-Identifier: MIT
# powercut-restore.sh DIR - second half of a simulated power cut (the first is SIGKILL of a process
# that ran with LD_PRELOAD=powercut.so POWERCUT_DIR=DIR). Leaves under DIR only what the process
# had made durable: each `<file>.pcshadow` replaces `<file>`, each `<file>.pcabsent` deletes
# `<file>` (it never reached a durable state), and SQLite's `*-shm` files go (they are rebuilt).
# Run it only once the process is gone. Prints one summary line on stderr.
set -eu
dir=${1:?usage: powercut-restore.sh DIR}
[ -d "$dir" ] || { echo "powercut-restore: $dir: not a directory" >&2; exit 2; }
dir=$(cd "$dir" && pwd -P)
if find /proc/[0-9]*/fd -lname "$dir/*" 2>/dev/null | grep -q .; then
    echo "powercut-restore: a process still has files open under $dir" >&2
    exit 2
fi
n_shadow=$(find "$dir" -type f -name '*.pcshadow' | wc -l)
n_absent=$(find "$dir" -type f -name '*.pcabsent' | wc -l)
# shellcheck disable=SC2016 # the inner scripts expand their own arguments
find "$dir" -type f -name '*.pcshadow' -exec sh -c 'for s; do mv -f "$s" "${s%.pcshadow}"; done' sh {} +
# shellcheck disable=SC2016
find "$dir" -type f -name '*.pcabsent' -exec sh -c 'for a; do rm -f "${a%.pcabsent}" "$a"; done' sh {} +
find "$dir" -type f \( -name '*-shm' -o -name '*.pctmp' \) -exec rm -f {} +
echo "powercut-restore: $dir: $n_shadow file(s) back to their last sync, $n_absent removed" >&2
