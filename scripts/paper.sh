#!/bin/sh
# The load sweep of the Libra evaluation: runs CONFIG at every load level k (calls per function per
# minute) into OUT/k<k>/ and compares each level against the run's baseline ([experiment]
# baseline: fixed in configs/paper.ini), then prints libra's paired change of the mean and censored
# mean latency per level (comparison.json's vs_baseline).
# usage: [PAPER_SET="S.K=V ..."] scripts/paper.sh [CONFIG [OUT [LEVELS...]]]
#   PAPER_SET: configuration overrides for every level, e.g. PAPER_SET=workload.usage=flat for the
#   flat usage model (each becomes a --set)
set -eu
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/paper.ini}
OUT=${2:-results/paper}
shift 2 2>/dev/null || shift $#
LEVELS=${*:-1 2 3 4 5 6 12 18 24 30}
HB=${HB:-build/harvestbench}
SETS=""
for s in ${PAPER_SET:-}; do SETS="$SETS --set $s"; done
for k in $LEVELS; do
    echo "== load level k = $k calls per function per minute"
    "$HB" run "$CONFIG" --set trace.per_minute="$k" $SETS --out "$OUT/k$k" --quiet
    "$HB" compare "$OUT/k$k" --no-plots > /dev/null
done
# one row per level: libra's paired changes against the baseline with their 95% intervals
# (comparison.json's vs_baseline), its mean latency, and how many of default's calls succeeded
echo
echo "| k | pairing | libra mean ms | mean change [95% CI] | censored mean change [95% CI] | p99 change [95% CI] | CPU used/capacity change | memory used/allocated change | default's calls that succeeded |"
echo "|---:|---|---:|---|---|---|---|---|---:|"
for k in $LEVELS; do
    awk -v k="$k" '
        function val(line) { sub(/^[^:]*:[ \t]*/, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
        function ci(line,   a) { line = val(line); gsub(/[][ ]/, "", line); split(line, a, ","); return sprintf("[%+.2f, %+.2f]", a[1], a[2]) }
        /^\t\t"[a-z-]+":[ \t]*\{/ { pol = $1; gsub(/[":\t]/, "", pol) }
        pol == "default" && /^\t\t\t"success_share":/ { ds = val($0) }
        pol == "libra" && /^\t\t\t\t"mean":/ && !lm { lm = val($0) }
        pol == "libra" && /^\t\t\t\t"pairing":/ { pairing = val($0) }
        pol == "libra" && /^\t\t\t\t"mean_change_pct":/ { mp = val($0) }
        pol == "libra" && /^\t\t\t\t"mean_change_ci":/ { m = ci($0) }
        pol == "libra" && /^\t\t\t\t"p99_change_pct":/ { pp = val($0) }
        pol == "libra" && /^\t\t\t\t"p99_change_ci":/ { p = ci($0) }
        pol == "libra" && /^\t\t\t\t"censored_mean_change_pct":/ { cp = val($0) }
        pol == "libra" && /^\t\t\t\t"censored_mean_change_ci":/ { c = ci($0) }
        pol == "libra" && /^\t\t\t\t"cpu_util_capacity_change_pct":/ { up = val($0) }
        pol == "libra" && /^\t\t\t\t"cpu_util_capacity_change_ci":/ { u = ci($0) }
        pol == "libra" && /^\t\t\t\t"mem_util_alloc_change_pct":/ { mm = val($0) }
        pol == "libra" && /^\t\t\t\t"mem_util_alloc_change_ci":/ { mc = ci($0) }
        END { printf "| %s | %s | %.0f | %+.2f%% %s | %+.2f%% %s | %+.2f%% %s | %+.2f%% %s | %+.1f%% %s | %s |\n",
                     k, pairing, lm, mp, m, cp, c, pp, p, up, u, mm, mc,
                     ds == "" ? "n/a" : sprintf("%.1f%%", 100 * ds) }
    ' "$OUT/k$k/comparison.json"
done
echo "results under $OUT/k*/ (comparison.md in each)"
