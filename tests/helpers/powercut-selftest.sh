#!/bin/sh
# SPDX-License-Identifier: MIT
# powercut-selftest.sh [ROUNDS] - checks the power-cut simulator (powercut.so + powercut-restore.sh)
# without nbgate, so a durability test built on it can be trusted.
#
# 1. Mechanics, with dd: unsynced overwrites, unsynced new files and truncations are undone by a
#    power cut; synced ones survive, also blocks scattered over the dirty map (with perl).
# 2. SQLite, with Debian's sqlite3 shell (libsqlite3 is linked dynamically, so the shim sees its
#    pwrite64/fdatasync): a WAL database gets one INSERT per transaction, each followed by a SELECT
#    that prints its number once the commit returned (the "acknowledgement"). The shell is killed
#    with SIGKILL after a random 2,000-4,000 acknowledgements, the power cut is applied, and the
#    rows are counted. synchronous=FULL must keep every acknowledged row in every round;
#    synchronous=NORMAL must lose some (summed over the rounds): the control that shows the
#    simulator can make a durability test fail. integrity_check must be ok in both.
# Exit 0 pass, 99 fail (as tests/integration/lib.sh). Env POWERCUT_SO overrides the shim's path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
so=${POWERCUT_SO:-$root/build/test/helpers/powercut.so}
restore=$here/powercut-restore.sh
rounds=${1:-3}
rows_max=60000

fail() {
    echo "FAIL: $*" >&2
    exit 99
}

