#!/bin/sh
# Runs every unit test binary of a build and every end-to-end script, then prints one closing line
# "N passed, N failed" over all checks. Exit status 1 if anything failed.
# usage: tests/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
HB="$BUILD/harvestbench"
export HB BUILD
pass=0
fail=0
failed_names=""

count_line() {  # $1 = name, $2 = output, $3 = exit status
    # Check prints "NN%: Checks: C, Failures: F, Errors: E"; the e2e scripts "N passed, N failed".
    c=$(printf '%s\n' "$2" | sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' | tail -n 1)
    if [ -n "$c" ]; then
        set -- "$1" "$2" "$3" $c
        p=$(( $4 - $5 - $6 )); f=$(( $5 + $6 ))
    else
        c=$(printf '%s\n' "$2" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -n 1)
        if [ -n "$c" ]; then set -- "$1" "$2" "$3" $c; p=$4; f=$5; else p=0; f=1; fi
    fi
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a crash after the last line still fails
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $1"
        printf '%s\n' "---- $1 (exit $3) ----" "$2" "----"
    fi
    printf '%-28s %4d passed, %d failed\n' "$1" "$p" "$f"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$(CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} "$t" 2>&1); rc=$?
    count_line "$(basename "$t")" "$out" $rc
done
for s in tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    case "$(basename "$s")" in lib*) continue ;; esac   # helpers sourced by the scripts
    out=$(sh "$s" 2>&1); rc=$?
    count_line "e2e/$(basename "$s" .sh)" "$out" $rc
    printf '%s\n' "$out" | grep '^SKIPPED' || true    # a skipped part is said, not counted
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
