#!/bin/sh
# `make check`: the CI gate, the tests (plain build), the same tests under ASan+UBSan, and the fuzz
# targets, in that order. Every phase runs even when an earlier one failed (a failure in the plain
# build must not hide what the sanitizers would have said), and the closing line adds the phases up:
# "N passed, N failed, N skipped". The counts of a phase are read from the totals file its runner
# writes (HB_TEST_TOTALS: tests/run.sh, tests/fuzz/run.sh), not from its printed text; a phase that
# writes none (the CI gate) counts as one check, passed or failed by its exit status. Exit status 1
# if any phase failed.
# usage: tests/check.sh   (MAKE and FUZZ_SECONDS are taken from the environment)
set -u
MAKE=${MAKE:-make}
LOG=$(mktemp -d "${TMPDIR:-/tmp}/hb-check.XXXXXX")
trap 'rm -rf "$LOG"' EXIT
pass=0; fail=0; skip=0; failed=""

phase() {  # $1 = name, then the command
    name=$1; shift
    echo "==== make check: $name"
    rm -f "$LOG/totals"
    { HB_TEST_TOTALS="$LOG/totals" "$@" 2>&1 && echo 0 > "$LOG/rc" || echo $? > "$LOG/rc"; }
    rc=$(cat "$LOG/rc")
    if [ -s "$LOG/totals" ]; then
        set -- $(cat "$LOG/totals")
        p=$1; f=$2; s=${3:-0}
    elif [ "$rc" -eq 0 ]; then
        p=1; f=0; s=0
    else
        p=0; f=1; s=0
    fi
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1    # a phase that failed after its totals still fails
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    [ "$f" -ne 0 ] && failed="$failed $name"
    echo "==== $name: $p passed, $f failed, $s skipped (exit $rc)"
}

phase ci-bench "$MAKE" --no-print-directory ci-bench
phase test "$MAKE" --no-print-directory test
phase test-san "$MAKE" --no-print-directory test-san
phase fuzz "$MAKE" --no-print-directory FUZZ_SECONDS="${FUZZ_SECONDS:-30}" fuzz

[ -n "$failed" ] && echo "make check: failed phases:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
