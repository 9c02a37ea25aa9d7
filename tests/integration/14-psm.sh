#!/bin/sh
# SPDX-License-Identifier: MIT
# The power-saving downlink gate with short timers (spec 16.5-16.8):
# - PSM (psmActivityTimer 1500 ms): an RPC queued while the device sleeps stays QUEUED and goes out
#   right after the device's next uplink, not before; an expired entry is never sent;
# - a restart of the gateway in the middle keeps the queue;
# - eDRX (cycle 5120 ms, window 1280 ms): an entry queued outside the window goes out in the next
#   paging window without any uplink from the device.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
nbg device add p1 --token ptok >/dev/null || fail "device add"
nbg device set-power p1 '{"type":"COAP","powerMode":"PSM","psmActivityTimer":1500}' || fail "set-power"
state_of() { # state_of METHOD
    nbg downlinks p1 | awk -v m="$1" '$0 ~ (" " m "( |$)") { print $3 }' | tail -n 1
}
wait_state() { # wait_state METHOD STATE
    i=0
    until [ "$(state_of "$1")" = "$2" ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "$1 never $2: $(nbg downlinks p1)"; sleep 0.05
    done
}
observe() { # observe FILE: RPC observation for 60 s
    stdbuf -oL coap-client-notls -v 6 -B 70 -m get -s 60 "coap://127.0.0.1:$NBG_PORT/api/v1/ptok/rpc" >"$1" 2>&1 &
    OBS=$!
    i=0
    until grep -q "c:2.03" "$1"; do i=$((i + 1)); [ $i -gt 200 ] && fail "no 2.03 in $1: $(cat "$1")"; sleep 0.05; done
}

observe "$T/obs1"
sleep 2 # the registration was the last uplink: asleep after 1.5 s
nbg rpc p1 sleepy >/dev/null || fail "queue"
sleep 1.6
[ "$(state_of sleepy)" = QUEUED ] || fail "sent to a sleeping device: $(nbg downlinks p1)"
grep -q sleepy "$T/obs1" && fail "notification reached a sleeping device"
r=$(coap post "api/v1/ptok/telemetry" '{"wake":1}')
[ "$r" = "2.01 " ] || fail "uplink: $r"
wait_state sleepy DELIVERED
grep -q "'{\"id\":0,\"method\":\"sleepy\"" "$T/obs1" || fail "notification missing"
nbg device list | grep -Eq '^p1 .*PSM: awake until [0-9]{2}:[0-9]{2}:[0-9]{2} UTC' ||
    fail "reachability not shown: $(nbg device list)"

# Expired while asleep: never sent, even after the next uplink.
sleep 2
nbg rpc p1 late --timeout 5000 >/dev/null || fail "queue late"
i=0
until [ "$(state_of late)" = EXPIRED ]; do
    i=$((i + 1)); [ $i -gt 160 ] && fail "never EXPIRED: $(nbg downlinks p1)"; sleep 0.05
done
r=$(coap post "api/v1/ptok/telemetry" '{"wake":2}')
sleep 1
grep -q '"late"' "$T/obs1" && fail "an expired entry was sent"
kill "$OBS" 2>/dev/null; wait "$OBS" 2>/dev/null

# Restart in the middle: the queued entry survives and goes out after re-registration + uplink.
sleep 1.6
nbg rpc p1 survivor --timeout 60000 >/dev/null || fail "queue survivor"
nbg_stop
nbg_start "$T/data"
[ "$(state_of survivor)" = QUEUED ] || fail "queue lost over restart: $(nbg downlinks p1)"
observe "$T/obs2"
wait_state survivor DELIVERED
kill "$OBS" 2>/dev/null; wait "$OBS" 2>/dev/null

# eDRX: cycle 5.12 s, window 1.28 s, anchored at the last uplink (the registration).
nbg device set-power p1 '{"type":"COAP","powerMode":"E_DRX","edrxCycle":5120,"pagingTransmissionWindow":1280}' ||
    fail "set-power edrx"
observe "$T/obs3"
t0=$(date +%s%N)
sleep 2
nbg rpc p1 paged --timeout 60000 >/dev/null || fail "queue paged"
[ "$(state_of paged)" = QUEUED ] || fail "sent outside the paging window"
sleep 0.5
nbg device list | grep -Eq '^p1 .*eDRX: next paging window at [0-9:]{8} UTC' ||
    fail "eDRX window not shown: $(nbg device list)"
wait_state paged DELIVERED
dt=$((($(date +%s%N) - t0) / 1000000))
echo "eDRX: delivered ${dt} ms after the last uplink (window opens at 5120 ms)"
[ "$dt" -ge 4900 ] || fail "delivered at $dt ms, before the next paging window"
[ "$dt" -le 7600 ] || fail "delivered at $dt ms, too late for the window at 5120 ms"
# The admin API shows the same (deviceInfos.reachability).
nbg admin create ops <<PW >/dev/null 2>&1 || fail "admin create"
secret-pass-1
secret-pass-1
PW
tok=$(curl -sk -X POST "https://127.0.0.1:$NBG_ADMIN_PORT/api/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"ops","password":"secret-pass-1"}' | jq -r .token)
curl -sk "https://127.0.0.1:$NBG_ADMIN_PORT/api/tenant/deviceInfos?pageSize=10&page=0" \
    -H "X-Authorization: Bearer $tok" | jq -r '.data[0].reachability' | grep -Eq '^eDRX: [a-z ]+ [0-9:]{8} UTC' ||
    fail "reachability missing from deviceInfos"
kill "$OBS" 2>/dev/null; wait "$OBS" 2>/dev/null
nbg_stop
ok
