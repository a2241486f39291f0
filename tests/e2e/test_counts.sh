#!/bin/sh
# test_counts.sh - tests/run.sh counts a unit test binary from Check's TAP log, not from its text:
# a crash (a signal), a missing log, a log without its closing plan, a "not ok" and an exit status
# that disagrees with the log all count as failed; a clean log counts its "ok" lines. The binaries
# here are stand-ins (shell scripts that write what Check would), run from an empty folder. And every
# Check test binary has the one main of tests/unit/hb_test.h.
. tests/e2e/lib.sh
ROOT=$(pwd)
RUN="$ROOT/tests/run.sh"
mkdir -p "$TMP/b/tests"
fake() {  # $1 = name, $2 = body (sh)
    printf '#!/bin/sh\n%s\n' "$2" > "$TMP/b/tests/$1"
    chmod +x "$TMP/b/tests/$1"
}
counts() {  # runs tests/run.sh on the stand-ins, prints the line of $1
    (cd "$TMP" && sh "$RUN" b 2>&1) > "$TMP/out"
    grep "^$1 " "$TMP/out" | sed 's/  */ /g'
}
TAP2='printf "ok 1 - a\nok 2 - b\n1..2\n" > "$CK_TAP_LOG_FILE_NAME"'

fake test_good "$TAP2
echo '100%: Checks: 2, Failures: 0, Errors: 0'"
[ "$(counts test_good)" = "test_good 2 passed, 0 failed, 0 skipped" ] && ok good || bad good "$(cat "$TMP/out")"
grep -q '^2 passed, 0 failed, 0 skipped$' "$TMP/out" && ok closing_line || bad closing_line "$(tail -n 1 "$TMP/out")"

# the text says all passed, the log says one failed: the log wins
fake test_notok 'printf "ok 1 - a\nnot ok 2 - b\n1..2\n" > "$CK_TAP_LOG_FILE_NAME"
echo "100%: Checks: 2, Failures: 0, Errors: 0"'
[ "$(counts test_notok)" = "test_notok 1 passed, 1 failed, 0 skipped" ] && ok not_ok || bad not_ok "$(cat "$TMP/out")"
rm "$TMP/b/tests/test_notok"

# killed by a signal after writing a complete log
fake test_signal "$TAP2
kill -SEGV \$\$"
[ "$(counts test_signal)" = "test_signal 2 passed, 1 failed, 0 skipped" ] && ok signal || bad signal "$(cat "$TMP/out")"
rm "$TMP/b/tests/test_signal"

# exit 0 but no log at all (and text that looks like a pass)
fake test_nolog 'echo "100%: Checks: 3, Failures: 0, Errors: 0"'
[ "$(counts test_nolog)" = "test_nolog 0 passed, 1 failed, 0 skipped" ] && ok no_log || bad no_log "$(cat "$TMP/out")"
rm "$TMP/b/tests/test_nolog"

# a log cut short (no plan): the binary died mid-run
fake test_cut 'printf "ok 1 - a\n" > "$CK_TAP_LOG_FILE_NAME"'
[ "$(counts test_cut)" = "test_cut 0 passed, 1 failed, 0 skipped" ] && ok no_plan || bad no_plan "$(cat "$TMP/out")"
rm "$TMP/b/tests/test_cut"

# fewer results than the plan
fake test_short 'printf "ok 1 - a\n1..3\n" > "$CK_TAP_LOG_FILE_NAME"'
[ "$(counts test_short)" = "test_short 1 passed, 1 failed, 0 skipped" ] && ok short || bad short "$(cat "$TMP/out")"
rm "$TMP/b/tests/test_short"

# skips announced by hb_test_skipped are counted
fake test_skip "$TAP2
echo 'SKIPPED 4 test(s): test_skip: no cgroups'"
[ "$(counts test_skip)" = "test_skip 2 passed, 0 failed, 4 skipped" ] && ok skipped || bad skipped "$(cat "$TMP/out")"
grep -q '^ *SKIPPED 4 test(s): test_skip: no cgroups' "$TMP/out" && ok skip_reason || bad skip_reason "$(cat "$TMP/out")"

# a real Check binary writes the log run.sh reads
if [ -x "${BUILD:-build}/tests/test_dynbuf" ]; then
    rm -f "$TMP"/b/tests/*
    cp "${BUILD:-build}/tests/test_dynbuf" "$TMP/b/tests/"
    n=$(grep -c 'START_TEST' tests/unit/test_dynbuf.c)
    [ "$(counts test_dynbuf)" = "test_dynbuf $n passed, 0 failed, 0 skipped" ] && ok check_tap || bad check_tap "$(cat "$TMP/out")"
else
    skip check_tap "no ${BUILD:-build}/tests/test_dynbuf"
fi
# one main for every Check binary: HB_TEST_MAIN or hb_test_run, never a runner of its own
own=""
for f in tests/unit/test_*.c tests/workloads/test_*.c; do
    grep -qE 'HB_TEST_MAIN\(|hb_test_run\(' "$f" && ! grep -q 'srunner_create' "$f" || own="$own $f"
done
[ -z "$own" ] && ok one_main || bad one_main "not using tests/unit/hb_test.h:$own"
finish
