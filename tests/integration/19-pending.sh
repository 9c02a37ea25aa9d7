#!/bin/sh
# SPDX-License-Identifier: MIT
# Pending devices of every kind (specs/rest-api.md 9.3) against the real daemon. An unknown CoAP
# access token is answered 4.01 as before and recorded once (source COAP_TOKEN, the resource, the
# peer, first/last seen, attempts); repeats within a minute rewrite nothing; a token too long for
# an access token or not valid UTF-8 is not recorded. Approving into an Efento profile or without
# a name is 400; into a Default profile it creates the device with that token, whose next
# telemetry is 2.01 and stored. A blocked token is answered 4.01 but neither counted nor logged,
# and is listed with blocked=true. An unknown DTLS client certificate becomes an X509 entry
# (fingerprint and PEM) that approves into a device the certificate then authenticates. All
# sources share one cap (NBGATE_MAX_PENDING_DEVICES): the least recently seen entry goes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v protoc >/dev/null || fail "protoc missing"
command -v openssl >/dev/null || fail "openssl missing"
tmpdir
DP=$(freeport) || fail "no free port"
api_start "$T/data" NBGATE_MAX_PENDING_DEVICES=3 COAP_DTLS_ENABLED=true \
    COAP_DTLS_BIND_ADDRESS=127.0.0.1 COAP_DTLS_BIND_PORT="$DP"
post() { coap-client-notls -v 6 -B 2 -m post -e '{"t":1}' "coap://127.0.0.1:$NBG_PORT/$1" 2>&1 | coap_code; }
pending() { api GET "/api/nbgate/pendingDevices?pageSize=20&page=0&sortProperty=lastSeenTs&sortOrder=DESC${1:-}"; }

api POST /api/deviceProfile '{"name":"efento","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"}}}}'
want 200
EF=$(field .id.id)
api GET /api/deviceProfileInfo/default
DEF=$(field .id.id)

# An unknown token: 4.01, one entry with the spec's fields.
case $(post api/v1/tok-unknown-1/telemetry) in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
pending
want 200
[ "$(field .totalElements)" = 1 ] || fail "one entry expected: $BODY"
[ "$(field '.data[0] | [.source, .credentialsType, .credentialsId, (.tokenSource | tostring), (.certificate | tostring), (.serialNumber | tostring), .lastMessage, (.attempts | tostring), (.blocked | tostring), (.firstSeenTs == .lastSeenTs | tostring)] | join(" ")')" = \
    "COAP_TOKEN ACCESS_TOKEN tok-unknown-1 null null null telemetry 1 false true" ] || fail "entry: $BODY"
field '.data[0].lastRemoteAddress' | grep -Eq '^127\.0\.0\.1:[0-9]+$' || fail "lastRemoteAddress: $BODY"
P1=$(field '.data[0].id')
SEEN=$(field '.data[0].lastSeenTs')
# Repeats within a minute (another resource too) are answered the same and rewrite nothing.
case $(post api/v1/tok-unknown-1/attributes) in 4.01*) ;; *) fail "repeat not 4.01" ;; esac
case $(post api/v1/tok-unknown-1/telemetry) in 4.01*) ;; *) fail "repeat not 4.01" ;; esac
pending
[ "$(field '[.totalElements, .data[0].lastSeenTs, .data[0].attempts, .data[0].lastMessage] | map(tostring) | join(" ")')" = "1 $SEEN 1 telemetry" ] ||
    fail "repeat rewrote the entry: $BODY"
# Not recorded: longer than an access token, or not UTF-8.
LONG=$(printf '%0200d' 7)
case $(post "api/v1/$LONG/telemetry") in 4.01*) ;; *) fail "long token not 4.01" ;; esac
case $(post 'api/v1/bad%FF%FEtok/telemetry') in 4.01*) ;; *) fail "non-UTF-8 token not 4.01" ;; esac
pending
[ "$(field .totalElements)" = 1 ] || fail "long or non-UTF-8 token recorded: $BODY"

