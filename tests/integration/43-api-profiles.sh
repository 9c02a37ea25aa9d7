#!/bin/sh
# SPDX-License-Identifier: MIT
# Device profiles through the admin API (specs/rest-api.md 5) against the real daemon: the
# default profile; a COAP/EFENTO and a COAP/DEFAULT/PROTOBUF profile survive save -> get -> save
# unchanged apart from version (Efento members and default RPC schemas included); a broken schema
# is refused with protoc's line:column; name, transport, duplicate, default and version checks;
# a rename reaches the devices' type; paging, search, infos with a transport filter; set default;
# deletion rules; RPC refused for an Efento device and checked against a Protobuf RPC schema.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v protoc >/dev/null || fail "protoc (protobuf-compiler) is not installed"
tmpdir
api_start "$T/data"
strip='del(.version, .createdTime)'

api GET /api/deviceProfileInfo/default
want 200
[ "$(field '.name + " " + .type + " " + .id.entityType')" = "default DEFAULT DEVICE_PROFILE" ] || fail "default info: $BODY"
DEF=$(field .id.id)

# An Efento profile: the Efento members survive a round trip.
api POST /api/deviceProfile '{"name":"Efento NB-IoT","description":"Efento sensors","transportType":"COAP","profileData":{"configuration":{"type":"DEFAULT"},"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO","autoAccept":false,"clockSyncThresholdS":60,"requestRetryS":3600,"downlinkExpiryS":2678400,"confirmTimeoutS":3600},"clientSettings":{"powerMode":"PSM","psmActivityTimer":10000,"edrxCycle":null,"pagingTransmissionWindow":null}},"provisionConfiguration":{"type":"DISABLED","provisionDeviceSecret":null}}}'
want 200
EF=$(field .id.id)
[ "$(field '.version, .default, .profileData.transportConfiguration.coapDeviceTypeConfiguration.coapDeviceType, .profileData.transportConfiguration.clientSettings.powerMode, .tenantId.entityType, (.firmwareId | tostring), (.profileData.alarms | tostring)' | tr '\n' ' ')" = \
    "1 false EFENTO PSM TENANT null null " ] || fail "efento profile: $BODY"
printf '%s' "$BODY" >"$T/ef1"
api GET "/api/deviceProfile/$EF"
want 200
printf '%s' "$BODY" >"$T/ef2"
api POST /api/deviceProfile "$BODY"
want 200
[ "$(field .version)" = 2 ] || fail "version after save: $BODY"
[ "$(jq -S "$strip" "$T/ef2")" = "$(printf '%s' "$BODY" | jq -S "$strip")" ] || fail "efento round trip changed the profile"
[ "$(jq -S "$strip" "$T/ef1")" = "$(jq -S "$strip" "$T/ef2")" ] || fail "save answer differs from get"

# A Protobuf profile without RPC schemas gets ThingsBoard's defaults, and keeps them.
SCHEMA=$(jq -Rs . "$ROOT/tests/data/proto/tb_telemetry.proto")
PB_BODY="{\"name\":\"pb\",\"transportType\":\"COAP\",\"profileData\":{\"transportConfiguration\":{\"type\":\"COAP\",\"coapDeviceTypeConfiguration\":{\"coapDeviceType\":\"DEFAULT\",\"transportPayloadTypeConfiguration\":{\"transportPayloadType\":\"PROTOBUF\",\"deviceTelemetryProtoSchema\":$SCHEMA,\"deviceAttributesProtoSchema\":$SCHEMA}}}}}"
api POST /api/deviceProfile "$PB_BODY"
want 200
PB=$(field .id.id)
PTC='.profileData.transportConfiguration.coapDeviceTypeConfiguration.transportPayloadTypeConfiguration'
field "$PTC.deviceRpcRequestProtoSchema" | grep -q 'message RpcRequestMsg' || fail "default RPC schema: $BODY"
printf '%s' "$BODY" >"$T/pb1"
api POST /api/deviceProfile "$BODY"
want 200
[ "$(jq -S "$strip" "$T/pb1")" = "$(printf '%s' "$BODY" | jq -S "$strip")" ] || fail "protobuf round trip changed the profile"

# A broken schema: protoc's message with line:column; nothing stored.
api POST /api/deviceProfile '{"name":"broken","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"DEFAULT","transportPayloadTypeConfiguration":{"transportPayloadType":"PROTOBUF","deviceTelemetryProtoSchema":"syntax = \"proto3\";\nmessage Reading {\n  double t = 1\n}\n","deviceAttributesProtoSchema":"syntax = \"proto3\";\nmessage A { int32 a = 1; }\n"}}}}}'
want 400 31
printf '%s' "$(field .message)" | grep -Eq '^deviceTelemetryProtoSchema: telemetry\.proto:4:1: Expected ";"' || fail "protoc message: $BODY"
[ "$(sql "SELECT count(*) FROM device_profile WHERE name = 'broken'")" = 0 ] || fail "broken profile stored"

