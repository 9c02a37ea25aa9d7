#!/bin/sh
# SPDX-License-Identifier: MIT
# Attributes (spec 6): requests with clientKeys/sharedKeys in every combination, 4.04 when
# nothing matches, Observe on shared attributes with CON notifications for changes and
# deletions, deregistration answered, replacement ending the older observation with 2.02, and
# the reserved name "deleted" refused by the admin side.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
nbg device add a1 --token atok >/dev/null || fail "device add"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
expect "4.04 " get "api/v1/atok/attributes"
expect "2.01 " post "api/v1/atok/attributes" '{"fw":"v1.0","n":7}'
nbg attributes set a1 '{"target":21.5,"mode":"eco"}' || fail "attributes set"
expect '2.05 {"client":{"fw":"v1.0","n":7},"shared":{"mode":"eco","target":21.5}}' \
    get "api/v1/atok/attributes"
expect '2.05 {"client":{"fw":"v1.0"}}' get "api/v1/atok/attributes" "" -O "15,clientKeys=fw,nokey"
expect '2.05 {"shared":{"target":21.5}}' get "api/v1/atok/attributes" "" -O "15,sharedKeys=target"
expect '2.05 {"client":{"n":7},"shared":{"mode":"eco"}}' get "api/v1/atok/attributes" "" \
    -O "15,clientKeys=n" -O "15,sharedKeys=mode"
expect "4.04 " get "api/v1/atok/attributes" "" -O "15,sharedKeys=nothing"
# "clientKeys=" with an empty value does not count: everything is returned.
expect '2.05 {"client":{"fw":"v1.0","n":7},"shared":{"mode":"eco","target":21.5}}' \
    get "api/v1/atok/attributes" "" -O "15,clientKeys="
nbg attributes set a1 '{"deleted":1}' 2>/dev/null && fail "reserved name accepted"

# Observe: first answer has every shared attribute; then one notification per change.
stdbuf -oL coap-client-notls -v 6 -B 8 -m get -s 6 "coap://127.0.0.1:$NBG_PORT/api/v1/atok/attributes/updates" \
    >"$T/obs1" 2>&1 &
obs1=$!
until grep -q 'Observe:0' "$T/obs1"; do sleep 0.05; done
grep -q "c:2.05 .*Observe:0.* :: '{\"mode\":\"eco\",\"target\":21.5}'" "$T/obs1" || fail "first answer: $(cat "$T/obs1")"
nbg attributes set a1 '{"target":22}' || fail "set"
# Wait for the first notification, or both changes may (rightly) merge into one.
i=0
until grep -aq 'Observe:1' "$T/obs1"; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "first notification missing: $(cat "$T/obs1")"; sleep 0.05
done
nbg attributes delete a1 mode || fail "delete"
i=0
until grep -q 'Observe:2' "$T/obs1"; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "notifications missing: $(cat "$T/obs1")"; sleep 0.05
done
grep -q "t:CON c:2.05 .*Observe:1.* :: '{\"target\":22}'" "$T/obs1" || fail "update notification: $(cat "$T/obs1")"
grep -q "t:CON c:2.05 .*Observe:2.* :: '{\"deleted\":\[\"mode\"\]}'" "$T/obs1" || fail "deletion notification"
i=0
until [ "$(nbg downlinks a1 | grep -c DELIVERED)" = 3 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "not delivered: $(nbg downlinks a1)"; sleep 0.05
done

# A second registration (another endpoint) replaces the first: the old one gets 2.02 Deleted.
coap-client-notls -v 6 -B 3 -m get -s 2 "coap://127.0.0.1:$NBG_PORT/api/v1/atok/attributes" \
    >"$T/obs2" 2>&1
grep -q "c:2.05 .*Observe:0" "$T/obs2" || fail "second registration: $(cat "$T/obs2")"
wait "$obs1"
grep -q "c:2.02" "$T/obs1" || fail "replaced observation got no 2.02: $(cat "$T/obs1")"

# Observe values other than 0 and 1 are refused; deregistration is answered without Observe.
expect "4.00 Observe must be 0 or 1" get "api/v1/atok/attributes" "" -O "6,0x05"
r=$(coap-client-notls -v 6 -B 3 -m get -O 6,0x01 "coap://127.0.0.1:$NBG_PORT/api/v1/atok/attributes" 2>&1 | grep 't:ACK')
echo "$r" | grep -q "c:2.05" || fail "deregistration not answered: $r"
echo "$r" | grep -q "Observe" && fail "deregistration answer carries Observe: $r"
nbg_stop
ok
