#!/bin/sh
# SPDX-License-Identifier: MIT
# OTA packages through the admin API (specs/rest-api.md 6a) against the real daemon: package
# info checks; a streamed multipart upload with the checksum in the query (curl -F) and in form
# fields (as tb-rest-client sends it), CRC32 in ThingsBoard's little-endian text, a wrong
# checksum, a second upload, a body over OTA_MAX_PACKAGE_SIZE (Content-Length and chunked) and a
# body that is not multipart, all refused with nothing kept; a 10 MiB upload and download with
# flat daemon memory; download and the base64 OtaPackage give the same bytes; pages and the
# assignable list; assignment to a device, then to its profile, then clearing both, with the
# fw_* attributes, the target telemetry and the same bytes over CoAP; ThingsBoard's assignment
# refusals; deletion refused while referenced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
# ASan keeps freed memory in quarantine; without it the resident size shows what is held.
api_start "$T/data" ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=0"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$NBG_PID/status"; }
# upload ID FILE [curl args]: multipart POST of FILE as the part "file"; sets CODE and BODY.
upload() {
    id=$1
    f=$2
    shift 2
    CODE=$(curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -o "$T/body" \
        -w '%{http_code}' -H "X-Authorization: Bearer $TOKEN" -F "file=@$f;type=application/x-fw" "$@" \
        "https://localhost:$NBG_ADMIN_PORT/api/otaPackage/$id$Q") || CODE=000
    BODY=$(cat "$T/body")
    # shellcheck disable=SC2034 # want() in apilib.sh reports them
    m=POST p="/api/otaPackage/$id$Q"
}
attrs() { # attrs DEVICE_ID: the device's shared fw_* attributes as k=v,...
    api GET "/api/plugins/telemetry/DEVICE/$1/values/attributes/SHARED_SCOPE"
    field '[.[] | select(.key | startswith("fw_")) | "\(.key)=\(.value)"] | sort | join(",")'
}

api POST /api/deviceProfile '{"name":"sensors","transportType":"COAP"}'
want 200
P=$(field .id.id)
api POST /api/deviceProfile '{"name":"other","transportType":"COAP"}'
OTHER=$(field .id.id)
api POST '/api/device?accessToken=otok1' "{\"name\":\"d1\",\"deviceProfileId\":{\"id\":\"$P\"}}"
D1=$(field .id.id)
api POST '/api/device?accessToken=otok2' "{\"name\":\"d2\",\"deviceProfileId\":{\"id\":\"$P\"}}"
D2=$(field .id.id)

# Package infos.
api POST /api/otaPackage "{\"title\":\"fw\",\"version\":\"1.0\",\"type\":\"FIRMWARE\",\"tag\":\"fw 1.0\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$P\"}}"
want 200
F10=$(field .id.id)
[ "$(field '[.hasData, .type, .name, .tag, .deviceProfileId.id, .dataSize, .url] | map(tostring) | join(" ")')" = \
    "false FIRMWARE fw fw 1.0 $P null null" ] || fail "info: $BODY"
api POST /api/otaPackage "{\"title\":\"fw\",\"version\":\"1.0\",\"type\":\"FIRMWARE\"}"
want 400 31
want_msg "OtaPackage with such title and version already exists!"
api POST /api/otaPackage '{"version":"1","type":"FIRMWARE"}'
want 400 31
want_msg "OtaPackage title should be specified!"
api POST /api/otaPackage '{"title":"t","version":"1","type":"BOOTLOADER"}'
want 400 31
api POST /api/otaPackage '{"title":"t","version":"1"}'
want 400 31
want_msg "Type should be specified!"
api POST /api/otaPackage '{"title":"t","version":"1","type":"FIRMWARE","deviceProfileId":{"id":"00000000-0000-4000-8000-000000000000"}}'
want 400 31
want_msg "OtaPackage is referencing to non-existent device profile!"
api POST /api/otaPackage "{\"id\":{\"id\":\"$F10\"},\"title\":\"fw\",\"version\":\"2.0\",\"type\":\"FIRMWARE\"}"
want 400 31
want_msg "Updating otaPackage version is prohibited!"
api POST /api/otaPackage "{\"id\":{\"id\":\"$F10\"},\"title\":\"fw\",\"version\":\"1.0\",\"type\":\"FIRMWARE\",\"additionalInfo\":{}}"
want 200
api POST /api/otaPackage "{\"title\":\"fw\",\"version\":\"1.1\",\"type\":\"FIRMWARE\",\"deviceProfileId\":{\"id\":\"$P\"}}"
F11=$(field .id.id)
api POST /api/otaPackage "{\"title\":\"sw\",\"version\":\"1\",\"type\":\"SOFTWARE\",\"deviceProfileId\":{\"id\":\"$P\"}}"
SW=$(field .id.id)
api POST /api/otaPackage "{\"title\":\"fw-other\",\"version\":\"1\",\"type\":\"FIRMWARE\",\"deviceProfileId\":{\"id\":\"$OTHER\"}}"
FO=$(field .id.id)

