#!/bin/sh
# SPDX-License-Identifier: MIT
# Server-side RPC through the admin API (specs/rest-api.md 7) against the real daemon and a
# libcoap client observing /rpc: a persistent two-way RPC queued while nobody listens answers
# {"rpcId"} at once and goes QUEUED -> SENT/DELIVERED -> SUCCESSFUL with the device's answer;
# a lightweight two-way RPC returns the device's answer as the HTTP body; a lightweight one-way
# RPC returns 200 on the ACK; an unanswered one gives 504 (v1 path: 408) and one never sent 504
# (v1: 409); a persistent RPC expires; the per-device listing pages and filters by state;
# delete; ThingsBoard's error body for bad bodies, ids and tokens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
api_start "$T/data"
ID=$(device r1 rtok)
ID2=$(device r2 rtok2)
now_ms() { date +%s%3N; }

# Persistent, queued before the device observes.
api POST "/api/rpc/twoway/$ID" '{"method":"setLed","params":{"on":true},"persistent":true,"timeout":60000,"additionalInfo":{"ticket":42}}'
want 200
RPC1=$(field .rpcId)
[ "$(printf '%s' "$RPC1" | wc -c)" = 36 ] || fail "rpcId: $BODY"
api GET "/api/rpc/persistent/$RPC1"
want 200
[ "$(field '.status + " " + .request.body.method + " " + .request.body.params + " " + (.request.oneway | tostring) + " " + (.additionalInfo.ticket | tostring)')" = \
    'QUEUED setLed {"on":true} false 42' ] || fail "queued rpc: $BODY"
[ "$(field '.id.entityType + " " + .deviceId.id + " " + (.response | tostring)')" = "RPC $ID null" ] || fail "rpc shape: $BODY"

stdbuf -oL coap-client-notls -v 6 -B 60 -m get -s 50 "coap://127.0.0.1:$NBG_PORT/api/v1/rtok/rpc" >"$T/obs" 2>&1 &
obs=$!
wait_for "$T/obs" "'{\"id\":0,\"method\":\"setLed\",\"params\":{\"on\":true}}'"
r=$(coap post "api/v1/rtok/rpc/0" '{"ok":true}')
[ "$r" = "2.01 " ] || fail "rpc answer: $r"
i=0
while :; do
    api GET "/api/rpc/persistent/$RPC1"
    [ "$(field .status)" = SUCCESSFUL ] && break
    i=$((i + 1))
    [ $i -gt 100 ] && fail "not SUCCESSFUL: $BODY"
    sleep 0.05
done
[ "$(field .response.ok)" = true ] || fail "response: $BODY"

# Lightweight two-way: the HTTP request waits for the device's answer.
( TOKEN=$TOKEN api POST "/api/rpc/twoway/$ID" '{"method":"getTemp","params":"x","timeout":8000}'
  printf '%s %s' "$CODE" "$BODY" >"$T/tw" ) &
waiter=$!
wait_for "$T/obs" "'{\"id\":1,\"method\":\"getTemp\",\"params\":\"x\"}'"
r=$(coap post "api/v1/rtok/rpc/1" '{"t":21}')
[ "$r" = "2.01 " ] || fail "rpc answer: $r"
wait "$waiter"
[ "$(cat "$T/tw")" = '200 {"t":21}' ] || fail "lightweight two-way: $(cat "$T/tw")"

# Lightweight one-way: 200 once the device acknowledged the notification.
api POST "/api/rpc/oneway/$ID" '{"method":"reboot","timeout":8000}'
want 200
[ -z "$BODY" ] || fail "one-way body: $BODY"
grep -q "'{\"id\":2,\"method\":\"reboot\",\"params\":null}'" "$T/obs" || fail "one-way not sent"

# Sent but never answered: 504 on /api/rpc, 408 on /api/plugins/rpc.
api POST "/api/rpc/twoway/$ID" "{\"method\":\"silent\",\"expirationTime\":$(($(now_ms) + 1500))}"
want 504 2
api POST "/api/plugins/rpc/twoway/$ID" "{\"method\":\"silent\",\"expirationTime\":$(($(now_ms) + 1500))}"
want 408 2

# A persistent one-way RPC ends DELIVERED.
api POST "/api/rpc/oneway/$ID" '{"method":"blink","persistent":true}'
want 200
RPC2=$(field .rpcId)
i=0
while :; do
    api GET "/api/rpc/persistent/$RPC2"
    [ "$(field .status)" = DELIVERED ] && break
    i=$((i + 1))
    [ $i -gt 100 ] && fail "one-way not DELIVERED: $BODY"
    sleep 0.05
