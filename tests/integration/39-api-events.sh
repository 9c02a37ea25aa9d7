#!/bin/sh
# SPDX-License-Identifier: MIT
# The device event log through the admin API (specs/rest-api.md 9.6), fed by real uplinks: a
# coap-client upload is an UPLINK entry with the masked resource, the code answered and what it
# held; a payload that does not decode is an UPLINK entry with 4.00 and the reason (at most one
# per second per device); an Efento frame is an UPLINK entry with its Message ID and records;
# other events carry a one-line summary; a device uploading several times a second gets one entry
# per second counting the others; the log is trimmed to events_per_device.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v protoc >/dev/null || fail "protoc missing"
tmpdir
api_start "$T/data" NBGATE_EVENTS_PER_DEVICE=10
D=$(device ev-dev ev-token)
url="coap://127.0.0.1:$NBG_PORT/api/v1/ev-token/telemetry"
body='{"temperature":21.5,"humidity":40,"pressure":1013,"co2":400}'
coap-client-notls -m post -t json -e "$body" "$url" >/dev/null 2>&1 || fail "telemetry post"
api GET "/api/nbgate/device/$D/events?pageSize=10&page=0&type=UPLINK"
want 200
[ "$(field '.data | length')" = 1 ] || fail "one upload, entries: $BODY"
[ "$(field '.data[0].resource')" = "api/v1/***/telemetry" ] || fail "resource not masked: $BODY"
[ "$(field '.data[0].responseCode')" = "2.01" ] || fail "code: $BODY"
[ "$(field '.data[0].coapType')" = CON ] || fail "coapType: $BODY"
[ "$(field '.data[0].summary')" = "4 records (temperature, humidity, pressure, ...)" ] || fail "summary: $BODY"
[ "$(field '.data[0].payloadSize')" = "$(printf '%s' "$body" | wc -c)" ] || fail "payloadSize: $BODY"
field '.data[0].remoteAddress' | grep -q '^127\.0\.0\.1:[0-9]*$' || fail "remoteAddress: $BODY"
[ "$(field '.data[0].error')" = null ] && [ "$(field '.data[0].secure')" = false ] || fail "error/secure: $BODY"
grep -q 'ev-token' "$T/body" && fail "the token reached the event log: $BODY"

# A payload that does not decode: 4.00 with the reason; a second one within a second is not logged.
coap-client-notls -m post -t json -e '{"temperature":' "$url" >/dev/null 2>&1
coap-client-notls -m post -t json -e '{"temperature":' "$url" >/dev/null 2>&1
api GET "/api/nbgate/device/$D/events?pageSize=10&page=0&type=UPLINK"
[ "$(field '.data | length')" = 2 ] || fail "two broken uploads within a second, want one entry: $BODY"
[ "$(field '.data[0].responseCode')" = "4.00" ] || fail "error code: $BODY"
[ -n "$(field '.data[0].error | select(. != null)')" ] || fail "no reason: $BODY"
sleep 1.1
coap-client-notls -m post -t json -e 'nope' "$url" >/dev/null 2>&1
api GET "/api/nbgate/device/$D/events?pageSize=10&page=0&type=UPLINK"
[ "$(field '.data | length')" = 3 ] || fail "a broken upload a second later is logged: $BODY"

# Other events keep their body in details and get a summary line from it.
api POST "/api/rpc/oneway/$D" '{"method":"reboot","params":{},"persistent":true}'
want 200
api GET "/api/nbgate/device/$D/events?pageSize=10&page=0&type=DOWNLINK"
[ "$(field '.data[0].details.state')" = QUEUED ] || fail "DOWNLINK details: $BODY"
field '.data[0].summary' | grep -q 'state=QUEUED' || fail "DOWNLINK summary: $BODY"

# A device uploading more than once a second gets one entry per second, which counts the uploads
# it stands for: over all entries, every upload is accounted for.
i=0
while [ $i -lt 20 ]; do
    coap-client-notls -m post -t json -e "{\"n\":$i}" "$url" >/dev/null 2>&1 || fail "post $i"
    i=$((i + 1))
done
sleep 1.1
coap-client-notls -m post -t json -e '{"n":99}' "$url" >/dev/null 2>&1 || fail "post 99"
api GET "/api/nbgate/device/$D/events?pageSize=100&page=0&type=UPLINK"
n_ok=$(field '[.data[] | select(.responseCode == "2.01")] | length')
[ "$n_ok" -lt 22 ] || fail "22 uploads in about 2 s, $n_ok entries: not one per second"
sum=$(field '[.data[] | select(.responseCode == "2.01") | .summary | (capture("; (?<n>[0-9]+) earlier uploads not listed").n // "0" | tonumber) + 1] | add')
[ "$sum" = 22 ] || fail "entries stand for $sum uploads, want 22: $BODY"
[ "$(field '.data[0].summary' | sed 's/;.*//')" = "1 records (n)" ] || fail "newest entry: $BODY"

# An Efento frame: its Message ID, CON, 2.01 and the records it held.
printf '%s' '{"name":"efento","type":"DEFAULT","transportType":"COAP","profileData":{"configuration":{"type":"DEFAULT"},"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"}}}}' >"$T/ef.json"
nbg profile add efento --json "$T/ef.json" >/dev/null || fail "profile add"
nbg device add sensor1 --token example-token-1 --profile efento >/dev/null || fail "device add"
(cd "$ROOT" && protoc --encode=ProtoMeasurements -I. proto/efento/proto_measurements.proto) \
    <"$ROOT/tests/data/efento/meas_ex14_1.txtpb" >"$T/m.bin" || fail "protoc"
coap-client-notls -m post -f "$T/m.bin" "coap://127.0.0.1:$NBG_PORT/efento/m" >/dev/null 2>&1 || fail "efento post"
E=$(sql "SELECT uuid FROM device WHERE name='sensor1'")
api GET "/api/nbgate/device/$E/events?pageSize=10&page=0&type=UPLINK"
[ "$(field '.data[0].resource')" = "efento/m" ] && [ "$(field '.data[0].responseCode')" = "2.01" ] ||
    fail "Efento UPLINK: $BODY"
field '.data[0].summary' | grep -q '^measurements, 16 records; downlink in the answer$' || fail "Efento summary: $BODY"
[ "$(field '.data[0].responsePayloadSize')" -gt 0 ] || fail "downlink size: $BODY"

# events_per_device 10: every Efento frame is an entry, and the log stays bounded.
i=0
while [ $i -lt 60 ]; do
    coap-client-notls -m post -f "$T/m.bin" "coap://127.0.0.1:$NBG_PORT/efento/m" >/dev/null 2>&1 || fail "frame $i"
    i=$((i + 1))
done
n=$(sql "SELECT count(*) FROM event WHERE device_id = (SELECT id FROM device WHERE name='sensor1')")
[ "$n" -ge 10 ] && [ "$n" -le 42 ] || fail "event log not trimmed to 10 (+32): $n entries"
api GET "/api/nbgate/device/$E/events?pageSize=1&page=0&type=UPLINK"
[ "$(field .data[0].coapType) $(field .data[0].responseCode)" = "CON 2.01" ] || fail "newest frame entry: $BODY"
nbg_stop
ok
