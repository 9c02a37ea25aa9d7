#!/bin/sh
# SPDX-License-Identifier: MIT
# Efento NB-IoT resources against the real daemon (specs/efento.md R1-R6, section 8): frames are
# encoded with protoc from tests/data/efento/*.txtpb at test time and posted with
# coap-client-notls -f (CON and NON, efento/x and the factory paths), the same datagram is sent
# again with udp_send (answered once, stored once), unknown tokens land in the pending list,
# a token in a CoAP option, malformed and oversized frames, and downlinks read back from the
# ACK with protoc --decode, with their queue states.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/efentolib.sh"
tmpdir
DATA=$ROOT/tests/data/efento

hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }
# dgram TYPE MID FILE: a CoAP POST efento/m datagram (TYPE 44 = CON, 54 = NON; 4-byte token).
dgram() { printf '%s02%se5f00001b6%s016dff%s' "$1" "$2" "$(printf efento | od -An -tx1 | tr -d ' \n')" "$(hexof "$3")"; }
count() { sql "SELECT count(*) FROM $1"; }

cat >"$T/efento.json" <<'EOF'
{"name":"efento","type":"DEFAULT","transportType":"COAP","profileData":{"configuration":
{"type":"DEFAULT"},"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":
{"coapDeviceType":"EFENTO"}}}}
EOF
sed -e 's/"name":"efento"/"name":"efento-opt"/' \
    -e 's/"coapDeviceType":"EFENTO"/"coapDeviceType":"EFENTO","cloudTokenCoapOption":65/' \
    "$T/efento.json" >"$T/efento-opt.json"
sed -e 's/"name":"efento"/"name":"efento-auto"/' \
    -e 's/"coapDeviceType":"EFENTO"/"coapDeviceType":"EFENTO","cloudTokenCoapOption":64,"autoAccept":true/' \
    "$T/efento.json" >"$T/efento-auto.json"
nbg_start "$T/data"
nbg profile add efento --json "$T/efento.json" >/dev/null || fail "profile add"
nbg profile add efento-opt --json "$T/efento-opt.json" >/dev/null || fail "profile add opt"
nbg profile add efento-auto --json "$T/efento-auto.json" >/dev/null || fail "profile add auto"
nbg device add sensor1 --token example-token-1 --profile efento >/dev/null || fail "device add"
nbg device add plain --token plain-token-1 >/dev/null || fail "device add plain"
nbg device add optsensor --token opt-token-1 --profile efento-opt >/dev/null || fail "device add"
DEV=$(sql "SELECT id FROM device WHERE name='sensor1'")

# ---- time: GET and POST, CON and NON, 2.05 with 4 bytes of epoch seconds ----------------------
for m in get post; do
    for p in efento/t t; do
        before=$(date +%s)
        out=$(coap-client-notls -v 6 -B 2 -m "$m" -o "$T/t.bin" "coap://127.0.0.1:$NBG_PORT/$p" 2>&1 | coap_code)
        case $out in 2.05*) ;; *) fail "$m $p: $out" ;; esac
        [ "$(wc -c <"$T/t.bin")" = 4 ] || fail "$m $p: time is not 4 bytes"
        t=$(( $(od -An -tu1 -v "$T/t.bin" | awk '{print ($1*16777216)+($2*65536)+($3*256)+$4}') ))
        [ "$t" -ge "$before" ] && [ "$t" -le $(($(date +%s) + 1)) ] || fail "$p: time $t, now $before"
    done
done
out=$(coap-client-notls -v 6 -B 2 -N -m get "coap://127.0.0.1:$NBG_PORT/t" 2>&1)
printf '%s\n' "$out" | grep -q '^v:1 t:NON c:2.05' || fail "NON GET t: no NON 2.05: $out"

