#!/bin/sh
# SPDX-License-Identifier: MIT
# The fleet view, GET /api/nbgate/fleet (issue 9), against the real daemon: four devices in
# every state (an hourly profile's device after an uplink with battery and rssi, a device whose
# own inactivityTimeout of 1 ms makes it inactive, with a queued shared attribute and persistent
# RPC, a device never seen, an Efento sensor whose reported transmissionInterval gives its
# expected uplink interval) and the exact answer: states, effective timeouts and intervals with
# their sources, next uplink = last + interval, battery and signal by key priority, pending
# downlinks, summary totals (unaffected by the state filter), filters, sorting, paging, 400 naming
# the bad parameter, 401 without a token; the profile's expectedUplinkInterval is validated
# (400 naming it) and, once set on the Efento profile, wins over the sensor's own interval.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
command -v protoc >/dev/null || fail "protoc missing"
tmpdir
api_start "$T/data" DEFAULT_INACTIVITY_TIMEOUT=900
names() { field '[.data[].name] | join(",")'; }
last_of() { sql "SELECT last_activity_ms FROM device WHERE name='$1'"; }
item() { printf '%s' "$BODY" | jq -c --arg n "$1" ".data[] | select(.name == \$n) | $2"; }

# Profiles: an hourly one; bad expected intervals are refused naming the field.
api POST /api/deviceProfile '{"name":"hourly","transportType":"COAP","profileData":{"configuration":{"type":"DEFAULT","inactivityTimeout":7200000,"expectedUplinkInterval":3600000}}}'
want 200
HOURLY=$(field .id.id)
[ "$(field .profileData.configuration.expectedUplinkInterval)" = 3600000 ] || fail "interval not kept: $BODY"
for bad in 0 -5 2678400001 '"1h"' 1.5; do
    api POST /api/deviceProfile "{\"name\":\"bad\",\"transportType\":\"COAP\",\"profileData\":{\"configuration\":{\"type\":\"DEFAULT\",\"expectedUplinkInterval\":$bad}}}"
    want 400 31
    case $(field .message) in *profileData.configuration.expectedUplinkInterval*) ;; *) fail "interval $bad: $BODY" ;; esac
done
api POST /api/deviceProfile '{"name":"monthly","transportType":"COAP","profileData":{"configuration":{"type":"DEFAULT","expectedUplinkInterval":2678400000}}}'
want 200
api POST /api/deviceProfile '{"name":"efento","transportType":"COAP","profileData":{"transportConfiguration":{"type":"COAP","coapDeviceTypeConfiguration":{"coapDeviceType":"EFENTO"}}}}'
want 200
EF=$(field .id.id)
[ "$(field .profileData.configuration.expectedUplinkInterval)" = null ] || fail "interval not null: $BODY"

# Devices.
api POST '/api/device?accessToken=atok' "{\"name\":\"alpha\",\"label\":\"Roof\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$HOURLY\"}}"
want 200
ALPHA=$(field .id.id)
BETA=$(device beta btok)
GAMMA=$(device gamma gtok)
api POST '/api/device?accessToken=example-token-1' "{\"name\":\"sensor\",\"deviceProfileId\":{\"entityType\":\"DEVICE_PROFILE\",\"id\":\"$EF\"}}"
want 200
SENSOR=$(field .id.id)

# Nothing seen yet.
api GET '/api/nbgate/fleet?pageSize=10&page=0'
want 200
[ "$(field '[.totalElements, .totalPages, .hasNext, .summary.total, .summary.neverSeen, .defaultInactivityTimeout] | join(" ")')" = \
    "4 1 false 4 4 900000" ] || fail "empty fleet: $BODY"
[ "$(names)" = alpha,beta,gamma,sensor ] || fail "default order: $BODY"

# Uplinks: alpha (battery, rssi), beta (battery_level, signal_strength before RSSI), the sensor's
# configuration (transmissionInterval 900 s). beta's own timeout of 1 ms makes it inactive.
case $(coap post api/v1/atok/telemetry '{"battery":87,"rssi":-71,"temperature":20}') in 2.01*) ;; *) fail "alpha uplink" ;; esac
api POST "/api/plugins/telemetry/DEVICE/$BETA/attributes/SERVER_SCOPE" '{"inactivityTimeout":1}'
want 200
case $(coap post api/v1/btok/telemetry '{"battery_level":55.5,"RSSI":-50,"signal_strength":-90}') in 2.01*) ;; *) fail "beta uplink" ;; esac
(cd "$ROOT" && protoc --encode=ProtoConfig -I. proto/efento/proto_config.proto) \
    <"$ROOT/tests/data/efento/config_full.txtpb" >"$T/c.bin" || fail "protoc --encode"
