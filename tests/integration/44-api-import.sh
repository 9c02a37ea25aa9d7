#!/bin/sh
# SPDX-License-Identifier: MIT
# Bulk import of devices from CSV through the admin API (specs/rest-api.md 4.8) against the real
# daemon: the spec's request plus a duplicate token, a line without a name, a line with too many
# values, quoted cells with the delimiter, quotes and CR LF, an update of an existing name, typed
# key-value cells (time series, server and queued shared attributes), a generated token, an X509
# cell keyed by the certificate's SHA-256, "update": false, and whole-request refusals
# (unsupported column type, bad mapping, unterminated quote) that import nothing. Also X.509
# credentials through POST /api/device/credentials, and POST /api/device-with-credentials.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v openssl >/dev/null || fail "openssl is required"
tmpdir
api_start "$T/data"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k.pem" -out "$T/c.pem" \
    -days 30 -subj /CN=import-test >/dev/null 2>&1 || fail "openssl req"
FP=$(openssl x509 -in "$T/c.pem" -outform der | sha256sum | cut -d' ' -f1)
B64=$(sed '/-----/d' "$T/c.pem" | tr -d '\n')

MAPPING='{"columns":[{"type":"NAME"},{"type":"TYPE"},{"type":"ACCESS_TOKEN"},{"type":"SERVER_ATTRIBUTE","key":"site"},{"type":"TIMESERIES","key":"temp"},{"type":"SHARED_ATTRIBUTE","key":"target"},{"type":"LABEL"},{"type":"X509"}],"delimiter":",","header":true,"update":true}'
printf '%s\r\n' 'name,profile,token,site,temp,target,label,cert' \
    'Efento 282C02424EED,Efento NB-IoT,tok-01,Hall A,"21,5",true,,' \
    'dev-2,,tok-02,"Hall ""B"", north",7,{"a":[1]},Cold,' \
    'dup,,tok-01,,,,,' \
    ',,tok-09,,,,,' \
    'toomany,,,,,,,,extra' \
    'Efento 282C02424EED,,,,,,Room 1,' \
    'gen,,,,1.5e3,,,' >"$T/file.csv"
printf '"cert-dev",,,,,,,"%s"\n' "$(cat "$T/c.pem")" >>"$T/file.csv"
jq -n --rawfile f "$T/file.csv" --argjson m "$MAPPING" '{file: $f, mapping: $m}' >"$T/req.json"
api POST /api/device/bulk_import "@$T/req.json"
want 200
[ "$(field '.created, .updated, .errors' | tr '\n' ' ')" = "4 1 3 " ] || fail "counts: $BODY"
[ "$(field '.errorsList | join("|")')" = \
    "Line 4: Device credentials are already assigned to another device!|Line 5: Device name should be specified!|Line 6: The line has 9 values, the mapping 8 columns" ] ||
    fail "errorsList: $BODY"

# What the lines made.
api GET '/api/tenant/devices?deviceName=Efento%20282C02424EED'
want 200
E=$(field .id.id)
[ "$(field '.type + "|" + .label')" = "Efento NB-IoT|Room 1" ] || fail "updated device: $BODY"
api GET "/api/device/$E/credentials"
[ "$(field .credentialsId)" = tok-01 ] || fail "token: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$E/values/timeseries?keys=temp&useStrictDataTypes=true"
[ "$(field '.temp[0].value')" = 21.5 ] || fail "decimal comma: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$E/values/attributes?keys=site,target"
[ "$(field 'map("\(.key)=\(.value | tojson)") | join(",")')" = 'site="Hall A",target=true' ] || fail "attributes: $BODY"
api GET '/api/tenant/devices?deviceName=dev-2'
D2=$(field .id.id)
[ "$(field .label)" = Cold ] || fail "label: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$D2/values/attributes?keys=site,target"
[ "$(field 'map("\(.key)=\(.value | tojson)") | join(",")')" = 'site="Hall \"B\", north",target={"a":[1]}' ] || fail "quoted cells: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$D2/values/timeseries?keys=temp&useStrictDataTypes=true"
[ "$(field '.temp[0].value | tojson')" = 7 ] || fail "LONG cell: $BODY"
[ "$(sql "SELECT count(*) FROM downlink WHERE kind = 'ATTRIBUTES'")" = 2 ] || fail "shared cells not queued"
api GET '/api/tenant/devices?deviceName=gen'
G=$(field .id.id)
api GET "/api/device/$G/credentials"
printf '%s' "$(field .credentialsId)" | grep -Eq '^[A-Za-z0-9]{20}$' || fail "generated token: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$G/values/timeseries?keys=temp&useStrictDataTypes=true"
[ "$(field '.temp[0].value | tojson')" = 1500 ] || fail "1.5e3 is a LONG: $BODY"
api GET '/api/tenant/devices?deviceName=cert-dev'
C=$(field .id.id)
api GET "/api/device/$C/credentials"
[ "$(field '.credentialsType + " " + .credentialsId')" = "X509_CERTIFICATE $FP" ] || fail "X509 cell: $BODY"
[ "$(field .credentialsValue)" = "$B64" ] || fail "X509 body: $BODY"

