#!/bin/sh
# SPDX-License-Identifier: MIT
# Telemetry and attribute writes through the admin API (specs/rest-api.md 6.3-6.8) against the
# real daemon: the three telemetry save forms (with the ttl path), typed read-back with and
# without useStrictDataTypes, a save that is not device activity, history with limit and order,
# AVG/COUNT/SUM/MIN/MAX buckets at their midpoints with the end of the range exclusive and the
# interval cap, time-series deletes with each parameter, attribute saves on all three paths,
# shared writes and deletes that queue downlinks, refusals (null, blank key, "deleted", empty
# keys, bad scope, bad JSON), and a refusal without a token that stores nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apilib.sh"
tmpdir
api_start "$T/data"
ID=$(device t1 ttok)
TS=/api/plugins/telemetry/DEVICE/$ID

# Three save forms; the ttl path; scope is not used.
api POST "$TS/timeseries/ANY" '{"temperature":21.5,"count":7,"on":true,"note":"ok","obj":{"a":[1,2]}}'
want 200
[ -z "$BODY" ] || fail "save answered a body: $BODY"
api POST "$TS/timeseries/ANY?scope=ANY" '{"ts":1000000,"values":{"temperature":20.25,"count":4}}'
want 200
api POST "$TS/timeseries/ANY/86400" '[{"ts":1001000,"values":{"temperature":22,"count":6}},{"ts":1002000,"values":{"temperature":"23.5","count":9}},{"ts":1003500,"values":{"count":2,"word":"b"}},{"ts":1003600,"values":{"word":"a"}}]'
want 200
api GET "$TS/values/timeseries?keys=temperature,count,on,note,obj&useStrictDataTypes=true"
want 200
[ "$(field '[.temperature[0].value, .count[0].value, .on[0].value, .note[0].value, .obj[0].value.a[1]] | map(tojson) | join(",")')" = \
    '21.5,7,true,"ok",2' ] || fail "strict latest: $BODY"
api GET "$TS/values/timeseries?keys=count,on"
want 200
[ "$(field '[.count[0].value, .on[0].value] | map(tojson) | join(",")')" = '"7","true"' ] || fail "string latest: $BODY"
api GET "/api/device/info/$ID"
[ "$(field .active)" = false ] || fail "an API save counted as device activity: $BODY"

# History: limit, order, exclusive end; aggregation buckets at their midpoints.
api GET "$TS/values/timeseries?keys=temperature&startTs=1000000&endTs=1002000&orderBy=ASC&useStrictDataTypes=true"
want 200
[ "$(field '[.temperature[] | "\(.ts)=\(.value)"] | join(",")')" = "1000000=20.25,1001000=22" ] || fail "range: $BODY"
api GET "$TS/values/timeseries?keys=count&startTs=0&endTs=2000000&limit=2"
want 200
[ "$(field '[.count[] | .ts] | map(tostring) | join(",")')" = "1003500,1002000" ] || fail "limit/DESC: $BODY"
api GET "$TS/values/timeseries?keys=count,temperature&startTs=1000000&endTs=1004000&agg=AVG&interval=2000&useStrictDataTypes=true"
want 200
[ "$(field '[.count[] | "\(.ts)=\(.value)"] | join(",")')" = "1001000=5,1003000=5.5" ] || fail "AVG count: $BODY"
[ "$(field '[.temperature[] | "\(.ts)=\(.value)"] | join(",")')" = "1001000=21.125,1003000=23.5" ] || fail "AVG temperature: $BODY"
api GET "$TS/values/timeseries/history?keys=count&startTs=1000000&endTs=1003000&agg=COUNT&interval=2000&useStrictDataTypes=true"
want 200
[ "$(field '[.count[] | "\(.ts)=\(.value)"] | join(",")')" = "1001000=2,1002500=1" ] || fail "COUNT with a cut bucket: $BODY"
api GET "$TS/values/timeseries?keys=count&startTs=1000000&endTs=1004000&agg=SUM&interval=4000"
want 200
[ "$(field '.count[0] | "\(.ts)=\(.value)"')" = '1002000=21' ] || fail "SUM: $BODY"
api GET "$TS/values/timeseries?keys=count,word&startTs=1000000&endTs=1004000&agg=MAX&interval=4000&useStrictDataTypes=true"
want 200
[ "$(field '[.count[0].value, .word[0].value] | map(tojson) | join(",")')" = '9,"b"' ] || fail "MAX: $BODY"
api GET "$TS/values/timeseries?keys=word&startTs=1000000&endTs=1004000&agg=MIN&interval=4000"
want 200
[ "$(field '.word[0].value')" = a ] || fail "MIN of strings: $BODY"
api GET "$TS/values/timeseries?keys=count&startTs=0&endTs=100000000&agg=AVG&interval=1000"
want 400 31
api GET "$TS/values/timeseries?keys=count&startTs=0&endTs=1000&agg=AVG&interval=1000&intervalType=WEEK"
want 400 31