case $(coap-client-notls -v 6 -B 2 -m post -f "$T/c.bin" "coap://127.0.0.1:$NBG_PORT/c" 2>&1 | coap_code) in
2.01*) ;; *) fail "sensor configuration not accepted" ;; esac
[ "$(sql "SELECT v_long FROM attribute_kv WHERE key='transmissionInterval' AND scope=1")" = 900 ] ||
    fail "transmissionInterval not stored"

# Downlinks for beta: a shared attribute and a persistent RPC, both waiting.
api POST "/api/plugins/telemetry/DEVICE/$BETA/attributes/SHARED_SCOPE" '{"setpoint":4.5}'
want 200
api POST "/api/rpc/oneway/$BETA" '{"method":"blink","persistent":true}'
want 200
QUEUED=$(sql "SELECT count(*) FROM downlink d JOIN device v ON v.id = d.device_id WHERE v.name='beta'")
[ "$QUEUED" = 2 ] || fail "want 2 downlinks for beta, have $QUEUED"

api GET '/api/nbgate/fleet?pageSize=10&page=0'
want 200
[ "$(field '.summary | [.total, .active, .inactive, .neverSeen, .devicesWithPendingDownlinks, .pendingDownlinks] | join(" ")')" = \
    "4 2 1 1 1 2" ] || fail "summary: $BODY"
A_LAST=$(last_of alpha)
B_LAST=$(last_of beta)
S_LAST=$(last_of sensor)
[ "$(item alpha '[.id.entityType, .id.id, .label, .deviceProfileId.id, .deviceProfileName, .state, .active, .lastActivityTime, .inactivityTimeout, .inactivityTimeoutSource, .expectedUplinkInterval, .expectedUplinkIntervalSource, .nextUplinkExpectedTime, .pendingDownlinks]')" = \
    "[\"DEVICE\",\"$ALPHA\",\"Roof\",\"$HOURLY\",\"hourly\",\"ACTIVE\",true,$A_LAST,7200000,\"PROFILE\",3600000,\"PROFILE\",$((A_LAST + 3600000)),0]" ] ||
    fail "alpha: $(item alpha .)"
[ "$(item alpha '[.battery.key, .battery.value, .signal.key, .signal.value, .battery.ts == .lastActivityTime]')" = '["battery",87,"rssi",-71,true]' ] ||
    fail "alpha battery/signal: $(item alpha .)"
[ "$(item beta '[.id.id, .label, .deviceProfileName, .state, .active, .lastActivityTime, .inactivityTimeout, .inactivityTimeoutSource, .expectedUplinkInterval, .expectedUplinkIntervalSource, .nextUplinkExpectedTime, .battery.key, .battery.value, .signal.key, .signal.value, .pendingDownlinks]')" = \
    "[\"$BETA\",null,\"default\",\"INACTIVE\",false,$B_LAST,1,\"DEVICE\",null,null,null,\"battery_level\",55.5,\"signal_strength\",-90,2]" ] ||
    fail "beta: $(item beta .)"
[ "$(item gamma '[.id.id, .state, .active, .lastActivityTime, .inactivityTimeout, .inactivityTimeoutSource, .expectedUplinkInterval, .expectedUplinkIntervalSource, .nextUplinkExpectedTime, .battery, .signal, .pendingDownlinks]')" = \
    "[\"$GAMMA\",\"NEVER_SEEN\",false,null,900000,\"GATEWAY\",null,null,null,null,null,0]" ] ||
    fail "gamma: $(item gamma .)"
[ "$(item sensor '[.id.id, .deviceProfileName, .state, .lastActivityTime, .inactivityTimeout, .inactivityTimeoutSource, .expectedUplinkInterval, .expectedUplinkIntervalSource, .nextUplinkExpectedTime]')" = \
    "[\"$SENSOR\",\"efento\",\"ACTIVE\",$S_LAST,900000,\"GATEWAY\",900000,\"DEVICE\",$((S_LAST + 900000))]" ] ||
    fail "sensor: $(item sensor .)"

