#!/bin/sh
# SPDX-License-Identifier: MIT
# A fleet of simulated Efento sensors (tools/nbgate-sim) against the real daemon: every record the
# simulator sent is in the database (counted row by row, none lost, none twice), every CON was
# acknowledged, and a measurement-period change queued during the run reaches the chosen sensors
# in the answer to their next CON frame, they apply it, report their new configuration, and the
# queue entries end SUCCESSFUL. CI-sized: SIM_SENSORS sensors for SIM_SECONDS seconds.
# The daemon runs with durability process: every frame is still committed before its answer, but
# a CI disk's fsync latency (several ms on a shared VM) is not what this test measures; durability
# across power cuts is 04-sigkill and 05-powercut's subject. SIM_DURABILITY=full runs it with
# durability full; NBGATE=build/release/nbgate SIM_SENSORS=1000 SIM_SECONDS=60 gives the figures
# of docs/BENCH.md.
. "$(dirname "$0")/lib.sh"
SIM=${SIM:-$ROOT/build/release/tools/nbgate-sim}
SENSORS=${SIM_SENSORS:-200}
SECONDS_RUN=${SIM_SECONDS:-15}
CHANGED=20 # sensors sim-0 .. sim-19 get measurementPeriodBase 120
[ -x "$SIM" ] || fail "$SIM missing (make tools)"
tmpdir

# The simulator compresses time (each frame covers samples x period), so clock sync is off.
cat >"$T/sim.json" <<'EOF'
{"name":"efento-sim","type":"DEFAULT","transportType":"COAP","profileData":{"configuration":
{"type":"DEFAULT"},"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":
{"coapDeviceType":"EFENTO","clockSyncThresholdS":-1}}}}
EOF
nbg_start "$T/data" NBGATE_DURABILITY="${SIM_DURABILITY:-process}"
nbg profile add efento-sim --json "$T/sim.json" >/dev/null || fail "profile add"
nbg device add sim --token simtok --count "$SENSORS" --profile efento-sim >/dev/null ||
    fail "device add"

"$SIM" -n "$SENSORS" -d "$SECONDS_RUN" -i 1000 -s 5 -c 30 -t simtok- --seed 7 \
    --per-sensor "$T/per.csv" 127.0.0.1 "$NBG_PORT" >"$T/sim.out" 2>&1 &
SIM_PID=$!

# Queue the change once the chosen sensors have reported their first configuration.
names=$(i=0; while [ "$i" -lt "$CHANGED" ]; do printf 'sim-%d ' "$i"; i=$((i + 1)); done)
i=0
while [ "$(sql "SELECT count(*) FROM attribute_kv a JOIN device d ON d.id=a.device_id WHERE
        a.key='configurationHash' AND d.name IN ('$(echo $names | sed "s/ /','/g")')")" -lt "$CHANGED" ]; do
    i=$((i + 1))
    [ "$i" -gt 200 ] && fail "sensors did not report their configuration within 10 s"
    sleep 0.05
done
# shellcheck disable=SC2086 # one word per device name
nbg efento set $names measurementPeriodBase=120 >/dev/null || fail "efento set"
wait "$SIM_PID" || fail "simulator failed: $(cat "$T/sim.out")"
out=$(cat "$T/sim.out")
echo "$out"
val() { printf '%s\n' "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

records=$(val records)
[ "${records:-0}" -gt 0 ] || fail "simulator sent nothing"
[ "$(val timeouts)" = 0 ] || fail "CON frames not acknowledged: $(val timeouts)"
[ "$(val errors)" = 0 ] || fail "error answers: $(val errors)"
[ "$(val unanswered)" = 0 ] || fail "CON frames still unanswered: $(val unanswered)"
[ "$(val acked)" = "$(val con)" ] || fail "acked $(val acked) of $(val con) CON frames"

# Every record, counted row by row: measurements, and one sw_version row per device info frame.
# NON frames have no answer: wait until the daemon has worked through what it received.
i=0
while stored=$(sql "SELECT count(*) FROM ts_kv WHERE key <> 'sw_version'") &&
    [ "$stored" -lt "$records" ] && [ "$i" -lt 100 ]; do
    i=$((i + 1))
    sleep 0.1
done
[ "$stored" = "$records" ] || fail "records: simulator sent $records, database holds $stored"
[ "$stored" -ge "$(val records_acked)" ] || fail "fewer rows than acknowledged records"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key = 'sw_version'")" = "$(val records_devinfo)" ] ||
    fail "device info records"
[ "$(sql "SELECT count(DISTINCT device_id) FROM ts_kv")" = "$SENSORS" ] || fail "a sensor is missing"

# The queued period change: in the next CON answer, applied, confirmed by the configuration.
[ "$(val sensors_applied)" = "$CHANGED" ] || fail "sensors that applied the change: $(val sensors_applied)"
applied=$(awk -F, 'NR > 1 && $15 == 120 { n++ } END { print n + 0 }' "$T/per.csv")
[ "$applied" = "$CHANGED" ] || fail "per-sensor report: $applied sensors at period 120"
[ "$(awk -F, 'NR > 1 && $1 < 20 && $15 != 120' "$T/per.csv")" = "" ] || fail "a chosen sensor kept its period"
[ "$(sql "SELECT count(*) FROM downlink WHERE kind='EFENTO_CONFIG' AND state='SUCCESSFUL'")" = "$CHANGED" ] ||
    fail "queue states: $(sql "SELECT state, count(*) FROM downlink GROUP BY state")"
[ "$(sql "SELECT v_long FROM ts_kv_latest l JOIN device d ON d.id=l.device_id WHERE d.name='sim-0'
        AND l.key='measurement_interval_1'")" = 120 ] || fail "sim-0's frames do not show period 120"
[ "$(sql "SELECT v_long FROM attribute_kv a JOIN device d ON d.id=a.device_id WHERE d.name='sim-0'
        AND a.key='measurementPeriodBase'")" = 120 ] || fail "sim-0's configuration does not show 120"
nbg_stop
ok
