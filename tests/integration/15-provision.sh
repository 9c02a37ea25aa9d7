#!/bin/sh
# SPDX-License-Identifier: MIT
# Provisioning (spec 9): both strategies, device-supplied and generated tokens, ThingsBoard's
# answer bodies for SUCCESS / NOT_FOUND / FAILURE, the protobuf request form, provisionState
# recorded, and the new device posting telemetry with its token.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
profile_json() { # profile_json NAME STRATEGY KEY SECRET
    printf '{"name":"%s","type":"DEFAULT","transportType":"COAP","provisionType":"%s",' "$1" "$2"
    printf '"provisionDeviceKey":"%s","profileData":{"configuration":{"type":"DEFAULT"},' "$3"
    printf '"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{'
    printf '"coapDeviceType":"DEFAULT","transportPayloadTypeConfiguration":{'
    printf '"transportPayloadType":"JSON"}},"clientSettings":{"powerMode":"DRX"}},'
    printf '"provisionConfiguration":{"type":"%s","provisionDeviceKey":"%s",' "$2" "$3"
    printf '"provisionDeviceSecret":"%s"}}}' "$4"
}
profile_json open ALLOW_CREATE_NEW_DEVICES key-open sec-open >"$T/open.json"
profile_json pre CHECK_PRE_PROVISIONED_DEVICES key-pre sec-pre >"$T/pre.json"
nbg profile add open --json "$T/open.json" >/dev/null || fail "profile add open"
nbg profile add pre --json "$T/pre.json" >/dev/null || fail "profile add pre"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
NF='4.00 {"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}'
FL='4.00 {"errorMsg":"Failed to provision device!","status":"FAILURE"}'
# Create-new strategy, token supplied by the device.
expect '2.01 {"credentialsValue":"tok-p1","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}' \
    post "api/v1/provision" '{"deviceName":"p1","provisionDeviceKey":"key-open","provisionDeviceSecret":"sec-open","token":"tok-p1"}'
expect "2.01 " post "api/v1/tok-p1/telemetry" '{"t":1}'
[ "$(sql "SELECT v_str FROM attribute_kv a JOIN device d ON d.id = a.device_id WHERE d.name = 'p1' AND a.scope = 3 AND a.key = 'provisionState'")" = provisioned ] ||
    fail "provisionState not recorded"
nbg device list | grep -q '^p1 .* open ' || fail "p1 not in profile open: $(nbg device list)"
# The same name again: FAILURE; wrong secret or key: NOT_FOUND; generated token and name.
expect "$FL" post "api/v1/provision" '{"deviceName":"p1","provisionDeviceKey":"key-open","provisionDeviceSecret":"sec-open"}'
expect "$NF" post "api/v1/provision" '{"deviceName":"p2","provisionDeviceKey":"key-open","provisionDeviceSecret":"wrong"}'
expect "$NF" post "api/v1/anything/provision" '{"deviceName":"p2","provisionDeviceKey":"nokey","provisionDeviceSecret":"x"}'
r=$(coap post "api/v1/provision" '{"provisionDeviceKey":"key-open","provisionDeviceSecret":"sec-open"}')
echo "$r" | grep -Eq '^2\.01 \{"credentialsValue":"[A-Za-z0-9]{20}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$' ||
    fail "generated token: $r"
expect "$FL" post "api/v1/provision" '{"deviceName":"p3","provisionDeviceKey":"key-open","provisionDeviceSecret":"sec-open","credentialsType":"MQTT_BASIC"}'
expect "$FL" post "api/v1/provision" '{"deviceName":"p4","provisionDeviceKey":"key-open","provisionDeviceSecret":"sec-open","token":"tok-p1"}'
expect "4.00 provisionDeviceKey and provisionDeviceSecret are required" post "api/v1/provision" '{"deviceName":"x"}'
expect "4.00 unknown credentialsType" post "api/v1/provision" '{"provisionDeviceKey":"a","provisionDeviceSecret":"b","credentialsType":"BOGUS"}'
# Check-pre-provisioned strategy: the device must exist in that profile, once.
nbg device add pre1 --token tok-pre1 --profile pre >/dev/null || fail "device add pre1"
expect "$FL" post "api/v1/provision" '{"deviceName":"ghost","provisionDeviceKey":"key-pre","provisionDeviceSecret":"sec-pre"}'
expect '2.01 {"credentialsValue":"tok-pre1","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}' \
    post "api/v1/provision" '{"deviceName":"pre1","provisionDeviceKey":"key-pre","provisionDeviceSecret":"sec-pre"}'
expect "$FL" post "api/v1/provision" '{"deviceName":"pre1","provisionDeviceKey":"key-pre","provisionDeviceSecret":"sec-pre"}'
# Protobuf request (ProvisionDeviceRequestMsg): name "pb1", key/secret, token "tok-pb1".
printf 'deviceName: "pb1"\nprovisionDeviceCredentialsMsg { provisionDeviceKey: "key-open" provisionDeviceSecret: "sec-open" }\ncredentialsDataProto { validateDeviceTokenRequestMsg { token: "tok-pb1" } }\n' >"$T/req.txt"
cat >"$T/prov.proto" <<'PROTO'
syntax = "proto3";
package transport;
message ProvisionDeviceCredentialsMsg { string provisionDeviceKey = 1; string provisionDeviceSecret = 2; }
message ValidateDeviceTokenRequestMsg { string token = 1; }
message CredentialsDataProto { ValidateDeviceTokenRequestMsg validateDeviceTokenRequestMsg = 1; }
message ProvisionDeviceRequestMsg { string deviceName = 1; int32 credentialsType = 2;
  ProvisionDeviceCredentialsMsg provisionDeviceCredentialsMsg = 3; CredentialsDataProto credentialsDataProto = 4; bool gateway = 5; }
message ProvisionDeviceResponseMsg { int32 status = 1; int32 credentialsType = 2; string credentialsValue = 3; }
PROTO
protoc -I"$T" --encode=transport.ProvisionDeviceRequestMsg "$T/prov.proto" <"$T/req.txt" >"$T/req.bin" || fail "protoc encode"
coap-client-notls -B 5 -m post -f "$T/req.bin" -o "$T/resp.bin" "coap://127.0.0.1:$NBG_PORT/api/v1/provision" || fail "protobuf provision"
protoc -I"$T" --decode=transport.ProvisionDeviceResponseMsg "$T/prov.proto" <"$T/resp.bin" >"$T/resp.txt" || fail "decode"
grep -q 'status: 1' "$T/resp.txt" && grep -q 'credentialsValue: "tok-pb1"' "$T/resp.txt" || fail "protobuf answer: $(cat "$T/resp.txt")"
expect "2.01 " post "api/v1/tok-pb1/telemetry" '{"t":1}'
nbg_stop
ok
