#!/bin/sh
# SPDX-License-Identifier: MIT
# The admin JSON API over HTTPS against the real daemon (specs/rest-api.md): the generated
# certificate verifies for localhost, health without a token, the one-time setup token, an admin
# made with `nbgate admin create`, login and token use, ThingsBoard's error shape on every
# refusal, devices (create, name and token conflicts, UNIQUIFY, paging, search, sort, get,
# delete), credentials, a device made through the API that posts over CoAP and is read back with
# its types, attributes, logout and refresh, the failed-login limit, the body cap, and an expired
# token after a restart with a short token lifetime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
# shellcheck disable=SC2034 # read by api() in apilib.sh
CA="$T/data/appliance-cert.pem"

# The admin is made by hand below (setup token, then the CLI), so api_start is not used here.
nbg_start "$T/data" NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1
grep -q 'admin certificate subject=.* sha256=[0-9a-f]\{64\} generated=yes new=yes' "$NBG_LOG" ||
    fail "certificate fingerprint not logged"
FP=$(sed -n 's/.*admin certificate .* sha256=\([0-9a-f]*\) .*/\1/p' "$NBG_LOG")
[ "$(stat -c %a "$T/data/appliance-key.pem")" = 600 ] || fail "key file mode is not 0600"

# Health needs no token and really checks the store and the loop.
api GET /api/nbgate/health
want 200
[ "$(field '.status + .checks.store + .checks.coap + .checks.dtls')" = "UPUPUPDISABLED" ] ||
    fail "health: $BODY"

# No default account: nothing logs in; the setup token works once.
api POST /api/auth/login '{"username":"admin","password":"admin"}'
want 401 10
SETUP=$(sed -n 's/.*"setupToken":"\([0-9a-f]*\)".*/\1/p' "$NBG_LOG" | tail -n 1)
[ -n "$SETUP" ] || fail "no setup token in the log"
api POST /api/nbgate/setup "{\"setupToken\":\"$SETUP\",\"username\":\"admin@example.com\",\"password\":\"short\"}"
want 400 31
api POST /api/nbgate/setup "{\"setupToken\":\"$SETUP\",\"username\":\"admin@example.com\",\"password\":\"first-secret\"}"
want 200
[ "$(field '.token | split(".") | length')" = 3 ] || fail "setup did not answer a JWT: $BODY"
api POST /api/nbgate/setup "{\"setupToken\":\"$SETUP\",\"username\":\"other\",\"password\":\"first-secret\"}"
want 401 10

# A second admin from the command line, while the daemon runs.
printf 'ops-secret\n' | nbg admin create ops@example.com >/dev/null || fail "admin create"
printf 'ops-secret\n' | nbg admin create ops@example.com >/dev/null 2>&1 && fail "duplicate admin accepted"
printf 'abc\n' | nbg admin create weak@example.com >/dev/null 2>&1 && fail "short password accepted"

