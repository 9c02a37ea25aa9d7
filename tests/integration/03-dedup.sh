#!/bin/sh
# SPDX-License-Identifier: MIT
# The same CON datagram sent three times (a device whose ACK was lost) is processed once: one
# stored row, three identical answers. A new message id with the same content is a new reading.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
TOKEN=$(nbg device add dup --token dupdevicetoken-000001) || fail "device add"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# CoAP CON POST, message id MID (4 hex digits), token 0xcafe0001, Uri-Path api/v1/TOKEN/telemetry.
datagram() {
    tl=${#TOKEN}
    printf '4402%scafe0001' "$1"
    printf 'b3%s02%s' "$(hex api)" "$(hex v1)"
    printf '0d%02x%s' $((tl - 13)) "$(hex "$TOKEN")"
    printf '09%sff%s' "$(hex telemetry)" "$(hex "$2")"
}
answers=$("$HELPERS/udp_send" "$NBG_PORT" "$(datagram 1234 '{"dup":7}')" 3)
[ "$(printf '%s\n' "$answers" | wc -l)" = 3 ] || fail "want 3 answers, got: $answers"
[ "$(printf '%s\n' "$answers" | sort -u | wc -l)" = 1 ] || fail "answers differ: $answers"
case "$answers" in
6441*) ;; # ACK, 2.01, piggybacked
*) fail "answer is not a piggybacked 2.01: $answers" ;;
esac
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key='dup'")" = 1 ] || fail "duplicate stored twice"

# A new message id is a new request: stored again (a second row needs a new timestamp).
sleep 0.01
answers=$("$HELPERS/udp_send" "$NBG_PORT" "$(datagram 1235 '{"dup":8}')" 1)
case "$answers" in 6441*) ;; *) fail "second message not 2.01: $answers" ;; esac
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key='dup'")" = 2 ] || fail "new message id not stored"
nbg_stop
grep -q 'duplicates=2' "$NBG_LOG" || fail "daemon did not count 2 duplicates: $(grep stopping "$NBG_LOG")"
ok
