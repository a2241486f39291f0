#!/bin/sh
# Runs every unit test binary of a build and every end-to-end script, then prints one closing line
# "N passed, N failed, N skipped" over all checks. Exit status 1 if anything failed.
# A skip is counted and its reason shown: an e2e script counts its skips in its closing line
# ("N passed, N failed, N skipped", one "SKIPPED: NAME: WHY" line each); a unit test binary that
# leaves tests out prints "SKIPPED N test(s): WHY" for them.
# usage: tests/run.sh BUILD_DIR
set -u
BUILD=${1:-build}
HB="$BUILD/harvestbench"
export HB BUILD
pass=0
fail=0
skipped=0
failed_names=""

count_line() {  # $1 = name, $2 = output, $3 = exit status
    # Check prints "NN%: Checks: C, Failures: F, Errors: E"; the e2e scripts "N passed, N failed, N skipped".
    s=0
    c=$(printf '%s\n' "$2" | sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' | tail -n 1)
    if [ -n "$c" ]; then
        set -- "$1" "$2" "$3" $c
        p=$(( $4 - $5 - $6 )); f=$(( $5 + $6 ))
        s=$(printf '%s\n' "$2" | sed -n 's/^SKIPPED \([0-9]*\) test.*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
    else
        c=$(printf '%s\n' "$2" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p' | tail -n 1)
        if [ -n "$c" ]; then set -- "$1" "$2" "$3" $c; p=$4; f=$5; s=${6:-0}; else p=0; f=1; fi
    fi
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a crash after the last line still fails
    pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $1"
        printf '%s\n' "---- $1 (exit $3) ----" "$2" "----"
    fi
    printf '%-28s %4d passed, %d failed, %d skipped\n' "$1" "$p" "$f" "$s"
    printf '%s\n' "$2" | grep '^SKIPPED' | sed 's/^/    /' || true   # every skip says why
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
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