api POST /api/auth/login '{"username":"ops@example.com","password":"ops-secret"}'
want 200
TOKEN=$(field .token)
REFRESH=$(field .refreshToken)
# The access token is a JWT whose claims ThingsBoard's clients read.
CLAIMS=$(printf '%s' "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d)
printf '%s' "$CLAIMS" | jq -e '.sub == "ops@example.com" and .scopes == ["TENANT_ADMIN"] and (.exp - .iat) == 9000 and (.sessionId | length) == 36' >/dev/null ||
    fail "access token claims: $CLAIMS"
api GET /api/auth/user
want 200
[ "$(field '.email + " " + .authority + " " + .id.entityType')" = "ops@example.com TENANT_ADMIN USER" ] || fail "user: $BODY"

# Refusals carry ThingsBoard's error body.
SAVED=$TOKEN
TOKEN=""
api GET /api/auth/user
want 401 10
TOKEN="not-a-jwt"
api GET /api/tenant/devices?pageSize=1\&page=0
want 401 10
TOKEN=$REFRESH
api GET /api/auth/user
want 403 20
TOKEN=""
api GET /api/no/such/path
want 401 10
TOKEN=$SAVED
api GET /api/no/such/path
want 404 32
api PUT /api/device '{}'
want 405 31

# Devices.
api POST '/api/device?accessToken=tok-a' '{"name":"dev-a","label":"Hall A","additionalInfo":{"description":"north"}}'
want 200
ID_A=$(field .id.id)
[ "$(field '.id.entityType + " " + .type + " " + .customerId.id + " " + .deviceData.transportConfiguration.type')" = \
    "DEVICE default 13814000-1dd2-11b2-8080-808080808080 COAP" ] || fail "device shape: $BODY"
[ "$(field .additionalInfo.description)" = north ] || fail "additionalInfo lost: $BODY"
api POST /api/device '{"name":"dev-b","label":"Cold room"}'
want 200
ID_B=$(field .id.id)
api POST /api/device '{"name":"sensor-c","type":"Efento NB-IoT"}'
want 200
[ "$(field .type)" = "Efento NB-IoT" ] || fail "profile by type: $BODY"
api POST /api/device '{"name":"dev-a"}'
want 400 31
[ "$(field .message)" = "Device with such name already exists!" ] || fail "name conflict: $BODY"
api POST '/api/device?accessToken=tok-a' '{"name":"dev-d"}'
want 400 31
[ "$(field .message)" = "Device credentials are already assigned to another device!" ] || fail "token conflict: $BODY"
api POST '/api/device?nameConflictPolicy=UNIQUIFY&uniquifyStrategy=INCREMENTAL' '{"name":"dev-a"}'
want 200
[ "$(field .name)" = "dev-a_1" ] || fail "UNIQUIFY: $BODY"
api POST /api/device '{"name":'
want 400 31
api POST /api/device '{"label":"no name"}'
want 400 31
[ "$(field .message)" = "Device name should be specified!" ] || fail "missing name: $BODY"
api POST /api/device '{"name":"x","deviceProfileId":{"entityType":"DEVICE_PROFILE","id":"00000000-0000-4000-8000-000000000000"}}'
want 400 31

# Update keeps the id; a name change is seen by get.
api POST /api/device "{\"id\":{\"entityType\":\"DEVICE\",\"id\":\"$ID_B\"},\"name\":\"dev-b2\",\"label\":\"Cold room\"}"
want 200
[ "$(field .id.id) $(field .name)" = "$ID_B dev-b2" ] || fail "update: $BODY"
api GET "/api/device/$ID_B"
want 200
[ "$(field .name)" = dev-b2 ] || fail "get after update: $BODY"
api GET /api/device/00000000-0000-4000-8000-000000000000
want 404 32
api GET /api/device/not-a-uuid
want 400 31

# Paging walks every device once with consistent totals.
seen=""
page=0
while :; do
    api GET "/api/tenant/devices?pageSize=2&page=$page&sortProperty=name&sortOrder=ASC"
    want 200
    [ "$(field .totalElements) $(field .totalPages)" = "4 2" ] || fail "totals on page $page: $BODY"
    seen="$seen$(field '[.data[].name] | join(",")'),"
    [ "$(field .hasNext)" = true ] || break
    page=$((page + 1))
    [ "$page" -lt 5 ] || fail "hasNext never false"
done
[ "$seen" = "dev-a,dev-a_1,dev-b2,sensor-c," ] || fail "pages: $seen"
api GET '/api/tenant/devices?pageSize=2&page=7'
want 200
[ "$(field '.data | length') $(field .totalElements) $(field .hasNext)" = "0 4 false" ] || fail "page past the end: $BODY"
api GET '/api/tenant/devices?pageSize=10&page=0&textSearch=COLD'
want 200
[ "$(field '[.data[].name] | join(",")')" = dev-b2 ] || fail "textSearch on label: $BODY"
api GET '/api/tenant/devices?pageSize=10&page=0&sortProperty=name&sortOrder=DESC'
want 200
[ "$(field '.data[0].name')" = sensor-c ] || fail "sort DESC: $BODY"
api GET '/api/tenant/devices?pageSize=0&page=0'
want 400 31
api GET '/api/tenant/devices?pageSize=1&page=0&sortProperty=colour'
want 400 31
api GET '/api/tenant/devices?page=0'
want 400 31
api GET '/api/tenant/devices?deviceName=dev-a'
want 200
[ "$(field .id.id)" = "$ID_A" ] || fail "deviceName lookup: $BODY"
api GET '/api/tenant/devices?deviceName=nope'
want 404 32

# Credentials.
api GET "/api/device/$ID_A/credentials"
want 200
[ "$(field '.credentialsType + " " + .credentialsId + " " + .deviceId.id')" = "ACCESS_TOKEN tok-a $ID_A" ] || fail "credentials: $BODY"

# The device made through the API talks CoAP; the API reads its values back with their types.
r=$(coap post "api/v1/tok-a/telemetry" '{"temperature":21.5,"count":42,"on":true,"note":"ok","obj":{"a":[1,2]}}')
[ "$r" = "2.01 " ] || fail "telemetry over CoAP answered '$r'"
r=$(coap post "api/v1/tok-a/telemetry" '{"ts":1700000000000,"values":{"temperature":20.25}}')
[ "$r" = "2.01 " ] || fail "telemetry with ts answered '$r'"
api GET "/api/plugins/telemetry/DEVICE/$ID_A/keys/timeseries"
want 200
[ "$(field 'sort | join(",")')" = "count,note,obj,on,temperature" ] || fail "keys: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$ID_A/values/timeseries?keys=temperature,count,on,note,obj,missing&useStrictDataTypes=true"
want 200
[ "$(field '[.temperature[0].value, .count[0].value, .on[0].value, .note[0].value, .obj[0].value.a[1]] | map(type) | join(",")')" = \
    "number,number,boolean,string,number" ] || fail "strict types: $BODY"
[ "$(field '.temperature[0].value') $(field '.count[0].value') $(field '.missing[0].value')" = "21.5 42 null" ] || fail "strict values: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$ID_A/values/timeseries?keys=temperature,count,on"
want 200
[ "$(field '[.temperature[0].value, .count[0].value, .on[0].value] | join(" ")')" = "21.5 42 true" ] || fail "string values: $BODY"
[ "$(field '.temperature[0].value | type')" = string ] || fail "default is not strings: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$ID_A/values/timeseries?keys=temperature&startTs=1600000000000&endTs=9999999999999&orderBy=ASC&useStrictDataTypes=true"
want 200
[ "$(field '[.temperature[] | .value] | map(tostring) | join(",")')" = "20.25,21.5" ] || fail "history: $BODY"
api GET "/api/plugins/telemetry/DEVICE/$ID_A/values/timeseries?keys=temperature&startTs=1600000000000&endTs=1700000000000"
want 200
[ "$BODY" = "{}" ] || fail "end of range is exclusive: $BODY"

# Attributes: typed read-back; the gateway's computed activity.
api POST "/api/plugins/telemetry/DEVICE/$ID_A/attributes/SERVER_SCOPE" '{"site":"Hall A","floor":2,"ratio":0.5}'
want 200
[ -z "$BODY" ] || fail "attribute save answered a body: $BODY"
api POST "/api/plugins/telemetry/DEVICE/$ID_A/attributes/CLIENT_SCOPE" '{"x":1}'
want 400 31
api POST "/api/plugins/telemetry/DEVICE/$ID_A/attributes/SERVER_SCOPE" '[1]'
want 400 31
api GET "/api/plugins/telemetry/DEVICE/$ID_A/values/attributes/SERVER_SCOPE?keys=site,floor,ratio,active"
want 200
[ "$(field 'map({(.key): .value}) | add | [.site, .floor, .ratio, .active] | map(tojson) | join(",")')" = \
    '"Hall A",2,0.5,true' ] || fail "attributes: $BODY"
api GET '/api/tenant/deviceInfos?pageSize=10&page=0&active=true'
want 200
[ "$(field '[.data[] | .name + ":" + (.active | tostring) + ":" + .deviceProfileName] | join(",")')" = "dev-a:true:default" ] ||
    fail "active filter: $BODY"

# A new token through the API: the old one stops working over CoAP at once.
api POST /api/device/credentials "{\"deviceId\":{\"id\":\"$ID_A\"},\"credentialsType\":\"ACCESS_TOKEN\",\"credentialsId\":\"tok-new\"}"
want 200
r=$(coap post "api/v1/tok-a/telemetry" '{"t":1}')
[ "${r%% *}" = "4.01" ] || fail "old token still accepted: $r"
r=$(coap post "api/v1/tok-new/telemetry" '{"t":1}')
[ "$r" = "2.01 " ] || fail "new token refused: $r"
api POST /api/device/credentials "{\"deviceId\":{\"id\":\"$ID_A\"},\"credentialsType\":\"MQTT_BASIC\",\"credentialsId\":\"x\"}"
want 400 31

# Delete.
api DELETE "/api/device/$ID_B"
want 200
api GET "/api/device/$ID_B"
want 404 32
api DELETE "/api/device/$ID_B"
want 404 32

# Logout ends the session: its access token gets 401/11, its refresh token "Token is outdated".
api POST /api/auth/logout
want 200
api GET /api/auth/user
want 401 11
TOKEN=""
api POST /api/auth/token "{\"refreshToken\":\"$REFRESH\"}"
want 401 10
[ "$(field .message)" = "Token is outdated" ] || fail "refresh after logout: $BODY"

# A refresh of a live session gives a new working pair.
api POST /api/auth/login '{"username":"admin@example.com","password":"first-secret"}'
want 200
api POST /api/auth/token "{\"refreshToken\":\"$(field .refreshToken)\"}"
want 200
TOKEN=$(field .token)
api GET /api/auth/user
want 200
TOKEN=""

# The body cap (1 MiB by default).
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
api POST /api/auth/login "@$T/big"
want 413 31

# Five failed logins from one address, then 429 even with the right password.
for _ in 1 2 3 4 5; do
    api POST /api/auth/login '{"username":"admin@example.com","password":"wrong-one"}'
    want 401 10
done
api POST /api/auth/login '{"username":"admin@example.com","password":"first-secret"}'
want 429 33
nbg_stop

# An expired access token gets 401/11 (restart with a 4 s token lifetime).
nbg_start "$T/data" NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1 JWT_TOKEN_EXPIRATION_TIME=4
grep -q "sha256=$FP generated=yes new=no" "$NBG_LOG" || fail "the certificate was not reused"
grep -q 'setupToken' "$NBG_LOG" && [ "$(grep -c setupToken "$NBG_LOG")" -gt 1 ] && fail "setup token offered with an admin present"
api POST /api/auth/login '{"username":"admin@example.com","password":"first-secret"}'
want 200
TOKEN=$(field .token)
api GET /api/auth/user
want 200
sleep 5
api GET /api/auth/user
want 401 11
[ "$(field .message)" = "Token has expired" ] || fail "expired: $BODY"
nbg_stop
ok
