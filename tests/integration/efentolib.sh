#!/bin/sh
# SPDX-License-Identifier: MIT
# Helpers of the Efento tests (12-efento.sh, 18-efento-ident.sh), sourced after lib.sh. Not a
# test itself.
#   enc MESSAGE TXTPB OUT   protoc --encode with the message's .proto file (proto/efento/)
#   dec FILE                a downlink (ProtoConfig) as protobuf text
#   post PATH FILE [ARGS]   coap-client-notls POST of FILE; prints "CODE PAYLOAD" (T/last.out
#                           keeps the whole exchange); a NON request (-N) waits 1 s, else 2 s
command -v protoc >/dev/null || fail "protoc missing"

enc() {
    case $1 in
    ProtoMeasurements) f=proto_measurements ;;
    ProtoDeviceInfo) f=proto_device_info ;;
    *) f=proto_config ;;
    esac
    (cd "$ROOT" && protoc --encode="$1" -I. "proto/efento/$f.proto") <"$2" >"$3" ||
        fail "protoc --encode $1 $2"
}

dec() { (cd "$ROOT" && protoc --decode=ProtoConfig -I. proto/efento/proto_config.proto) <"$1"; }

post() {
    p=$1
    f=$2
    shift 2
    wait_s=2
    case " $* " in *" -N "*) wait_s=1 ;; esac
    coap-client-notls -v 6 -B "$wait_s" -m post -f "$f" "$@" "coap://127.0.0.1:$NBG_PORT/$p" 2>&1 |
        tee "$T/last.out" | coap_code
}
