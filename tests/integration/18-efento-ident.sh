#!/bin/sh
# SPDX-License-Identifier: MIT
# Efento identity and bounds against the real daemon (specs/efento.md 3.2, R2.6, section 9):
# a queued cloudToken change is accepted under the old and the new token until the sensor uses
# the new one, then only the new; a token-place move keeps the old place accepted until it is
# confirmed; settings that would cut a sensor off are refused; Efento profile settings are
# validated (option numbers CoAP defines, ranges, one auto-accepting profile per place); an
# auto-accepted device is created in the same transaction as its first frame; a frame sent
# block-wise is reassembled; the section 9 bounds come from the configuration; a gateway clock
# set back (tests/helpers/clockshift.so) is neither served on t nor sent in a downlink.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/efentolib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 missing"
tmpdir

# meas NAME TOKEN [CHANNELS]: a fresh measurement frame (known hash, current samples).
meas() {
    now=$(date +%s)
    {
        printf 'serial_number: "\\x28\\x2c\\x02\\x42\\x4e\\xed"\nmeasurement_period_base: 60\n'
        printf 'measurement_period_factor: 1\nconfiguration_hash: 1234\n'
        [ -n "$2" ] && printf 'cloud_token: "%s"\n' "$2"
        i=0
        while [ "$i" -lt "${3:-1}" ]; do
            printf 'channels { type: MEASUREMENT_TYPE_TEMPERATURE timestamp: %s start_point: 215 sample_offsets: [0, %s] }\n' \
                $((now - 60)) "$i"
            i=$((i + 1))
        done
    } >"$T/$1.txtpb"
    enc ProtoMeasurements "$T/$1.txtpb" "$T/$1.bin"
}
expect() { # expect WANT PATH FILE [args]: the answer code must be WANT
    want=$1
    shift
    got=$(post "$@")
    case $got in "$want"*) ;; *) fail "$1 $(basename "$2") ${3:-} ${4:-}: want $want, got '$got' ($(tail -n 3 "$T/last.out"))" ;; esac
}
state() { sql "SELECT state FROM downlink WHERE kind='EFENTO_CONFIG' ORDER BY id DESC LIMIT 1"; }
token_of() { sql "SELECT credentials_id FROM credentials c JOIN device d ON d.id=c.device_id WHERE d.name='$1'"; }

profile() { # profile NAME EXTRA-SETTINGS (JSON members after coapDeviceType)
    printf '{"name":"%s","type":"DEFAULT","transportType":"COAP","profileData":{"configuration":{"type":"DEFAULT"},"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"%s}}}}' \
        "$1" "$2" >"$T/p-$1.json"
    nbg profile add "$1" --json "$T/p-$1.json" >"$T/profile.out" 2>&1
}

nbg_start "$T/data" NBGATE_EFENTO_MAX_CHANNELS=2 NBGATE_EFENTO_MAX_PAYLOAD_BYTES=512 \
    NBGATE_MAX_PENDING_DEVICES=2 NBGATE_EFENTO_AUTO_ACCEPT_PER_HOUR=2

# ---- profile settings are validated --------------------------------------------------------------
profile bad1 ',"cloudTokenCoapOption":11' && fail "option 11 (Uri-Path) accepted"
grep -q 'cloudTokenCoapOption: 11 is a CoAP option' "$T/profile.out" || fail "option 11: $(cat "$T/profile.out")"
profile bad2 ',"cloudTokenCoapOption":70000' && fail "option 70000 accepted"
grep -q 'cloudTokenCoapOption: expected an integer 1..65000' "$T/profile.out" || fail "70000: $(cat "$T/profile.out")"
profile bad3 ',"autoAccept":"yes"' && fail "autoAccept \"yes\" accepted"
grep -q 'autoAccept: expected true or false' "$T/profile.out" || fail "autoAccept: $(cat "$T/profile.out")"
profile bad4 ',"downlinkExpiryS":0' && fail "downlinkExpiryS 0 accepted"
profile bad5 ',"cloudTokenCoapOption":66,"payloadSignatureCoapOption":66' && fail "same option twice accepted"
profile auto1 ',"autoAccept":true' || fail "auto-accept profile: $(cat "$T/profile.out")"
profile auto2 ',"autoAccept":true' && fail "a second auto-accept profile at the payload place accepted"
grep -q "autoAccept: Efento profile 'auto1' already auto-accepts tokens at the same place" "$T/profile.out" ||
    fail "second auto-accept: $(cat "$T/profile.out")"
profile auto2 ',"autoAccept":true,"cloudTokenCoapOption":68' || fail "auto-accept at another place refused"
profile efento '' || fail "profile efento"
[ "$(sql "SELECT count(*) FROM device_profile WHERE name LIKE 'bad%'")" = 0 ] || fail "a refused profile was stored"

