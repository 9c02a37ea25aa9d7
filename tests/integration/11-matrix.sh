#!/bin/sh
# SPDX-License-Identifier: MIT
# The method x feature matrix of /api/v1 (spec 3.3), row by row, with the real libcoap client.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
nbg device add m1 --token mtok >/dev/null || fail "device add"
nbg attributes set m1 '{"s":1}' || fail "shared"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
O0="6,0x00"
O1="6,0x01"
# GET rows
expect "4.00 unknown feature in path" get "api/v1"
expect "4.00 unknown feature in path" get "api/v1/mtok"
expect "4.00 telemetry cannot be read with GET" get "api/v1/mtok/telemetry" "" -O "$O0"
expect "4.00 GET on RPC needs Observe" get "api/v1/mtok/rpc"
expect "4.00 GET on CLAIM needs Observe" get "api/v1/mtok/claim"
expect "4.00 GET on PROVISION needs Observe" get "api/v1/mtok/provision"
expect '2.05 {"shared":{"s":1}}' get "api/v1/mtok/attributes"
for f in attributes claim provision; do
    out=$(coap-client-notls -v 6 -B 4 -m get -s 1 "coap://127.0.0.1:$NBG_PORT/api/v1/mtok/$f" 2>&1)
    echo "$out" | grep -q "t:ACK c:2.05 .*Observe:0.* :: '{\"s\":1}'" || fail "GET+Observe on $f: $out"
done
out=$(coap-client-notls -v 6 -B 4 -m get -s 1 "coap://127.0.0.1:$NBG_PORT/api/v1/mtok/rpc" 2>&1)
echo "$out" | grep -q "t:ACK c:2.03 .*Observe:0" || fail "GET+Observe on rpc: $out"
expect "2.03 " get "api/v1/mtok/rpc" "" -O "$O1"
expect '2.05 {"s":1}' get "api/v1/mtok/attributes" "" -O "$O1"
expect "4.04 no firmware package assigned" get "api/v1/mtok/firmware" "" -O "$O0"
expect "4.04 no software package assigned" get "api/v1/mtok/software"
# POST rows
expect "4.00 unknown feature in path" post "api/v1/mtok/nothing" '{}'
expect "2.01 " post "api/v1/mtok/telemetry" '{}'
expect "2.01 " post "api/v1/mtok/attributes" '{}'
expect "2.01 " post "api/v1/mtok/claim"
expect "4.05 " post "api/v1/mtok/firmware" '{}'
expect "4.05 " post "api/v1/mtok/software" '{}'
# An id that is not a Java int makes the POST a client-side RPC.
r=$(coap post "api/v1/mtok/rpc/99999999999" '{"method":"getCurrentTime"}')
echo "$r" | grep -q '^2.05 {"currentTime":' || fail "out-of-range id not client-side RPC: $r"
# Other methods
for m in put delete fetch patch ipatch; do
    expect "4.05 " "$m" "api/v1/mtok/telemetry" '{}'
done
expect "4.05 " post "api" '{}'
expect "4.04 " get "api/v2"
expect "4.01 " post "api/v1/telemetry" '{"a":1}'
nbg_stop
ok
