#!/bin/sh
# SPDX-License-Identifier: MIT
# Device profiles from the admin CLI (specs/coap-device-api.md 14, specs/rest-api.md 5): a
# Protobuf profile created without schemas gets ThingsBoard's default schemas, compiled by protoc;
# a schema with a mistake is refused with protoc's line:column and a rule violation with its
# reason; set-default, delete and a device's profile and power override. Then the profile decides
# how a device's bytes are read: Protobuf telemetry and attributes (encoded with protoc from the
# stored default schemas), malformed Protobuf refused with 4.00, and a switch of the device's
# profile changes how its next uplink is read, without a restart.
. "$(dirname "$0")/lib.sh"
command -v protoc >/dev/null || fail "protoc (protobuf-compiler) is not installed"
tmpdir
nbg_start "$T/data"

PTC='profileData.transportConfiguration.coapDeviceTypeConfiguration.transportPayloadTypeConfiguration'
cat >"$T/pb.json" <<'EOF'
{"transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP",
 "coapDeviceTypeConfiguration":{"coapDeviceType":"DEFAULT",
  "transportPayloadTypeConfiguration":{"transportPayloadType":"PROTOBUF"}}}}}
EOF
[ "$(nbg profile add pb --json "$T/pb.json")" = "created pb" ] || fail "profile add pb"
[ "$(nbg profile add pb --json "$T/pb.json")" = "updated pb" ] || fail "profile add pb again"
nbg profile show pb | grep -q 'message SensorDataReading' || fail "default telemetry schema not stored"
nbg profile list --json | grep -q '"name":"pb","default":false,"transportType":"COAP","coapDeviceType":"DEFAULT","transportPayloadType":"PROTOBUF"' ||
    fail "profile list: $(nbg profile list --json)"
[ "$(sql "SELECT payload_type, length(descriptor_set) > 100 FROM device_profile WHERE name='pb'")" = "PROTOBUF|1" ] ||
    fail "descriptor set not stored"
for m in deviceTelemetryProtoSchema deviceAttributesProtoSchema deviceRpcRequestProtoSchema deviceRpcResponseProtoSchema; do
    [ -n "$(sql "SELECT json_extract(profile_json, '\$.$PTC.$m') FROM device_profile WHERE name='pb'")" ] ||
        fail "$m missing from the stored JSON"
done

# A schema with a mistake: protoc's message with line:column, nothing stored.
cat >"$T/broken.json" <<'EOF'
{"transportType":"COAP","profileData":{"transportConfiguration":{"coapDeviceTypeConfiguration":
 {"transportPayloadTypeConfiguration":{"transportPayloadType":"PROTOBUF",
  "deviceTelemetryProtoSchema":"syntax = \"proto3\";\nmessage Reading {\n  double t = 1\n}\n"}}}}}
EOF
nbg profile add broken --json "$T/broken.json" 2>"$T/err" && fail "broken schema accepted"
grep -Eq '^nbgate: profile broken: deviceTelemetryProtoSchema: telemetry\.proto:4:1: Expected ";"\.$' "$T/err" ||
    fail "protoc's message missing: $(cat "$T/err")"
[ "$(sql "SELECT count(*) FROM device_profile WHERE name='broken'")" = 0 ] || fail "broken profile stored"
# ThingsBoard's rules that protoc does not check.
sed 's/double t = 1\\n/double t = 1;\\n/' "$T/broken.json" | sed 's/deviceTelemetryProtoSchema/deviceRpcRequestProtoSchema/' >"$T/rule.json"
nbg profile add rule --json "$T/rule.json" 2>"$T/err" && fail "bad RPC schema accepted"
grep -q 'deviceRpcRequestProtoSchema: RPC request message must have exactly the fields method, requestId and params' "$T/err" ||
    fail "rule message: $(cat "$T/err")"
printf '{"name":"m","transportType":"MQTT"}' >"$T/mqtt.json"
nbg profile add m --json "$T/mqtt.json" 2>"$T/err" && fail "MQTT profile accepted"
grep -q 'transportType: Transport type MQTT is not supported' "$T/err" || fail "transport: $(cat "$T/err")"
printf '{"transportType":"COAP","profileData":{"transportConfiguration":{"clientSettings":{"powerMode":"SLEEP"}}}}' >"$T/mode.json"
nbg profile add m --json "$T/mode.json" 2>"$T/err" && fail "bad power mode accepted"
grep -q 'profileData.transportConfiguration.clientSettings.powerMode: expected PSM, DRX or E_DRX' "$T/err" ||
    fail "power mode: $(cat "$T/err")"

# Devices, the default profile, deletion.
TOKEN=$(nbg device add s1) || fail "device add"
nbg device set-profile s1 pb || fail "set-profile"
[ "$(sql "SELECT p.name, d.type FROM device d JOIN device_profile p ON p.id = d.profile_id WHERE d.name='s1'")" = "pb|pb" ] ||
    fail "device not moved to pb"