# Approve: an Efento profile does not fit, a name is required; a Default profile creates it.
api POST "/api/nbgate/pendingDevices/$P1/approve" "{\"name\":\"u1\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$EF\"}}"
want 400 31
api POST "/api/nbgate/pendingDevices/$P1/approve" "{\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$DEF\"}}"
want 400 31
api POST "/api/nbgate/pendingDevices/$P1/approve" "{\"name\":\"u1\",\"label\":\"Pump\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$DEF\"}}"
want 200
[ "$(field '.name + "|" + .label + "|" + .deviceProfileId.id')" = "u1|Pump|$DEF" ] || fail "approve: $BODY"
U1=$(field .id.id)
api GET "/api/device/$U1/credentials"
[ "$(field '.credentialsType + " " + .credentialsId')" = "ACCESS_TOKEN tok-unknown-1" ] || fail "approved credential: $BODY"
pending
[ "$(field .totalElements)" = 0 ] || fail "approved entry kept: $BODY"
case $(coap-client-notls -v 6 -B 2 -m post -e '{"temp":21.5}' "coap://127.0.0.1:$NBG_PORT/api/v1/tok-unknown-1/telemetry" 2>&1 | coap_code) in
2.01*) ;; *) fail "approved token's telemetry not 2.01" ;; esac
api GET "/api/plugins/telemetry/DEVICE/$U1/values/timeseries?keys=temp"
[ "$(field '.temp[0].value')" = 21.5 ] || fail "approved token's telemetry not stored: $BODY"

# Block: answered 4.01, neither counted nor logged; listed with blocked=true.
case $(post api/v1/tok-blocked/telemetry) in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
pending
PB=$(field '.data[0].id')
api POST "/api/nbgate/pendingDevices/$PB/reject" '{"block":true}'
want 200
LOGGED=$(grep -c 'code=4.01' "$NBG_LOG")
case $(post api/v1/tok-blocked/telemetry) in 4.01*) ;; *) fail "blocked token not 4.01" ;; esac
case $(post api/v1/tok-blocked/rpc) in 4.01*) ;; *) fail "blocked token not 4.01" ;; esac
[ "$(grep -c 'code=4.01' "$NBG_LOG")" = "$LOGGED" ] || fail "a blocked token's request was logged"
case $(post api/v1/tok-other/telemetry) in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
[ "$(grep -c 'code=4.01' "$NBG_LOG")" = $((LOGGED + 1)) ] || fail "an unknown token's request was not logged"
pending '&blocked=true'
[ "$(field '[.totalElements, .data[0].credentialsId, .data[0].blocked, .data[0].attempts] | map(tostring) | join(" ")')" = "1 tok-blocked true 1" ] ||
    fail "blocked listing: $BODY"

# An unknown client certificate over DTLS: 4.01, an X509 entry with fingerprint and PEM.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger -days 30 \
    -keyout "$T/x.key" -out "$T/x.pem" 2>/dev/null || fail "openssl req"
FP=$(openssl x509 -in "$T/x.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
coaps() { coap-client-openssl -v 6 -B 5 -m post -e "$2" -c "$T/x.pem" -j "$T/x.key" "coaps://127.0.0.1:$DP/$1" 2>&1 | coap_code; }
case $(coaps api/v1/telemetry '{"x":1}') in 4.01*) ;; *) fail "unknown certificate not 4.01" ;; esac
pending
[ "$(field '.data[0] | [.source, .credentialsType, .credentialsId, .lastMessage] | join(" ")')" = "X509 X509_CERTIFICATE $FP telemetry" ] ||
    fail "X509 entry: $BODY"
field '.data[0].certificate' | openssl x509 -noout -fingerprint -sha256 >"$T/fp2" 2>&1 || fail "entry PEM does not parse: $BODY"
[ "$(sed 's/.*=//; s/://g' "$T/fp2" | tr 'A-F' 'a-f')" = "$FP" ] || fail "entry PEM differs: $(cat "$T/fp2")"
PX=$(field '.data[0].id')
# The entry's last attempt as an event.
api GET "/api/nbgate/pendingDevices/$PX/events?pageSize=10&page=0"
want 200
[ "$(field '.data[0] | [.type, .responseCode, .resource] | join(" ")')" = "AUTH_FAILED 4.01 api/v1/***/telemetry" ] ||
    fail "pending events: $BODY"
field '.data[0].remoteAddress' | grep -q '^127\.0\.0\.1:' || fail "pending event address: $BODY"
api GET "/api/nbgate/pendingDevices/00000000-0000-4000-8000-000000000000/events?pageSize=10&page=0"
want 404

