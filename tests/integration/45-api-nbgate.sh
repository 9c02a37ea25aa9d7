#!/bin/sh
# SPDX-License-Identifier: MIT
# nbgate's own admin routes (specs/rest-api.md 9) against the real daemon: Efento sensors with
# unknown tokens show up as pending devices (paged, searched), one is approved with a label and
# its next frame is accepted, another is blocked (listed with blocked=true, its frames answered
# 4.01 but neither counted nor logged, DELETE removes it) and then rejected; deleting an unknown
# entry is 404; a device's event log pages and filters; GET /metrics answers without a
# token in Prometheus' text format with the devices, downlinks and pending counts of the store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v protoc >/dev/null || fail "protoc missing"
tmpdir
api_start "$T/data"
enc() { # enc TOKEN OUT: an Efento measurement frame with TOKEN
    sed "s/example-token-1/$1/" "$ROOT/tests/data/efento/meas_ex14_1.txtpb" |
        (cd "$ROOT" && protoc --encode=ProtoMeasurements -I. proto/efento/proto_measurements.proto) >"$2" ||
        fail "protoc --encode"
}
post() { coap-client-notls -v 6 -B 2 -m post -f "$2" "coap://127.0.0.1:$NBG_PORT/$1" 2>&1 | coap_code; }

api POST /api/deviceProfile '{"name":"efento","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"}}}}'
want 200
EF=$(field .id.id)
enc stranger-1 "$T/s1.bin"
enc stranger-2 "$T/s2.bin"
case $(post efento/m "$T/s1.bin") in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
case $(post efento/m "$T/s2.bin") in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac

# Pending entries.
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&sortProperty=firstSeenTs&sortOrder=ASC'
want 200
[ "$(field '.totalElements, ([.data[].credentialsId] | join(","))' | tr '\n' ' ')" = "2 stranger-1,stranger-2 " ] || fail "pending page: $BODY"
[ "$(field '.data[0] | [.source, .credentialsType, .tokenSource, .serialNumber, .lastMessage, (.attempts | tostring), (.blocked | tostring)] | join(" ")')" = \
    "EFENTO ACCESS_TOKEN payload 282C02424EED m 1 false" ] || fail "pending entry: $BODY"
P1=$(field '.data[0].id')
P2=$(field '.data[1].id')
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&textSearch=GER-2'
[ "$(field '[.data[].credentialsId] | join(",")')" = stranger-2 ] || fail "textSearch: $BODY"
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&blocked=true'
[ "$(field .totalElements)" = 0 ] || fail "blocked filter: $BODY"
api GET '/api/nbgate/pendingDevices?pageSize=10'
want 400 31

# Approve one (the only Efento profile is chosen), with a label; its next frame is accepted.
api POST "/api/nbgate/pendingDevices/$P1/approve" '{"label":"Cold room"}'
want 200
[ "$(field '.name + "|" + .label + "|" + .deviceProfileId.id')" = "Efento 282C02424EED|Cold room|$EF" ] || fail "approve: $BODY"
E1=$(field .id.id)
api GET "/api/device/$E1/credentials"
[ "$(field .credentialsId)" = stranger-1 ] || fail "approved token: $BODY"
case $(post efento/m "$T/s1.bin") in 2.01*) ;; *) fail "approved sensor not accepted" ;; esac
api POST "/api/nbgate/pendingDevices/$P1/approve" '{}'
want 404 32

# Reject with block: the entry stays, blocked; the token's frames are answered 4.01 but neither
# counted nor logged (an unblocked repeat within the minute is logged, not counted).
case $(post efento/m "$T/s2.bin") in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
LOGGED=$(grep -c 'efento unknown token' "$NBG_LOG")
api POST "/api/nbgate/pendingDevices/$P2/reject" '{"block":"yes"}'
want 400 31
api POST "/api/nbgate/pendingDevices/$P2/reject" '{"block":true}'
want 200
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0'
[ "$(field .totalElements)" = 0 ] || fail "blocked entry listed as pending: $BODY"
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&blocked=true'
[ "$(field '[.totalElements, .data[0].id, .data[0].blocked, .data[0].attempts] | map(tostring) | join(" ")')" = "1 $P2 true 1" ] ||
    fail "blocked listing: $BODY"
