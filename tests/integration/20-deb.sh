#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package end to end, as root on a Debian 12 machine without systemd as PID 1 (so the
# installed binary is started directly, as the service would start it): build the .deb
# (package/build-deb.sh), lintian, dpkg -i, files, user, permissions, conffile and hardening,
# `nbgate -t`, the daemon as user nbgate with the installed config (first start creates the
# schema and the appliance certificate, and says how to make the first admin) storing a CoAP
# upload, an admin made with `nbgate admin create` logging in over HTTPS, SIGTERM -> exit 0, a
# database claiming a newer schema refused untouched, reinstall of the same version (changed
# conffile and conf.d kept, the database reopened without a migration, old data and certificate
# kept), remove (config and data kept), purge (config and data gone, user kept),
# `systemd-analyze verify` and `security` (OK, at most 2.0) on the installed unit. A migration
# from an older schema version becomes testable here once a version 2 exists. The package is
# purged at exit, also on failure.
. "$(dirname "$0")/lib.sh"
CONF=/etc/nbgate/nbgate.conf
UNIT=/lib/systemd/system/nbgate.service
WANTS=/etc/systemd/system/multi-user.target.wants/nbgate.service
DEB_PID=""
RU_PID=""
ADMIN_PORT=""
IS_OURS=0

[ "$(id -u)" = 0 ] || fail "must run as root (dpkg -i, runuser)"
if dpkg-query -W -f='${Status}' nbgate 2>/dev/null | grep -q 'ok installed'; then
    fail "package nbgate is installed on this machine; this test installs and purges it" \
        "(run 'dpkg --purge nbgate' first)"
fi
for p in /etc/nbgate /var/lib/nbgate; do
    [ -e "$p" ] && fail "$p exists (left by an earlier install?); this test would delete it"
done
for c in dpkg-buildpackage dh lintian systemd-analyze coap-client-notls curl sqlite3 readelf; do
    command -v "$c" >/dev/null || fail "$c missing (tools/deps.sh --test installs it)"
done

deb_cleanup() {
    if [ -n "$DEB_PID" ]; then
        kill -9 "$DEB_PID" 2>/dev/null
    fi
    if [ -n "$RU_PID" ]; then
        wait "$RU_PID" 2>/dev/null
    fi
    if [ "$IS_OURS" = 1 ]; then
        dpkg --purge nbgate >/dev/null 2>&1 || echo "cleanup: dpkg --purge nbgate failed"
    fi
    cleanup
}
trap deb_cleanup EXIT

# as_nbgate CMD...: runs an installed command as the service user with the installed config.
as_nbgate() {
    runuser -u nbgate -- /usr/sbin/nbgate -c "$CONF" "$@"
}

# deb_start: starts the installed daemon as nbgate on free loopback ports (CoAP, admin HTTPS).
deb_start() {
    NBG_PORT=$(freeport) || fail "no free port"
    ADMIN_PORT=$(freeport tcp) || fail "no free tcp port"
    NBG_LOG="$T/daemon.log"
    : >"$NBG_LOG"
    runuser -u nbgate -- env COAP_BIND_ADDRESS=127.0.0.1 COAP_BIND_PORT="$NBG_PORT" \
        NBGATE_ADMIN_BIND_ADDRESS=127.0.0.1 NBGATE_ADMIN_PORT="$ADMIN_PORT" \
        /usr/sbin/nbgate -c "$CONF" >>"$NBG_LOG" 2>&1 &
    RU_PID=$!
    i=0
    while ! grep -q 'ready coap=' "$NBG_LOG"; do
        kill -0 "$RU_PID" 2>/dev/null || fail "installed daemon exited during start"
        i=$((i + 1))
        [ "$i" -gt 400 ] && fail "installed daemon not ready after 20 s"
        sleep 0.05
    done
    DEB_PID=$(pgrep -P "$RU_PID" -x nbgate) || fail "no nbgate process under runuser"
    [ "$(ps -o user= -p "$DEB_PID")" = nbgate ] || fail "daemon does not run as user nbgate"
}

