#!/bin/sh
# The load sweep of the Libra evaluation: runs CONFIG at every load level k (calls per function per
# minute) into OUT/k<k>/ and compares each level against `default` (and prints fixed's view).
# usage: scripts/paper.sh [CONFIG [OUT [LEVELS...]]]
set -eu
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/paper.ini}
OUT=${2:-results/paper}
shift 2 2>/dev/null || shift $#
LEVELS=${*:-1 2 3 4 5 6 12 18 24 30}
HB=${HB:-build/harvestbench}
for k in $LEVELS; do
    echo "== load level k = $k calls per function per minute"
    "$HB" run "$CONFIG" --set trace.per_minute="$k" --out "$OUT/k$k" --quiet
    "$HB" compare "$OUT/k$k" --baseline default --no-plots > /dev/null
done
echo "results under $OUT/k*/ (comparison.md in each)"