nbg device set-profile s1 nope 2>"$T/err" && fail "unknown profile accepted"
grep -q 'no device profile "nope"' "$T/err" || fail "unknown profile: $(cat "$T/err")"
nbg device set-profile ghost pb 2>/dev/null && fail "unknown device accepted"
nbg device set-power s1 '{"type":"COAP","powerMode":"PSM","psmActivityTimer":30000}' || fail "set-power"
[ "$(sql "SELECT json_extract(power_json, '\$.psmActivityTimer') FROM device WHERE name='s1'")" = 30000 ] || fail "power override"
nbg device set-power s1 '{"type":"COAP","powerMode":"E_DRX"}' 2>"$T/err" && fail "E_DRX without cycle accepted"
grep -q 'deviceData.transportConfiguration.edrxCycle: required for E_DRX' "$T/err" || fail "override check: $(cat "$T/err")"
nbg profile delete pb 2>"$T/err" && fail "profile in use deleted"
grep -q 'referenced by the devices' "$T/err" || fail "delete in use: $(cat "$T/err")"
nbg profile set-default pb || fail "set-default"
[ "$(sql "SELECT name, json_extract(profile_json, '\$.default') FROM device_profile WHERE is_default = 1")" = "pb|1" ] ||
    fail "default flag and JSON out of sync"
nbg profile delete pb 2>"$T/err" && fail "default profile deleted"
nbg profile set-default default || fail "set-default back"

# Protobuf uplinks, encoded with protoc from the schemas as stored.
sql "SELECT json_extract(profile_json, '\$.$PTC.deviceTelemetryProtoSchema') FROM device_profile WHERE name='pb'" >"$T/telemetry.proto"
sql "SELECT json_extract(profile_json, '\$.$PTC.deviceAttributesProtoSchema') FROM device_profile WHERE name='pb'" >"$T/attributes.proto"
printf 'temperature: 21.5 innerObject { key1: "a" key4: 4 }' |
    protoc --proto_path="$T" --encode=telemetry.SensorDataReading "$T/telemetry.proto" >"$T/tel.bin" || fail "protoc --encode telemetry"
printf 'firmwareVersion: "1.0.1" serialNumber: "42"' |
    protoc --proto_path="$T" --encode=attributes.SensorConfiguration "$T/attributes.proto" >"$T/attr.bin" || fail "protoc --encode attributes"
post_file() {
    coap-client-notls -v 6 -B 5 -m post -f "$2" "coap://127.0.0.1:$NBG_PORT/api/v1/$TOKEN/$1" 2>&1 | coap_code
}
r=$(post_file telemetry "$T/tel.bin")
[ "$r" = "2.01 " ] || fail "Protobuf telemetry answered '$r'"
[ "$(sql "SELECT type, v_double FROM ts_kv_latest WHERE key='temperature'")" = "3|21.5" ] || fail "temperature not a DOUBLE"
[ "$(sql "SELECT type, v_str FROM ts_kv_latest WHERE key='innerObject'")" = '5|{"key1":"a","key4":4}' ] ||
    fail "innerObject: $(sql "SELECT type, v_str FROM ts_kv_latest WHERE key='innerObject'")"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key='humidity'")" = 0 ] || fail "unset optional field stored"
r=$(post_file attributes "$T/attr.bin")
[ "$r" = "2.01 " ] || fail "Protobuf attributes answered '$r'"
[ "$(sql "SELECT group_concat(key || '=' || type || ':' || coalesce(v_str, v_long), ',') FROM attribute_kv WHERE scope = 1")" = "firmwareVersion=4:1.0.1,serialNumber=2:42" ] ||
    fail "attributes: $(sql "SELECT key, type, v_str, v_long FROM attribute_kv")"
printf '\010' >"$T/bad.bin"
r=$(post_file telemetry "$T/bad.bin")
[ "$r" = "4.00 invalid Protobuf at byte 0: malformed or truncated" ] || fail "malformed Protobuf answered '$r'"
r=$(coap post "api/v1/$TOKEN/telemetry" '{"humidity":40}')
[ "${r%% *}" = "4.00" ] || fail "JSON on a Protobuf profile answered '$r'"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key='humidity'")" = 0 ] || fail "something stored from a refused uplink"

# Switching the device's profile changes how its next uplink is read (no restart).
nbg device set-profile s1 default || fail "set-profile default"
r=$(coap post "api/v1/$TOKEN/telemetry" '{"humidity":40}')
[ "$r" = "2.01 " ] || fail "JSON after the switch answered '$r'"
r=$(post_file telemetry "$T/tel.bin")
[ "${r%% *}" = "4.00" ] || fail "Protobuf on a JSON profile answered '$r'"
nbg device set-profile s1 pb || fail "set-profile pb again"
r=$(post_file telemetry "$T/tel.bin")
[ "$r" = "2.01 " ] || fail "Protobuf after switching back answered '$r'"

# Changing the profile itself applies without a restart too (the daemon revalidates its cache
# of profiles about once a second): an Efento profile has no /api/v1.
sed 's/"coapDeviceType":"DEFAULT"/"coapDeviceType":"EFENTO"/' "$T/pb.json" >"$T/efento.json"
[ "$(nbg profile add pb --json "$T/efento.json")" = "updated pb" ] || fail "profile update"
i=0
until r=$(post_file telemetry "$T/tel.bin") && [ "${r%% *}" = "4.00" ]; do
    i=$((i + 1))
    [ "$i" -gt 50 ] && fail "/api/v1 on an Efento profile still answered '$r'"
    sleep 0.1
done
nbg_stop
ok