# ---- paths and methods (R1) ---------------------------------------------------------------------
enc ProtoMeasurements "$DATA/meas_ex14_1.txtpb" "$T/m1.bin"
case $(post efento "$T/m1.bin") in 4.00*) ;; *) fail "POST efento: not 4.00" ;; esac
case $(post efento/x "$T/m1.bin") in 4.00*) ;; *) fail "POST efento/x: not 4.00" ;; esac
case $(coap get efento/m) in 4.00*) ;; *) fail "GET efento/m: not 4.00" ;; esac
case $(coap put efento/m x) in 4.05*) ;; *) fail "PUT efento/m: not 4.05" ;; esac
case $(coap delete m) in 4.05*) ;; *) fail "DELETE m: not 4.05" ;; esac
[ "$(count ts_kv)" = 0 ] || fail "a refused request stored something"

# ---- worked example 14.1, CON: 2.01 after commit, downlink in the ACK ---------------------------
out=$(post efento/m "$T/m1.bin" -o "$T/dl1.bin")
case $out in 2.01*) ;; *) fail "CON efento/m: $out" ;; esac
[ "$(count "ts_kv WHERE device_id=$DEV")" = 16 ] || fail "14.1: want 16 records, got $(count ts_kv)"
[ "$(sql "SELECT v_double FROM ts_kv WHERE key='temperature_1' AND ts_ms=1700000060000")" = 21.8 ] ||
    fail "14.1: temperature_1 at +60 s"
[ "$(sql "SELECT v_str FROM ts_kv WHERE key='power_source'")" = external_supply ] || fail "power_source"
dec "$T/dl1.bin" >"$T/dl1.txt" || fail "downlink does not decode as ProtoConfig"
grep -q '^device_info_request: true' "$T/dl1.txt" || fail "first contact: no device_info_request"
grep -q '^configuration_request: true' "$T/dl1.txt" || fail "unknown hash: no configuration_request"
grep -q '^current_time: ' "$T/dl1.txt" || fail "2023 samples: no current_time"
[ "$(count "event WHERE type='CLOCK_SYNC'")" = 1 ] || fail "clock sync not in the event log"

# ---- NON on the factory path: no answer, stored -----------------------------------------------
enc ProtoMeasurements "$DATA/meas_ex14_2.txtpb" "$T/m2.bin"
out=$(post m "$T/m2.bin" -N)
[ "$out" = "none " ] || fail "NON success must get no answer: $out"
[ "$(count "ts_kv WHERE key='ok_alarm_1'")" = 4 ] || fail "14.2: want 4 ok_alarm_1 records"

# ---- duplicates: the same CON datagram three times, the same NON twice --------------------------
sed 's/1700000000/1700001000/' "$DATA/meas_ex14_1.txtpb" >"$T/m3.txtpb"
enc ProtoMeasurements "$T/m3.txtpb" "$T/m3.bin"
syncs=$(count "event WHERE type='CLOCK_SYNC'")
answers=$("$HELPERS/udp_send" "$NBG_PORT" "$(dgram 44 7a01 "$T/m3.bin")" 3)
[ "$(printf '%s\n' "$answers" | wc -l)" = 3 ] || fail "want 3 answers: $answers"
[ "$(printf '%s\n' "$answers" | sort -u | wc -l)" = 1 ] || fail "answers differ: $answers"
case $answers in 6441*) ;; *) fail "not a piggybacked 2.01: $answers" ;; esac
[ "$(count "event WHERE type='CLOCK_SYNC'")" = $((syncs + 1)) ] || fail "duplicate processed twice"
sed 's/1700000000/1700002000/' "$DATA/meas_ex14_2.txtpb" >"$T/m4.txtpb"
enc ProtoMeasurements "$T/m4.txtpb" "$T/m4.bin"
answers=$("$HELPERS/udp_send" "$NBG_PORT" "$(dgram 54 7a02 "$T/m4.bin")" 2 500)
[ "$answers" = "timeout
timeout" ] || fail "NON success or its duplicate answered: $answers"
[ "$(count "ts_kv WHERE key='ok_alarm_1'")" = 8 ] || fail "NON frame not stored"

# ---- device info: CON and NON, R4(e) ----------------------------------------------------------
enc ProtoDeviceInfo "$DATA/devinfo_bc66.txtpb" "$T/i1.bin"
case $(post efento/i "$T/i1.bin" -o "$T/i1.out") in 2.01*) ;; *) fail "CON efento/i" ;; esac
[ ! -s "$T/i1.out" ] || fail "the answer to a device info carries a payload"
[ "$(sql "SELECT v_long FROM ts_kv_latest WHERE device_id=$DEV AND key='sw_version'")" = 1546 ] ||
    fail "sw_version not stored"