# deb_stop: SIGTERM to the daemon; runuser passes on its exit status, which must be 0.
deb_stop() {
    kill -TERM "$DEB_PID" || fail "daemon gone before SIGTERM"
    wait "$RU_PID"
    rc=$?
    DEB_PID=""
    RU_PID=""
    [ "$rc" = 0 ] || fail "daemon exit status $rc after SIGTERM"
    grep -q '^<5>nbgate: stopped' "$NBG_LOG" || fail "no clean shutdown line"
}

# login USER PASSWORD: the admin API's login over HTTPS, checked against the appliance
# certificate; prints the HTTP status.
login() {
    curl -s --cacert /var/lib/nbgate/appliance-cert.pem \
        --resolve "localhost:$ADMIN_PORT:127.0.0.1" -o "$T/login.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' \
        --data-binary "{\"username\":\"$1\",\"password\":\"$2\"}" \
        "https://localhost:$ADMIN_PORT/api/auth/login" || echo "curl-failed"
}

# mode_of PATH: "MODE USER GROUP".
mode_of() {
    stat -c '%a %U %G' "$1"
}

tmpdir
chmod 0755 "$T"

# ---- build and lintian ------------------------------------------------------------------
"$ROOT/package/build-deb.sh" >"$T/build.out" || fail "package build failed"
deb=$(tail -n 1 "$T/build.out")
[ -f "$deb" ] || fail "build-deb.sh printed no package path: $deb"
version=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libcoap3 libsqlite3-0 libjansson4 libprotobuf-c1 protobuf-compiler adduser; do
    echo ", $depends," | grep -q ", ${d}[ ,]" || fail "Depends lacks $d: $depends"
done
echo "$depends" | grep -q 'libcoap3-bin' && fail "Depends has libcoap3-bin (not needed at run time)"
lintian --fail-on error,warning --display-info "$deb" >"$T/lintian.txt" 2>&1 ||
    fail "lintian: $(grep -E '^[EW]:' "$T/lintian.txt" || cat "$T/lintian.txt")"
grep -E '^[EW]:' "$T/lintian.txt" && fail "lintian reports errors or warnings"

# ---- install ----------------------------------------------------------------------------
IS_OURS=1
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" </dev/null >"$T/dpkg.log" 2>&1 ||
    fail "dpkg -i: $(tail -n 20 "$T/dpkg.log")"
[ "$(mode_of /usr/sbin/nbgate)" = "755 root root" ] ||
    fail "/usr/sbin/nbgate: $(mode_of /usr/sbin/nbgate)"
[ "$(/usr/sbin/nbgate -V)" = "nbgate $version" ] || fail "installed -V: $(/usr/sbin/nbgate -V)"
[ "$(mode_of $CONF)" = "644 root root" ] || fail "$CONF: $(mode_of $CONF)"
[ -d /etc/nbgate/conf.d ] || fail "no /etc/nbgate/conf.d"
dpkg-query -W -f='${Conffiles}' nbgate | grep -q "^ $CONF " || fail "$CONF is not a conffile"
grep -q '^data_dir /var/lib/nbgate' $CONF || fail "installed config does not set data_dir"
grep -v '^data_dir ' $CONF >"$T/conf-docs"
cmp -s "$T/conf-docs" "$ROOT/package/nbgate.conf" ||
    fail "installed config differs from package/nbgate.conf beyond data_dir"
[ "$(mode_of $UNIT)" = "644 root root" ] || fail "no unit $UNIT"
[ -L $WANTS ] || fail "unit not enabled (no $WANTS)"
[ -f /usr/share/man/man8/nbgate.8.gz ] || fail "no manual page"
[ -f /usr/share/doc/nbgate/copyright ] || fail "no copyright file"

pw=$(getent passwd nbgate) || fail "no user nbgate"
uid=$(echo "$pw" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "nbgate is not a system user: $pw"
echo "$pw" | grep -q ':/var/lib/nbgate:/usr/sbin/nologin$' || fail "user nbgate: $pw"
[ "$(id -gn nbgate)" = nbgate ] || fail "primary group of nbgate: $(id -gn nbgate)"
[ "$(mode_of /var/lib/nbgate)" = "750 nbgate nbgate" ] ||
    fail "/var/lib/nbgate: $(mode_of /var/lib/nbgate)"

# The binary carries dpkg-buildflags' hardening: PIE, full RELRO, fortified calls.
readelf -h /usr/sbin/nbgate | grep -q 'DYN' || fail "binary is not PIE"
readelf -lW /usr/sbin/nbgate | grep -q GNU_RELRO || fail "binary lacks RELRO"
readelf -dW /usr/sbin/nbgate | grep -q BIND_NOW || fail "binary lacks BIND_NOW"
readelf --dyn-syms -W /usr/sbin/nbgate | grep -q '__[a-z]*_chk' || fail "no _FORTIFY_SOURCE calls"

out=$(/usr/sbin/nbgate -c $CONF -t 2>&1) || fail "nbgate -t: $out"
echo "$out" | grep -q "configuration $CONF ok" || fail "-t output: $out"
out=$(as_nbgate -t 2>&1) || fail "nbgate -t as user nbgate: $out"

# ---- run as the service user, store a CoAP upload -----------------------------------------
deb_start
grep -q "ready coap=127.0.0.1:$NBG_PORT data_dir=/var/lib/nbgate " "$NBG_LOG" ||
    fail "not serving from /var/lib/nbgate: $(grep ready "$NBG_LOG")"
grep -q 'store migrated schema=' "$NBG_LOG" || fail "first start did not create the schema"
token=$(as_nbgate device add deb-sensor) || fail "device add"
r=$(coap post "api/v1/$token/telemetry" '{"temperature":25}')
[ "$r" = "2.01 " ] || fail "telemetry upload: $r"
as_nbgate telemetry deb-sensor | grep -q 'temperature = 25 ' || fail "telemetry not stored"
# First start: the appliance certificate in the state directory, and how to make the first admin.
[ "$(mode_of /var/lib/nbgate/appliance-key.pem)" = "600 nbgate nbgate" ] ||
    fail "appliance key: $(mode_of /var/lib/nbgate/appliance-key.pem)"
[ -s /var/lib/nbgate/appliance-cert.pem ] || fail "no appliance certificate"
grep -q 'admin certificate .* generated=yes new=yes' "$NBG_LOG" || fail "certificate not logged"
grep -q 'no admin user yet: run `nbgate admin create USER`' "$NBG_LOG" ||
    fail "first start does not say how to create the first admin"
printf 'deb-secret-1\n' | as_nbgate admin create deb-admin >/dev/null || fail "admin create"
r=$(login deb-admin deb-secret-1)
[ "$r" = 200 ] || fail "admin login over HTTPS: $r $(cat "$T/login.json" 2>/dev/null)"
deb_stop
[ "$(stat -c '%U %G' /var/lib/nbgate/nbgate.db)" = "nbgate nbgate" ] ||
    fail "database owner: $(stat -c '%U %G' /var/lib/nbgate/nbgate.db)"
schema=$(sqlite3 /var/lib/nbgate/nbgate.db 'PRAGMA user_version')
[ "$schema" -ge 1 ] || fail "schema version $schema"

# A database from a newer nbgate is refused and left untouched.
mkdir -m 0750 "$T/newer" || fail "mkdir"
cp /var/lib/nbgate/nbgate.db "$T/newer/" || fail "copy db"
sqlite3 "$T/newer/nbgate.db" "PRAGMA user_version = $((schema + 1))" || fail "set user_version"
chown -R nbgate:nbgate "$T/newer"
sum=$(md5sum <"$T/newer/nbgate.db")
out=$(timeout 10 runuser -u nbgate -- env NBGATE_DATA_DIR="$T/newer" COAP_BIND_ADDRESS=127.0.0.1 \
    COAP_BIND_PORT="$(freeport)" /usr/sbin/nbgate -c $CONF 2>&1) && fail "newer schema accepted"
echo "$out" | grep -q 'is newer than this nbgate' || fail "newer schema message: $out"
[ "$(md5sum <"$T/newer/nbgate.db")" = "$sum" ] || fail "newer database was modified"

# ---- reinstall the same version: local config kept, database reopened ---------------------
printf '# local change kept by upgrades\n' >>$CONF
printf 'durability process\n' >/etc/nbgate/conf.d/50-local.conf
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" </dev/null >"$T/dpkg.log" 2>&1 ||
    fail "reinstall: $(tail -n 20 "$T/dpkg.log")"
grep -q '^# local change kept by upgrades$' $CONF || fail "reinstall overwrote the changed conffile"
[ -f /etc/nbgate/conf.d/50-local.conf ] || fail "reinstall removed conf.d/50-local.conf"
[ "$(mode_of /var/lib/nbgate)" = "750 nbgate nbgate" ] || fail "state dir changed by reinstall"
[ "$(sqlite3 /var/lib/nbgate/nbgate.db 'PRAGMA user_version')" = "$schema" ] ||
    fail "schema version changed by reinstall"
deb_start
grep -q 'ready .* durability=process ' "$NBG_LOG" || fail "conf.d/50-local.conf not read"
grep -q 'store migrated' "$NBG_LOG" && fail "reopening a current database migrated it"
as_nbgate telemetry deb-sensor | grep -q 'temperature = 25 ' || fail "data lost by reinstall"
r=$(coap post "api/v1/$token/telemetry" '{"temperature":26}')
[ "$r" = "2.01 " ] || fail "upload after reinstall: $r"
as_nbgate telemetry deb-sensor | grep -q 'temperature = 26 ' || fail "second value not stored"
grep -q 'admin certificate .* generated=yes new=no' "$NBG_LOG" || fail "certificate not reused"
r=$(login deb-admin deb-secret-1)
[ "$r" = 200 ] || fail "admin login after reinstall: $r"
deb_stop

# ---- systemd: the installed unit ---------------------------------------------------------
systemd-analyze verify $UNIT >"$T/verify.txt" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$T/verify.txt")"
[ -s "$T/verify.txt" ] && fail "systemd-analyze verify warns: $(cat "$T/verify.txt")"
systemd-analyze security --offline=true --threshold=20 $UNIT >"$T/security.txt" 2>&1 ||
    fail "systemd-analyze security: $(tail -n 3 "$T/security.txt")"
level=$(sed -n 's/.*exposure level for nbgate.service: \([0-9.]*\) OK.*/\1/p' "$T/security.txt")
[ -n "$level" ] || fail "exposure not OK: $(tail -n 1 "$T/security.txt")"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "exposure $level above 2.0"
echo "systemd-analyze security: $level OK"

# ---- remove keeps config and data; purge removes them, not the user -----------------------
dpkg --remove nbgate >"$T/dpkg.log" 2>&1 || fail "dpkg --remove: $(tail -n 20 "$T/dpkg.log")"
[ -e /usr/sbin/nbgate ] && fail "remove left /usr/sbin/nbgate"
[ -f $CONF ] || fail "remove deleted $CONF"
[ -f /var/lib/nbgate/nbgate.db ] || fail "remove deleted the database"
dpkg --purge nbgate >"$T/dpkg.log" 2>&1 || fail "dpkg --purge: $(tail -n 20 "$T/dpkg.log")"
IS_OURS=0
for p in /etc/nbgate /var/lib/nbgate $UNIT $WANTS /usr/share/doc/nbgate; do
    { [ -e "$p" ] || [ -L "$p" ]; } && fail "purge left $p"
done
dpkg-query -W -f='${Status}' nbgate 2>/dev/null | grep -q 'ok installed\|config-files' &&
    fail "dpkg still knows nbgate after purge"
getent passwd nbgate >/dev/null || fail "purge removed the system user"
ok