# Filters: the state filter narrows the list, not the summary; text matches name, label, profile.
api GET '/api/nbgate/fleet?pageSize=10&page=0&state=ACTIVE'
want 200
[ "$(names) $(field '[.totalElements, .summary.total, .summary.active] | join(" ")')" = "alpha,sensor 2 4 2" ] || fail "state=ACTIVE: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&state=NEVER_SEEN'
[ "$(names) $(field .totalElements)" = "gamma 1" ] || fail "state=NEVER_SEEN: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&state=INACTIVE'
[ "$(names) $(field .summary.pendingDownlinks)" = "beta 2" ] || fail "state=INACTIVE: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&textSearch=HOURL'
[ "$(names) $(field '[.totalElements, .summary.total, .summary.pendingDownlinks] | join(" ")')" = "alpha 1 1 0" ] || fail "textSearch profile: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&textSearch=rOOf'
[ "$(names)" = alpha ] || fail "textSearch label: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&textSearch=%27%3B%20DROP%20TABLE%20device%3B--'
want 200
[ "$(field .totalElements)" = 0 ] || fail "textSearch quote: $BODY"
api GET "/api/nbgate/fleet?pageSize=10&page=0&deviceProfileId=$EF"
[ "$(names) $(field .summary.total)" = "sensor 1" ] || fail "deviceProfileId: $BODY"
api GET "/api/nbgate/fleet?pageSize=1&page=0&deviceId=$BETA"
[ "$(names) $(field .summary.total) $(field '.data[0].id.id')" = "beta 1 $BETA" ] || fail "deviceId: $BODY"
api GET "/api/nbgate/fleet?pageSize=1&page=0&deviceId=nope"
want 400 31
[ "$(field .message)" = "Parameter 'deviceId' is not a UUID: nope" ] || fail "deviceId message: $BODY"

# Sorting and paging.
api GET '/api/nbgate/fleet?pageSize=10&page=0&sortProperty=state'
[ "$(names)" = alpha,sensor,beta,gamma ] || fail "sort state: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&sortProperty=name&sortOrder=DESC'
[ "$(names)" = sensor,gamma,beta,alpha ] || fail "sort name DESC: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&sortProperty=lastActivityTime&sortOrder=DESC'
[ "$(names)" = sensor,beta,alpha,gamma ] || fail "sort lastActivityTime DESC: $BODY"
api GET '/api/nbgate/fleet?pageSize=3&page=0'
[ "$(names) $(field '[.totalPages, .totalElements, .hasNext] | join(" ")')" = "alpha,beta,gamma 2 4 true" ] || fail "page 0: $BODY"
api GET '/api/nbgate/fleet?pageSize=3&page=1'
[ "$(names) $(field '[.totalPages, .hasNext, .summary.total] | join(" ")')" = "sensor 2 false 4" ] || fail "page 1: $BODY"
api GET '/api/nbgate/fleet?pageSize=3&page=7'
[ "$(field '[(.data | length), .totalElements, .hasNext] | join(" ")')" = "0 4 false" ] || fail "page 7: $BODY"
api GET '/api/nbgate/fleet'
[ "$(field '[(.data | length), .totalElements] | join(" ")')" = "4 4" ] || fail "defaults: $BODY"

# Bad parameters: 400/31 naming the parameter; no token: 401.
for q in pageSize=0 pageSize=1001 pageSize=x page=-1 state=SLEEPING sortProperty=createdTime \
    sortOrder=UP deviceProfileId=nope; do
    api GET "/api/nbgate/fleet?$q"
    want 400 31
    case $(field .message) in *"'${q%%=*}'"*) ;; *) fail "$q: message does not name it: $BODY" ;; esac
done
api GET '/api/nbgate/fleet?pageSize=1000&page=0'
want 200
SAVED=$TOKEN
TOKEN=""
api GET '/api/nbgate/fleet?pageSize=10&page=0'
want 401 10
TOKEN=$SAVED

# The Efento profile's own expected interval wins over the sensor's; it round-trips.
api GET "/api/deviceProfile/$EF"
printf '%s' "$BODY" | jq -c '.profileData.configuration.expectedUplinkInterval = 1800000' >"$T/ef.json"
api POST /api/deviceProfile "$(cat "$T/ef.json")"
want 200
api GET "/api/deviceProfile/$EF"
[ "$(field .profileData.configuration.expectedUplinkInterval)" = 1800000 ] || fail "profile interval not kept: $BODY"
api GET '/api/nbgate/fleet?pageSize=10&page=0&textSearch=sensor'
[ "$(item sensor '[.expectedUplinkInterval, .expectedUplinkIntervalSource, .nextUplinkExpectedTime]')" = \
    "[1800000,\"PROFILE\",$((S_LAST + 1800000))]" ] || fail "profile interval: $BODY"

nbg_stop
ok
