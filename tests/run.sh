#!/bin/sh
# Runs every unit test binary of a build and every end-to-end script, then prints one closing line
# "N passed, N failed, N skipped" over all checks. Exit status 1 if anything failed.
# A unit test binary's results are read from the TAP log Check writes (CK_TAP_LOG_FILE_NAME, one file
# a binary), not from what it prints: "ok"/"not ok" lines are the passed and failed tests, and the
# closing plan "1..N" says the run finished. A binary that leaves no log, no plan, fewer results than
# its plan, or exits non-zero (a signal included) counts as failed.
# A skip is counted and its reason shown: an e2e script counts its skips in its closing line
# ("N passed, N failed, N skipped", one "SKIPPED: NAME: WHY" line each); a unit test binary that
# leaves tests out prints "SKIPPED N test(s): WHY" for them (hb_test_skipped in tests/unit/hb_test.h).
# When HB_TEST_TOTALS names a file, the totals are also written there as one line "PASSED FAILED
# SKIPPED" (tests/check.sh adds the phases up from it).
# usage: tests/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
HB="$BUILD/harvestbench"
export HB BUILD
TAP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hb-tap.XXXXXX") || exit 1
trap 'rm -rf "$TAP_DIR"' EXIT
pass=0
fail=0
skipped=0
failed_names=""

tally() {  # $1 = name, $2 = passed, $3 = failed, $4 = skipped, $5 = output, $6 = exit status
    p=$2; f=$3; s=$4
    if [ "$6" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a crash after the last result still fails
    pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $1"
        printf '%s\n' "---- $1 (exit $6) ----" "$5" "----"
    fi
    printf '%-28s %4d passed, %d failed, %d skipped\n' "$1" "$p" "$f" "$s"
    printf '%s\n' "$5" | grep '^SKIPPED' | sed 's/^/    /' || true   # every skip says why
}

unit_counts() {  # $1 = TAP log; prints "PASSED FAILED" (a log that is missing or cut short: 1 failed)
    plan=""
    [ -f "$1" ] && plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$1" | tail -n 1)
    if [ -z "$plan" ]; then
        echo "0 1"
        return
    fi
    p=$(grep -c '^ok ' "$1"); f=$(grep -c '^not ok ' "$1")
    if [ $((p + f)) -ne "$plan" ]; then f=$((f + 1)); fi
    echo "$p $f"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    tap="$TAP_DIR/$name.tap"
    out=$(CK_TAP_LOG_FILE_NAME="$tap" CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} "$t" 2>&1); rc=$?
    [ -f "$tap" ] || out="$out
(no results file: Check wrote no TAP log)"
    set -- $(unit_counts "$tap")
    s=$(printf '%s\n' "$out" | sed -n 's/^SKIPPED \([0-9]*\) test.*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
    tally "$name" "$1" "$2" "$s" "$out" $rc
done
for sc in tests/e2e/*.sh; do
    [ -f "$sc" ] || continue
    case "$(basename "$sc")" in lib*) continue ;; esac   # helpers sourced by the scripts
    out=$(sh "$sc" 2>&1); rc=$?
    c=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p' | tail -n 1)
    if [ -n "$c" ]; then set -- $c; p=$1; f=$2; s=${3:-0}; else p=0; f=1; s=0; fi
    tally "e2e/$(basename "$sc" .sh)" "$p" "$f" "$s" "$out" $rc
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skipped skipped"
[ -n "${HB_TEST_TOTALS:-}" ] && echo "$pass $fail $skipped" > "$HB_TEST_TOTALS"
[ "$fail" -eq 0 ]
