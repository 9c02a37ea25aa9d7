#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages nbgate needs to build, run and test, when any is missing.
# Called by `make deps` (and so by `make run` and `make test`). As root it runs apt-get; as
# another user it prints the exact command and fails, so nothing is installed behind a user's back.
set -eu
# What building and running needs.
pkgs="build-essential pkg-config libcoap3-dev libcoap3-bin libmbedtls-dev libprotobuf-c-dev
protobuf-c-compiler protobuf-compiler libprotobuf-dev libmicrohttpd-dev libsqlite3-dev sqlite3
libjansson-dev libssl-dev"
# What the tests, the linters, the fuzzers and the package build need on top.
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs libcmocka-dev clang libclang-rt-14-dev clang-format cppcheck shellcheck curl jq
debhelper dpkg-dev lintian systemd openssl chromium chromium-driver"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "nbgate: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
