#!/bin/sh
# SPDX-License-Identifier: MIT
# Power cut: a 2.01 must survive losing the machine, not only the process (platform.md, SQLite).
# The daemon runs under tests/helpers/powercut.so, which keeps for each file of the data
# directory the state its last fsync/fdatasync made durable. While confirmable telemetry streams
# in, the daemon gets SIGKILL; powercut-restore.sh then puts back only that durable state, the
# daemon restarts normally and every acknowledged seq is looked up in ts_kv.
#   durability full    (synchronous=FULL):   0 acknowledged readings may be missing.
#   durability process (synchronous=NORMAL): some must be missing - the control that shows this
#                                            test can fail (a kill alone loses nothing, 04).
# Both runs use the default WAL auto-checkpoint, so a checkpoint (and the WAL restart after it)
# falls inside the stream; under NORMAL only rows committed since the last checkpoint are lost.
. "$(dirname "$0")/lib.sh"
tmpdir
SO=$HELPERS/powercut.so
RESTORE=$ROOT/tests/helpers/powercut-restore.sh
[ -x "$LOAD" ] || fail "load generator $LOAD not built"
[ -f "$SO" ] || fail "$SO not built (make build/test/helpers/powercut.so)"

# powercut DURABILITY: one power cut under load; sets N_ACKED and N_MISSING.
powercut() {
    d=$T/$1
    mkdir -p "$d"
    # Devices first, by a process outside the shim: the daemon must be the only writer it models.
    "$NBGATE" --data-dir "$d" device add pc --token pctok --count 4 >/dev/null || fail "device add"
    nbg_start "$d" NBGATE_DURABILITY="$1" LD_PRELOAD="$SO" POWERCUT_DIR="$d" \
        ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
    [ -f "$d/nbgate.db.pcshadow" ] || fail "$1: powercut.so is not active in the daemon"
    "$LOAD" --host 127.0.0.1 --port "$NBG_PORT" --path 'api/v1/%t/telemetry' --tokens 'pctok-%d' \
        --devices 4 --payload '{"seq":%s}' --duration 6 --drain 1 --log-acked "$T/$1.acked" \
        --quiet >"$T/$1.load" 2>&1 &
    load_pid=$!
    # Cut the power at a different point of the stream in each run.
    target=$(awk 'BEGIN { srand(); print 300 + int(rand() * 300) }')
    i=0
    while [ "$(wc -l <"$T/$1.acked" 2>/dev/null || echo 0)" -lt "$target" ]; do
        kill -0 "$NBG_PID" 2>/dev/null || fail "$1: daemon died under load"
        i=$((i + 1))
        [ "$i" -gt 400 ] && fail "$1: fewer than $target readings acknowledged in 20 s"
        sleep 0.05
    done
    nbg_kill
    wait "$load_pid"
    "$RESTORE" "$d" || fail "$1: restore"
    mv "$d/nbgate.log" "$T/$1-powercut.log"
    grep ' 2\.01$' "$T/$1.acked" | cut -d' ' -f1 | sort -n | uniq >"$T/$1.acked-ok"
    n_acked=$(wc -l <"$T/$1.acked-ok")
    [ "$n_acked" -ge "$target" ] || fail "$1: only $n_acked readings acknowledged with 2.01"
    nbg_start "$d"
    [ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "$1: integrity_check after the power cut"
    sqlite3 -batch -noheader "$d/nbgate.db" >"$T/$1.missing" <<EOF || fail "$1: sqlite3 import"
CREATE TEMP TABLE acked (seq INTEGER PRIMARY KEY);
.import $T/$1.acked-ok acked
SELECT count(*) FROM acked WHERE seq NOT IN (SELECT v_long FROM ts_kv WHERE key = 'seq');
EOF
    nbg_stop
    N_ACKED=$n_acked
    N_MISSING=$(tail -n 1 "$T/$1.missing")
    echo "durability=$1: acknowledged=$N_ACKED missing_after_power_cut=$N_MISSING"
}

powercut full
[ "$N_MISSING" = 0 ] || fail "durability full lost $N_MISSING of $N_ACKED acknowledged readings"
powercut process
[ "$N_MISSING" -gt 0 ] || fail "control: durability process lost nothing, the test cannot see a loss"
ok