enc ProtoDeviceInfo "$DATA/devinfo_short.txtpb" "$T/i2.bin"
[ "$(post i "$T/i2.bin" -N)" = "none " ] || fail "NON i answered"
[ "$(count "ts_kv WHERE device_id=$DEV AND key='sw_version'")" = 2 ] || fail "second device info"

# ---- configuration: whole, then split in three (R4(g)) ------------------------------------------
enc ProtoConfig "$DATA/config_full.txtpb" "$T/c0.bin"
case $(post efento/c "$T/c0.bin") in 2.01*) ;; *) fail "CON efento/c" ;; esac
attr() { sql "SELECT COALESCE(v_long, v_str) FROM attribute_kv WHERE device_id=$DEV AND scope=$2 AND key='$1'"; }
[ "$(attr transmissionInterval 1)" = 900 ] || fail "configuration attributes not stored"
[ "$(attr configurationHash 1)" = 1234 ] || fail "configurationHash"
[ "$(count "event WHERE type='SERIAL_CHANGED'")" = 1 ] || fail "serial change not logged"
for i in 1 2; do
    enc ProtoConfig "$DATA/config_split_$i.txtpb" "$T/c$i.bin"
    [ "$(post c "$T/c$i.bin" -N)" = "none " ] || fail "split part $i answered"
    [ "$(attr configurationHash 1)" = 1234 ] || fail "part $i published before the set is complete"
done
[ -n "$(attr efentoConfigParts 3)" ] || fail "parts are not held durably"
enc ProtoConfig "$DATA/config_split_3.txtpb" "$T/c3.bin"
case $(post c "$T/c3.bin") in 2.01*) ;; *) fail "last split part" ;; esac
[ "$(attr configurationHash 1)" = 999 ] || fail "split configuration not published"
[ "$(attr measurementPeriodBase 1)" = 120 ] || fail "parts not merged in index order"
[ -z "$(attr efentoConfigParts 3)" ] || fail "parts still held after publishing"
[ "$(attr bleAdvertisingPeriod 1)" = '{"mode":"BLE_ADVERTISING_PERIOD_MODE_NORMAL","normal":1600,"fast":160}' ] ||
    fail "sub-messages of the parts not merged: $(attr bleAdvertisingPeriod 1)"
# The same set out of order (3, 1, 2): complete with part 2, published in index order.
post c "$T/c0.bin" >/dev/null
for i in 3 1 2; do post c "$T/c$i.bin" >/dev/null; done
[ "$(attr configurationHash 1)" = 999 ] && [ "$(attr measurementPeriodBase 1)" = 120 ] ||
    fail "split parts out of order: hash $(attr configurationHash 1)"
post c "$T/c0.bin" >/dev/null # back to the whole configuration (hash 1234)

# ---- in sync: fresh samples, known hash, device info stored -> plain 2.01 (14.1's answer) -------
now=$(date +%s)
cat >"$T/now.txtpb" <<EOF
serial_number: "\x28\x2c\x02\x42\x4e\xed"
battery_status: true
measurement_period_base: 60
measurement_period_factor: 1
channels { type: MEASUREMENT_TYPE_TEMPERATURE timestamp: $((now - 60)) start_point: 215 sample_offsets: [0, 3] }
configuration_hash: 1234
cloud_token: "example-token-1"
EOF
enc ProtoMeasurements "$T/now.txtpb" "$T/now.bin"
out=$(post efento/m "$T/now.bin" -o "$T/dl2.bin")
case $out in 2.01*) ;; *) fail "in-sync frame: $out" ;; esac
[ ! -s "$T/dl2.bin" ] || fail "nothing is due, yet the ACK carries: $(dec "$T/dl2.bin")"

