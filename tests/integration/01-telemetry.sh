#!/bin/sh
# SPDX-License-Identifier: MIT
# First light: a device posts telemetry and client attributes as JSON over plain CoAP, in every
# ThingsBoard form; the values are stored with their types and read back with the admin CLI.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
TOKEN=$(nbg device add sensor-1) || fail "device add"
[ "${#TOKEN}" = 20 ] || fail "generated token has ${#TOKEN} characters, want 20"

r=$(coap post "api/v1/$TOKEN/telemetry" '{"temperature":25}')
[ "$r" = "2.01 " ] || fail "telemetry POST answered '$r'"
nbg telemetry sensor-1 | grep -Eq '^temperature = 25  LONG ' || fail "telemetry not shown: $(nbg telemetry sensor-1)"

# {"ts":..,"values":{..}} with a ts, an array mixing both forms, typing of each value kind.
r=$(coap post "api/v1/$TOKEN/telemetry" '{"ts":1700000000000,"values":{"humidity":40.5,"on":true}}')
[ "$r" = "2.01 " ] || fail "ts/values form answered '$r'"
r=$(coap post "api/v1/$TOKEN/telemetry" '[{"ts":"1700000001000","values":{"n":"42"}},{"label":"hall","obj":{"a":[1,2.50]},"skip":null}]')
[ "$r" = "2.01 " ] || fail "array form answered '$r'"
[ "$(sql "SELECT type, v_double FROM ts_kv WHERE key='humidity' AND ts_ms=1700000000000")" = "3|40.5" ] || fail "humidity not a DOUBLE at its ts"
[ "$(sql "SELECT type, v_long FROM ts_kv WHERE key='on'")" = "1|1" ] || fail "on not a BOOLEAN"
[ "$(sql "SELECT type, v_long FROM ts_kv WHERE key='n' AND ts_ms=1700000001000")" = "2|42" ] || fail "\"42\" not cast to LONG"
[ "$(sql "SELECT type, v_str FROM ts_kv WHERE key='label'")" = "4|hall" ] || fail "label not a STRING"
[ "$(sql "SELECT type, v_str FROM ts_kv WHERE key='obj'")" = '5|{"a":[1,2.50]}' ] || fail "obj not JSON with its number text: $(sql "SELECT v_str FROM ts_kv WHERE key='obj'")"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key='skip'")" = 0 ] || fail "null member was stored"

# Client attributes.
r=$(coap post "api/v1/$TOKEN/attributes" '{"fw":"1.2.3","interval":60}')
[ "$r" = "2.01 " ] || fail "attributes POST answered '$r'"
[ "$(sql "SELECT scope, type, v_str FROM attribute_kv WHERE key='fw'")" = "1|4|1.2.3" ] || fail "fw attribute not stored as CLIENT STRING"
nbg attributes sensor-1 | grep -q "^CLIENT interval = 60  LONG" || fail "attributes not shown: $(nbg attributes sensor-1 2>&1)"

# Extra trailing segments and a single packed Uri-Path option still reach telemetry.
r=$(coap post "api/v1/$TOKEN/telemetry/x/y" '{"t2":1}')
[ "$r" = "2.01 " ] || fail "trailing segments answered '$r'"
r=$(coap post "" '{"t3":1}' -O "11,api/v1/$TOKEN/telemetry")
[ "$r" = "2.01 " ] || fail "packed Uri-Path answered '$r'"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key IN ('t2','t3')")" = 2 ] || fail "t2/t3 not stored"

# --json output for scripts, and last activity recorded.
nbg telemetry sensor-1 --keys temperature --json | grep -q '"key":"temperature"' || fail "--json output"
[ "$(sql "SELECT last_activity_ms > 0 FROM device WHERE name='sensor-1'")" = 1 ] || fail "lastActivity not recorded"

nbg_stop
# Durable: the values are still there after a clean restart.
nbg_start "$T/data"
nbg telemetry sensor-1 --keys temperature | grep -q '^temperature = 25  LONG' || fail "value lost over restart"
nbg_stop
ok
