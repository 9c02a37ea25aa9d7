#!/bin/sh
# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests (sourced, POSIX sh). Every test starts the real
# sanitizer build of the daemon on free loopback ports with a temporary data directory, talks to
# it with the real libcoap clients, and stops everything it started.
#   ok / fail MSG / skip MSG      exit 0 / 99 / 77
#   tmpdir                        sets T to a fresh directory, removed at exit
#   nbg_start DIR [VAR=VAL ...]   starts the daemon (exports NBG_PID, NBG_PORT, NBG_LOG)
#   nbg_stop                      SIGTERM; fails unless exit 0 and no sanitizer report
#   nbg_kill                      SIGKILL (a crash)
#   nbg CMD ...                   runs an admin command on the same data directory
#   coap METHOD PATH [PAYLOAD]    coap-client-notls request; prints "CODE PAYLOAD"
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NBGATE=${NBGATE:-$ROOT/build/test/nbgate}
LOAD=${LOAD:-$ROOT/build/release/tools/nbgate-load}
HELPERS=${HELPERS:-$ROOT/build/test/helpers}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
NBG_PID=""
NBG_PORT=""
NBG_LOG=""
NBG_DIR=""
T=""

ok() {
    echo "PASS $(basename "$0")"
    exit 0
}
fail() {
    echo "FAIL $(basename "$0"): $*"
    [ -n "$NBG_LOG" ] && [ -f "$NBG_LOG" ] && tail -n 20 "$NBG_LOG"
    exit 99
}
skip() {
    echo "SKIP $(basename "$0"): $*"
    exit 77
}

cleanup() {
    if [ -n "$NBG_PID" ] && kill -0 "$NBG_PID" 2>/dev/null; then
        kill -9 "$NBG_PID" 2>/dev/null
        wait "$NBG_PID" 2>/dev/null
    fi
    [ -n "$T" ] && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

tmpdir() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/nbgate-test.XXXXXX") || fail "mktemp"
}

freeport() {
    "$HELPERS/freeport" "${1:-udp}"
}

# nbg_start DIR [VAR=VAL ...]: extra environment for the daemon. A port taken between the
# choice and the bind (other tests run on this machine too) is retried with new ports.
nbg_start() {
    NBG_DIR=$1
    shift
    attempt=0
    while :; do
        attempt=$((attempt + 1))
        nbg_start_once "$@" && return 0
        grep -q 'in use' "$NBG_LOG" 2>/dev/null && [ "$attempt" -lt 5 ] || fail "daemon exited during start"
    done
}

nbg_start_once() {
    NBG_PORT=$(freeport) || fail "no free port"
    NBG_ADMIN_PORT=$(freeport tcp) || fail "no free tcp port"
    NBG_LOG="$NBG_DIR/nbgate.log"
    mkdir -p "$NBG_DIR"
    # A restart on the same directory keeps the earlier log aside, so "ready" is this start's.
    [ -f "$NBG_LOG" ] && cat "$NBG_LOG" >>"$NBG_DIR/nbgate.log.old" && : >"$NBG_LOG"
    env COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT="$NBG_PORT" NBGATE_ADMIN_PORT="$NBG_ADMIN_PORT" \
        "$@" "$NBGATE" --data-dir "$NBG_DIR" >>"$NBG_LOG" 2>&1 &
    NBG_PID=$!
    i=0
    while ! grep -q 'ready coap=' "$NBG_LOG" 2>/dev/null; do
        if ! kill -0 "$NBG_PID" 2>/dev/null; then
            wait "$NBG_PID" 2>/dev/null
            NBG_PID=""
            return 1
        fi
        i=$((i + 1))
        [ "$i" -gt 400 ] && fail "daemon not ready after 20 s"
        sleep 0.05
    done
    return 0
}

nbg_stop() {
    [ -n "$NBG_PID" ] || return 0
    kill -TERM "$NBG_PID"
    wait "$NBG_PID"
    rc=$?
    NBG_PID=""
    [ "$rc" = 0 ] || fail "daemon exit status $rc after SIGTERM"
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$NBG_LOG"; then
        fail "sanitizer report in $NBG_LOG"
    fi
}

nbg_kill() {
    kill -9 "$NBG_PID" 2>/dev/null
    wait "$NBG_PID" 2>/dev/null
    NBG_PID=""
}

nbg() {
    "$NBGATE" --data-dir "$NBG_DIR" "$@"
}

# coap METHOD PATH [PAYLOAD [extra coap-client args]]: prints "CODE PAYLOAD" (CODE like 2.01).
coap() {
    m=$1
    p=$2
    shift 2
    pl=""
    [ $# -gt 0 ] && pl=$1 && shift
    if [ -n "$pl" ]; then
        out=$(coap-client-notls -v 6 -B 5 -m "$m" -e "$pl" "$@" "coap://127.0.0.1:$NBG_PORT/$p" 2>&1)
    else
        out=$(coap-client-notls -v 6 -B 5 -m "$m" "$@" "coap://127.0.0.1:$NBG_PORT/$p" 2>&1)
    fi
    printf '%s\n' "$out" | coap_code
}

# Reduces coap-client -v 6 output (one line per PDU) to the last response's "CODE PAYLOAD".
coap_code() {
    awk -v q="'" '
        /^v:1 t:(ACK|CON|NON) c:[2-5]\.[0-9][0-9] / {
            code = substr($3, 3); body = ""
            i = index($0, " :: ")
            if (i > 0) { body = substr($0, i + 4); gsub("^" q "|" q "$", "", body) }
        }
        END { print (code == "" ? "none" : code) " " body }'
}

sql() {
    sqlite3 -batch -noheader "$NBG_DIR/nbgate.db" "$1"
}
