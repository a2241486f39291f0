#!/bin/sh
# The load sweep of the Libra evaluation: runs CONFIG at every load level k (calls per function per
# minute) into OUT/k<k>/ and compares each level against the run's baseline ([experiment]
# baseline: fixed in configs/paper.ini), then prints libra's paired change of the mean and censored
# mean latency per level (comparison.json's vs_baseline).
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
    "$HB" compare "$OUT/k$k" --no-plots > /dev/null
done
# one line per level: the pairing and the paired changes with their 95% intervals
for k in $LEVELS; do
    awk -v k="$k" '
        function val(line) { sub(/^[^:]*:[ \t]*/, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
        /^\t\t"libra":/ { lib = 1 }
        lib && /^\t\t\t\t"pairing":/ { pairing = val($0) }
        lib && /^\t\t\t\t"mean_change_pct":/ { mp = val($0) }
        lib && /^\t\t\t\t"mean_change_ci":/ { m = val($0) }
        lib && /^\t\t\t\t"censored_mean_change_pct":/ { cp = val($0) }
        lib && /^\t\t\t\t"censored_mean_change_ci":/ { c = val($0); exit }
        END { printf "k=%-3s libra vs the baseline (paired by %s): mean %+.2f%% %s, censored mean %+.2f%% %s\n", k, pairing, mp, m, cp, c }
    ' "$OUT/k$k/comparison.json"
done
echo "results under $OUT/k*/ (comparison.md in each)"