# Uploads: checksum in the query; refusals that keep nothing.
head -c 1048576 /dev/urandom >"$T/a.bin"
head -c 70000 /dev/urandom >"$T/b.bin"
Q="?checksumAlgorithm=SHA256&checksum=0000"
upload "$F10" "$T/a.bin"
want 400 31
want_msg "Wrong otaPackage file!"
Q=""
CODE=$(curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -o "$T/body" -w '%{http_code}' \
    -H "X-Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' --data-binary "@$T/b.bin" \
    "https://localhost:$NBG_ADMIN_PORT/api/otaPackage/$F10")
[ "$CODE" = 415 ] || fail "non-multipart upload: $CODE $(cat "$T/body")"
head -c 17000000 /dev/zero >"$T/big.bin"
upload "$F10" "$T/big.bin"
[ "$CODE" = 413 ] || fail "over OTA_MAX_PACKAGE_SIZE: $CODE $BODY"
upload "$F10" "$T/big.bin" -H 'Transfer-Encoding: chunked'
[ "$CODE" = 413 ] || fail "chunked over OTA_MAX_PACKAGE_SIZE: $CODE $BODY"
TOKEN_SAVED=$TOKEN
TOKEN=bad
upload "$F10" "$T/a.bin"
want 401 10
TOKEN=$TOKEN_SAVED
api GET "/api/otaPackage/info/$F10"
[ "$(field .hasData)" = false ] || fail "a refused upload kept data: $BODY"
for f in "$T/data"/.ota-*; do
    [ -e "$f" ] && fail "temporary file left behind: $f"
done
Q="?checksumAlgorithm=sha256"
upload "$F10" "$T/a.bin"
want 200
[ "$(field '[.hasData, .dataSize, .fileName, .contentType, .checksumAlgorithm, .checksum] | map(tostring) | join(" ")')" = \
    "true 1048576 a.bin application/x-fw SHA256 $(sha256sum "$T/a.bin" | cut -d' ' -f1)" ] || fail "upload: $BODY"
upload "$F10" "$T/a.bin"
want 400 31
want_msg "Updating otaPackage data is prohibited!"

# Checksum algorithm and value as form fields; CRC32 as ThingsBoard writes it.
CRC=$(python3 -c 'import sys, zlib; print(zlib.crc32(open(sys.argv[1], "rb").read()).to_bytes(4, "little").hex())' "$T/b.bin")
Q=""
upload "$F11" "$T/b.bin" -F checksumAlgorithm=CRC32 -F "checksum=$(printf '%s' "$CRC" | tr a-f A-F)"
want 200
[ "$(field '.checksumAlgorithm + " " + .checksum')" = "CRC32 $CRC" ] || fail "CRC32: $BODY"
upload "$SW" "$T/b.bin" -F checksumAlgorithm=SHA3
want 400 31
upload "$FO" "$T/b.bin"
want 200

# 10 MiB up and down with flat memory (measured after a 1 MiB round trip warmed the caches);
# download and the base64 answer give the same bytes.
download() { # download ID OUT
    curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -H "X-Authorization: Bearer $TOKEN" \
        -D "$T/headers" -o "$2" "https://localhost:$NBG_ADMIN_PORT/api/otaPackage/$1/download" || fail "download"
}
download "$F10" "$T/a.got"
cmp -s "$T/a.bin" "$T/a.got" || fail "1 MiB download differs"
api POST /api/otaPackage '{"title":"big","version":"1","type":"FIRMWARE"}'
BIG=$(field .id.id)
head -c 10485760 /dev/urandom >"$T/ten.bin"
before=$(rss)
upload "$BIG" "$T/ten.bin"
want 200
download "$BIG" "$T/ten.got"
cmp -s "$T/ten.bin" "$T/ten.got" || fail "download differs"
after=$(rss)
[ $((after - before)) -lt 4096 ] || fail "resident memory grew by $((after - before)) KiB for a 10 MiB package"
grep -qi '^content-disposition: attachment;filename=ten.bin' "$T/headers" || fail "headers: $(cat "$T/headers")"
grep -qi '^x-filename: ten.bin' "$T/headers" || fail "x-filename: $(cat "$T/headers")"
api GET "/api/otaPackage/$F11"
want 200
field .data | base64 -d >"$T/b.got"
cmp -s "$T/b.bin" "$T/b.got" || fail "base64 data differs"
api GET "/api/otaPackage/$SW"
[ "$(field '.data | tostring')" = null ] || fail "data of a package without data: $BODY"
api GET "/api/otaPackage/$SW/download"
want 404 32
api GET /api/otaPackage/info/00000000-0000-4000-8000-000000000000
want 404 32
want_msg "Requested item wasn't found!"

# Pages.
api GET '/api/otaPackages?pageSize=2&page=0&sortProperty=title&sortOrder=DESC&textSearch=F'
want 200
[ "$(field '.totalElements, ([.data[].title] | join(","))' | tr '\n' ' ')" = "3 fw-other,fw " ] || fail "packages page: $BODY"
api GET "/api/otaPackages/$P/FIRMWARE?pageSize=10&page=0&sortProperty=version"
[ "$(field '[.data[].version] | join(",")')" = "1.0,1.1" ] || fail "assignable firmware: $BODY"
api GET "/api/otaPackages/$P/SOFTWARE?pageSize=10&page=0"
[ "$(field .totalElements)" = 0 ] || fail "software without data listed: $BODY"
api GET "/api/otaPackages/$P/BOOT?pageSize=10&page=0"
want 400 31
api GET "/api/devices/count/FIRMWARE/$P"
[ "$BODY" = 2 ] || fail "count: $BODY"

# Assignment refusals.
api GET "/api/device/$D1"
printf '%s' "$BODY" >"$T/d1.json"
api POST /api/device "$(jq -c --arg f "$FO" '.firmwareId = {"entityType":"OTA_PACKAGE","id":$f}' "$T/d1.json")"
want 400 31
want_msg "Can't assign firmware with different deviceProfile!"
api POST /api/device "$(jq -c --arg f "$F10" '.softwareId = {"entityType":"OTA_PACKAGE","id":$f}' "$T/d1.json")"
want 400 31
want_msg "Can't assign software with type: FIRMWARE"
api POST /api/device "$(jq -c --arg f "$SW" '.softwareId = {"entityType":"OTA_PACKAGE","id":$f}' "$T/d1.json")"
want 400 31
want_msg "Can't assign software with empty data!"
api POST /api/device "$(jq -c '.firmwareId = {"entityType":"OTA_PACKAGE","id":"00000000-0000-4000-8000-000000000000"}' "$T/d1.json")"
want 400 31
want_msg "Can't assign non-existent firmware!"

# Device, then profile, then clear both.
api POST /api/device "$(jq -c --arg f "$F10" '.firmwareId = {"entityType":"OTA_PACKAGE","id":$f}' "$T/d1.json")"
want 200
[ "$(field .firmwareId.id)" = "$F10" ] || fail "device firmwareId: $BODY"
[ "$(attrs "$D1")" = "fw_checksum=$(sha256sum "$T/a.bin" | cut -d' ' -f1),fw_checksum_algorithm=SHA256,fw_size=1048576,fw_tag=fw 1.0,fw_title=fw,fw_version=1.0" ] ||
    fail "d1 attributes: $(attrs "$D1")"
api GET "/api/plugins/telemetry/DEVICE/$D1/values/timeseries?keys=target_fw_title,target_fw_version,target_fw_tag,fw_state"
[ "$(field '[.target_fw_title[0].value, .target_fw_version[0].value, .target_fw_tag[0].value, .fw_state[0].value] | join("|")')" = \
    "fw|1.0|fw 1.0|INITIATED" ] || fail "target telemetry: $BODY"
n=$(sql "SELECT count(*) FROM downlink WHERE kind = 'ATTRIBUTES'")
api POST /api/device "$(jq -c --arg f "$F10" '.firmwareId = {"entityType":"OTA_PACKAGE","id":$f}' "$T/d1.json")"
[ "$(sql "SELECT count(*) FROM downlink WHERE kind = 'ATTRIBUTES'")" = "$n" ] || fail "a re-save queued an update"
api GET "/api/devices/count/FIRMWARE/$P"
[ "$BODY" = 1 ] || fail "count after a device assignment: $BODY"
api GET "/api/deviceProfile/$P"
api POST /api/deviceProfile "$(printf '%s' "$BODY" | jq -c --arg f "$F11" '.firmwareId = {"entityType":"OTA_PACKAGE","id":$f}')"
want 200
[ "$(field .firmwareId.id)" = "$F11" ] || fail "profile firmwareId: $BODY"
attrs "$D2" | grep -q 'fw_version=1.1' || fail "d2 did not follow the profile: $(attrs "$D2")"
attrs "$D1" | grep -q 'fw_version=1.0' || fail "d1's own package was overridden: $(attrs "$D1")"
coap-client-notls -B 30 -m get -b 1024 -o "$T/coap.got" "coap://127.0.0.1:$NBG_PORT/fw/otok2" || fail "coap download"
cmp -s "$T/b.bin" "$T/coap.got" || fail "CoAP bytes differ"
api DELETE "/api/otaPackage/$F10"
want 400 31
want_msg "The otaPackage referenced by the devices cannot be deleted!"
api DELETE "/api/otaPackage/$F11"
want 400 31
want_msg "The otaPackage referenced by the device profile cannot be deleted!"
api GET "/api/device/$D1"
api POST /api/device "$(printf '%s' "$BODY" | jq -c '.firmwareId = null')"
want 200
attrs "$D1" | grep -q 'fw_version=1.1' || fail "d1 did not fall back to the profile: $(attrs "$D1")"
api GET "/api/deviceProfile/$P"
api POST /api/deviceProfile "$(printf '%s' "$BODY" | jq -c '.firmwareId = null')"
want 200
[ -z "$(attrs "$D1")$(attrs "$D2")" ] || fail "fw_* left after clearing: $(attrs "$D1") / $(attrs "$D2")"
api DELETE "/api/otaPackage/$F10"
want 200
api GET "/api/otaPackage/info/$F10"
want 404 32
api DELETE "/api/otaPackage/$F10"
want 404 32
nbg_stop
ok
