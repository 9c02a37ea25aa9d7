#!/bin/sh
# SPDX-License-Identifier: MIT
# Limits (spec 18) and activity (spec 17): oversized bodies get 4.13 with Size1, also part way
# through a Block1 upload, while a block-wise upload under the limit is stored; too many keys,
# too long strings and too many observations get 4.00 naming the limit; nothing is half-stored.
# A device is active after a message and inactive once its inactivityTimeout has passed, even
# while an observation is open.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data" NBGATE_MAX_PAYLOAD_SIZE=4096 NBGATE_MAX_KEYS_PER_MESSAGE=3 \
    JSON_MAX_STRING_VALUE_LENGTH=5 NBGATE_MAX_OBSERVATIONS=1
nbg device add l1 --token ltok >/dev/null || fail "device add"
nbg device add l2 --token ltok2 >/dev/null || fail "device add"
nbg device add l3 --token ltok3 >/dev/null || fail "device add"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
expect "4.00 too many keys (limit 3)" post "api/v1/ltok/telemetry" '{"a":1,"b":2,"c":3,"d":4}'
expect "4.00 too many keys (limit 3)" post "api/v1/ltok/telemetry" '[{"a":1,"b":2},{"c":3,"d":4}]'
expect '4.00 value of "s" longer than 5 characters' post "api/v1/ltok/attributes" '{"s":"abcdef"}'
expect "2.01 " post "api/v1/ltok/telemetry" '{"a":1,"s":"abcde"}'
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key IN ('b','c','d')")" = 0 ] || fail "half-stored"

# A body of 3000 bytes arrives block-wise (coap-client splits it) and is stored whole.
big=$(awk 'BEGIN { printf "{\"blob\":\""; for (i = 0; i < 2980; i++) printf "x"; printf "\"}" }')
nbg_stop
nbg_start "$T/data" NBGATE_MAX_PAYLOAD_SIZE=4096
r=$(coap post "api/v1/ltok/telemetry" "$big" -b 512)
[ "$r" = "2.01 " ] || fail "block-wise upload answered '$r'"
[ "$(sql "SELECT length(v_str) FROM ts_kv WHERE key = 'blob'")" = 2980 ] || fail "blob not stored whole"
# Over the limit: 4.13 with Size1 = the limit, during the Block1 transfer.
huge=$(awk 'BEGIN { printf "{\"blob2\":\""; for (i = 0; i < 6000; i++) printf "y"; printf "\"}" }')
out=$(coap-client-notls -v 6 -B 10 -m post -b 512 -e "$huge" "coap://127.0.0.1:$NBG_PORT/api/v1/ltok/telemetry" 2>&1)
echo "$out" | grep -q "c:4.13 .*Size1:4096" || fail "no 4.13 with Size1: $(echo "$out" | grep 'c:4')"
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key = 'blob2'")" = 0 ] || fail "oversized body stored"
# A Block1 sequence that starts in the middle (block 2 of 64-byte blocks, more to come): 4.08.
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
dgram="44020bb1cafe0001b3$(hex api)02$(hex v1)04$(hex ltok)09$(hex telemetry)d1032aff"
dgram="$dgram$(awk 'BEGIN { for (i = 0; i < 64; i++) printf "7a" }')"
r=$("$HELPERS/udp_send" "$NBG_PORT" "$dgram" 1)
case "$r" in
6488*) ;; # ACK, 4.08
*) fail "broken Block1 sequence answered $r" ;;
esac
nbg_stop

# Observation limit: one observation in all, a second device is refused.
nbg_start "$T/data" NBGATE_MAX_OBSERVATIONS=1
nbg attributes set l1 '{"inactivityTimeout":1500}' --scope server || fail "server attribute"
coap-client-notls -B 20 -m get -s 15 "coap://127.0.0.1:$NBG_PORT/api/v1/ltok/attributes" >/dev/null 2>&1 &
obs=$!
sleep 0.5
expect "4.00 observation limit reached" get "api/v1/ltok2/rpc" "" -O "6,0x00"
# Active right after the registration (an uplink), inactive 1.5 s later although it still observes.
nbg device list | grep -Eq '^l1 .* active ' || fail "not active: $(nbg device list)"
nbg device list | grep -Eq '^l3 .* never ' || fail "l3 should be never seen: $(nbg device list)"
nbg device list --json | grep -q '"inactivityTimeout":1500' || fail "device timeout not used"
nbg device list | grep -Eq '^l2 .* active ' || fail "a refused but authenticated request is activity: $(nbg device list)"
sleep 1.8
kill -0 "$obs" || fail "observer gone"
nbg device list | grep -Eq '^l1 .* inactive ' || fail "observation kept the device active: $(nbg device list)"
kill "$obs"
wait "$obs" 2>/dev/null
nbg_stop
ok
