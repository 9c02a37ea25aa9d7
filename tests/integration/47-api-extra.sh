#!/bin/sh
# SPDX-License-Identifier: MIT
# The admin API's Efento settings queue and DTLS routes (specs/rest-api.md 9.4, 9.5) against the
# real daemon. Efento: settings
# are queued for an Efento device (the profile's expiry, or the caller's), listed newest first
# with a state filter and cancelled while QUEUED; out-of-range or unknown settings, bad bodies,
# non-Efento and unknown devices, bad states and entries no longer QUEUED are refused with
# ThingsBoard's error bodies and queue nothing. DTLS: with it off there is no certificate and the
# download is ThingsBoard's 404; with the generated appliance certificate GET /api/nbgate/dtls
# shows its settings, subject, fingerprint and validity as openssl reads them, the download needs
# no token, is that PEM, and a device trusting it with -R posts over coaps; with a configured
# file holding a chain and the key, the chain is served and the key is not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
api_start "$T/data"

api POST /api/deviceProfile '{"name":"efento","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO","downlinkExpiryS":3600}}}}'
want 200
EF=$(field .id.id)
api POST '/api/device?accessToken=eftok' "{\"name\":\"sensor\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$EF\"}}"
want 200
E=$(field .id.id)
PLAIN=$(device plain plaintok)
URL="/api/nbgate/device/$E/efentoConfig"

# Queue with the profile's expiry, then with the caller's.
api POST "$URL" '{"settings":{"measurementPeriodBase":60,"transmissionInterval":900},"expirationTime":null}'
want 200
[ "$(field '[.state, .deviceId.entityType, .deviceId.id, (.settings.measurementPeriodBase | tostring), (.sendCount | tostring), (.sentTs | tostring)] | join(" ")')" = \
    "QUEUED DEVICE $E 60 0 null" ] || fail "queued entry: $BODY"
[ "$(field '.expirationTime - .createdTime')" = 3600000 ] || fail "profile expiry: $BODY"
Q1=$(field .id)
EXP=$(($(date +%s) * 1000 + 7200000))
api POST "$URL" "{\"settings\":{\"transmissionInterval\":1800},\"expirationTime\":$EXP}"
want 200
[ "$(field .expirationTime)" = "$EXP" ] || fail "caller's expiry: $BODY"
Q2=$(field .id)

# Refusals queue nothing.
api POST "$URL" '{"settings":{"measurementPeriodBase":60,"transmissionInterval":30}}'
want 400 31
case $(field .message) in *transmissionInterval*) ;; *) fail "range error names no field: $BODY" ;; esac
api POST "$URL" '{"settings":{"noSuchSetting":1}}'
want 400 31
case $(field .message) in *noSuchSetting*) ;; *) fail "unknown setting not named: $BODY" ;; esac
api POST "$URL" '{"settings":{}}'
want 400 31
api POST "$URL" '{"expirationTime":null}'
want 400 31
api POST "$URL" 'not json'
want 400 31
api POST "$URL" '{"settings":{"measurementPeriodBase":60},"expirationTime":1000}'
want 400 31
api POST "$URL" '{"settings":{"measurementPeriodBase":60},"expirationTime":"soon"}'
want 400 31
api POST "/api/nbgate/device/$PLAIN/efentoConfig" '{"settings":{"measurementPeriodBase":60}}'
want 400 31
api GET "/api/nbgate/device/$PLAIN/efentoConfig?pageSize=10&page=0"
want 400 31
api POST /api/nbgate/device/00000000-0000-4000-8000-000000000000/efentoConfig '{"settings":{"measurementPeriodBase":60}}'
want 404 32
api POST /api/nbgate/device/not-a-uuid/efentoConfig '{"settings":{"measurementPeriodBase":60}}'
want 400 31

# Listing: newest first by default, paged, state filter.
api GET "$URL?pageSize=1&page=0"
want 200
[ "$(field '.totalElements, .hasNext, .data[0].id' | tr '\n' ' ')" = "2 true $Q2 " ] || fail "page: $BODY"
api GET "$URL?pageSize=10&page=0&sortProperty=createdTime&sortOrder=ASC"
[ "$(field '[.data[].id] | join(",")')" = "$Q1,$Q2" ] || fail "ASC: $BODY"
api GET "$URL?pageSize=10&page=0&state=QUEUED"
[ "$(field .totalElements)" = 2 ] || fail "state QUEUED: $BODY"
api GET "$URL?pageSize=10&page=0&state=SENT"
[ "$(field .totalElements)" = 0 ] || fail "state SENT: $BODY"
api GET "$URL?pageSize=10&page=0&state=BOGUS"
want 400 31
api GET "$URL?page=0"
want 400 31

# Cancel: a QUEUED entry goes; others are refused; unknown ids.
api DELETE "$URL/$Q1"
want 200
api GET "$URL?pageSize=10&page=0"
[ "$(field '.totalElements, .data[0].id' | tr '\n' ' ')" = "1 $Q2 " ] || fail "after cancel: $BODY"
api DELETE "$URL/$Q1"
want 404 32
api DELETE "$URL/not-a-uuid"
want 400 31
sql "UPDATE downlink SET state = 'SENT', sent_ms = 1767226500000 WHERE uuid = '$Q2'"
api DELETE "$URL/$Q2"
want 400 31
want_msg "Only a QUEUED entry can be cancelled"
api GET "$URL?pageSize=10&page=0&state=SENT"
[ "$(field '.data[0] | [.state, (.sendCount | tostring), (.sentTs | tostring)] | join(" ")')" = "SENT 1 1767226500000" ] ||
    fail "sent entry: $BODY"
