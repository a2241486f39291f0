# lib.sh - assertions for the end-to-end scripts: `ok NAME` / `bad NAME WHY`, and `finish`, which
# prints the closing line "N passed, N failed" and sets the exit status.
# Scripts run from the repository root with $HB (the binary) and $BUILD set by tests/run.sh.
: "${HB:=build/harvestbench}"
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/hb-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $1: $2"; }
# check NAME COMMAND...: passes when the command succeeds
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "command failed: $*"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }
