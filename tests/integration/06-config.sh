#!/bin/sh
# SPDX-License-Identifier: MIT
# Configuration and process behaviour: -t checks a file, a bad key or value fails with file:line
# and the key, conf.d fragments and environment variables override the file, -V and -h work, and
# SIGTERM ends the daemon with status 0 after a clean shutdown.
. "$(dirname "$0")/lib.sh"
tmpdir
conf="$T/nbgate.conf"
printf '# test config\ncoap_bind_address 127.0.0.1\ndurability process   # fast\n' >"$conf"
out=$("$NBGATE" -c "$conf" -t 2>&1) || fail "-t on a good file: $out"
echo "$out" | grep -q "configuration $conf ok" || fail "-t output: $out"
"$NBGATE" -c "$ROOT/package/nbgate.conf" -t >/dev/null 2>&1 || fail "shipped nbgate.conf does not pass -t"

printf 'coap_bind_port 5683\nno_such_key 1\n' >"$T/bad1.conf"
out=$("$NBGATE" -c "$T/bad1.conf" -t 2>&1) && fail "unknown key accepted"
echo "$out" | grep -q "bad1.conf:2: no_such_key: unknown key" || fail "unknown key message: $out"
printf '\n\ncoap_bind_port 70000\n' >"$T/bad2.conf"
out=$("$NBGATE" -c "$T/bad2.conf" -t 2>&1)
[ $? = 2 ] || fail "bad value exit status"
echo "$out" | grep -q "bad2.conf:3: coap_bind_port: 70000 out of range 1..65535" || fail "range message: $out"
out=$(COAP_BIND_PORT=abc "$NBGATE" -t 2>&1) && fail "bad environment value accepted"
echo "$out" | grep -q "environment COAP_BIND_PORT: not an integer" || fail "env message: $out"
out=$(COAP_DTLS_CREDENTIALS_TYPE=KEYSTORE "$NBGATE" -t 2>&1) && fail "KEYSTORE accepted"
echo "$out" | grep -q "only PEM is supported" || fail "KEYSTORE message: $out"

"$NBGATE" -V | grep -Eq '^nbgate [0-9]+\.[0-9]+\.[0-9]+$' || fail "-V"
"$NBGATE" -h | grep -q -- '-c FILE' || fail "-h"

# conf.d overrides the file, the environment overrides both (the port comes from nbg_start).
mkdir -p "$T/conf.d"
printf 'durability full\n' >"$T/conf.d/10-local.conf"
NBG_DIR="$T/data"
NBG_PORT=$(freeport)
NBG_LOG="$T/data.log"
mkdir -p "$NBG_DIR"
NBGATE_ADMIN_PORT=0 COAP_BIND_PORT=$NBG_PORT "$NBGATE" -c "$conf" --data-dir "$NBG_DIR" >"$NBG_LOG" 2>&1 &
# shellcheck disable=SC2034 # read by nbg_stop in lib.sh
NBG_PID=$!
i=0
until grep -q 'ready coap=' "$NBG_LOG"; do
    i=$((i + 1))
    [ "$i" -gt 400 ] && fail "not ready"
    sleep 0.05
done
grep -q "ready coap=127.0.0.1:$NBG_PORT data_dir=$NBG_DIR durability=full" "$NBG_LOG" ||
    fail "file/conf.d/environment precedence: $(grep ready "$NBG_LOG")"
grep -q '^<5>nbgate: ready' "$NBG_LOG" || fail "log lines lack the journald priority prefix"
nbg_stop
grep -q '^<5>nbgate: stopped' "$NBG_LOG" || fail "no clean shutdown line"

# A second daemon on a busy port fails at start with a clear message and status 1.
nbg_start "$T/data2"
out=$(NBGATE_ADMIN_PORT=0 COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT=$NBG_PORT "$NBGATE" --data-dir "$T/data3" 2>&1)
[ $? = 1 ] || fail "busy port: wrong exit status"
echo "$out" | grep -q "cannot listen on udp 127.0.0.1:$NBG_PORT" || fail "busy port message: $out"
nbg_stop
ok
