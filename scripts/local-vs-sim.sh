#!/bin/sh
# The simulator against the local backend on the same configuration (docs/local.md): per policy,
# mean and p95 latency and the utilizations from each run's summary.json, with the simulator's
# error relative to the local run, (sim - local) / local; the harvesting figures side by side
# (lent, borrowed, borrowed while running, safeguard triggers); then, pooled over the policies, each
# function's mean wait, init and duration of successful calls.
# usage: scripts/local-vs-sim.sh LOCAL_DIR SIM_DIR [SEED_INDEX]
#   e.g. harvestbench run configs/local-demo.ini --backend local --out results/local-demo
#        harvestbench run configs/local-demo.ini --backend sim --out results/local-demo-sim
#        scripts/local-vs-sim.sh results/local-demo results/local-demo-sim
set -eu
LOCAL=${1:?usage: scripts/local-vs-sim.sh LOCAL_DIR SIM_DIR [SEED_INDEX]}
SIM=${2:?usage: scripts/local-vs-sim.sh LOCAL_DIR SIM_DIR [SEED_INDEX]}
K=${3:-1}

# KEY=VALUE lines of the numbers of a summary.json (cJSON's layout: one key per line; nested
# objects' keys are prefixed with their parent's, e.g. latency_ms.p95).
flat() {
    awk '
        /^\t"[a-z_0-9]+":\t\{/ { match($0, /"[a-z_0-9]+"/); parent = substr($0, RSTART + 1, RLENGTH - 2) "."; next }
        /^\t\}/ { parent = ""; next }
        /"[a-z_0-9]+":\t-?[0-9]/ {
            match($0, /"[a-z_0-9]+"/); k = substr($0, RSTART + 1, RLENGTH - 2)
            v = $0; sub(/^[^:]*:\t/, "", v); sub(/,$/, "", v)
            print parent k "=" v
        }' "$1"
}

get() { flat "$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

rel() { awk -v s="$1" -v l="$2" 'BEGIN { if (l == "" || s == "" || l + 0 == 0) print "n/a"; else printf "%+.1f%%", 100 * (s - l) / l }'; }

printf '| policy | mean ms local | sim | err | p95 ms local | sim | err | cpu/alloc local | sim | err | cpu/cap local | sim | err | mem/alloc local | sim | err | mem/cap local | sim | err |\n'
printf '|---|%s\n' "$(printf -- '---:|%.0s' $(seq 1 18))"
# the policies in the local run's order (its manifest), else every directory
policies=$(awk '/^\t"policies":/ { gsub(/[][",]/, " "); sub(/^[ \t]*policies:?[ \t]*/, ""); print; exit }' \
           "$LOCAL/manifest.json" 2>/dev/null || true)
[ -n "$policies" ] || policies=$(cd "$LOCAL" && ls -d */ | tr -d /)
for p in $policies; do
    d="$LOCAL/$p/seed-$K"
    l="$d/summary.json"
    s="$SIM/$p/seed-$K/summary.json"
    [ -f "$l" ] && [ -f "$s" ] || continue
    line="| $p"
    for key in latency_ms.mean latency_ms.p95 cpu_util_alloc cpu_util_capacity mem_util_alloc mem_util_capacity; do
        lv=$(get "$l" "$key"); sv=$(get "$s" "$key")
        case $key in latency*) fmt='%.0f' ;; *) fmt='%.3f' ;; esac
        line="$line | $(printf "$fmt" "$lv") | $(printf "$fmt" "$sv") | $(rel "$sv" "$lv")"
    done
    echo "$line |"
done

echo
echo "Harvesting, per policy: core-seconds and MB-seconds lent (harvested) and borrowed, safeguard triggers:"
echo
printf '| policy | lent core-s local | sim | borrowed core-s local | sim | borrowed while running core-s local | sim | lent GB-s local | sim | borrowed GB-s local | sim | safeguard local | sim | harvested share local | sim | accelerated share local | sim |\n'
printf '|---|%s\n' "$(printf -- '---:|%.0s' $(seq 1 16))"
for p in $policies; do
    l="$LOCAL/$p/seed-$K/summary.json"
    s="$SIM/$p/seed-$K/summary.json"
    [ -f "$l" ] && [ -f "$s" ] || continue
    line="| $p"
    for key in harvested_cpu_s borrowed_cpu_s borrowed_running_cpu_s harvested_mem_mb_s borrowed_mem_mb_s \
               safeguard_triggers harvested_share accelerated_share; do
        lv=$(get "$l" "$key"); sv=$(get "$s" "$key")
        case $key in
            *_mem_mb_s) lv=$(awk -v v="$lv" 'BEGIN { if (v == "") print "n/a"; else printf "%.1f", v / 1024 }')
                        sv=$(awk -v v="$sv" 'BEGIN { if (v == "") print "n/a"; else printf "%.1f", v / 1024 }') ;;
            safeguard*) ;;
            *) lv=$(awk -v v="$lv" 'BEGIN { if (v == "") print "n/a"; else printf "%.2f", v }')
               sv=$(awk -v v="$sv" 'BEGIN { if (v == "") print "n/a"; else printf "%.2f", v }') ;;
        esac
        line="$line | ${lv:-n/a} | ${sv:-n/a}"
    done
    echo "$line |"
done

echo
echo "Per function, successful calls of every policy pooled (ms):"
echo
printf '| function | calls | wait local | sim | init local | sim | duration local | sim | err | cpu_peak local | sim |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
# columns: function 3, wait_ms 9, init_ms 10, duration_ms 11, outcome 14, cpu_peak 22
stats() {
    for f in "$1"/*/seed-"$K"/invocations.csv; do tail -n +2 "$f"; done |
        awk -F, '$14 == "success" { n[$3]++; w[$3] += $9; i[$3] += $10; d[$3] += $11; c[$3] += $22 }
                 END { for (f in n) printf "%s %d %.1f %.1f %.1f %.3f\n", f, n[f], w[f] / n[f], i[f] / n[f], d[f] / n[f], c[f] / n[f] }' |
        sort
}
stats "$LOCAL" >"${TMPDIR:-/tmp}/lvs.l.$$"
stats "$SIM" >"${TMPDIR:-/tmp}/lvs.s.$$"
join "${TMPDIR:-/tmp}/lvs.l.$$" "${TMPDIR:-/tmp}/lvs.s.$$" |
    while read -r f n wl il dl cl n2 ws is ds cs; do
        echo "| $f | $n | $wl | $ws | $il | $is | $dl | $ds | $(rel "$ds" "$dl") | $cl | $cs |"
    done
rm -f "${TMPDIR:-/tmp}/lvs.l.$$" "${TMPDIR:-/tmp}/lvs.s.$$"