# ---- admin settings: QUEUED -> SENT (CON answer) -> DELIVERED -> SUCCESSFUL ---------------------
nbg efento set sensor1 measurementPeriodBase=99999 >/dev/null 2>&1 && fail "out-of-range setting queued"
nbg efento set sensor1 noSuchField=1 >/dev/null 2>&1 && fail "unknown setting queued"
nbg efento set plain measurementPeriodBase=120 >/dev/null 2>&1 && fail "setting queued for a non-Efento device"
[ "$(count "downlink")" = 0 ] || fail "a refused setting was queued"
nbg efento set sensor1 measurementPeriodBase=120 transmissionInterval=600 >/dev/null || fail "efento set"
state() { sql "SELECT state FROM downlink WHERE kind='EFENTO_CONFIG' ORDER BY id DESC LIMIT 1"; }
[ "$(state)" = QUEUED ] || fail "entry not QUEUED"
[ "$(post m "$T/now.bin" -N)" = "none " ] || fail "NON answered"
[ "$(state)" = QUEUED ] || fail "a NON frame cannot carry settings, yet the entry is $(state)"
sed 's/sample_offsets: \[0, 3\]/sample_offsets: [0, 4]/' "$T/now.txtpb" >"$T/now2.txtpb"
enc ProtoMeasurements "$T/now2.txtpb" "$T/now2.bin"
case $(post efento/m "$T/now2.bin" -o "$T/dl3.bin") in 2.01*) ;; *) fail "CON with settings" ;; esac
dec "$T/dl3.bin" >"$T/dl3.txt"
grep -q '^measurement_period_base: 120' "$T/dl3.txt" || fail "settings not in the ACK: $(cat "$T/dl3.txt")"
grep -q '^transmission_interval: 600' "$T/dl3.txt" || fail "transmission_interval not in the ACK"
grep -q '^configuration_request: true' "$T/dl3.txt" || fail "settings without configuration_request"
[ "$(state)" = SENT ] || fail "entry not SENT: $(state)"
[ "$(post m "$T/now.bin" -N)" = "none " ] || fail "NON answered"
[ "$(state)" = DELIVERED ] || fail "entry not DELIVERED after the next frame: $(state)"
sed -e 's/^measurement_period_base: 60/measurement_period_base: 120/' \
    -e 's/^transmission_interval: 900/transmission_interval: 600/' \
    -e 's/^configuration_hash: 1234/configuration_hash: 1235/' "$DATA/config_full.txtpb" >"$T/c5.txtpb"
enc ProtoConfig "$T/c5.txtpb" "$T/c5.bin"
[ "$(post c "$T/c5.bin" -N)" = "none " ] || fail "NON c answered"
[ "$(state)" = SUCCESSFUL ] || fail "entry not SUCCESSFUL after the configuration: $(state)"
nbg downlinks sensor1 | grep -q 'EFENTO_CONFIG SUCCESSFUL' || fail "downlinks listing: $(nbg downlinks sensor1)"

# The configuration that follows shows other values -> FAILED, naming the first difference; a
# configuration with configuration_errors -> FAILED with the codes.
resp() { sql "SELECT state || ' ' || COALESCE(response, '') FROM downlink ORDER BY id DESC LIMIT 1"; }
for case in mismatch errors; do
    nbg efento set sensor1 transmissionInterval=1200 >/dev/null || fail "efento set"
    post efento/m "$T/now2.bin" >/dev/null
    [ "$(state)" = SENT ] || fail "$case: entry not SENT"
    if [ "$case" = errors ]; then
        sed 's/^transmission_interval: 600/transmission_interval: 1200/' "$T/c5.txtpb" >"$T/c6.txtpb"
        printf 'configuration_errors: [7, 9]\n' >>"$T/c6.txtpb"
    else
        cp "$T/c5.txtpb" "$T/c6.txtpb"
    fi
    enc ProtoConfig "$T/c6.txtpb" "$T/c6.bin"
    post c "$T/c6.bin" -N >/dev/null
    case $case in
    mismatch) want='FAILED {"error":"transmissionInterval: queued 1200, sensor has 600"}' ;;
    errors) want='FAILED {"configurationErrors":[7,9]}' ;;
    esac
    [ "$(resp)" = "$want" ] || fail "$case: $(resp)"
