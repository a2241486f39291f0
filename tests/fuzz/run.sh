#!/bin/sh
# Runs every libFuzzer target of a fuzz build for a given time, JOBS targets at a time, and prints
# one line per target (its executions, from libFuzzer's final stats) and the closing line
# "N passed, N failed" (targets). A target fails on any crash, leak, timeout, out-of-memory or
# sanitizer report (libFuzzer then exits non-zero and writes the input under BUILD/crashes/).
# usage: tests/fuzz/run.sh BUILD_DIR [SECONDS [JOBS]]       (docs/fuzzing.md)
set -u
BUILD=${1:-build/fuzz}
SECONDS_EACH=${2:-60}
JOBS=${3:-2}
HERE=$(dirname "$0")
LOGS="$BUILD/fuzz-logs"
mkdir -p "$LOGS" "$BUILD/crashes"

targets=""
for t in "$BUILD"/fuzzers/fuzz_*; do
    case "$t" in *.d) continue ;; esac
    [ -x "$t" ] && targets="$targets $(basename "$t")"
done
if [ -z "$targets" ]; then
    echo "no fuzz target under $BUILD/fuzzers (build them with: make FUZZ=1 fuzz-build)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

run_one() {  # $1 = target name; writes $LOGS/NAME.log and $LOGS/NAME.rc
    name=$1
    work="$BUILD/corpus/$name"
    seeds="$HERE/corpus/${name#fuzz_}"
    mkdir -p "$work"
    set -- "$BUILD/fuzzers/$name" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$name-" "$work"
    [ -d "$seeds" ] && set -- "$@" "$seeds"
    [ -f "$HERE/${name#fuzz_}.dict" ] && set -- "$@" -dict="$HERE/${name#fuzz_}.dict"
    echo "$*" > "$LOGS/$name.cmd"
    "$@" > "$LOGS/$name.log" 2>&1
    echo $? > "$LOGS/$name.rc"
}

# JOBS lanes, each running its share of the targets one after another
lane=0
pids=""
while [ "$lane" -lt "$JOBS" ]; do
    (
        i=0
        for name in $targets; do
            [ $((i % JOBS)) -eq "$lane" ] && run_one "$name"
            i=$((i + 1))
        done
    ) &
    pids="$pids $!"
    lane=$((lane + 1))
done
for p in $pids; do wait "$p"; done

pass=0
fail=0
for name in $targets; do
    rc=$(cat "$LOGS/$name.rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$LOGS/$name.log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$LOGS/$name.log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    if [ "$rc" -eq 0 ] && ! grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)' "$LOGS/$name.log"; then
        pass=$((pass + 1))
        printf '%-24s ok      %10s executions in %ss, coverage %s\n' "$name" "${execs:-?}" "$SECONDS_EACH" "${cov:-?}"
    else
        fail=$((fail + 1))
        printf '%-24s FAILED  (exit %s) after %s executions; log %s\n' "$name" "$rc" "${execs:-?}" "$LOGS/$name.log"
        grep -E 'ERROR|SUMMARY|runtime error|requirement failed|Test unit written' "$LOGS/$name.log" | head -n 8 | sed 's/^/    /'
        echo "    reproduce: $(cat "$LOGS/$name.cmd" | cut -d' ' -f1) $BUILD/crashes/$name-<file>"
    fi
done
echo "$pass passed, $fail failed"
[ -n "${HB_TEST_TOTALS:-}" ] && echo "$pass $fail 0" > "$HB_TEST_TOTALS"   # for tests/check.sh
[ "$fail" -eq 0 ]
