#!/bin/sh
# SPDX-License-Identifier: MIT
# The admin web page in a real browser: tests/browser/flow.mjs drives Debian's chromium with
# playwright-core against the real daemon (first-run setup, login, profiles, import, a coap-client
# uplink, RPC, stored XSS, a POST without the token, screenshots in build/test/screenshots/).
# playwright-core is installed into tests/browser/node_modules with `npm ci` from the committed
# package-lock.json when it is missing; chromium comes from `make deps-test`.
. "$(dirname "$0")/lib.sh"
B="$ROOT/tests/browser"
SHOTS="$ROOT/build/test/screenshots"
command -v node >/dev/null || fail "node is required (Debian: nodejs)"
command -v coap-client-notls >/dev/null || fail "coap-client-notls is required (libcoap3-bin)"
command -v protoc >/dev/null || fail "protoc is required (protobuf-compiler)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is required (make deps-test installs chromium)"
if [ ! -f "$B/node_modules/playwright-core/package.json" ]; then
    command -v npm >/dev/null || fail "npm is required to install playwright-core"
    (cd "$B" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/browser failed"
fi
tmpdir
# An Efento measurement frame whose cloud token no device has: it becomes a pending device.
sed 's/example-token-1/stranger-token-9/' "$ROOT/tests/data/efento/meas_ex14_1.txtpb" >"$T/unknown.txtpb"
(cd "$ROOT" && protoc --encode=ProtoMeasurements -I. proto/efento/proto_measurements.proto) \
    <"$T/unknown.txtpb" >"$T/unknown.bin" || fail "protoc --encode ProtoMeasurements"
# The Efento device the flow adds (token efento-tok-1): its configuration (ackInterval 86400 s)
# and a CON measurement frame, so the page can say when its next CON is expected.
sed 's/example-token-1/efento-tok-1/' "$ROOT/tests/data/efento/config_full.txtpb" >"$T/ef-conf.txtpb"
(cd "$ROOT" && protoc --encode=ProtoConfig -I. proto/efento/proto_config.proto) \
    <"$T/ef-conf.txtpb" >"$T/ef-conf.bin" || fail "protoc --encode ProtoConfig"
sed 's/example-token-1/efento-tok-1/' "$ROOT/tests/data/efento/meas_ex14_1.txtpb" >"$T/ef-meas.txtpb"
(cd "$ROOT" && protoc --encode=ProtoMeasurements -I. proto/efento/proto_measurements.proto) \
    <"$T/ef-meas.txtpb" >"$T/ef-meas.bin" || fail "protoc --encode ProtoMeasurements"
# A 65 s token lifetime: the page renews its access token every few seconds during the flow.
nbg_start "$T/data" NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1 JWT_TOKEN_EXPIRATION_TIME=65
SETUP=$(sed -n 's/.*"setupToken":"\([0-9a-f]*\)".*/\1/p' "$NBG_LOG" | tail -n 1)
[ -n "$SETUP" ] || fail "no setup token in the log"
FP=$(sed -n 's/.*admin certificate .* sha256=\([0-9a-f]*\) .*/\1/p' "$NBG_LOG" | tail -n 1)
# The page is served by the daemon itself, with its policy, before anything logs in.
curl -sk -o /dev/null -D "$T/headers" "https://127.0.0.1:$NBG_ADMIN_PORT/" || fail "GET / failed"
grep -qi "^content-security-policy: default-src 'self'" "$T/headers" || fail "no CSP on the page: $(cat "$T/headers")"
ETAG=$(sed -n 's/^[Ee][Tt]ag: *\("[^"]*"\).*/\1/p' "$T/headers")
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "https://127.0.0.1:$NBG_ADMIN_PORT/")
[ "$code" = 304 ] || fail "revalidation with the ETag answered $code"
code=$(curl -sk -o /dev/null -D "$T/h404" -w '%{http_code}' "https://127.0.0.1:$NBG_ADMIN_PORT/no-such.js")
[ "$code" = 404 ] && grep -qi "^content-security-policy:" "$T/h404" || fail "unknown asset: $code $(cat "$T/h404")"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NBG_ADMIN_PORT/api/nbgate/health")
[ "$code" = 200 ] || fail "the API behind the page answered $code"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
NBG_URL="https://127.0.0.1:$NBG_ADMIN_PORT/" NBG_SETUP_TOKEN="$SETUP" NBG_COAP_PORT="$NBG_PORT" \
    NBG_SHOTS="$SHOTS" NBG_CERT_PEM="$T/data/appliance-cert.pem" NBG_CERT_SHA256="$FP" \
    NBG_EFENTO_UNKNOWN="$T/unknown.bin" NBG_SHORT_TOKENS=1 \
    NBG_EFENTO_CONFIG="$T/ef-conf.bin" NBG_EFENTO_MEAS="$T/ef-meas.bin" \
    node "$B/flow.mjs" || fail "browser flow failed"
for s in login fleet device profiles onboarding device-phone fleet-phone; do
    [ -s "$SHOTS/$s.png" ] || fail "screenshot $s.png missing"
done
nbg_stop
ok
