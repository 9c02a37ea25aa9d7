#!/bin/sh
# SPDX-License-Identifier: MIT
# CoAP over DTLS on one endpoint (specs/dtls.md, spec R7, 4.1, 15). The server runs with its chain
# and a password-protected key (OpenSSL 3's default PKCS#8 encryption, decrypted in memory); a
# wrong or missing password stops it at start. Token devices use one-way DTLS with -R and the
# root CA (a wrong root fails) and without. An X.509 device registered with its self-signed EC
# certificate posts to the paths without a token, and its certificate wins over a token in the
# path; an unregistered certificate gets 4.01 on the X.509 paths but may use a token; a
# certificate from an unknown CA matches like a self-signed one; replacing a certificate takes
# effect at the next request (and ends its observations); an expired certificate fails the
# handshake unless TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT. Observe and RPC run over
# a DTLS session and a one-way RPC ends DELIVERED from the encrypted ACK; a device restarting from
# the same port is not locked out by its old session; a flood of ClientHellos fills the capped
# handshake slots but does not touch an established session; idle sessions are dropped after a
# short inactivity timeout while a busy one lives on; without a configured certificate the
# appliance's own is presented. Every certificate is made here by openssl.
. "$(dirname "$0")/lib.sh"
tmpdir
C="$T/certs"
mkdir -p "$C"
# ec_cert NAME CN [CA]: an EC P-256 certificate NAME.pem with its key NAME.key, self-signed or
# issued by CA (CA.pem, CA.key) with the extensions in $C/NAME.ext when that file exists.
ec_cert() {
    if [ $# -lt 3 ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" -days 30 \
            -keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null || fail "openssl req $1"
        return
    fi
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
        -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null || fail "openssl req $1"
    [ -f "$C/$1.ext" ] || : >"$C/$1.ext"
    openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -CAcreateserial -days 30 \
        -extfile "$C/$1.ext" -out "$C/$1.pem" 2>/dev/null || fail "openssl x509 $1"
}
# The server's chain, as an operator gets it: root CA -> intermediate -> server. The file given
# to nbgate holds the server's certificate and the intermediate; devices trust the root (-R).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test-root -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$C/root.key" -out "$C/root.pem" 2>/dev/null || fail "openssl root"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$C/int.ext"
ec_cert int test-intermediate root
printf 'subjectAltName=IP:127.0.0.1\n' >"$C/leaf.ext"
ec_cert leaf localhost int
cat "$C/leaf.pem" "$C/int.pem" >"$C/server.pem"
ec_cert other-root other-root
ec_cert dev1 sensor-1
ec_cert dev1b sensor-1-new
ec_cert stranger stranger
ec_cert cadev ca-issued-sensor int # a device certificate from a CA nbgate knows nothing about
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$C/leaf.key" -passout pass:s3cret -out "$C/server-enc.key" ||
    fail "openssl pkcs8"
grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$C/server-enc.key" || fail "key not encrypted"
# An expired self-signed certificate: openssl ca with dates in the past.
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index\nnew_certs_dir=%s\nserial=%s/serial\n' "$C" "$C" "$C" >"$C/ca.cnf"
printf 'default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >>"$C/ca.cnf"
: >"$C/index"
echo 01 >"$C/serial"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=old -keyout "$C/old.key" \
    -out "$C/old.csr" 2>/dev/null || fail "openssl req old"
openssl ca -batch -config "$C/ca.cnf" -selfsign -keyfile "$C/old.key" -in "$C/old.csr" \
    -startdate 20200101000000Z -enddate 20210101000000Z -out "$C/old.pem" >/dev/null 2>&1 || fail "openssl ca"

DP=$(freeport) || fail "no free port"
DTLS_ENV="COAP_DTLS_ENABLED=true COAP_DTLS_BIND_ADDRESS=127.0.0.1 COAP_DTLS_BIND_PORT=$DP
COAP_DTLS_PEM_CERT=$C/server.pem COAP_DTLS_PEM_KEY=$C/server-enc.key"

# coaps METHOD PATH PAYLOAD [coap-client-openssl args]: prints "CODE PAYLOAD" ("none": no answer).
coaps() {
    m=$1
    p=$2
    pl=$3
    shift 3
    if [ -n "$pl" ]; then
        out=$(coap-client-openssl -v 6 -B 5 -m "$m" -e "$pl" "$@" "coaps://127.0.0.1:$DP/$p" 2>&1)
    else
        out=$(coap-client-openssl -v 6 -B 5 -m "$m" "$@" "coaps://127.0.0.1:$DP/$p" 2>&1)
    fi
    printf '%s\n' "$out" >"$T/last"
    printf '%s\n' "$out" | coap_code
}
expect() {
    want=$1
    shift
    got=$(coaps "$@")
    [ "$got" = "$want" ] || fail "$*: want '$want', got '$got': $(tail -n 5 "$T/last")"
}
wait_for() { # wait_for FILE PATTERN
    i=0
    until grep -q "$2" "$1"; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "timeout waiting for $2 in $1: $(tail -n 20 "$1")"; sleep 0.05
    done
}

# A wrong or missing key password stops nbgate at start, with a message that says so.
# shellcheck disable=SC2086 # DTLS_ENV is a list of assignments
out=$(env $DTLS_ENV COAP_DTLS_PEM_KEY_PASSWORD=wrong COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT="$(freeport)" \
    NBGATE_ADMIN_PORT=0 "$NBGATE" --data-dir "$T/bad" 2>&1)
[ $? = 1 ] || fail "wrong password: exit status not 1: $out"
echo "$out" | grep -q "server-enc.key: wrong COAP_DTLS_PEM_KEY_PASSWORD: the key does not decrypt" ||
    fail "wrong password message: $out"
# shellcheck disable=SC2086
out=$(env $DTLS_ENV COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT="$(freeport)" NBGATE_ADMIN_PORT=0 \
    "$NBGATE" --data-dir "$T/bad" 2>&1) && fail "encrypted key without password started"
echo "$out" | grep -q "the key is encrypted: set COAP_DTLS_PEM_KEY_PASSWORD" || fail "no password message: $out"
out=$(COAP_DTLS_ENABLED=true COAP_DTLS_CREDENTIALS_TYPE=KEYSTORE "$NBGATE" -t 2>&1) && fail "KEYSTORE accepted"
echo "$out" | grep -q "COAP_DTLS_PEM_CERT and COAP_DTLS_PEM_KEY" || fail "KEYSTORE message: $out"

# shellcheck disable=SC2086
nbg_start "$T/data" $DTLS_ENV COAP_DTLS_PEM_KEY_PASSWORD=s3cret NBGATE_COAP_DTLS_MAX_HANDSHAKES=8
grep -q 'dtls certificate subject="CN=localhost".* chain=1 key=decrypted' "$NBG_LOG" || fail "server identity not logged"
# The decrypted key exists in memory only: no file under the data directory holds it.
for f in "$T/data"/*; do
    [ "$f" = "$T/data/appliance-key.pem" ] && continue
    grep -q 'PRIVATE KEY' "$f" 2>/dev/null && fail "a private key was written to $f"
done
tok=$(nbg device add t1) || fail "device add t1"
nbg device add dev1 >/dev/null || fail "device add dev1"
nbg device add old1 >/dev/null || fail "device add old1"

# One-way DTLS: the server's certificate checked with -R, or not checked at all; the token is
# in the path. A client that trusts another certificate refuses the server.
expect "2.01 " post "api/v1/$tok/telemetry" '{"temperature":25}' -R "$C/root.pem" -t application/json
expect "2.01 " post "api/v1/$tok/telemetry" '{"humidity":40}'
expect "none " post "api/v1/$tok/telemetry" '{"never":1}' -R "$C/other-root.pem"
nbg telemetry t1 | grep -q 'temperature = 25' || fail "one-way telemetry not stored: $(nbg telemetry t1)"
nbg telemetry t1 | grep -q 'humidity = 40' || fail "telemetry without -R not stored"
nbg telemetry t1 | grep -q never && fail "telemetry stored although the handshake failed"
expect "4.01 " post "api/v1/telemetry" '{"a":1}'
expect "4.01 " post "api/v1/nosuchtoken/telemetry" '{"a":1}'

# X.509: the device's self-signed certificate becomes its credential (the admin command parses
# it and refuses anything else); the paths without a token then act as that device.
nbg device set-cert dev1 "$C/dev1.key" >"$T/out" 2>&1 && fail "a key accepted as certificate"
grep -q 'no "-----BEGIN CERTIFICATE-----" block' "$T/out" || fail "garbage message: $(cat "$T/out")"
nbg device set-cert dev1 "$C/dev1.pem" >"$T/out" || fail "set-cert: $(cat "$T/out")"
fp=$(openssl x509 -in "$C/dev1.pem" -outform DER | sha256sum | cut -d' ' -f1)
grep -q "sha256      $fp" "$T/out" || fail "fingerprint not the SHA-256 of the DER: $(cat "$T/out")"
grep -q 'subject     CN=sensor-1' "$T/out" || fail "subject not shown: $(cat "$T/out")"
[ "$(sql "SELECT c.type, c.credentials_id FROM credentials c JOIN device d ON d.id = c.device_id WHERE d.name = 'dev1'")" = "X509_CERTIFICATE|$fp" ] ||
    fail "credentials row"
X1="-c $C/dev1.pem -j $C/dev1.key"
# shellcheck disable=SC2086
expect "2.01 " post "api/v1/telemetry" '{"x509":1}' $X1
# shellcheck disable=SC2086
expect "2.01 " post "api/v1/attributes" '{"fw":"v1.2"}' $X1
# shellcheck disable=SC2086
expect '2.05 {"client":{"fw":"v1.2"}}' get "api/v1/attributes" "" $X1
nbg telemetry dev1 | grep -q 'x509 = 1' || fail "X.509 telemetry not stored: $(nbg telemetry dev1)"
# A token in the path is ignored on a certificate session: the certificate's device wins.
# shellcheck disable=SC2086
expect "2.01 " post "api/v1/$tok/telemetry" '{"wins":1}' $X1
nbg telemetry dev1 | grep -q 'wins = 1' || fail "certificate did not win over the token"
nbg telemetry t1 | grep -q wins && fail "stored for the token's device"

# An unregistered certificate completes the handshake: 4.01 on the X.509 paths, tokens work.
expect "4.01 " post "api/v1/telemetry" '{"a":1}' -c "$C/stranger.pem" -j "$C/stranger.key"
expect "2.01 " post "api/v1/$tok/telemetry" '{"stranger":1}' -c "$C/stranger.pem" -j "$C/stranger.key"

# No trust anchors (spec 15.3): a certificate from an unknown CA matches by its fingerprint too.
nbg device add cadev >/dev/null || fail "device add cadev"
nbg device set-cert cadev "$C/cadev.pem" >/dev/null || fail "set-cert cadev"
expect "2.01 " post "api/v1/telemetry" '{"ca":1}' -c "$C/cadev.pem" -j "$C/cadev.key"
nbg telemetry cadev | grep -q 'ca = 1' || fail "CA-issued certificate not matched"

# Replacing the certificate takes effect at the next request.
nbg device set-cert dev1 "$C/dev1b.pem" >/dev/null || fail "set-cert dev1b"
# shellcheck disable=SC2086
expect "4.01 " post "api/v1/telemetry" '{"a":1}' $X1
expect "2.01 " post "api/v1/telemetry" '{"renewed":1}' -c "$C/dev1b.pem" -j "$C/dev1b.key"
nbg device set-cert dev1 "$C/dev1.pem" >/dev/null || fail "set-cert dev1 again"

# Expired certificate: the handshake fails (policy: dates are checked, as in ThingsBoard).
nbg device set-cert old1 "$C/old.pem" >"$T/out" || fail "set-cert old"
grep -q 'warning: the certificate is outside its validity dates' "$T/out" || fail "no expiry warning"
expect "none " post "api/v1/telemetry" '{"old":1}' -c "$C/old.pem" -j "$C/old.key"
grep -q "certificate has expired: 'old'" "$NBG_LOG" || fail "expired handshake not logged"
nbg telemetry old1 | grep -q 'old' && fail "expired certificate accepted"

# Observe and RPC over a DTLS session (X.509 paths): the one-way RPC ends DELIVERED from the
# device's encrypted ACK, the two-way RPC is answered on another session of the same device.
# shellcheck disable=SC2086
stdbuf -oL coap-client-openssl -v 6 -B 40 -m get -s 30 $X1 "coaps://127.0.0.1:$DP/api/v1/rpc" >"$T/obs" 2>&1 &
obs=$!
wait_for "$T/obs" "c:2.03 .*Observe:0"
nbg rpc dev1 reboot --oneway --wait --timeout 8000 >"$T/oneway" 2>&1 || fail "one-way: $(cat "$T/oneway")"
grep -q 'state=DELIVERED' "$T/oneway" || fail "one-way over DTLS not DELIVERED: $(cat "$T/oneway")"
wait_for "$T/obs" "t:CON c:2.05 .*Observe:1.* :: '{\"id\":0,\"method\":\"reboot\",\"params\":null}'"
( nbg rpc dev1 getTemp --wait --timeout 8000 >"$T/wait" 2>&1 ) &
waiter=$!
wait_for "$T/obs" "'{\"id\":1,\"method\":\"getTemp\",\"params\":null}'"
# shellcheck disable=SC2086
expect "2.01 " post "api/v1/rpc/1" '{"t":21}' $X1
wait "$waiter" || fail "rpc --wait: $(cat "$T/wait")"
grep -q 'state=SUCCESSFUL response={"t":21}' "$T/wait" || fail "two-way over DTLS: $(cat "$T/wait")"
# Shared attributes over Observe on the same kind of session.
# shellcheck disable=SC2086
stdbuf -oL coap-client-openssl -v 6 -B 40 -m get -s 30 $X1 "coaps://127.0.0.1:$DP/api/v1/attributes" >"$T/obsa" 2>&1 &
obsa=$!
wait_for "$T/obsa" "c:2.05 .*Observe:0"
nbg attributes set dev1 '{"target":21.5}' || fail "attributes set"
wait_for "$T/obsa" "t:CON c:2.05 .*Observe:1.* :: '{\"target\":21.5}'"
i=0
until nbg downlinks dev1 | grep ATTRIBUTES | grep -q DELIVERED; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "attribute update not DELIVERED: $(nbg downlinks dev1)"; sleep 0.05
done

# A device that restarts from the same address and port (no close_notify: killed) gets a new
# session at its next ClientHello instead of being locked out by the old one.
lp=$(freeport) || fail "no free port"
stdbuf -oL coap-client-openssl -v 6 -B 30 -p "$lp" -m get -s 30 "coaps://127.0.0.1:$DP/api/v1/$tok/rpc" >"$T/crash" 2>&1 &
crash=$!
wait_for "$T/crash" "c:2.03 .*Observe:0"
kill -9 "$crash"
wait "$crash" 2>/dev/null
expect "2.01 " post "api/v1/$tok/telemetry" '{"restarted":1}' -p "$lp"
grep -q "dtls session dropped peer=127.0.0.1:$lp .*reason=new handshake from the same address" "$NBG_LOG" ||
    fail "old session of the restarted peer not dropped"

# A flood of ClientHellos from many sources fills the handshake slots (8 here): new handshakes
# wait (up to 30 s), established sessions keep working: the next RPC still reaches the observer
# and is acknowledged.
hello=16feff00000000000000000036010000
hello=${hello}2a000000000000002afefd$(printf '%064d' 0)00000002c02b0100
i=0
while [ $i -lt 20 ]; do
    "$HELPERS/udp_send" "$DP" "$hello" 1 20 >/dev/null
    i=$((i + 1))
done
out=$(coap-client-openssl -v 6 -B 3 -m post -e '{"late":1}' "coaps://127.0.0.1:$DP/api/v1/$tok/telemetry" 2>&1)
printf '%s\n' "$out" | grep -q 'c:2.01' && fail "handshake slots not capped: $out"
nbg rpc dev1 blink --oneway --wait --timeout 8000 >"$T/flood" 2>&1 || fail "rpc during flood: $(cat "$T/flood")"
grep -q 'state=DELIVERED' "$T/flood" || fail "established session starved: $(cat "$T/flood")"
# The operator replaces the certificate while the device observes: its binding is dropped and
# its observations end within a second, without waiting for a request.
nbg device set-cert dev1 "$C/dev1b.pem" >/dev/null || fail "set-cert while observing"
wait_for "$NBG_LOG" "dtls binding dropped .* reason=certificate no longer registered"
wait_for "$NBG_LOG" "observation ended dev=[0-9]* kind=attributes"
nbg device set-cert dev1 "$C/dev1.pem" >/dev/null || fail "set-cert dev1 back"
kill "$obs" "$obsa" 2>/dev/null
wait "$obs" "$obsa" 2>/dev/null
nbg_stop

# Expired certificates are accepted with TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT;
# sessions idle longer than TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT are dropped (sweep every
# ..._REPORT_TIMEOUT) with their observations, while a session with a request every second lives.
# shellcheck disable=SC2086
nbg_start "$T/data" $DTLS_ENV COAP_DTLS_PEM_KEY_PASSWORD=s3cret \
    TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT=true \
    TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT=1500 TB_COAP_X509_DTLS_SESSION_REPORT_TIMEOUT=200
expect "2.01 " post "api/v1/telemetry" '{"old":2}' -c "$C/old.pem" -j "$C/old.key"
nbg telemetry old1 | grep -q 'old = 2' || fail "expired certificate refused despite the skip setting"
# shellcheck disable=SC2086
stdbuf -oL coap-client-openssl -v 6 -B 20 -m get -s 15 $X1 "coaps://127.0.0.1:$DP/api/v1/rpc" >"$T/idle" 2>&1 &
idle=$!
wait_for "$T/idle" "c:2.03 .*Observe:0"
wait_for "$NBG_LOG" "dtls session dropped .* reason=idle"
wait_for "$NBG_LOG" "observation ended dev=[0-9]* kind=rpc"
out=$(coap-client-openssl -v 6 -B 8 -G 4 -m post -e '{"busy":1}' "coaps://127.0.0.1:$DP/api/v1/$tok/telemetry" 2>&1)
[ "$(printf '%s\n' "$out" | grep -c 'c:2.01')" = 4 ] || fail "busy session: $(printf '%s\n' "$out" | tail -n 8)"
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null
nbg_stop

# No certificate configured: the appliance's own (made in the data directory) is presented.
nbg_start "$T/data" COAP_DTLS_ENABLED=true COAP_DTLS_BIND_ADDRESS=127.0.0.1 COAP_DTLS_BIND_PORT="$DP"
grep -q 'dtls certificate subject=.* source=appliance' "$NBG_LOG" || fail "appliance certificate not used"
expect "2.01 " post "api/v1/$tok/telemetry" '{"appliance":1}' -R "$T/data/appliance-cert.pem"
nbg_stop
ok
