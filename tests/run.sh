#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs nbgate's test suites from the repository root and ends with one total line
# "N passed, N failed" (read by CI). Sections: unit (cmocka binaries), replay (every fuzz corpus
# through its target under ASan/UBSan), integration (tests/integration/NN-*.sh against the real
# daemon). `tests/run.sh unit` runs one section. A skipped integration test counts as failed:
# every test must run on the CI machine.
set -u
cd "$(dirname "$0")/.." || exit 1
section=${1:-all}
passed=0
failed=0
failures=""
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
logdir=build/test/logs
mkdir -p "$logdir"

note_fail() {
    failed=$((failed + $1))
    failures="$failures $2"
}

run_unit() {
    for bin in build/test/unit/test_*; do
        [ -x "$bin" ] || continue
        name=${bin##*/}
        log="$logdir/$name.log"
        "$bin" >"$log" 2>&1
        rc=$?
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
        p=${p:-0}
        f=${f:-0}
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
            f=1 # crashed or sanitizer report
        fi
        passed=$((passed + p))
        if [ "$f" != 0 ]; then
            note_fail "$f" "$name"
            echo "FAIL $name (see $log)"
            tail -n 30 "$log"
        else
            echo "ok   $name: $p passed"
        fi
    done
}

run_replay() {
    for bin in build/test/fuzz/replay_*; do
        [ -x "$bin" ] || continue
        name=${bin##*/replay_}
        log="$logdir/replay_$name.log"
        if "$bin" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
            passed=$((passed + 1))
            echo "ok   replay $name: $(tail -n 1 "$log")"
        else
            note_fail 1 "replay_$name"
            echo "FAIL replay $name (see $log)"
            tail -n 30 "$log"
        fi
    done
}

run_integration() {
    for t in tests/integration/[0-9]*.sh; do
        [ -f "$t" ] || continue
        name=$(basename "$t" .sh)
        log="$logdir/$name.log"
        start=$(date +%s)
        sh "$t" >"$log" 2>&1
        rc=$?
        secs=$(($(date +%s) - start))
        if [ "$rc" = 0 ]; then
            passed=$((passed + 1))
            echo "ok   $name (${secs}s)"
        else
            note_fail 1 "$name"
            [ "$rc" = 77 ] && echo "SKIP counted as failure: $name" || echo "FAIL $name rc=$rc (${secs}s)"
            tail -n 40 "$log"
        fi
    done
}

case "$section" in
all) run_unit; run_replay; run_integration ;;
unit) run_unit ;;
replay) run_replay ;;
integration) run_integration ;;
*) echo "usage: tests/run.sh [all|unit|replay|integration]" >&2; exit 2 ;;
esac
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