done

# A lost answer: the next frame is a retry (transfer_reason bits 3-7) -> QUEUED, sent again.
nbg efento set sensor1 ackInterval=3600 >/dev/null || fail "efento set ackInterval"
sed 's/configuration_hash: 1234/configuration_hash: 1235/' "$T/now2.txtpb" >"$T/now3.txtpb"
enc ProtoMeasurements "$T/now3.txtpb" "$T/now3.bin"
post efento/m "$T/now3.bin" >/dev/null
[ "$(state)" = SENT ] || fail "ackInterval entry not SENT"
printf 'transfer_reason: 8\n' | cat "$T/now.txtpb" - | sed 's/1234/1235/' >"$T/retry.txtpb"
enc ProtoMeasurements "$T/retry.txtpb" "$T/retry.bin"
post efento/m "$T/retry.bin" -o "$T/dl4.bin" >/dev/null
dec "$T/dl4.bin" | grep -q '^ack_interval: 3600' || fail "entry not sent again after a retried frame"
[ "$(sql "SELECT state || retries FROM downlink ORDER BY id DESC LIMIT 1")" = SENT1 ] ||
    fail "retry not counted: $(sql "SELECT state, retries FROM downlink ORDER BY id DESC LIMIT 1")"

# ---- unknown token -> 4.01 and a pending entry; approve; then accepted ------------------------
sed 's/example-token-1/stranger-token-9/' "$DATA/meas_ex14_1.txtpb" >"$T/u.txtpb"
enc ProtoMeasurements "$T/u.txtpb" "$T/u.bin"
case $(post efento/m "$T/u.bin") in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
case $(post m "$T/u.bin" -N) in 4.01*) ;; *) fail "unknown token, NON: not a 4.01 NON answer" ;; esac
nbg pending list | grep -q '^EFENTO *stranger-token-9 *payload *282C02424EED *m ' || fail "pending list: $(nbg pending list)"
[ "$(nbg pending list --json | grep -o '"attempts":[0-9]*')" = '"attempts":1' ] || fail "attempts"
nbg pending approve stranger-token-9 >/dev/null 2>&1 && fail "approve without --profile (two Efento profiles)"
nbg pending approve stranger-token-9 --profile efento-opt >/dev/null 2>&1 &&
    fail "approved under a profile that expects the token in an option"
nbg pending approve stranger-token-9 --profile efento | grep -q 'created Efento 282C02424EED' ||
    fail "pending approve"
[ -z "$(nbg pending list)" ] || fail "approved entry still pending"
case $(post efento/m "$T/u.bin") in 2.01*) ;; *) fail "approved sensor not accepted" ;; esac

# ---- token of a device whose profile is not Efento: 4.00 (R2.7) --------------------------------
sed 's/example-token-1/plain-token-1/' "$DATA/meas_ex14_1.txtpb" >"$T/p.txtpb"
enc ProtoMeasurements "$T/p.txtpb" "$T/p.bin"
case $(post efento/m "$T/p.bin") in 4.00*) ;; *) fail "non-Efento profile not 4.00" ;; esac
[ "$(count "event e JOIN device d ON d.id=e.device_id WHERE d.name='plain' AND e.type='EFENTO_REJECTED'")" = 1 ] ||
    fail "the refusal is not in the device's event log"

# ---- token in CoAP option 65 (a critical option, registered with libcoap) ---------------------
grep -v cloud_token "$DATA/meas_ex14_1.txtpb" >"$T/o.txtpb"
enc ProtoMeasurements "$T/o.txtpb" "$T/o.bin"
case $(post efento/m "$T/o.bin" -O 65,opt-token-1) in 2.01*) ;; *) fail "token in option 65: $(cat "$T/last.out")" ;; esac
[ "$(count "ts_kv t JOIN device d ON d.id=t.device_id WHERE d.name='optsensor'")" = 16 ] ||
    fail "option-token frame not stored"