case $(post efento/m "$T/s2.bin") in 4.01*) ;; *) fail "blocked token not 4.01" ;; esac
case $(post efento/m "$T/s2.bin") in 4.01*) ;; *) fail "blocked token not 4.01" ;; esac
[ "$(grep -c 'efento unknown token' "$NBG_LOG")" = "$LOGGED" ] || fail "a blocked token's frame was logged"
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&blocked=true'
[ "$(field '.data[0].attempts')" = 1 ] || fail "blocked attempts counted: $BODY"
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&blocked=maybe'
want 400 31
# DELETE removes a blocked entry: the token is pending again at its next frame.
api DELETE "/api/nbgate/pendingDevices/$P2"
want 200
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0&blocked=true'
[ "$(field .totalElements)" = 0 ] || fail "deleted blocked entry kept: $BODY"
case $(post efento/m "$T/s2.bin") in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0'
[ "$(field '.totalElements, .data[0].credentialsId, .data[0].blocked' | tr '\n' ' ')" = "1 stranger-2 false " ] ||
    fail "token not pending again: $BODY"
P2=$(field '.data[0].id')
# Reject without block forgets the entry; unknown ids.
api POST "/api/nbgate/pendingDevices/$P2/reject" '{"block":false}'
want 200
api GET '/api/nbgate/pendingDevices?pageSize=10&page=0'
[ "$(field .totalElements)" = 0 ] || fail "rejected entry kept: $BODY"
api DELETE "/api/nbgate/pendingDevices/$P2"
want 404 32
api DELETE /api/nbgate/pendingDevices/not-a-uuid
want 400 31

# The event log of a device: a persistent RPC writes DOWNLINK events.
D=$(device ev1 evtok)
api POST "/api/rpc/twoway/$D" '{"method":"a","persistent":true}'
api POST "/api/rpc/twoway/$D" '{"method":"b","persistent":true}'
api GET "/api/nbgate/device/$D/events?pageSize=1&page=0"
want 200
[ "$(field '.totalElements, .hasNext, .data[0].type, .data[0].details.state' | tr '\n' ' ')" = "2 true DOWNLINK QUEUED " ] ||
    fail "events: $BODY"
NEWEST=$(field '.data[0].details.rpcId')
api GET "/api/nbgate/device/$D/events?pageSize=5&page=0&sortProperty=ts&sortOrder=ASC"
[ "$(field '.data[0].details.rpcId')" -lt "$NEWEST" ] || fail "events ASC: $BODY"
api GET "/api/nbgate/device/$D/events?pageSize=5&page=0&type=CONNECT"
[ "$(field .totalElements)" = 0 ] || fail "type filter: $BODY"
api GET "/api/nbgate/device/$D/events?pageSize=5&page=0&startTime=9999999999999"
[ "$(field .totalElements)" = 0 ] || fail "startTime: $BODY"
api GET "/api/nbgate/device/00000000-0000-4000-8000-000000000000/events?pageSize=5&page=0"
want 404 32

# /metrics: no token, Prometheus text, the store's counts.
# shellcheck disable=SC2034 # api() in apilib.sh reads it
TOKEN=""
CODE=$(curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -o "$T/metrics" \
    -D "$T/headers" -w '%{http_code}' "https://localhost:$NBG_ADMIN_PORT/metrics")
[ "$CODE" = 200 ] || fail "/metrics: $CODE"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" || fail "metrics content type: $(cat "$T/headers")"
grep -Ev '^# (HELP|TYPE) nbgate_' "$T/metrics" | grep -Ev '^nbgate_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$' &&
    fail "metrics lines not in the text format"
grep -q '^nbgate_build_info{version="[0-9.]*"} 1$' "$T/metrics" || fail "build_info: $(cat "$T/metrics")"
grep -q '^nbgate_devices{state="active"} 1$' "$T/metrics" || fail "active devices: $(cat "$T/metrics")"
# The loop's own counters: device API answers by CoAP code (uplinks by code).
grep -Eq '^nbgate_coap_answers_total\{code="2\.01"\} [1-9][0-9]*$' "$T/metrics" ||
    fail "coap answers by code: $(grep coap "$T/metrics")"
grep -q '^nbgate_devices{state="inactive"} 1$' "$T/metrics" || fail "inactive devices: $(cat "$T/metrics")"
grep -q '^nbgate_downlinks{kind="rpc",state="QUEUED"} 2$' "$T/metrics" || fail "downlinks: $(cat "$T/metrics")"
grep -q '^nbgate_pending_devices 0$' "$T/metrics" || fail "pending: $(cat "$T/metrics")"
grep -q '^nbgate_http_requests_total{status="4xx"} [1-9]' "$T/metrics" || fail "http counts: $(cat "$T/metrics")"
grep -q '^nbgate_store_ping_seconds 0\.[0-9]*$' "$T/metrics" || fail "store ping: $(cat "$T/metrics")"
nbg_stop
ok
