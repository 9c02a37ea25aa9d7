#!/bin/sh
# SPDX-License-Identifier: MIT
# A Protobuf device with ThingsBoard's default schemas, talking to nbgate as to ThingsBoard
# (spec 14.4, 14.5): attribute requests answered with GetAttributeResponseMsg, attribute updates
# as AttributeUpdateNotificationMsg over Observe, a server-side RPC as RpcRequestMsg over Observe
# answered with RpcResponseMsg, and client-side RPC with ToServerRpcResponseMsg. Every message is
# encoded and decoded with protoc from the definitions below, never by hand.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
cat >"$T/pb.json" <<'JSON'
{"transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP",
 "coapDeviceTypeConfiguration":{"coapDeviceType":"DEFAULT",
  "transportPayloadTypeConfiguration":{"transportPayloadType":"PROTOBUF"}}}}}
JSON
nbg profile add pb --json "$T/pb.json" >/dev/null || fail "profile add"
nbg device add d1 --token pbtok --profile pb >/dev/null || fail "device add"
cat >"$T/t.proto" <<'PROTO'
syntax = "proto3";
package transport;
enum KeyValueType { BOOLEAN_V = 0; LONG_V = 1; DOUBLE_V = 2; STRING_V = 3; JSON_V = 4; }
message KeyValueProto { string key = 1; KeyValueType type = 2; bool bool_v = 3; int64 long_v = 4;
  double double_v = 5; string string_v = 6; string json_v = 7; }
message TsKvProto { int64 ts = 1; KeyValueProto kv = 2; optional int64 version = 3; }
message AttributeUpdateNotificationMsg { repeated TsKvProto sharedUpdated = 1; repeated string sharedDeleted = 2; }
message GetAttributeResponseMsg { int32 requestId = 1; repeated TsKvProto clientAttributeList = 2;
  repeated TsKvProto sharedAttributeList = 3; bool isMultipleAttributesRequest = 4; string error = 5;
  bool sharedStateMsg = 6; }
message ToServerRpcResponseMsg { int32 requestId = 1; string payload = 2; string error = 3; }
message RpcRequest { string method = 1; string params = 2; }
message SensorConfiguration { optional string firmwareVersion = 1; optional string serialNumber = 2; }
message RpcRequestMsg { optional string method = 1; optional int32 requestId = 2; optional string params = 3; }
message RpcResponseMsg { optional string payload = 1; }
PROTO
enc() { printf '%s\n' "$2" | protoc -I"$T" --encode="transport.$1" "$T/t.proto"; }
dec() { protoc -I"$T" --decode="transport.$1" "$T/t.proto"; }
URL="coap://127.0.0.1:$NBG_PORT/api/v1/pbtok"

# Client attributes in the profile's schema, then a request answered with GetAttributeResponseMsg.
enc SensorConfiguration 'firmwareVersion: "1.0.7" serialNumber: "SN-1"' >"$T/attr.bin"
coap-client-notls -B 5 -m post -f "$T/attr.bin" "$URL/attributes" || fail "attributes post"
nbg attributes set d1 '{"target":21.5}' || fail "shared"
coap-client-notls -B 5 -m get -o "$T/get.bin" "$URL/attributes?clientKeys=firmwareVersion&sharedKeys=target" ||
    fail "attributes get"
dec GetAttributeResponseMsg <"$T/get.bin" >"$T/get.txt" || fail "GetAttributeResponseMsg does not decode"
grep -q 'key: "firmwareVersion"' "$T/get.txt" && grep -q 'string_v: "1.0.7"' "$T/get.txt" ||
    fail "client attribute missing: $(cat "$T/get.txt")"
grep -q 'key: "target"' "$T/get.txt" && grep -q 'double_v: 21.5' "$T/get.txt" ||
    fail "shared attribute missing: $(cat "$T/get.txt")"
grep -q 'isMultipleAttributesRequest: true' "$T/get.txt" || fail "isMultipleAttributesRequest"

# Observe attributes: first answer = all shared, then an update and a deletion.
stdbuf -oL coap-client-notls -v 6 -B 40 -m get -s 30 -o "$T/obs-attr.bin" "$URL/attributes" >"$T/obs-attr" 2>&1 &
obs1=$!
i=0
until grep -aq "Observe:0" "$T/obs-attr"; do i=$((i + 1)); [ $i -gt 200 ] && fail "no first answer"; sleep 0.05; done
grep -aq "Content-Format:application/octet-stream" "$T/obs-attr" || fail "Protobuf answers must be Content-Format 42"
nbg attributes set d1 '{"mode":"eco"}' || fail "set mode"
nbg attributes delete d1 target || fail "delete target"
i=0
until [ "$(nbg downlinks d1 | grep -c DELIVERED)" -ge 3 ]; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "updates not delivered: $(nbg downlinks d1)"; sleep 0.05
done
kill "$obs1"; wait "$obs1" 2>/dev/null

# Observe RPC: the RPC arrives as RpcRequestMsg, the device answers with RpcResponseMsg.
stdbuf -oL coap-client-notls -v 6 -B 40 -m get -s 30 "$URL/rpc" >"$T/obs-rpc" 2>&1 &
obs2=$!
i=0
until grep -aq "c:2.03" "$T/obs-rpc"; do i=$((i + 1)); [ $i -gt 200 ] && fail "no 2.03"; sleep 0.05; done
nbg rpc d1 setMode '"eco"' >/dev/null || fail "rpc"
i=0
until grep -aq "Observe:1.* :: " "$T/obs-rpc"; do i=$((i + 1)); [ $i -gt 200 ] && fail "no RPC: $(cat "$T/obs-rpc")"; sleep 0.05; done
grep -a "Observe:1" "$T/obs-rpc" | grep -q "application/octet-stream" || fail "RPC not Content-Format 42"
enc RpcResponseMsg 'payload: "done"' >"$T/resp.bin"
coap-client-notls -B 5 -m post -f "$T/resp.bin" "$URL/rpc/0" || fail "rpc response"
i=0
until nbg downlinks d1 | grep -q SUCCESSFUL; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "rpc not SUCCESSFUL: $(nbg downlinks d1)"; sleep 0.05
done
nbg downlinks d1 --json | grep -q '"response":"{\\"payload\\":\\"done\\"}"' || fail "response: $(nbg downlinks d1 --json)"
# An RPC whose params do not fit the schema (an object for a string field) fails; the
# observation stays.
nbg rpc d1 bad '{"a":1}' >/dev/null || fail "rpc bad"
i=0
until nbg downlinks d1 | grep -q 'FAILED .*bad'; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "unencodable RPC not FAILED: $(nbg downlinks d1)"; sleep 0.05
done
kill -0 "$obs2" || fail "observation ended"
kill "$obs2"; wait "$obs2" 2>/dev/null

# Client-side RPC: transportapi.RpcRequest in, ToServerRpcResponseMsg out.
enc RpcRequest 'method: "getCurrentTime" params: "{}"' >"$T/crpc.bin"
coap-client-notls -B 5 -m post -f "$T/crpc.bin" -o "$T/crpc-out.bin" "$URL/rpc" || fail "client rpc"
dec ToServerRpcResponseMsg <"$T/crpc-out.bin" | grep -q 'payload: "{\\"currentTime\\":' ||
    fail "client rpc reply: $(dec ToServerRpcResponseMsg <"$T/crpc-out.bin")"
nbg_stop
ok