# ---- auto-accept: device and first frame in one transaction (R2.6) ---------------------------
sleep 5.5 # the loop re-reads Efento profiles every 5 s
meas a1 auto-token-1
sql "CREATE TRIGGER refuse_ts BEFORE INSERT ON ts_kv BEGIN SELECT RAISE(ABORT, 'test'); END;"
expect 5.00 efento/m "$T/a1.bin"
[ "$(sql "SELECT count(*) FROM credentials WHERE credentials_id='auto-token-1'")" = 0 ] ||
    fail "the device was created although its first frame was not stored"
sql "DROP TRIGGER refuse_ts"
expect 2.01 efento/m "$T/a1.bin"
[ "$(sql "SELECT count(*) FROM ts_kv t JOIN credentials c ON c.device_id=t.device_id WHERE c.credentials_id='auto-token-1' AND t.key='temperature_1'")" = 2 ] ||
    fail "auto-accepted frame not stored: $(sql "SELECT count(*), group_concat(key) FROM ts_kv")"
# The auto-accept budget (efento_auto_accept_per_hour 2): the third unknown token is pending.
meas a2 auto-token-2
expect 2.01 efento/m "$T/a2.bin"
meas a3 auto-token-3
expect 4.01 efento/m "$T/a3.bin"
[ "$(sql "SELECT count(*) FROM pending_device WHERE identifier='auto-token-3'")" = 1 ] || fail "over budget, not pending"
# max_pending_devices 2: a third unknown token replaces the least recently seen entry.
profile auto1 '' || fail "auto-accept off"
sleep 5.5 # the loop re-reads Efento profiles every 5 s
for t in p1 p2 p3; do
    meas "u$t" "stranger-$t"
    expect 4.01 efento/m "$T/u$t.bin"
done
[ "$(sql "SELECT group_concat(identifier) FROM (SELECT identifier FROM pending_device ORDER BY identifier)")" = \
    "stranger-p2,stranger-p3" ] || fail "pending cap 2: $(sql "SELECT identifier FROM pending_device")"

# ---- bounds from the configuration (section 9) ---------------------------------------------------
nbg device add sensor1 --token tok-old --profile efento >/dev/null || fail "device add"
meas c3 tok-old 3
expect 4.00 efento/m "$T/c3.bin"
grep -q 'efento malformed frame .*3 channels exceed 2\|efento malformed frame .*channels' "$NBG_LOG" ||
    fail "no log line for the channel bound: $(grep malformed "$NBG_LOG" | tail -n 2)"
meas c2 tok-old 2
expect 2.01 efento/m "$T/c2.bin"
# efento_max_payload_bytes 512: a bigger frame gets 4.13 with Size1 512, also block-wise.
{ cat "$T/c2.txtpb"; i=0; while [ $i -lt 60 ]; do printf 'channels { type: MEASUREMENT_TYPE_HUMIDITY timestamp: 1 start_point: 1 sample_offsets: [0, 1, 2, 3] }\n'; i=$((i + 1)); done; } >"$T/big.txtpb"
enc ProtoMeasurements "$T/big.txtpb" "$T/big.bin"
[ "$(wc -c <"$T/big.bin")" -gt 512 ] || fail "test frame not above the cap"
expect 4.13 efento/m "$T/big.bin"
grep -q 'Size1:512' "$T/last.out" || fail "4.13 without Size1 512: $(cat "$T/last.out")"
expect 4.13 efento/m "$T/big.bin" -b 64
# ---- a frame sent block-wise (Block1, 16-byte blocks) is reassembled and stored once -------------
meas blk tok-old 2
sed -i 's/start_point: 215/start_point: 231/' "$T/blk.txtpb"
enc ProtoMeasurements "$T/blk.txtpb" "$T/blk.bin"
[ "$(wc -c <"$T/blk.bin")" -gt 32 ] || fail "block-wise frame too small to need blocks"
expect 2.01 efento/m "$T/blk.bin" -b 16
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key IN ('temperature_1','temperature_2') AND v_double=23.1")" -ge 2 ] ||
    fail "block-wise frame not stored: $(sql "SELECT key, v_double FROM ts_kv WHERE key LIKE 'temperature%'")"

