#!/bin/sh
# End-to-end: `harvestbench compare` and `check` on a synthetic fixture and on real simulator runs.
# The numbers of comparison.json are checked against an independent computation from the
# invocations.csv files (awk and sort: pooled successful latencies, BRIEF section 8 percentiles).
# Ends with "N passed, N failed".
. tests/e2e/lib.sh
T=$TMP
expect() {  # expect NAME WANT_STATUS command...
    name=$1; want=$2; shift 2
    "$@" >"$T/out" 2>&1; got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$name" "exit $got, expected $want"; sed 's/^/    /' "$T/out" | tail -n 20; fi
}
contains() {  # contains NAME TEXT (in the last command's output)
    if grep -F -q -- "$2" "$T/out"; then ok; else bad "$1" "output lacks '$2'"; sed 's/^/    /' "$T/out" | tail -n 20; fi
}

# The value at a path (a/b/c) of a file printed by cJSON_Print: one key per line, tab-indented.
jget() {
    awk -v want="$2" '
    { line = $0; sub(/^[ \t]+/, "", line) }
    line ~ /^"[^"]*":/ {
        key = line; sub(/^"/, "", key); sub(/".*/, "", key)
        val = line; sub(/^"[^"]*":[ \t]*/, "", val); sub(/,$/, "", val)
        path = depth > 0 ? stack[depth] "/" key : key
        if (val == "{") { depth++; stack[depth] = path; next }
        if (path == want) { print val; found = 1; exit }
        next
    }
    line ~ /^}/ { depth-- }
    END { if (!found) print "MISSING" }' "$1"
}

# Independent statistics of the successful latencies of one policy, pooled over its seeds.
# Prints: calls successes mean p50 p90 p95 p99 max cold_share harvested_share
indep() {
    dir=$1; pol=$2
    for f in "$dir/$pol"/seed-*/invocations.csv; do
        awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                 { print $c["outcome"], ($c["latency_ms"] == "" ? "x" : $c["latency_ms"]), $c["cold_start"],
                   ($c["harvested_cpu_s"] > 0 || $c["harvested_mem_mb_s"] > 0) ? 1 : 0 }' "$f"
    done > "$T/rows"
    awk '$1 == "success" { print $2 }' "$T/rows" | sort -g > "$T/lat"
    calls=$(wc -l < "$T/rows")
    awk -v calls="$calls" -v rows="$T/rows" '
    function q(f,   h, lo) { h = (n - 1) * f; lo = int(h); return lo + 1 < n ? x[lo] + (h - lo) * (x[lo + 1] - x[lo]) : x[lo] }
    { x[n++] = $1; s += $1 }
    END {
        while ((getline line < rows) > 0) { split(line, a, " "); cold += a[3]; harv += a[4] }
        printf "%d %d %.10g %.10g %.10g %.10g %.10g %.10g %.10g %.10g\n", calls, n, s / n, q(0.5), q(0.9),
               q(0.95), q(0.99), x[n - 1], cold / calls, harv / calls
    }' "$T/lat"
}

close_to() {  # close_to NAME GOT WANT: relative 1e-7
    if awk -v g="$2" -v w="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; m = w < 0 ? -w : w; exit !(g != "MISSING" && d <= 1e-7 * (m > 1 ? m : 1)) }'; then
        ok
    else
        bad "$1" "comparison.json has $2, the independent computation $3"
    fi
}

verify_run() {  # verify_run DIR POLICY...
    d=$1; shift
    for p in "$@"; do
        set -- $(indep "$d" "$p")
        j="$d/comparison.json"
        close_to "$p invocations" "$(jget "$j" "policies/$p/invocations")" "$1"
        close_to "$p successes" "$(jget "$j" "policies/$p/outcomes/success")" "$2"
        close_to "$p mean" "$(jget "$j" "policies/$p/latency_ms/mean")" "$3"
        close_to "$p p50" "$(jget "$j" "policies/$p/latency_ms/p50")" "$4"
        close_to "$p p90" "$(jget "$j" "policies/$p/latency_ms/p90")" "$5"
        close_to "$p p95" "$(jget "$j" "policies/$p/latency_ms/p95")" "$6"
        close_to "$p p99" "$(jget "$j" "policies/$p/latency_ms/p99")" "$7"
        close_to "$p max" "$(jget "$j" "policies/$p/latency_ms/max")" "$8"
        close_to "$p cold starts" "$(jget "$j" "policies/$p/cold_start_share")" "$9"
        shift 9
        close_to "$p harvested" "$(jget "$j" "policies/$p/harvested_share")" "$1"
    done
}

# utilization pooled over seeds from the summary.json integrals
util() {  # util DIR POLICY NUM DEN
    cat "$1/$2"/seed-*/summary.json | tr ',{}' '\n\n\n' | awk -v a="\"$3\"" -v b="\"$4\"" -F: '
        { gsub(/[ \t]/, "") } $1 == a { n += $2 } $1 == b { d += $2 } END { printf "%.12g\n", n / d }'
}

