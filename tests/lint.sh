#!/bin/sh
# SPDX-License-Identifier: MIT
# `make lint`: clang-format check, exported-symbol prefixes (nm), cppcheck, shellcheck and the
# banned-call grep. Arguments: the daemon objects to check with nm. Exits non-zero on any finding.
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
bad() {
    echo "lint: $*" >&2
    status=1
}

files=$(git ls-files -co --exclude-standard '*.c' '*.h' | grep -v '^build/')
shells=$(git ls-files -co --exclude-standard '*.sh' .ci/run | sort -u)

# 1. Formatting (clang-format 14, .clang-format at the root).
for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad "$f is not clang-formatted (run make format)"
    fi
done

# 2. Every exported symbol carries its folder's prefix.
shift 0
for obj in "$@"; do
    case "$obj" in
    */gen/*) continue ;;
    */gateway/main.o) prefix='main$' ;;
    */gateway/*) prefix='gw_' ;;
    */profiles/*) prefix='profile_' ;;
    */efento/*) prefix='efento_' ;;
    */web/*) prefix='web_' ;;
    *) continue ;;
    esac
    for sym in $(nm -g --defined-only "$obj" 2>/dev/null | awk '{print $3}'); do
        echo "$sym" | grep -Eq "^($prefix)" || bad "$obj exports $sym without prefix $prefix"
    done
done

# 3. Banned calls (use snprintf, memcpy with lengths, strtol with range checks, fork/exec).
for f in $files; do
    if grep -nE '\b(sprintf|strcpy|strcat|strncpy|strtok|atoi|gets|system|popen)[[:space:]]*\(' "$f" |
        grep -vE '(snprintf|vsnprintf)'; then
        bad "$f uses a banned call"
    fi
done

# 4. cppcheck on our own sources.
if ! cppcheck -q --error-exitcode=1 --enable=warning,portability --inline-suppr \
    --suppress=missingIncludeSystem -I. -Ibuild/gen -D__GNUC__ -DPROTOBUF_C_VERSION_NUMBER=1004001 \
    gateway profiles efento web tools 2>&1; then
    bad "cppcheck reported problems"
fi

# 5. Shell scripts.
if [ -n "$shells" ] && ! shellcheck -S warning $shells; then
    bad "shellcheck reported problems"
fi

[ "$status" = 0 ] && echo "lint: ok"
exit "$status"