# Time-series deletes.
api DELETE "$TS/timeseries/delete?keys=count&startTs=1003000&endTs=9999999999999&rewriteLatestIfDeleted=true"
want 200
api GET "$TS/values/timeseries?keys=count&useStrictDataTypes=true"
[ "$(field '.count[0] | "\(.ts)=\(.value)"')" = "1002000=9" ] || fail "latest not rewritten: $BODY"
api DELETE "$TS/timeseries/delete?keys=count&startTs=1002000&endTs=1002001&deleteLatest=false"
want 200
api GET "$TS/values/timeseries?keys=count&useStrictDataTypes=true"
[ "$(field '.count[0].ts')" = 1002000 ] || fail "latest deleted despite deleteLatest=false: $BODY"
api GET "$TS/values/timeseries?keys=count&startTs=1002000&endTs=1002001"
[ "$BODY" = "{}" ] || fail "value not deleted: $BODY"
api DELETE "$TS/timeseries/delete?keys=temperature&deleteAllDataForKeys=true"
want 200
api GET "$TS/values/timeseries?keys=temperature&startTs=0&endTs=9999999999999"
[ "$BODY" = "{}" ] || fail "deleteAllDataForKeys left values: $BODY"
api GET "$TS/keys/timeseries"
[ "$(field 'index("temperature")')" = null ] || fail "latest temperature not deleted: $BODY"
api DELETE "$TS/timeseries/delete?keys=count"
want 400 31
want_msg "When deleteAllDataForKeys is false, start and end timestamp values shouldn't be empty"
api DELETE "$TS/timeseries/delete?startTs=0&endTs=1"
want 400 31
want_msg "Empty keys: []"

# Save refusals.
api POST "$TS/timeseries/ANY" '{"a":'
want 400 31
want_msg "Unable to parse time series payload: Invalid JSON body!"
api POST "$TS/timeseries/ANY" '{}'
want 400 31
want_msg "No time series data found in request body!"
api POST "$TS/timeseries/ANY" '{"a":null}'
want 400 31
api POST "$TS/timeseries/ANY" '{"ts":"x","values":{"a":1}}'
want 400 31
api POST "/api/plugins/telemetry/ASSET/$ID/timeseries/ANY" '{"a":1}'
want 400 31
api POST /api/plugins/telemetry/DEVICE/00000000-0000-4000-8000-000000000000/timeseries/ANY '{"a":1}'
want 404 32

# Attributes on all three paths; typed reads; shared writes queue downlinks.
api POST "$TS/attributes/SERVER_SCOPE" '{"site":"Hall A","floor":2}'
want 200
api POST "$TS/SHARED_SCOPE" '{"target":21.5}'
want 200
api POST "/api/plugins/telemetry/$ID/SHARED_SCOPE" '{"mode":"eco"}'
want 200
[ "$(sql "SELECT count(*) FROM downlink WHERE kind = 'ATTRIBUTES' AND state = 'QUEUED'")" = 2 ] ||
    fail "shared writes did not queue downlinks"
api GET "$TS/values/attributes?keys=site,floor,target,mode"
want 200
[ "$(field 'map("\(.key)=\(.value | tojson)") | join(",")')" = 'floor=2,site="Hall A",mode="eco",target=21.5' ] ||
    fail "merged attributes (server, then shared): $BODY"
api POST "$TS/attributes/SHARED_SCOPE" '{"deleted":1}'
want 400 31
want_msg "Attribute key 'deleted' is reserved in SHARED_SCOPE"
api POST "$TS/attributes/SERVER_SCOPE" '{"x":null}'
want 400 31
api POST "$TS/attributes/SERVER_SCOPE" '{" ":1}'
want 400 31

# Attribute deletes: server directly, shared with a queued notification listing the keys.
api DELETE "$TS/SERVER_SCOPE?keys=floor,nosuch"
want 200
api DELETE "/api/plugins/telemetry/$ID/SHARED_SCOPE?keys=mode"
want 200
[ "$(sql "SELECT body FROM downlink WHERE kind = 'ATTRIBUTES' ORDER BY id DESC LIMIT 1")" = \
    '{"updated":[],"deleted":["mode"]}' ] || fail "shared delete not queued"
api GET "$TS/values/attributes?keys=site,floor,target,mode"
[ "$(field 'map(.key) | join(",")')" = "site,target" ] || fail "after deletes: $BODY"
api DELETE "$TS/SERVER_SCOPE"
want 400 31
want_msg "Empty keys: []"
api DELETE "$TS/OTHER_SCOPE?keys=a"
want 400 31

# Without a token nothing is stored.
# shellcheck disable=SC2034 # api() in apilib.sh reads it
TOKEN=""
api POST "$TS/timeseries/ANY" '{"intruder":1}'
want 401 10
[ "$(sql "SELECT count(*) FROM ts_kv WHERE key = 'intruder'")" = 0 ] || fail "unauthenticated save stored"
nbg_stop
ok