[ -f "$so" ] || fail "$so missing (make build/test/helpers/powercut.so)"
command -v sqlite3 >/dev/null || fail "sqlite3 missing (apt-get install sqlite3)"
work=$(mktemp -d "${TMPDIR:-/tmp}/powercut-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# pc CMD... - runs CMD under the shim for $work/d.
pc() {
    POWERCUT_DIR=$work/d LD_PRELOAD=$so "$@"
}

# expect FILE EXPECTED|absent WHAT
expect() {
    if [ "$2" = absent ]; then
        [ ! -e "$1" ] || fail "mechanics: $3: ${1##*/} should be gone"
    else
        cmp -s "$1" "$2" || fail "mechanics: $3: ${1##*/} differs from its durable state"
    fi
    echo "mechanics: $3: ok"
}

mechanics() {
    d=$work/d
    rm -rf "$d" && mkdir "$d"
    head -c 8192 /dev/zero | tr '\0' a >"$work/old"
    head -c 100 /dev/zero | tr '\0' b >"$work/new"
    for f in keep sync cut cut-sync; do cp "$work/old" "$d/$f"; done
    pc dd if="$work/new" of="$d/keep" conv=notrunc status=none
    pc dd if="$work/new" of="$d/sync" conv=notrunc,fsync status=none
    pc dd if="$work/new" of="$d/cut" status=none
    pc dd if="$work/new" of="$d/cut-sync" conv=fsync status=none
    pc dd if="$work/new" of="$d/fresh" status=none
    pc dd if="$work/new" of="$d/fresh-sync" conv=fdatasync status=none
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    pc sh -c 'dd if="$1" of="$2" conv=fsync status=none && rm "$2"' sh "$work/new" "$d/gone"
    "$restore" "$d"
    expect "$d/keep" "$work/old" "unsynced overwrite undone"
    head -c 100 "$work/new" >"$work/exp" && tail -c +101 "$work/old" >>"$work/exp"
    expect "$d/sync" "$work/exp" "fsynced overwrite kept"
    expect "$d/cut" "$work/old" "unsynced truncate+write undone"
    expect "$d/cut-sync" "$work/new" "fsynced truncate+write kept"
    expect "$d/fresh" absent "unsynced new file removed"
    expect "$d/fresh-sync" "$work/new" "fdatasynced new file kept"
    expect "$d/gone" absent "unlinked file stays unlinked"
    # Scattered blocks made durable by one sync: a run of dirty blocks across a 64-block word
    # boundary, a clean rest of that word, then a dirty block in the word after (a sync once
    # skipped that one, which broke a growing SQLite WAL).
    head -c $((140 * 4096)) /dev/zero | tr '\0' a >"$d/scatter"
    # shellcheck disable=SC2016 # perl code
    pc perl -e 'use IO::Handle; open(my $f, "+<", $ARGV[0]) or die "open";
        for my $b (60 .. 70, 130) { sysseek($f, $b * 4096, 0) or die "seek";
            syswrite($f, "c" x 4096) == 4096 or die "write" } $f->sync or die "sync"' "$d/scatter"
    perl -e 'for my $b (0 .. 139) { print((($b >= 60 && $b <= 70) || $b == 130 ? "c" : "a") x 4096) }' \
        >"$work/exp"
    "$restore" "$d"
    expect "$d/scatter" "$work/exp" "scattered synced blocks kept"
}

# round MODE N - one kill/restore cycle; prints "acked present lost".
round() {
    d=$work/d
    rm -rf "$d" && mkdir "$d"
    db=$d/t.db
    sqlite3 "$db" 'PRAGMA journal_mode=WAL; CREATE TABLE t(v INTEGER PRIMARY KEY, pad BLOB);' \
        >/dev/null
    awk -v m="$1" -v n="$rows_max" 'BEGIN { print "PRAGMA synchronous=" m ";";
        for (i = 1; i <= n; i++) printf "INSERT INTO t VALUES(%d, randomblob(100));\nSELECT %d;\n", i, i }' \
        >"$work/in.sql"
    target=$(awk -v s="$2" 'BEGIN { srand(); print 2000 + int(rand() * 2000) + s % 7 }')
    : >"$work/acks"
    # Not through pc: $! must be sqlite3 itself (stdbuf execs it), not a subshell.
    POWERCUT_DIR=$d LD_PRELOAD=$so stdbuf -oL sqlite3 "$db" <"$work/in.sql" >"$work/acks" &
    pid=$!
    waited=0
    while [ "$(wc -l <"$work/acks")" -lt "$target" ]; do
        kill -0 "$pid" 2>/dev/null || fail "$1: sqlite3 ended early"
        waited=$((waited + 1))
        [ "$waited" -lt 1200 ] || fail "$1: fewer than $target commits in 60 s"
        sleep 0.05
    done
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    [ -f "$db.pcshadow" ] || fail "$1: no shadow of $db: the shim is not active"
    "$restore" "$d" 2>/dev/null
    acked=$(tail -n 1 "$work/acks")
    check=$(sqlite3 "$db" 'PRAGMA integrity_check;')
    [ "$check" = ok ] || fail "$1: integrity_check: $check"
    present=$(sqlite3 "$db" "SELECT count(*) FROM t WHERE v <= $acked;")
    echo "$acked $present $((acked - present))"
}

mechanics
lost_normal=0
for mode in FULL NORMAL; do
    sum_acked=0
    sum_lost=0
    i=1
    while [ "$i" -le "$rounds" ]; do
        r=$(round "$mode" "$i")
        # shellcheck disable=SC2086 # r is three numbers
        set -- $r
        echo "sqlite WAL synchronous=$mode round $i: acknowledged $1, kept $2, lost $3"
        [ "$mode" = NORMAL ] || [ "$3" -eq 0 ] || fail "synchronous=FULL lost $3 acknowledged rows"
        sum_acked=$((sum_acked + $1))
        sum_lost=$((sum_lost + $3))
        i=$((i + 1))
    done
    echo "sqlite WAL synchronous=$mode total: acknowledged $sum_acked, lost $sum_lost"
    [ "$mode" = FULL ] || lost_normal=$sum_lost
done
[ "$lost_normal" -gt 0 ] || fail "synchronous=NORMAL lost nothing: the simulator cannot show a loss"
echo "PASS: FULL kept every acknowledged row, NORMAL lost $lost_normal"
