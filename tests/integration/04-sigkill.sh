#!/bin/sh
# SPDX-License-Identifier: MIT
# Crash safety: the daemon is killed with SIGKILL in the middle of a stream of confirmable
# telemetry POSTs; after a restart every reading that was acknowledged with 2.01 is stored.
. "$(dirname "$0")/lib.sh"
tmpdir
[ -x "$LOAD" ] || fail "load generator $LOAD not built"
nbg_start "$T/data"
nbg device add kill --token killtok --count 8 >/dev/null || fail "device add"
: >"$T/acked"
"$LOAD" --host 127.0.0.1 --port "$NBG_PORT" --path 'api/v1/%t/telemetry' --tokens 'killtok-%d' \
    --devices 8 --window 1 --payload '{"ts":1%s,"values":{"seq":%s}}' --duration 6 --log-acked "$T/acked" \
    --quiet >"$T/load.out" 2>&1 &
load_pid=$!
# Kill once a good number of readings has been acknowledged.
i=0
while [ "$(wc -l <"$T/acked")" -lt 300 ]; do
    i=$((i + 1))
    [ "$i" -gt 400 ] && fail "load made no progress: $(cat "$T/load.out")"
    sleep 0.05
done
nbg_kill
wait "$load_pid"
grep ' 2\.01$' "$T/acked" | cut -d' ' -f1 | sort -n | uniq >"$T/acked-ok"
n_acked=$(wc -l <"$T/acked-ok")
[ "$n_acked" -ge 300 ] || fail "only $n_acked acknowledged readings"
nbg_start "$T/data"
sqlite3 -batch "$T/data/nbgate.db" >"$T/missing" <<SQL || fail "sqlite3 import"
CREATE TEMP TABLE acked (seq INTEGER);
.import $T/acked-ok acked
SELECT count(*) FROM acked WHERE seq NOT IN (SELECT v_long FROM ts_kv WHERE key = 'seq');
SQL
missing=$(tail -n 1 "$T/missing")
echo "acknowledged=$n_acked missing_after_sigkill=$missing"
[ "$missing" = 0 ] || fail "$missing acknowledged readings lost after SIGKILL"
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
nbg_stop
ok
