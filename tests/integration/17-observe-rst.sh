#!/bin/sh
# SPDX-License-Identifier: MIT
# An RST in reply to a notification ends that observation (spec 12.2): the RPC it carried becomes
# TIMEOUT (a try counted) and is sent again once the device observes again.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
TOKEN=rsttoken
nbg device add r1 --token "$TOKEN" >/dev/null || fail "device add"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# CON GET, token 0x77, Observe 0 (option 6, empty), then Uri-Path (delta 5) api/v1/rsttoken/rpc.
reg="4101abcd776053$(hex api)02$(hex v1)08$(hex "$TOKEN")03$(hex rpc)"
"$HELPERS/coap_rst" "$NBG_PORT" "$reg" 10000 >"$T/dev" 2>&1 &
dev=$!
i=0
until [ -s "$T/dev" ]; do i=$((i + 1)); [ $i -gt 200 ] && fail "no answer to the registration"; sleep 0.05; done
head -n 1 "$T/dev" | grep -q '^6[0-9a-f]43abcd77' || fail "registration not answered 2.03: $(cat "$T/dev")"
nbg rpc r1 refused >/dev/null || fail "rpc"
wait "$dev" || fail "device saw no notification: $(cat "$T/dev")"
grep -q '^rst ' "$T/dev" || fail "no RST sent"
i=0
until nbg downlinks r1 | grep -q 'TIMEOUT .*tries=1'; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "RST did not make the entry TIMEOUT: $(nbg downlinks r1)"; sleep 0.05
done
grep -q 'notification not acknowledged dev=1 reason=rst' "$NBG_LOG" || fail "RST not logged"
grep -q 'observation ended dev=1 kind=rpc' "$NBG_LOG" || fail "observation not ended"
# Observing again: the entry goes out again and is delivered.
stdbuf -oL coap-client-notls -v 6 -B 20 -m get -s 10 "coap://127.0.0.1:$NBG_PORT/api/v1/$TOKEN/rpc" >"$T/obs" 2>&1 &
obs=$!
i=0
until nbg downlinks r1 | grep -q 'DELIVERED'; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "not sent again: $(nbg downlinks r1)"; sleep 0.05
done
kill "$obs"; wait "$obs" 2>/dev/null
nbg_stop
ok