done
kill "$obs" 2>/dev/null
wait "$obs" 2>/dev/null

# Nobody observes r2: never sent -> 504 on /api/rpc, 409 on /api/plugins/rpc; persistent expires.
api POST "/api/rpc/twoway/$ID2" "{\"method\":\"late\",\"expirationTime\":$(($(now_ms) + 800))}"
want 504 2
api POST "/api/plugins/rpc/twoway/$ID2" "{\"method\":\"late\",\"expirationTime\":$(($(now_ms) + 800))}"
want 409 2
api POST "/api/rpc/twoway/$ID2" "{\"method\":\"gone\",\"persistent\":true,\"expirationTime\":$(($(now_ms) + 300)),\"retries\":2}"
want 200
RPC3=$(field .rpcId)
sleep 1
i=0
while :; do
    api GET "/api/rpc/persistent/$RPC3"
    [ "$(field .status)" = EXPIRED ] && break
    i=$((i + 1))
    [ $i -gt 100 ] && fail "not EXPIRED: $BODY"
    sleep 0.05
done
[ "$(field .request.retries)" = 2 ] || fail "retries: $BODY"

# The listing holds the persistent RPCs only, pages, sorts and filters by state.
api GET "/api/rpc/persistent/device/$ID?pageSize=1&page=0&sortProperty=createdTime&sortOrder=ASC"
want 200
[ "$(field '.totalElements, .totalPages, .hasNext, (.data | length)' | tr '\n' ' ')" = "2 2 true 1 " ] || fail "rpc page: $BODY"
[ "$(field '.data[0].id.id')" = "$RPC1" ] || fail "rpc order: $BODY"
api GET "/api/rpc/persistent/device/$ID?pageSize=1&page=1&sortProperty=createdTime&sortOrder=ASC"
want 200
[ "$(field '([.data[].id.id] | join(",")) + " " + (.hasNext | tostring)')" = "$RPC2 false" ] || fail "rpc page 2: $BODY"
api GET "/api/rpc/persistent/device/$ID?pageSize=5&page=0&sortProperty=createdTime&sortOrder=DESC"
want 200
[ "$(field '[.data[].id.id] | join(",")')" = "$RPC2,$RPC1" ] || fail "rpc DESC: $BODY"
api GET "/api/rpc/persistent/device/$ID?pageSize=10&page=0&rpcStatus=DELIVERED"
want 200
[ "$(field '[.data[].id.id] | join(",")')" = "$RPC2" ] || fail "status filter: $BODY"
api GET "/api/rpc/persistent/device/$ID?pageSize=10&page=0&rpcStatus=DELETED"
want 400 31
api GET "/api/rpc/persistent/device/$ID?pageSize=10&page=0&sortProperty=method"
want 400 31
api GET "/api/rpc/persistent/device/$ID?page=0"
want 400 31

# Delete.
api DELETE "/api/rpc/persistent/$RPC3"
want 200
api GET "/api/rpc/persistent/$RPC3"
want 404 32
api DELETE "/api/rpc/persistent/$RPC3"
want 404 32

# Refusals.
api POST "/api/rpc/twoway/$ID" '{"method":'
want 400 31
want_msg "Invalid request body"
api POST "/api/rpc/twoway/$ID" '{"params":1}'
want 400 31
api POST "/api/rpc/twoway/$ID" '{"method":"m","timeout":"soon"}'
want 400 31
api POST "/api/rpc/twoway/$ID" '{"method":"m","requestUUID":"nope"}'
want 400 31
api POST /api/rpc/twoway/00000000-0000-4000-8000-000000000000 '{"method":"m"}'
want 404 32
api POST /api/rpc/twoway/not-a-uuid '{"method":"m"}'
want 400 31
api GET /api/rpc/persistent/00000000-0000-4000-8000-000000000000
want 404 32
api POST "/api/rpc/oneway/$ID" "{\"method\":\"dup\",\"persistent\":true,\"requestUUID\":\"$RPC1\"}"
want 400 31
TOKEN=""
api POST "/api/rpc/oneway/$ID" '{"method":"m","persistent":true}'
want 401 10
[ "$(sql "SELECT count(*) FROM downlink WHERE method = 'm'")" = 0 ] || fail "unauthenticated RPC queued"
nbg_stop
ok