sed 's/example-token-1/opt-token-1/' "$DATA/meas_ex14_1.txtpb" >"$T/o2.txtpb"
enc ProtoMeasurements "$T/o2.txtpb" "$T/o2.bin"
case $(post efento/m "$T/o2.bin") in 4.01*) ;; *) fail "token in the wrong place accepted" ;; esac

# ---- auto-accept (R2.6): a profile with autoAccept for tokens in option 64 ---------------------
case $(post efento/m "$T/o.bin" -O 64,auto-token-1) in 2.01*) ;; *) fail "auto-accept: $(cat "$T/last.out")" ;; esac
[ "$(sql "SELECT d.name || '/' || p.name FROM device d JOIN device_profile p ON p.id=d.profile_id
    JOIN credentials c ON c.device_id=d.id WHERE c.credentials_id='auto-token-1'")" = \
    "Efento 282C02424EED 2/efento-auto" ] || fail "auto-accepted device: $(sql "SELECT name FROM device")"

# ---- sensor error samples (R4(h), worked example 14.3) -----------------------------------------
enc ProtoMeasurements "$DATA/meas_ex14_3.txtpb" "$T/e.bin"
case $(post efento/m "$T/e.bin") in 2.01*) ;; *) fail "14.3 frame" ;; esac
# 14.1 stored the same three times; 14.3 rewrites +0 s and +120 s, its error sample leaves +60 s.
[ "$(sql "SELECT group_concat(v_double, ' ') FROM (SELECT v_double FROM ts_kv WHERE device_id=$DEV
    AND key='temperature_1' AND ts_ms IN (1700000000000, 1700000060000, 1700000120000)
    ORDER BY ts_ms)")" = "11.5 21.8 12.0" ] || fail "14.3: an error sample became a value"
[ "$(attr efentoSensorErrors_1 3)" = 1 ] && [ "$(attr efentoSensorErrors 3)" = 1 ] ||
    fail "sensor error counters"
sql "SELECT body FROM event WHERE type='SENSOR_ERROR'" | grep -q '"code":8388557,"hex":"0x7FFFCD","name":"SHT4x failure","samples":1,"firstS":1700000060' ||
    fail "sensor error event: $(sql "SELECT body FROM event WHERE type='SENSOR_ERROR'")"

# ---- malformed and oversized frames (R6) ------------------------------------------------------
printf 'this is not protobuf' >"$T/bad.bin"
[ "$(post efento/m "$T/bad.bin")" = "4.00 " ] || fail "garbage: not 4.00 without payload"
grep -q "efento malformed frame peer=127.0.0.1:[0-9]* path=m code=4.00 len=20 err=.* hex=7468697320697320" \
    "$NBG_LOG" || fail "no log line with peer and hex prefix"
grep -v channels "$DATA/meas_ex14_3.txtpb" | grep -v '^  \|^}' >"$T/nochan.txtpb"
enc ProtoMeasurements "$T/nochan.txtpb" "$T/nochan.bin"
case $(post efento/m "$T/nochan.bin") in 4.00*) ;; *) fail "frame without channels: not 4.00" ;; esac
printf 'garbage-garbage!' >"$T/g.bin"
answers=$("$HELPERS/udp_send" "$NBG_PORT" "$(dgram 44 7a03 "$T/g.bin")" 12)
[ "$(printf '%s\n' "$answers" | grep -c '^6480')" = 12 ] || fail "12 malformed frames: $answers"
[ "$(grep -c 'efento malformed frame .*hex=676172626167652d' "$NBG_LOG")" = 10 ] ||
    fail "malformed frames of one peer: want 10 log lines in a minute"
head -c 5000 /dev/zero >"$T/big.bin"
post efento/m "$T/big.bin" >/dev/null
grep -q 'c:4.13 .*Size1:4096' "$T/last.out" || fail "oversized: no 4.13 with Size1 4096: $(cat "$T/last.out")"

before=$(count ts_kv)
nbg_stop
grep -q 'duplicates=3' "$NBG_LOG" || fail "want 3 duplicates: $(grep stopping "$NBG_LOG")"
[ "$before" -gt 0 ] || fail "nothing stored"
ok