# update: false keeps the values of existing devices but still updates their cells.
NOUPD='{"columns":[{"type":"NAME"},{"type":"LABEL"},{"type":"SERVER_ATTRIBUTE","key":"site"}],"delimiter":";","header":false,"update":false}'
jq -n --argjson m "$NOUPD" '{file: "dev-2;Warm;Hall C\nnew-3;;Hall D\n", mapping: $m}' >"$T/req.json"
api POST /api/device/bulk_import "@$T/req.json"
want 200
[ "$(field '.created, .updated, .errors' | tr '\n' ' ')" = "1 1 0 " ] || fail "update false: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$D2/values/attributes/SERVER_SCOPE?keys=site"
[ "$(field '.[0].value')" = 'Hall "B", north' ] || fail "update false overwrote a value: $BODY"
api GET "/api/device/$D2"
[ "$(field .label)" = Warm ] || fail "update false: label not updated: $BODY"

# Whole-request refusals import nothing.
n=$(sql "SELECT count(*) FROM device")
api POST /api/device/bulk_import '{"file":"x,y\n","mapping":{"columns":[{"type":"NAME"},{"type":"MQTT_CLIENT_ID"}]}}'
want 400 31
want_msg "Unsupported column type: MQTT_CLIENT_ID"
api POST /api/device/bulk_import '{"file":"x\n","mapping":{"columns":[{"type":"NAME"},{"type":"CLIENT_ATTRIBUTE","key":"k"}]}}'
want 400 31
api POST /api/device/bulk_import '{"file":"x\n","mapping":{"columns":[{"type":"SERVER_ATTRIBUTE"}]}}'
want 400 31
api POST /api/device/bulk_import '{"file":"a\n\"b\n","mapping":{"columns":[{"type":"NAME"}]}}'
want 400 31
api POST /api/device/bulk_import '{"file":"a\n","mapping":{"columns":[{"type":"NAME"}],"delimiter":";;"}}'
want 400 31
api POST /api/device/bulk_import '{"mapping":{"columns":[{"type":"NAME"}]}}'
want 400 31
api POST /api/device/bulk_import '{"file":'
want 400 31
[ "$(sql "SELECT count(*) FROM device")" = "$n" ] || fail "a refused request imported devices"

# X.509 credentials through the credentials endpoint.
PEM=$(jq -Rs . "$T/c.pem")
api POST /api/device/credentials "{\"deviceId\":{\"id\":\"$G\"},\"credentialsType\":\"X509_CERTIFICATE\",\"credentialsValue\":$PEM}"
want 400 31
want_msg "Device credentials are already assigned to another device!"
api POST /api/device/credentials "{\"deviceId\":{\"id\":\"$C\"},\"credentialsType\":\"X509_CERTIFICATE\",\"credentialsValue\":\"$B64\"}"
want 200
[ "$(field '.credentialsType + " " + .credentialsId')" = "X509_CERTIFICATE $FP" ] || fail "X509 save: $BODY"
api POST /api/device/credentials "{\"deviceId\":{\"id\":\"$C\"},\"credentialsType\":\"X509_CERTIFICATE\",\"credentialsValue\":\"bm90IGEgY2VydA==\"}"
want 400 31
printf '%s' "$(field .message)" | grep -q '^Invalid device credentials: ' || fail "bad certificate: $BODY"
# Device and credential in one request (specs/rest-api.md 4.7); refusals save nothing.
api POST /api/device-with-credentials '{"device":{"name":"wc1","label":"L"},"credentials":{"credentialsType":"ACCESS_TOKEN","credentialsId":"wc-tok"}}'
want 200
W1=$(field .id.id)
api GET "/api/device/$W1/credentials"
[ "$(field .credentialsId)" = wc-tok ] || fail "device-with-credentials token: $BODY"
api POST /api/device-with-credentials '{"device":{"name":"wc2"},"credentials":{"credentialsType":"ACCESS_TOKEN","credentialsId":"wc-tok"}}'
want 400 31
want_msg "Device credentials are already assigned to another device!"
api POST /api/device-with-credentials "{\"device\":{\"name\":\"wc3\"},\"credentials\":{\"credentialsType\":\"X509_CERTIFICATE\",\"credentialsValue\":$PEM}}"
want 400 31
api POST /api/device-with-credentials '{"device":{"name":"wc4"}}'
want 400 31
api POST /api/device-with-credentials '{"device":{"name":"wc5"},"credentials":{"credentialsType":"MQTT_BASIC","credentialsId":"x"}}'
want 400 31
[ "$(sql "SELECT count(*) FROM device WHERE name IN ('wc2','wc3','wc4','wc5')")" = 0 ] || fail "a refused request saved a device"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k2.pem" -out "$T/c2.pem" \
    -days 30 -subj /CN=second >/dev/null 2>&1 || fail "openssl req"
FP2=$(openssl x509 -in "$T/c2.pem" -outform der | sha256sum | cut -d' ' -f1)
api POST /api/device-with-credentials "{\"device\":{\"id\":{\"entityType\":\"DEVICE\",\"id\":\"$W1\"},\"name\":\"wc1\"},\"credentials\":{\"credentialsType\":\"X509_CERTIFICATE\",\"credentialsValue\":$(jq -Rs . "$T/c2.pem")}}"
want 200
api GET "/api/device/$W1/credentials"
[ "$(field '.credentialsType + " " + .credentialsId')" = "X509_CERTIFICATE $FP2" ] || fail "update with X509: $BODY"
nbg_stop
ok