api DELETE "/api/nbgate/device/$PLAIN/efentoConfig/$Q2"
want 400 31

# No token, no queue.
TOKEN=""
api POST "$URL" '{"settings":{"measurementPeriodBase":60}}'
want 401
[ "$(sql "SELECT count(*) FROM downlink WHERE kind = 'EFENTO_CONFIG'")" = 1 ] || fail "queue changed by refusals"

# DTLS off: no certificate, and ThingsBoard's 404 for the download.
api_start_again() {
    nbg_stop
    api_start "$@"
}
TOKEN=""
api POST /api/auth/login '{"username":"api@example.com","password":"api-secret"}'
TOKEN=$(field .token)
api GET /api/nbgate/dtls
want 200
[ "$(field '[(.enabled | tostring), (.certificate | tostring), (.activeSessions | tostring)] | join(" ")')" = "false null null" ] ||
    fail "dtls off: $BODY"
api GET /api/device-connectivity/coaps/certificate/download
want 404 32
want_msg "coaps pem cert file is not found!"

# DTLS on with the generated appliance certificate: the download needs no token and is what a
# device trusts with -R.
DP=$(freeport) || fail "no free port"
api_start_again "$T/data2" COAP_DTLS_ENABLED=true COAP_DTLS_BIND_ADDRESS=127.0.0.1 COAP_DTLS_BIND_PORT=$DP \
    TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT=600000
api GET /api/nbgate/dtls
want 200
[ "$(field '[(.enabled | tostring), .bindAddress, (.bindPort | tostring), .credentialsType, (.x509SessionInactivityTimeoutMs | tostring), (.x509SessionReportTimeoutMs | tostring)] | join(" ")')" = \
    "true 127.0.0.1 $DP PEM 600000 1800000" ] || fail "dtls on: $BODY"
FP=$(openssl x509 -in "$T/data2/appliance-cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
SUBJ=$(openssl x509 -in "$T/data2/appliance-cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
NA=$(($(date -d "$(openssl x509 -in "$T/data2/appliance-cert.pem" -noout -enddate | sed 's/.*=//')" +%s) * 1000))
[ "$(field '.certificate | [.sha256Fingerprint, .subject, (.notAfter | tostring), (.selfSigned | tostring), (.generated | tostring), .keyType] | join("|")')" = \
    "$FP|$SUBJ|$NA|true|true|EC P-256" ] || fail "certificate: $BODY"
[ "$(field '.certificate.notBefore < .certificate.notAfter and (.certificate.serialNumber | test("^[0-9a-f]+$"))')" = true ] ||
    fail "validity or serial: $BODY"
TOKEN=""
api GET /api/device-connectivity/coaps/certificate/download
want 200
cmp -s "$T/body" "$T/data2/appliance-cert.pem" || fail "download differs from the certificate: $BODY"
curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -D "$T/headers" -o /dev/null \
    "https://localhost:$NBG_ADMIN_PORT/api/device-connectivity/coaps/certificate/download" || fail "curl headers"
grep -qi '^content-type: application/octet-stream' "$T/headers" || fail "content type: $(cat "$T/headers")"
grep -qi '^content-disposition: attachment;filename=ca-root.pem' "$T/headers" || fail "disposition: $(cat "$T/headers")"
api GET /api/device-connectivity/coap/certificate/download
want 404 32
want_msg "coap pem cert file is not found!"
api GET /api/nbgate/dtls
want 401
api POST /api/auth/login '{"username":"api@example.com","password":"api-secret"}'
# shellcheck disable=SC2034 # read by api() in apilib.sh
TOKEN=$(field .token)
device dtls1 dtlstok >/dev/null
out=$(coap-client-openssl -v 6 -B 5 -m post -e '{"t":21}' -R "$T/body" \
    "coaps://127.0.0.1:$DP/api/v1/dtlstok/telemetry" 2>&1 | coap_code)
case $out in 2.01*) ;; *) fail "a device trusting the download is refused: $out" ;; esac

# A configured file with its chain and key: the certificates are served, never the key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 30 -subj /CN=dtls-conf \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/conf.key" -out "$T/conf.pem" 2>/dev/null || fail "openssl req"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other \
    -keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null || fail "openssl req other"
cat "$T/conf.pem" "$T/other.pem" "$T/conf.key" >"$T/bundle.pem"
DP=$(freeport) || fail "no free port"
api_start_again "$T/data3" COAP_DTLS_ENABLED=true COAP_DTLS_BIND_ADDRESS=127.0.0.1 COAP_DTLS_BIND_PORT=$DP \
    COAP_DTLS_PEM_CERT="$T/bundle.pem"
api GET /api/nbgate/dtls
want 200
[ "$(field '.certificate | [.subject, (.generated | tostring), .keyType] | join("|")')" = "CN=dtls-conf|false|EC P-384" ] ||
    fail "configured certificate: $BODY"
api GET /api/device-connectivity/coaps/certificate/download
want 200
grep -q 'PRIVATE KEY' "$T/body" && fail "the download carries the key"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/body")" = 2 ] || fail "chain not served: $BODY"
[ "$(openssl x509 -in "$T/body" -noout -subject -nameopt RFC2253)" = "subject=CN=dtls-conf" ] || fail "first certificate: $BODY"
nbg_stop
ok
