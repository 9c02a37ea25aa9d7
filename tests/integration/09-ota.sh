#!/bin/sh
# SPDX-License-Identifier: MIT
# OTA (spec 10): a 1 MiB firmware image downloads block-wise (RFC 7959 Block2) intact through
# /fw/{token} and the /api/v1/{token}/firmware alias; size/chunk slices; bad parameters and a
# chunk past the end get 4.00; no package 4.04; wrong method 4.05; assigning a package sets the
# fw_* shared attributes as ThingsBoard does.
. "$(dirname "$0")/lib.sh"
tmpdir
nbg_start "$T/data"
nbg device add o1 --token otok >/dev/null || fail "device add"
expect() {
    want=$1
    shift
    got=$(coap "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got'"
}
expect "4.04 no firmware package assigned" get "fw/otok"
head -c 1048576 /dev/urandom >"$T/fw.bin"
sum=$(sha256sum "$T/fw.bin" | cut -d' ' -f1)
pkg=$(nbg ota add firmware sensor-fw 1.2.0 "$T/fw.bin") || fail "ota add"
nbg ota add firmware sensor-fw 1.2.0 "$T/fw.bin" 2>/dev/null && fail "duplicate package accepted"
nbg ota assign o1 firmware "$pkg" || fail "ota assign"
nbg attributes o1 --scope shared >"$T/attrs"
grep -q "^SHARED fw_title = \"sensor-fw\"" "$T/attrs" || fail "fw_title: $(cat "$T/attrs")"
grep -q "^SHARED fw_version = \"1.2.0\"" "$T/attrs" || fail "fw_version"
grep -q "^SHARED fw_size = 1048576  LONG" "$T/attrs" || fail "fw_size"
grep -q "^SHARED fw_checksum = \"$sum\"" "$T/attrs" || fail "fw_checksum"
grep -q "^SHARED fw_checksum_algorithm = \"SHA256\"" "$T/attrs" || fail "fw_checksum_algorithm"

# Whole image, block-wise with 1024-byte blocks, then with the client's smaller blocks.
coap-client-notls -B 60 -m get -b 1024 -o "$T/got1" "coap://127.0.0.1:$NBG_PORT/fw/otok?title=sensor-fw&version=1.2.0" ||
    fail "download"
[ "$(sha256sum "$T/got1" | cut -d' ' -f1)" = "$sum" ] || fail "image differs ($(wc -c <"$T/got1") bytes)"
coap-client-notls -B 60 -m get -b 256 -o "$T/got2" "coap://127.0.0.1:$NBG_PORT/api/v1/otok/firmware?size=65536&chunk=2" ||
    fail "alias download"
tail -c +131073 "$T/fw.bin" | head -c 65536 >"$T/want2"
cmp -s "$T/want2" "$T/got2" || fail "alias slice differs"

# size/chunk slices (chunk 3 of 100000 bytes = bytes 300000..399999).
coap-client-notls -B 30 -m get -o "$T/chunk" "coap://127.0.0.1:$NBG_PORT/fw/otok?size=100000&chunk=3" || fail "chunk"
tail -c +300001 "$T/fw.bin" | head -c 100000 >"$T/want"
cmp -s "$T/chunk" "$T/want" || fail "chunk 3 differs ($(wc -c <"$T/chunk") bytes)"
coap-client-notls -B 30 -m get -o "$T/last" "coap://127.0.0.1:$NBG_PORT/fw/otok?size=1000000&chunk=1" || fail "last chunk"
[ "$(wc -c <"$T/last")" = 48576 ] || fail "last chunk size $(wc -c <"$T/last")"

expect "4.00 chunk 11 beyond end of package (1048576 bytes)" get "fw/otok" "" -O "15,size=100000" -O "15,chunk=11"
expect "4.00 size must be a non-negative integer" get "fw/otok" "" -O "15,size=abc"
expect "4.00 chunk must be a non-negative integer" get "fw/otok" "" -O "15,size=10" -O "15,chunk=-1"
expect "4.00 title or version does not match the assigned package" get "fw/otok" "" -O "15,version=9.9"
expect "4.04 no software package assigned" get "sw/otok"
expect "4.01 " get "fw/nosuch"
expect "4.01 " get "fw/otok/extra"
expect "4.05 " post "fw/otok" 'x'
expect "4.05 " post "api/v1/otok/firmware" 'x'
# Random access: block 5 of 512-byte blocks is bytes 2560..3071.
coap-client-notls -v 6 -B 10 -m get -O "23,0x55" "coap://127.0.0.1:$NBG_PORT/fw/otok" >"$T/blk" 2>&1
grep -q "t:ACK c:2.05 .*Block2:5/M/512" "$T/blk" || fail "random-access Block2: $(head -c 400 "$T/blk")"

# Unassigning deletes the attributes.
nbg ota assign o1 firmware none || fail "unassign"
nbg attributes o1 --scope shared | grep -q fw_title && fail "fw_title left after unassign"
expect "4.04 no firmware package assigned" get "fw/otok"
nbg_stop
ok