# Checks.
api POST /api/deviceProfile '{"transportType":"COAP"}'
want 400 31
want_msg "Device profile name should be specified!"
api POST /api/deviceProfile '{"name":"x"}'
want 400 31
want_msg "Device profile transport type should be specified!"
api POST /api/deviceProfile '{"name":"x","transportType":"MQTT"}'
want 400 31
want_msg "Transport type MQTT is not supported"
api POST /api/deviceProfile '{"name":"pb","transportType":"DEFAULT"}'
want 400 31
want_msg "Device profile with such name already exists!"
api POST /api/deviceProfile '{"name":"d2","transportType":"DEFAULT","default":true}'
want 400 31
want_msg "Another default device profile is present in scope of current tenant!"
api POST /api/deviceProfile '{"name":"x","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","clientSettings":{"powerMode":"SLEEP"}}}}'
want 400 31
api POST /api/deviceProfile '{"name":'
want 400 31
api POST /api/deviceProfile "{\"id\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"00000000-0000-4000-8000-000000000000\"},\"name\":\"x\",\"transportType\":\"DEFAULT\"}"
want 404 32

# Optimistic locking: a stale version is 409/35, null overwrites.
api GET "/api/deviceProfile/$EF"
printf '%s' "$BODY" | jq -c '.description = "stale" | .version = 1' >"$T/stale"
api POST /api/deviceProfile "$(cat "$T/stale")"
want 409 35
api POST /api/deviceProfile "$(jq -c '.version = null' "$T/stale")"
want 200
[ "$(field '.description + " " + (.version | tostring)')" = "stale 3" ] || fail "null version: $BODY"

# A device of the Efento profile; a rename reaches its type; RPC is refused for it.
api POST /api/device "{\"name\":\"e1\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$EF\"}}"
want 200
E1=$(field .id.id)
api GET "/api/deviceProfile/$EF"
api POST /api/deviceProfile "$(printf '%s' "$BODY" | jq -c '.name = "Efento cold"')"
want 200
[ "$(field .name)" = "Efento cold" ] || fail "rename: $BODY"
api GET "/api/device/$E1"
[ "$(field .type)" = "Efento cold" ] || fail "device type after rename: $BODY"
api POST "/api/rpc/twoway/$E1" '{"method":"m","persistent":true}'
want 400 31
want_msg "RPC is not supported for Efento devices; use the Efento configuration queue"
api GET "/api/deviceProfile/$EF"
api POST /api/deviceProfile "$(printf '%s' "$BODY" | jq -c '.transportType = "DEFAULT" | .profileData.transportConfiguration = {"type":"DEFAULT"}')"
want 400 31
want_msg "Can't change device profile transport type because devices referenced it!"

# RPC params are checked against a Protobuf profile's RPC request schema (params: string).
api POST /api/device "{\"name\":\"p1\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$PB\"}}"
P1=$(field .id.id)
api POST "/api/rpc/twoway/$P1" '{"method":"m","params":{"a":1},"persistent":true}'
want 400 31
printf '%s' "$(field .message)" | grep -q '^deviceRpcRequestProtoSchema: ' || fail "schema check: $BODY"
api POST "/api/rpc/twoway/$P1" '{"method":"m","params":"text","persistent":true}'
want 200

# Pages, search, infos with the transport filter.
api POST /api/deviceProfile '{"name":"plain","transportType":"DEFAULT","description":"zzz"}'
want 200
PLAIN=$(field .id.id)
api GET '/api/deviceProfiles?pageSize=2&page=0&sortProperty=name&sortOrder=ASC'
want 200
[ "$(field '.totalElements, .totalPages, .hasNext, ([.data[].name] | join(","))' | tr '\n' ' ')" = "4 2 true Efento cold,default " ] ||
    fail "profiles page: $BODY"
api GET '/api/deviceProfiles?pageSize=10&page=0&textSearch=EFENTO'
[ "$(field '[.data[].name] | join(",")')" = "Efento cold" ] || fail "textSearch: $BODY"
api GET '/api/deviceProfiles?pageSize=10&page=0&sortProperty=description&sortOrder=DESC'
[ "$(field '.data[0].name')" = plain ] || fail "sort by description: $BODY"
api GET '/api/deviceProfileInfos?pageSize=10&page=0&transportType=DEFAULT'
want 200
[ "$(field '([.data[].name] | join(",")) + " " + (.data[0] | keys | join(","))')" = \
    "plain defaultDashboardId,id,image,name,tenantId,transportType,type" ] || fail "infos: $BODY"
api GET '/api/deviceProfiles?pageSize=10&page=0&sortProperty=colour'
want 400 31

# Default profile switch, deletion rules.
api POST "/api/deviceProfile/$PLAIN/default"
want 200
[ "$(field .default)" = true ] || fail "set default: $BODY"
api GET "/api/deviceProfile/$DEF"
[ "$(field .default)" = false ] || fail "old default kept its flag: $BODY"
api DELETE "/api/deviceProfile/$PLAIN"
want 400 31
want_msg "Deletion of Default Device Profile is prohibited!"
api DELETE "/api/deviceProfile/$EF"
want 400 31
want_msg "The device profile referenced by the devices cannot be deleted!"
api DELETE "/api/deviceProfile/$DEF"
want 200
api GET "/api/deviceProfile/$DEF"
want 404 32
api DELETE "/api/deviceProfile/$DEF"
want 404 32
api GET /api/deviceProfileInfo/not-a-uuid
want 400 31
nbg_stop
ok