# One cap for every source (3; the blocked entry aside): an Efento sensor, then two tokens.
sed "s/example-token-1/efento-stranger/" "$ROOT/tests/data/efento/meas_ex14_1.txtpb" |
    (cd "$ROOT" && protoc --encode=ProtoMeasurements -I. proto/efento/proto_measurements.proto) >"$T/e.bin" ||
    fail "protoc --encode"
case $(coap-client-notls -v 6 -B 2 -m post -f "$T/e.bin" "coap://127.0.0.1:$NBG_PORT/efento/m" 2>&1 | coap_code) in
4.01*) ;; *) fail "unknown Efento token not 4.01" ;; esac
pending
[ "$(field '.totalElements')" = 3 ] || fail "three entries expected: $BODY"
case $(post api/v1/tok-cap-1/telemetry) in 4.01*) ;; *) fail "unknown token not 4.01" ;; esac
pending
[ "$(field '[.totalElements, ([.data[].credentialsId] | join(","))] | map(tostring) | join(" ")')" = "3 tok-cap-1,efento-stranger,$FP" ] ||
    fail "cap: tok-other should have gone: $BODY"
pending '&blocked=true'
[ "$(field .totalElements)" = 1 ] || fail "the cap removed a blocked entry: $BODY"

# Approve the certificate into the Default profile: the device it authenticates is accepted.
api POST "/api/nbgate/pendingDevices/$PX/approve" "{\"name\":\"x1\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$DEF\"}}"
want 200
X1=$(field .id.id)
api GET "/api/device/$X1/credentials"
[ "$(field '.credentialsType + " " + .credentialsId')" = "X509_CERTIFICATE $FP" ] || fail "approved certificate: $BODY"
case $(coaps api/v1/telemetry '{"x":2}') in 2.01*) ;; *) fail "approved certificate not accepted" ;; esac
api GET "/api/plugins/telemetry/DEVICE/$X1/values/timeseries?keys=x"
[ "$(field '.x[0].value')" = 2 ] || fail "approved certificate's telemetry not stored: $BODY"

# The same from the command line: approve an unknown access token, block and forget others.
case $(post api/v1/cli-token-1/telemetry) in 4.01*) ;; *) fail "cli-token-1 not refused" ;; esac
case $(post api/v1/cli-token-2/telemetry) in 4.01*) ;; *) fail "cli-token-2 not refused" ;; esac
nbg pending list | grep -q 'COAP_TOKEN.*cli-token-1' || fail "CLI list: $(nbg pending list)"
nbg pending approve cli-token-1 >"$T/cli.out" 2>&1 && fail "CLI approve without a name"
grep -q 'a device NAME is needed' "$T/cli.out" || fail "CLI approve message: $(cat "$T/cli.out")"
nbg pending approve cli-token-1 cli-dev --profile efento >/dev/null 2>&1 && fail "CLI approve into an Efento profile"
nbg pending approve cli-token-1 cli-dev | grep -q '^created cli-dev$' || fail "CLI approve"
case $(post api/v1/cli-token-1/telemetry) in 2.01*) ;; *) fail "CLI-approved token not accepted" ;; esac
nbg pending block cli-token-2 | grep -q '^blocked cli-token-2$' || fail "CLI block"
[ "$(sql "SELECT blocked FROM pending_device WHERE identifier='cli-token-2'")" = 1 ] || fail "not blocked"
# /metrics counts the entries still pending, not the blocked ones.
n=$(sql "SELECT count(*) FROM pending_device WHERE blocked = 0")
curl -sk "https://127.0.0.1:$NBG_ADMIN_PORT/metrics" | grep -q "^nbgate_pending_devices $n\$" ||
    fail "metrics: want nbgate_pending_devices $n: $(curl -sk "https://127.0.0.1:$NBG_ADMIN_PORT/metrics" | grep pending)"
nbg pending delete cli-token-2 | grep -q '^deleted cli-token-2$' || fail "CLI delete"
[ "$(sql "SELECT count(*) FROM pending_device WHERE identifier LIKE 'cli-token-%'")" = 0 ] || fail "entries left"
nbg pending block no-such-token >/dev/null 2>&1 && fail "CLI block of an unknown credential"
nbg_stop
ok
