#!/bin/sh
# SPDX-License-Identifier: MIT
# A device's whole downlink queue through the admin API (docs/API.md) against the real daemon:
# a shared attribute update queued while nobody observes, a persistent RPC, and an Efento
# settings entry are listed with their kinds, states and bodies (paged, newest first or oldest
# first, filtered by kind and state); a QUEUED attribute update is cancelled and a real
# coap-client observer of /attributes proves that the cancelled update is never notified while
# the update queued next to it is (the device sleeps in PSM until its next uplink); a sent entry
# cannot be cancelled (400), unknown ids are 404, bad parameters 400, no token 401.
# GET /api/nbgate/connectivity reports the daemon's real CoAP port, and its DTLS port and
# certificate fingerprint once the daemon runs with DTLS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
api_start "$T/data"
D=$(device d1 dtok)
D2=$(device d2 dtok2)
nbg device set-power d1 '{"type":"COAP","powerMode":"PSM","psmActivityTimer":1500}' || fail "set-power"
Q="/api/nbgate/device/$D/downlinks"
# lst QUERY: one page of d1's queue into BODY.
lst() {
    api GET "$Q?$1"
    want 200
}

# Queue one of each kind (no observer: the attribute update waits as ATTRIBUTES).
api POST "/api/plugins/telemetry/DEVICE/$D/attributes/SHARED_SCOPE" '{"cancelMe":1}'
want 200
api POST "/api/rpc/twoway/$D" '{"method":"setInterval","params":{"s":60},"persistent":true,"timeout":60000}'
want 200
RPC=$(field .rpcId)
api POST /api/deviceProfile '{"name":"efento","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"}}}}'
want 200
EF=$(field .id.id)
api POST "/api/device?accessToken=etok" "{\"name\":\"e1\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$EF\"}}"
want 200
E=$(field .id.id)
api POST "/api/nbgate/device/$E/efentoConfig" '{"settings":{"measurementPeriodBase":60,"transmissionInterval":900}}'
want 200
EFE=$(field .id)

# The listing: newest first, every member, bodies parsed.
lst 'pageSize=10&page=0'
[ "$(field '[.totalElements, .totalPages, .hasNext, (.data | length)] | map(tostring) | join(" ")')" = \
    "2 1 false 2" ] || fail "totals: $BODY"
[ "$(field '[.data[] | .kind + ":" + .state] | join(" ")')" = "RPC:QUEUED ATTRIBUTES:QUEUED" ] || fail "order: $BODY"
[ "$(field '.data[0] | [.id, .deviceId.id, .body.method, (.body.params | tojson), (.body.oneway | tostring),
    (.maxRetries | tostring), (.retries | tostring), (.sentTime | tostring), (.response | tostring), .summary] | join("|")')" = \
    "$RPC|$D|setInterval|{\"s\":60}|false|5|0|null|null|setInterval({\"s\":60}), two-way" ] || fail "rpc entry: $BODY"
[ "$(field '.data[1] | [(.body | tojson), .summary, (.deliveredTime | tostring), (.completedTime | tostring),
    (.expirationTime > .createdTime | tostring)] | join("|")')" = \
    '{"updated":["cancelMe"],"deleted":[]}|set cancelMe|null|null|true' ] || fail "attribute entry: $BODY"
ATTR=$(field '.data[1].id')
lst 'pageSize=10&page=0&sortOrder=ASC'
[ "$(field '[.data[].kind] | join(" ")')" = "ATTRIBUTES RPC" ] || fail "ASC: $BODY"
lst 'pageSize=10&page=0&sortProperty=createdTime&sortOrder=ASC'
[ "$(field '[.data[].kind] | join(" ")')" = "ATTRIBUTES RPC" ] ||
    fail "ASC by createdTime: $BODY"
lst 'pageSize=1&page=1'
[ "$(field '[(.data | length), .data[0].kind, .totalPages, .hasNext] | map(tostring) | join(" ")')" = \
    "1 ATTRIBUTES 2 false" ] || fail "paging: $BODY"
