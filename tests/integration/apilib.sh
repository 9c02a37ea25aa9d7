#!/bin/sh
# SPDX-License-Identifier: MIT
# Helpers of the admin API tests (41-*.sh ...), sourced after lib.sh. Not a test itself.
#   api_start DIR [VAR=VAL ...]   starts the daemon, creates an admin with the CLI, logs in (TOKEN)
#   api METHOD PATH [BODY [curl args]]   HTTPS request with TOKEN; sets CODE and BODY
#   want STATUS [ERRORCODE]       the last answer had this status (and ThingsBoard's error body)
#   field JQ                      jq -r on the last body
#   device NAME TOKEN             creates a device through the API; prints its id
command -v jq >/dev/null || fail "jq is required"
command -v curl >/dev/null || fail "curl is required"
TOKEN=""
CODE=""
BODY=""

api_start() {
    d=$1
    shift
    nbg_start "$d" NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1 "$@"
    CA="$d/appliance-cert.pem"
    printf 'api-secret\n' | nbg admin create api@example.com >"$T/admin.out" 2>&1 || fail "admin create: $(cat "$T/admin.out")"
    TOKEN=""
    api POST /api/auth/login '{"username":"api@example.com","password":"api-secret"}'
    want 200
    TOKEN=$(field .token)
}

api() {
    m=$1
    p=$2
    shift 2
    if [ $# -gt 0 ]; then
        d=$1
        shift
        set -- --data-binary "$d" "$@"
    fi
    if [ -n "$TOKEN" ]; then
        set -- -H "X-Authorization: Bearer $TOKEN" "$@"
    fi
    CODE=$(curl -s --cacert "$CA" --resolve "localhost:$NBG_ADMIN_PORT:127.0.0.1" -o "$T/body" \
        -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' "$@" \
        "https://localhost:$NBG_ADMIN_PORT$p") || fail "curl $m $p failed (TLS or connection)"
    BODY=$(cat "$T/body")
}

want() {
    [ "$CODE" = "$1" ] || fail "$m $p: status $CODE, want $1: $BODY"
    if [ $# -gt 1 ]; then
        printf '%s' "$BODY" | jq -e --argjson s "$1" --argjson c "$2" \
            '.status == $s and .errorCode == $c and (.message | type == "string") and (.timestamp | type == "number")' \
            >/dev/null || fail "$m $p: not ThingsBoard's error body ($1/$2): $BODY"
    fi
}

field() {
    printf '%s' "$BODY" | jq -r "$1"
}

# want_msg TEXT: the last error message is exactly TEXT.
want_msg() {
    [ "$(field .message)" = "$1" ] || fail "$m $p: message '$(field .message)', want '$1'"
}

device() {
    api POST "/api/device?accessToken=$2" "{\"name\":\"$1\"}"
    want 200
    field .id.id
}

# wait_for FILE PATTERN: polls until FILE contains PATTERN (10 s).
wait_for() {
    i=0
    until grep -q "$2" "$1"; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "timeout waiting for $2 in $1: $(cat "$1")"
        sleep 0.05
    done
}