# ---- the synthetic fixture ----
cp -r tests/fixtures/results/two-policies "$T/fx"
expect "compare fixture" 0 "$HB" compare "$T/fx"
contains "compare prints the table" "| libra"
# the fixture's libra is about 30% faster: Cliff's delta is negative, and the words say so
if grep -q "libra's latencies tend to be lower" "$T/fx/comparison.md"; then ok; else bad "Cliff's delta in words" "comparison.md does not say libra's latencies tend to be lower"; fi
for f in comparison.md comparison.csv comparison.json plots/forest.png plots/latency_cdf.png plots/latency_bars.png \
         plots/usage_default.png plots/usage_libra.png plots/harvest_libra.png; do
    if [ -s "$T/fx/$f" ]; then ok; else bad "$f" "missing"; fi
done
verify_run "$T/fx" default libra
close_to "libra cpu_util_alloc" "$(jget "$T/fx/comparison.json" policies/libra/cpu_util_alloc)" \
    "$(util "$T/fx" libra cpu_used_core_s cpu_alloc_core_s)"
# default's CPU is a share: used/allocated is null (with a note); used/capacity is reported
if [ "$(jget "$T/fx/comparison.json" policies/default/cpu_util_alloc)" = null ]; then ok; else bad "default cpu_util_alloc" "not null"; fi
close_to "default cpu_util_capacity" "$(jget "$T/fx/comparison.json" policies/default/cpu_util_capacity)" \
    "$(util "$T/fx" default cpu_used_core_s cpu_capacity_core_s)"
# the fixture replays the same calls under both policies: paired by invocation
if [ "$(jget "$T/fx/comparison.json" policies/libra/vs_baseline/pairing)" = '"invocation"' ]; then ok; else bad "pairing" "$(jget "$T/fx/comparison.json" policies/libra/vs_baseline/pairing)"; fi
if [ "$(jget "$T/fx/comparison.json" policies/libra/vs_baseline/descriptive/cliffs_delta)" != MISSING ]; then ok; else bad "descriptive block" "no descriptive/cliffs_delta"; fi
# the forest plot is the first plot of comparison.md, above the latency table
awk '/\.png\)/ { print; exit }' "$T/fx/comparison.md" | grep -q 'plots/forest.png' && ok || bad "forest first" "the first plot is not the forest plot"
close_to "default mem_util_capacity" "$(jget "$T/fx/comparison.json" policies/default/mem_util_capacity)" \
    "$(util "$T/fx" default mem_used_mb_s mem_capacity_mb_s)"
m_l=$(jget "$T/fx/comparison.json" policies/libra/latency_ms/mean)
m_d=$(jget "$T/fx/comparison.json" policies/default/latency_ms/mean)
close_to "mean change" "$(jget "$T/fx/comparison.json" policies/libra/vs_baseline/mean_change_pct)" \
    "$(awk -v a="$m_l" -v b="$m_d" 'BEGIN { printf "%.12g", (a - b) / b * 100 }')"
# every PNG: signature, IHDR, non-zero size
for png in "$T"/fx/plots/*.png; do
    sig=$(od -An -tx1 -N16 "$png" | tr -d ' \n')
    case "$sig" in 89504e470d0a1a0a0000000d49484452) ok ;; *) bad "$png" "not a PNG ($sig)" ;; esac
    wh=$(od -An -tu1 -j16 -N8 "$png" | awk '{ print ($1*16777216 + $2*65536 + $3*256 + $4) * ($5*16777216 + $6*65536 + $7*256 + $8) }')
    if [ "$wh" -gt 0 ]; then ok; else bad "$png" "empty IHDR size"; fi
done

# ---- errors ----
expect "compare --help" 0 "$HB" compare --help
contains "compare --help" "usage: harvestbench compare DIR"
expect "check --help" 0 "$HB" check --help
expect "baseline absent" 2 "$HB" compare "$T/fx" --baseline nosuch
contains "baseline absent" "the baseline policy 'nosuch' (--baseline) is not in this run"
expect "not a result directory" 2 "$HB" compare tests/fixtures
contains "not a result directory" "not a result directory of \`harvestbench run\`"
cp -r tests/fixtures/results/two-policies "$T/broken"
sed -i '5s/^\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*\),[^,]*,/\1,12x,/' \
    "$T/broken/libra/seed-2/invocations.csv"
expect "malformed latency" 2 "$HB" compare "$T/broken" --no-plots
contains "malformed latency" "libra/seed-2/invocations.csv:5: latency_ms: not a number: '12x'"

# ---- a missing gnuplot ----
cp -r tests/fixtures/results/tiny "$T/nognu"
mkdir "$T/emptybin"
expect "no gnuplot" 0 env PATH="$T/emptybin" "$HB" compare "$T/nognu"
contains "no gnuplot" "gnuplot is not on PATH"
if [ -s "$T/nognu/comparison.md" ] && [ -s "$T/nognu/comparison.json" ] && ! ls "$T"/nognu/plots/*.png >/dev/null 2>&1; then ok; else bad "no gnuplot" "tables missing or stray plots"; fi

# ---- check: 20% slower is a regression; the same run is not ----
cp -r tests/fixtures/results/two-policies "$T/slow"
for f in "$T"/slow/*/seed-*/invocations.csv; do
    awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "latency_ms") c = i; print; next }
                      { if ($c != "") $c = sprintf("%.3f", $c * 1.2); print }' "$f" > "$f.new" && mv "$f.new" "$f"