lst 'pageSize=1&page=0'
[ "$(field '.hasNext')" = true ] || fail "hasNext: $BODY"
lst 'pageSize=10&page=5'
[ "$(field '[(.data | length), .totalElements] | map(tostring) | join(" ")')" = "0 2" ] ||
    fail "past the end: $BODY"
lst 'pageSize=10&page=0&kind=RPC'
[ "$(field '[.totalElements, .data[0].kind] | map(tostring) | join(" ")')" = "1 RPC" ] ||
    fail "kind filter: $BODY"
lst 'pageSize=10&page=0&state=SENT'
[ "$(field '.totalElements')" = 0 ] || fail "state filter: $BODY"
lst 'pageSize=10&page=0&kind=ATTRIBUTES&state=QUEUED'
[ "$(field '.data[0].id')" = "$ATTR" ] || fail "both filters: $BODY"
api GET "/api/nbgate/device/$E/downlinks?pageSize=10&page=0"
want 200
[ "$(field '.data[0] | [.id, .kind, .state, (.body | tojson), .summary] | join("|")')" = \
    "$EFE|EFENTO_CONFIG|QUEUED|{\"measurementPeriodBase\":60,\"transmissionInterval\":900}|measurementPeriodBase=60, transmissionInterval=900" ] ||
    fail "efento entry: $BODY"

# Refusals: bad parameters, unknown ids, no token.
for q in 'page=0' 'pageSize=0&page=0' 'pageSize=10&page=0&kind=RPCS' 'pageSize=10&page=0&state=queued' \
    'pageSize=10&page=0&sortOrder=UP' 'pageSize=10&page=0&sortProperty=name'; do
    api GET "$Q?$q"
    want 400 31
done
api GET "$Q?pageSize=10&page=0&kind=RPCS"
want_msg "Invalid kind: RPCS (RPC, ATTRIBUTES or EFENTO_CONFIG)"
api GET "$Q?pageSize=10&page=0&state=queued"
want_msg "Invalid state: queued"
api GET "/api/nbgate/device/00000000-0000-4000-8000-000000000000/downlinks?pageSize=10&page=0"
want 404 32
api GET "/api/nbgate/device/not-a-uuid/downlinks?pageSize=10&page=0"
want 400 31
api DELETE "$Q/00000000-0000-4000-8000-000000000000"
want 404 32
api DELETE "/api/nbgate/device/$D2/downlinks/$ATTR"
want 404 32
api DELETE "$Q/xyz"
want 400 31
SAVED=$TOKEN
TOKEN=""
api GET "$Q?pageSize=10&page=0"
want 401 10
api DELETE "$Q/$ATTR"
want 401 10
TOKEN=$SAVED

# Cancel the waiting attribute update and the Efento entry (any kind goes through this route).
api DELETE "$Q/$ATTR"
want 200
lst 'pageSize=10&page=0'
[ "$(field '[.data[].kind] | join(" ")')" = "RPC" ] || fail "cancelled entry listed: $BODY"
api DELETE "$Q/$ATTR"
want 404 32
api DELETE "/api/nbgate/device/$E/downlinks/$EFE"
want 200
api GET "/api/nbgate/device/$E/efentoConfig?pageSize=10&page=0"
[ "$(field .totalElements)" = 0 ] || fail "cancelled Efento entry kept: $BODY"
api GET "/api/nbgate/device/$D/events?pageSize=50&page=0&type=DOWNLINK"
printf '%s' "$BODY" | jq -e '[.data[].details | select(.state == "CANCELLED" and .kind == "ATTRIBUTES")] | length == 1' \
    >/dev/null || fail "no CANCELLED event: $BODY"

# A real observer: its registration is an uplink (awake 1.5 s, then asleep). Two updates are
# queued while it sleeps, one is cancelled, then an uplink wakes it: only the other is notified.
stdbuf -oL coap-client-notls -v 6 -B 40 -m get -s 30 "coap://127.0.0.1:$NBG_PORT/api/v1/dtok/attributes" \
    >"$T/obs" 2>&1 &
