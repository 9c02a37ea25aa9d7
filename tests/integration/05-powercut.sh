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
# Both runs use the default WAL auto-checkpoint (~2 WAL frames per uplink, so the cut comes after
# at least one checkpoint and WAL restart); under NORMAL only rows committed since the last
# checkpoint are lost. Should the cut land just after a checkpoint, the control loses nothing:
# it gets up to 3 attempts (a shim that cannot lose would fail all of them).
# Each reading carries its own "ts" (the seq with a leading 1, unique per request): stamped with
# the arrival millisecond, two uplinks of one device in the same millisecond would share the
# ts_kv key (device, key, ts_ms) and the second would replace the first, which looks like a loss.
. "$(dirname "$0")/lib.sh"
tmpdir
SO=$HELPERS/powercut.so
RESTORE=$ROOT/tests/helpers/powercut-restore.sh
[ -x "$LOAD" ] || fail "load generator $LOAD not built"
[ -f "$SO" ] || fail "$SO not built (make build/test/helpers/powercut.so)"
# The simulator is checked before it is trusted: its own mechanics and one SQLite round.
POWERCUT_SO=$SO sh "$ROOT/tests/helpers/powercut-selftest.sh" 1 >"$T/selftest.out" 2>&1 ||
    fail "the power-cut simulator fails its self-test: $(tail -n 3 "$T/selftest.out")"

# powercut DURABILITY: one power cut under load; sets N_ACKED and N_MISSING.
powercut() {
    d=$T/$1
    mkdir -p "$d"
    # Devices first, by a process outside the shim: the daemon must be the only writer it models.
    "$NBGATE" --data-dir "$d" device add pc --token pctok --count 4 >"$T/$1.add" 2>&1 ||
        fail "device add: $(cat "$T/$1.add")"
    cp "$d/nbgate.db" "$T/$1.db-before"
    : >"$T/$1.acked"
    nbg_start "$d" NBGATE_DURABILITY="$1" LD_PRELOAD="$SO" POWERCUT_DIR="$d" \
        ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
    [ -f "$d/nbgate.db.pcshadow" ] || fail "$1: powercut.so is not active in the daemon"
    "$LOAD" --host 127.0.0.1 --port "$NBG_PORT" --path 'api/v1/%t/telemetry' --tokens 'pctok-%d' \
        --devices 4 --payload '{"ts":1%s,"values":{"seq":%s}}' --duration 60 \
        --log-acked "$T/$1.acked" --quiet >"$T/$1.load" 2>&1 &
    load_pid=$!
    # Cut the power at a different point of the stream in each run.
    target=$(awk 'BEGIN { srand(); print 800 + int(rand() * 600) }')
    i=0
    while [ "$(wc -l <"$T/$1.acked")" -lt "$target" ]; do
        kill -0 "$NBG_PID" 2>/dev/null || fail "$1: daemon died under load"
        kill -0 "$load_pid" 2>/dev/null || fail "$1: load ended: $(cat "$T/$1.load")"
        i=$((i + 1))
        [ "$i" -gt 600 ] && fail "$1: fewer than $target readings acknowledged in 30 s"
        sleep 0.05
    done
    nbg_kill
    kill -TERM "$load_pid" # it flushes --log-acked and exits
    wait "$load_pid"
    "$RESTORE" "$d" || fail "$1: restore"
    checkpointed=yes
    cmp -s "$d/nbgate.db" "$T/$1.db-before" && checkpointed=no
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
    echo "durability=$1: acknowledged=$N_ACKED missing_after_power_cut=$N_MISSING" \
        "checkpoint_before_cut=$checkpointed"
}

powercut full
[ "$N_MISSING" = 0 ] || fail "durability full lost $N_MISSING of $N_ACKED acknowledged readings"
for attempt in 1 2 3; do
    powercut process
    [ "$N_MISSING" -gt 0 ] && ok
    rm -rf "${T:?}/process"
done
fail "control: durability process lost nothing in $attempt power cuts, the test cannot see a loss"
