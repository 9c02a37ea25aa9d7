#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/bench/run.sh - CoAP throughput and latency of nbgate next to libcoap's own server.
#
# Run by `make bench` (after `make all`). For each device count (16, 1,000 and 10,000 simulated
# devices, each with its own UDP source port) it measures, with build/release/tools/nbgate-load:
#   1. coap-server-notls (Debian libcoap3-bin), PUT /example_data: the baseline, libcoap's own
#      example server doing the least work for a ~61-byte request (docs/BENCH.md says why);
#   2. nbgate, POST /api/v1/bench-<i>/telemetry with the same payload, durability=full and
#      durability=process (a fresh data directory with the devices registered for each run).
# Every server is started fresh on a free loopback port (so it starts with no sessions), pinned to
# CPU 0 while the load generator runs on CPU 1 (taskset, when there are two CPUs), and stopped
# with SIGTERM afterwards. The script ends with a table; it judges nothing about timing, and
# exits non-zero only when a server or a run could not be started at all.
#
# Environment: BENCH_SECONDS (5) per run, BENCH_DEVICES ("16 1000 10000"),
# BENCH_DURABILITY ("full process"), BENCH_WINDOW (1) requests in flight per device,
# NBGATE and NBGATE_LOAD (binaries, default build/release/...).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
nbgate=${NBGATE:-$root/build/release/nbgate}
load=${NBGATE_LOAD:-$root/build/release/tools/nbgate-load}
seconds=${BENCH_SECONDS:-5}
device_counts=${BENCH_DEVICES:-16 1000 10000}
durabilities=${BENCH_DURABILITY:-full process}
window=${BENCH_WINDOW:-1}
# 55 bytes plus the sequence number: 61 bytes while it has 6 digits.
payload='{"temperature":25,"humidity":60,"pressure":1013,"seq":%s}'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbgate-bench.XXXXXX")
server_pid=""
server_status=0
failures=0

cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() {
    printf 'bench: %s\n' "$*" >&2
}

case $seconds in
'' | *[!0-9.]*)
    say "BENCH_SECONDS must be a number of seconds"
    exit 2
    ;;
esac
if [ ! -x "$load" ]; then
    say "$load is missing; run 'make all' first"
    exit 2
fi

pin=""
if command -v taskset >/dev/null 2>&1 && [ "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)" -ge 2 ]; then
    pin=yes
fi

# Prints a UDP port below the ephemeral range (so 10,000 client sockets never collide with it)
# that nothing listens on.
free_port() {
    while :; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        p=$((20000 + r % 12000))
        if ! command -v ss >/dev/null 2>&1 || [ -z "$(ss -Hlun "( sport = :$p )" 2>/dev/null)" ]; then
            echo "$p"
            return
        fi
    done
}

# start_server LOG CMD...: runs CMD in the background (pinned to CPU 0), sets server_pid.
start_server() {
    log=$1
    shift
    if [ -n "$pin" ]; then
        taskset -c 0 "$@" >"$log" 2>&1 &
    else
        "$@" >"$log" 2>&1 &
    fi
    server_pid=$!
}

# stop_server: SIGTERM, wait; sets server_status to the exit status.
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
}

# run_load OUT ARGS...: runs the load generator (pinned to CPU 1); its RESULT line goes to OUT.
run_load() {
    out=$1
    shift
    if [ -n "$pin" ]; then
        taskset -c 1 "$load" --quiet "$@" >"$out" || true
    else
        "$load" --quiet "$@" >"$out" || true
    fi
}

# field FILE NAME: the value of NAME= in the RESULT line of FILE.
field() {
    sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$1"
}

# wait_coap PORT: true once a CoAP GET / on PORT gets any answer.
wait_coap() {
    "$load" --quiet --port "$1" --method get --path / --payload '' --requests 1 \
        --ack-timeout 100 --give-up 5 >"$tmp/probe" 2>/dev/null || true
    [ "$(field "$tmp/probe" sent)" = 1 ] && [ "$(field "$tmp/probe" pending)" = 0 ] &&
        [ "$(field "$tmp/probe" timeouts)" = 0 ]
}