obs=$!
wait_for "$T/obs" 'Observe:0'
grep -q "Observe:0.* :: '{\"cancelMe\":1}'" "$T/obs" || fail "registration answer (the stored value): $(cat "$T/obs")"
sleep 2
api POST "/api/plugins/telemetry/DEVICE/$D/attributes/SHARED_SCOPE" '{"cancelMe":2}'
want 200
api POST "/api/plugins/telemetry/DEVICE/$D/attributes/SHARED_SCOPE" '{"keepMe":3}'
want 200
lst 'pageSize=10&page=0&kind=ATTRIBUTES&state=QUEUED'
[ "$(field '[.data[].summary] | join(",")')" = "set keepMe,set cancelMe" ] ||
    fail "sleeping device got the updates: $BODY"
DROP=$(field '.data[1].id')
KEEP=$(field '.data[0].id')
api DELETE "$Q/$DROP"
want 200
r=$(coap post "api/v1/dtok/telemetry" '{"wake":1}')
[ "$r" = "2.01 " ] || fail "uplink: $r"
wait_for "$T/obs" 'Observe:1'
grep -q "Observe:1.* :: '{\"keepMe\":3}'" "$T/obs" || fail "notification: $(cat "$T/obs")"
i=0
until lst 'pageSize=10&page=0&kind=ATTRIBUTES' && [ "$(field '.data[0].state')" = DELIVERED ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "not DELIVERED: $BODY"
    sleep 0.05
done
[ "$(field '.data[0] | [.id, (.sentTime > 0), (.deliveredTime > 0), (.completedTime > 0)] | map(tostring) | join(" ")')" = \
    "$KEEP true true true" ] || fail "delivered entry: $BODY"
# Later uplinks and a second registration bring nothing of the cancelled update either.
r=$(coap post "api/v1/dtok/telemetry" '{"wake":2}')
sleep 1
kill "$obs" 2>/dev/null
wait "$obs" 2>/dev/null
# (coap-client also prints each payload raw, unterminated: read only the -v 6 PDU summaries.)
grep -ao "Observe:[0-9]*[^']* :: '[^']*'" "$T/obs" | grep -v '^Observe:0' | grep -q cancelMe &&
    fail "cancelled update notified: $(cat "$T/obs")"
grep -q 'Observe:2' "$T/obs" && fail "an extra notification: $(cat "$T/obs")"
api GET "/api/plugins/telemetry/DEVICE/$D/values/attributes/SHARED_SCOPE?keys=cancelMe"
[ "$(field '.[0].value')" = 2 ] || fail "the cancelled update's value is not kept: $BODY"
# A sent or finished entry stays.
api DELETE "$Q/$KEEP"
want 400 31
want_msg "Only a QUEUED entry can be cancelled"

# Connectivity: the real CoAP port; DTLS off.
api GET /api/nbgate/connectivity
want 200
[ "$(field '[.coap.enabled, .coap.bindAddress, .coap.port, .coaps.enabled, .coaps.certificateSha256,
    (.efento.endpoints | index("efento/m") != null)] | map(tostring) | join(" ")')" = \
    "true 127.0.0.1 $NBG_PORT false null true" ] || fail "connectivity: $BODY"
TOKEN=""
api GET /api/nbgate/connectivity
want 401 10
nbg_stop

# With DTLS (the appliance certificate): its port and fingerprint.
DP=$(freeport)
nbg_start "$T/data" NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1 COAP_DTLS_ENABLED=true COAP_DTLS_BIND_ADDRESS=127.0.0.1 \
    COAP_DTLS_BIND_PORT="$DP"
FP=$(sed -n 's/.*dtls certificate subject=.* sha256=\([0-9a-f]*\) source=appliance.*/\1/p' "$NBG_LOG" | tail -n 1)
[ -n "$FP" ] || fail "no DTLS fingerprint in the log"
api POST /api/auth/login '{"username":"api@example.com","password":"api-secret"}'
want 200
TOKEN=$(field .token)
api GET /api/nbgate/connectivity
want 200
[ "$(field '[.coap.port, .coaps.enabled, .coaps.bindAddress, .coaps.port, .coaps.certificateSha256] | map(tostring) | join(" ")')" = \
    "$NBG_PORT true 127.0.0.1 $DP $FP" ] || fail "connectivity with DTLS: $BODY"
nbg_stop
ok
