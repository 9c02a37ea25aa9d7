#!/bin/sh
# SPDX-License-Identifier: MIT
# Every row of the device API's first code table: 2.01 stored, 4.00 with a text diagnostic,
# 4.01 unknown token, 4.04 unknown path, 4.05 wrong method; and nothing stored on an error.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
TOKEN=$(nbg device add dev --token tok-codes) || fail "device add"
[ "$TOKEN" = tok-codes ] || fail "token not taken from --token"

expect() { # expect WANT METHOD PATH [PAYLOAD]
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$1 $2: want '$want', got '$got'"
}
expect "2.01 " post "api/v1/$TOKEN/telemetry" '{"a":1}'
expect "4.00 invalid JSON at line 1, column 12: string or '}' expected near 'temperature'" \
    post "api/v1/$TOKEN/telemetry" '{temperature:25}'
expect "4.00 ts must be an integer" post "api/v1/$TOKEN/telemetry" '{"ts":"abc","values":{"a":1}}'
expect "4.00 telemetry array is empty" post "api/v1/$TOKEN/telemetry" '[]'
expect "4.00 empty payload" post "api/v1/$TOKEN/telemetry"
expect "4.01 " post "api/v1/nosuchtoken/telemetry" '{"a":1}'
expect "4.01 " post "api/v1//telemetry" '{"a":1}'
expect "4.00 unknown feature in path" post "api/v1/$TOKEN" '{"a":1}'
expect "4.00 unknown feature in path" post "api/v1/$TOKEN/bogus" '{"a":1}'
expect "4.00 telemetry cannot be read with GET" get "api/v1/$TOKEN/telemetry"
expect "4.04 " post "api/v2/$TOKEN/telemetry" '{"a":1}'
expect "4.04 " get "nothing/here"
expect "4.05 " put "api/v1/$TOKEN/telemetry" '{"a":1}'
expect "4.05 " delete "api/v1/$TOKEN/telemetry"
expect "4.05 " get "api"
# Unknown token is checked after the path: a bad feature with a bad token is 4.00, not 4.01.
expect "4.00 unknown feature in path" post "api/v1/nosuchtoken/bogus" '{"a":1}'
# A whole array is refused when one element is bad, and nothing of it is stored.
expect "4.00 ts must be an integer" post "api/v1/$TOKEN/telemetry" '[{"good":1},{"ts":true,"values":{"x":1}}]'
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key IN ('good','x')")" = 0 ] || fail "partial write"
[ "$(sql "SELECT count(*) FROM ts_kv")" = 1 ] || fail "unexpected rows: $(sql 'SELECT key FROM ts_kv')"
nbg_stop
ok