# wait_ready LOG: true once the nbgate log says "ready" (30 s at most, while it runs).
wait_ready() {
    i=0
    while [ $i -lt 300 ]; do
        if grep -q 'ready' "$1" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# add_row TARGET DEVICES DURABILITY RESULT_FILE
add_row() {
    f=$4
    if grep -q '^RESULT' "$f"; then
        echo "$1 $2 $3 $(field "$f" rps) $(field "$f" p50_us) $(field "$f" p99_us)" \
            "$(field "$f" ok) $(($(field "$f" err) + $(field "$f" rst) + $(field "$f" timeouts)))" \
            "$(field "$f" retrans)" >>"$tmp/rows"
    else
        echo "$1 $2 $3 - - - - - -" >>"$tmp/rows"
        failures=$((failures + 1))
    fi
}

bench_coap_server() {
    n=$1
    port=$(free_port)
    say "coap-server-notls, $n devices, ${seconds}s"
    start_server "$tmp/coap-server.log" coap-server-notls -A 127.0.0.1 -p "$port"
    if ! wait_coap "$port"; then
        say "coap-server-notls did not answer on port $port"
        : >"$tmp/result"
    else
        run_load "$tmp/result" --port "$port" --method put --path example_data \
            --payload "$payload" --devices "$n" --window "$window" --duration "$seconds" --drain 1
    fi
    stop_server
    add_row coap-server "$n" - "$tmp/result"
}

bench_nbgate() {
    n=$1
    dur=$2
    port=$(free_port)
    data="$tmp/data-$n-$dur"
    say "nbgate durability=$dur, $n devices, ${seconds}s"
    : >"$tmp/result"
    mkdir -p "$data"
    if ! "$nbgate" --data-dir "$data" device add bench --token bench --count "$n" \
        >"$tmp/device-add.log" 2>&1; then
        say "nbgate device add failed:"
        cat "$tmp/device-add.log" >&2
        add_row nbgate "$n" "$dur" "$tmp/result"
        return
    fi
    start_server "$tmp/nbgate.log" env COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT="$port" NBGATE_ADMIN_PORT=0 \
        NBGATE_DURABILITY="$dur" "$nbgate" --data-dir "$data"
    if wait_ready "$tmp/nbgate.log"; then
        run_load "$tmp/result" --port "$port" --method post --path 'api/v1/%t/telemetry' \
            --tokens 'bench-%d' --payload "$payload" --devices "$n" --window "$window" \
            --duration "$seconds" --drain 1
    else
        say "nbgate did not get ready; its log:"
        tail -n 20 "$tmp/nbgate.log" >&2
    fi
    stop_server
    if [ "$server_status" != 0 ]; then
        say "nbgate exited with status $server_status after SIGTERM; its log:"
        tail -n 20 "$tmp/nbgate.log" >&2
        failures=$((failures + 1))
    fi
    add_row nbgate "$n" "$dur" "$tmp/result"
    rm -rf "$data"
}

print_table() {
    printf '\n%-12s %8s %10s %12s %10s %10s %11s %8s %9s %8s\n' target devices durability \
        'req/s' 'p50_us' 'p99_us' answered_ok failed retrans ratio
    awk '
        $1 == "coap-server" { base[$2] = $4 }
        {
            ratio = "-"
            if ($1 == "nbgate" && ($2 in base) && base[$2] + 0 > 0 && $4 != "-")
                ratio = sprintf("%.2f", $4 / base[$2])
            printf "%-12s %8s %10s %12s %10s %10s %11s %8s %9s %8s\n",
                $1, $2, $3, $4, $5, $6, $7, $8, $9, ratio
        }' "$tmp/rows"
    printf '\nratio = nbgate req/s / coap-server-notls req/s at the same device count.\n'
    printf 'failed = 4.xx/5.xx answers + resets + timeouts; %s s per run, window %s%s.\n' \
        "$seconds" "$window" "$([ -n "$pin" ] && echo ', server on CPU 0, load on CPU 1')"
}

: >"$tmp/rows"
has_coap=yes
if ! command -v coap-server-notls >/dev/null 2>&1; then
    say "coap-server-notls not found (Debian package libcoap3-bin): no baseline"
    has_coap=""
fi
has_nbgate=yes
if [ ! -x "$nbgate" ]; then
    say "$nbgate not found: nbgate rows skipped (run 'make all')"
    has_nbgate=""
fi
if [ -z "$pin" ]; then
    say "taskset or a second CPU missing: server and load are not pinned"
fi

for n in $device_counts; do
    if [ -n "$has_coap" ]; then
        bench_coap_server "$n"
    fi
    if [ -n "$has_nbgate" ]; then
        for dur in $durabilities; do
            bench_nbgate "$n" "$dur"
        done
    fi
done

print_table
if [ "$failures" -gt 0 ]; then
    say "$failures run(s) could not be measured (see above)"
    exit 1
fi