done
expect "check 20% slower" 1 "$HB" check "$T/slow" --against tests/fixtures/results/two-policies
contains "check 20% slower" "REGRESSION"
contains "check 20% slower" "+20.00%"
# the fixture's manifest gives no timeouts: with failed calls the censored mean falls back
contains "check falls back to the mean" "latency_mean_ms (no censored latency: a manifest gives no timeouts)"
expect "check --metric p99" 1 "$HB" check "$T/slow" --against tests/fixtures/results/two-policies --metric p99
contains "check --metric p99" "gate latency_p99_ms"
expect "check 20% slower, 25% tolerance" 0 "$HB" check "$T/slow" --against tests/fixtures/results/two-policies --max-regression 25
expect "check same run" 0 "$HB" check "$T/fx" --against tests/fixtures/results/two-policies

# ---- real runs of the simulator ----
if "$HB" run configs/ci.ini --out "$T/real" --quiet >"$T/out" 2>&1; then
    ok
    expect "compare real run" 0 "$HB" compare "$T/real"
    verify_run "$T/real" default fixed
    # the manifest's baseline: fixed is in the run
    if [ "$(jget "$T/real/comparison.json" baseline)" = '"fixed"' ]; then ok; else bad "default baseline" "$(jget "$T/real/comparison.json" baseline)"; fi
    if [ "$(jget "$T/real/comparison.json" policies/libra/vs_baseline/pairing)" = '"invocation"' ]; then ok; else bad "real pairing" "not invocation"; fi
    # the censored mean, independently: a failed call at its function's timeout (300 s here)
    for p in default greedy; do
        cm=$(cat "$T/real/$p"/seed-*/invocations.csv | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             $1 == "index" { next } { n++; s += ($c["outcome"] == "success" ? $c["latency_ms"] : 300000) }
             END { printf "%.12g", s / n }')
        close_to "$p censored mean" "$(jget "$T/real/comparison.json" "policies/$p/latency_censored_ms/mean")" "$cm"
    done
    close_to "real cpu_util_alloc" "$(jget "$T/real/comparison.json" policies/fixed/cpu_util_alloc)" \
        "$(util "$T/real" fixed cpu_used_core_s cpu_alloc_core_s)"
    # against the engine's own per-run summaries
    for p in default fixed; do
        n=0; succ=0; cold=0; harv=0
        for s in "$T/real/$p"/seed-*/summary.json; do
            i=$(jget "$s" invocations)
            n=$((n + i)); succ=$((succ + $(jget "$s" outcomes/success))); cold=$((cold + $(jget "$s" cold_starts)))
            harv=$(awk -v a="$harv" -v b="$(jget "$s" harvested_share)" -v i="$i" 'BEGIN { printf "%.10g", a + b * i }')
        done
        close_to "$p successes (summaries)" "$(jget "$T/real/comparison.json" "policies/$p/outcomes/success")" "$succ"
        close_to "$p cold starts (summaries)" "$(jget "$T/real/comparison.json" "policies/$p/cold_start_share")" \
            "$(awk -v a="$cold" -v b="$n" 'BEGIN { printf "%.12g", a / b }')"
        close_to "$p harvested (summaries)" "$(jget "$T/real/comparison.json" "policies/$p/harvested_share")" \
            "$(awk -v a="$harv" -v b="$n" 'BEGIN { printf "%.12g", a / b }')"
    done
    # a rerun of the CI benchmark with other seeds is not a regression
    sed 's/^seed = 1$/seed = 1001/; s|^out = .*|out = ../build/ci-other|' configs/ci.ini > "$T/ci-other.ini"
    sed -i "s|\.\./data/|$(pwd)/data/|" "$T/ci-other.ini"
    if "$HB" run "$T/ci-other.ini" --out "$T/other" --quiet >"$T/out" 2>&1; then ok; else bad "run other seeds" "exit status"; cat "$T/out"; fi
    expect "check other seeds" 0 "$HB" check "$T/other" --against results/ci-baseline
    contains "check other seeds" "-> pass"
    expect "check the CI run" 0 "$HB" check "$T/real" --against results/ci-baseline
    # the CI run made 20% slower fails the gate
    for f in "$T"/real/*/seed-*/invocations.csv; do
        awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "latency_ms") c = i; print; next }
                          { if ($c != "") $c = sprintf("%.3f", $c * 1.2); print }' "$f" > "$f.new" && mv "$f.new" "$f"
    done
    expect "check real run 20% slower" 1 "$HB" check "$T/real" --against results/ci-baseline
    contains "check real run 20% slower" "REGRESSION"
else
    bad "run configs/ci.ini" "exit status"; cat "$T/out"
fi

finish