# ---- settings that would cut the sensor off are refused (3.2, 8.4) ------------------------------
nbg device add other --token tok-taken --profile efento >/dev/null || fail "device add other"
nbg efento set sensor1 cloudTokenConfig=255 >"$T/set.out" 2>&1 && fail "cloudTokenConfig 255 queued"
grep -q 'cloudTokenConfig: 255 sends no token' "$T/set.out" || fail "255: $(cat "$T/set.out")"
nbg efento set sensor1 cloudTokenConfig=2 >"$T/set.out" 2>&1 && fail "IMEI token queued without a known IMEI"
grep -q 'has not reported it yet' "$T/set.out" || fail "IMEI: $(cat "$T/set.out")"
nbg efento set sensor1 cloudToken=tok-taken >"$T/set.out" 2>&1 && fail "another device's token queued"
grep -q 'already the access token of another device' "$T/set.out" || fail "taken: $(cat "$T/set.out")"
nbg efento set sensor1 cloudTokenCoapOption=66 >"$T/set.out" 2>&1 && fail "a place the profile does not expect queued"
grep -q "differs from the device profile's 65000" "$T/set.out" || fail "place: $(cat "$T/set.out")"
[ "$(sql "SELECT count(*) FROM downlink")" = 0 ] || fail "a refused setting was queued"

# ---- a cloudToken change: old and new accepted while in flight, then only the new ---------------
nbg efento set sensor1 cloudToken=tok-new >/dev/null || fail "efento set cloudToken"
meas new tok-new
expect 4.01 efento/m "$T/new.bin" # not sent yet: the sensor cannot have the new token
meas old tok-old
expect 2.01 efento/m "$T/old.bin" -o "$T/dl.bin"
dec "$T/dl.bin" | grep -q '^cloud_token: "tok-new"' || fail "new token not in the ACK: $(dec "$T/dl.bin")"
[ "$(state)" = SENT ] || fail "entry not SENT: $(state)"
expect 2.01 efento/m "$T/old.bin" # the sensor may not have applied it yet
[ "$(token_of sensor1)" = tok-old ] || fail "token switched before the sensor used it"
expect 2.01 efento/m "$T/new.bin"
[ "$(token_of sensor1)" = tok-new ] || fail "access token not switched: $(token_of sensor1)"
[ "$(sql "SELECT count(*) FROM event e JOIN device d ON d.id=e.device_id WHERE d.name='sensor1' AND e.type='TOKEN_CHANGED'")" = 1 ] ||
    fail "no TOKEN_CHANGED event"
expect 4.01 efento/m "$T/old.bin"
expect 2.01 efento/m "$T/new.bin"

# ---- a token-place move: the old place is accepted until the sensor confirms the new one --------
profile efento ',"cloudTokenCoapOption":66' || fail "profile moved to option 66"
sleep 5.5 # the loop re-reads Efento profiles every 5 s
expect 4.01 efento/m "$T/new.bin" # in the payload, where the profile no longer expects it
nbg efento set sensor1 cloudTokenCoapOption=66 >/dev/null || fail "efento set cloudTokenCoapOption"
expect 2.01 efento/m "$T/new.bin" -o "$T/dl.bin"
dec "$T/dl.bin" | grep -q '^cloud_token_coap_option: 66' || fail "option not in the ACK: $(dec "$T/dl.bin")"
meas opt ""
expect 2.01 efento/m "$T/opt.bin" -O 66,tok-new
sed -e 's/^cloud_token_coap_option: 65000/cloud_token_coap_option: 66/' \
    -e 's/^cloud_token: .*/cloud_token: "tok-new"/' "$ROOT/tests/data/efento/config_full.txtpb" >"$T/conf.txtpb"
enc ProtoConfig "$T/conf.txtpb" "$T/conf.bin"
expect 2.01 efento/c "$T/conf.bin" -O 66,tok-new
[ "$(state)" = SUCCESSFUL ] || fail "place move not confirmed: $(state)"
expect 4.01 efento/m "$T/new.bin"
expect 2.01 efento/m "$T/opt.bin" -O 66,tok-new
nbg_stop

# ---- a gateway clock from before nbgate's build never reaches a sensor (R1) --------------------
nbg_start "$T/old" LD_PRELOAD="$ROOT/build/test/helpers/clockshift.so" CLOCKSHIFT_S=315360000 \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
case $(coap-client-notls -v 6 -B 2 -m get "coap://127.0.0.1:$NBG_PORT/efento/t" 2>&1 | coap_code) in
5.03*) ;;
*) fail "time served from an implausible clock" ;;
esac
grep -q 'efento time not served: gateway clock not plausible' "$NBG_LOG" || fail "no log line for the 5.03"
profile efento '' || fail "profile efento (old clock)"
nbg device add s2 --token tok-s2 --profile efento >/dev/null || fail "device add s2"
meas m2 tok-s2
expect 2.01 efento/m "$T/m2.bin" -o "$T/dl2.bin"
dec "$T/dl2.bin" >"$T/dl2.txt" || fail "downlink does not decode"
grep -q '^device_info_request: true' "$T/dl2.txt" || fail "no downlink at all: $(cat "$T/dl2.txt")"
grep -q '^current_time' "$T/dl2.txt" && fail "an implausible clock was sent: $(cat "$T/dl2.txt")"
nbg_stop
ok
