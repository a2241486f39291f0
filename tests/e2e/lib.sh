# lib.sh - assertions for the end-to-end scripts: `ok NAME` / `bad NAME WHY` / `skip NAME WHY`, and
# `finish`, which prints the closing line "N passed, N failed, N skipped" and sets the exit status
# (a skip is neither a pass nor a failure; each prints "SKIPPED: NAME: WHY").
# Scripts run from the repository root with $HB (the binary) and $BUILD set by tests/run.sh.
: "${HB:=build/harvestbench}"
PASS=0
FAIL=0
SKIP=0
TMP=$(mktemp -d /tmp/hb-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $1: $2"; }
skip() { SKIP=$((SKIP + 1)); echo "SKIPPED: $1: $2"; }
# check NAME COMMAND...: passes when the command succeeds
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "command failed: $*"; fi; }
finish() { echo "$PASS passed, $FAIL failed, $SKIP skipped"; [ "$FAIL" -eq 0 ]; }
