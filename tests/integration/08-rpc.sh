#!/bin/sh
# SPDX-License-Identifier: MIT
# RPC (spec 7): a device observes /rpc (2.03, Observe 0), receives a two-way RPC queued by the
# operator as a CON notification {"id","method","params"}, answers it with POST /rpc/{id} and the
# entry ends SUCCESSFUL with the device's answer; a one-way RPC ends DELIVERED on the ACK; an RPC
# queued while nobody observes waits and goes out when the device subscribes; a late or unknown
# id still gets 2.01; client-side RPC answers its built-in methods and refuses bad bodies.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
nbg device add r1 --token rtok >/dev/null || fail "device add"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
wait_for() { # wait_for FILE PATTERN
    i=0
    until grep -q "$2" "$1"; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "timeout waiting for $2 in $1: $(cat "$1")"; sleep 0.05
    done
}

# Queued before the device subscribes: it waits (QUEUED), then goes out after the 2.03.
nbg rpc r1 setLed '{"on":true}' >"$T/q1" || fail "rpc queue"
grep -q 'queued id=1 rpc_id=0' "$T/q1" || fail "first rpc id: $(cat "$T/q1")"
nbg downlinks r1 | grep -q 'QUEUED' || fail "not queued: $(nbg downlinks r1)"
stdbuf -oL coap-client-notls -v 6 -B 70 -m get -s 60 "coap://127.0.0.1:$NBG_PORT/api/v1/rtok/rpc" >"$T/obs" 2>&1 &
obs=$!
wait_for "$T/obs" "c:2.03 .*Observe:0"
wait_for "$T/obs" "t:CON c:2.05 .*Observe:1.* :: '{\"id\":0,\"method\":\"setLed\",\"params\":{\"on\":true}}'"
# Answer it; the operator's waiting command sees SUCCESSFUL and the response.
expect "2.01 " post "api/v1/rtok/rpc/0" '{"ok":true}'
i=0
until nbg downlinks r1 | grep -q SUCCESSFUL; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "not SUCCESSFUL: $(nbg downlinks r1)"; sleep 0.05
done
nbg downlinks r1 --json | grep -q '"response":"{\\"ok\\":true}"' || fail "response not stored: $(nbg downlinks r1 --json)"

# Two-way RPC with --wait while observing: the operator gets the answer.
( nbg rpc r1 getTemp --wait --timeout 8000 >"$T/wait" 2>&1 ) &
waiter=$!
wait_for "$T/obs" "'{\"id\":1,\"method\":\"getTemp\",\"params\":null}'"
expect "2.01 " post "api/v1/rtok/rpc/1" '{"t":21}'
wait "$waiter" || fail "rpc --wait failed: $(cat "$T/wait")"
grep -q 'state=SUCCESSFUL response={"t":21}' "$T/wait" || fail "wait output: $(cat "$T/wait")"

# One-way: DELIVERED on the ACK.
nbg rpc r1 reboot --oneway --wait --timeout 8000 >"$T/oneway" 2>&1 || fail "one-way: $(cat "$T/oneway")"
grep -q 'state=DELIVERED' "$T/oneway" || fail "one-way state: $(cat "$T/oneway")"

# Late or unknown ids still get 2.01; malformed answers get 4.00.
expect "2.01 " post "api/v1/rtok/rpc/77" '{"late":1}'
expect "4.00 rpc response must be a JSON object" post "api/v1/rtok/rpc/1" '42'
expect "4.00 rpc response must be a JSON object" post "api/v1/rtok/rpc/1" '"ok"'
kill "$obs" 2>/dev/null
wait "$obs" 2>/dev/null

# Client-side RPC.
r=$(coap post "api/v1/rtok/rpc" '{"method":"getCurrentTime","params":{}}')
echo "$r" | grep -Eq '^2\.05 \{"currentTime":[0-9]{13}\}$' || fail "getCurrentTime: $r"
expect '2.05 {"error":"method doSomething is not handled by nbgate"}' post "api/v1/rtok/rpc" '{"method":"doSomething"}'
expect '4.00 rpc request must be a JSON object with a string "method"' post "api/v1/rtok/rpc" '{"params":1}'
expect '4.00 rpc request must be a JSON object with a string "method"' post "api/v1/rtok/rpc" '[1]'
expect "4.00 GET on RPC needs Observe" get "api/v1/rtok/rpc"
expect "4.01 " get "api/v1/nosuch/rpc" "" -s 1
# Claiming: stored with its expiry, then the operator claims with the secret.
expect "2.01 " post "api/v1/rtok/claim" '{"secretKey":"s3cret","durationMs":60000}'
expect '4.00 claim must be {"secretKey": string, "durationMs": integer}' post "api/v1/rtok/claim" '{"secretKey":5}'
[ "$(nbg claim r1 wrong)" = FAILURE ] || fail "wrong secret claimed"
[ "$(nbg claim r1 s3cret)" = SUCCESS ] || fail "claim failed"
[ "$(nbg claim r1 s3cret)" = CLAIMED ] || fail "second claim not CLAIMED"
nbg_stop
ok
