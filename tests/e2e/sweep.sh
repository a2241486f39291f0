#!/bin/sh
# End-to-end: `harvestbench sweep` on the simulator - the cells, sweep.csv against `compare` of a
# cell, --jobs (parallel = serial), a SIGKILLed sweep resumed to the same sweep.csv, --cell,
# --collect, bad [sweep] sections refused before anything runs (exit 2, file:line: key), and the
# heatmaps. Ends with "N passed, N failed, N skipped".
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
same() {  # same NAME FILE1 FILE2
    if cmp -s "$2" "$3"; then ok; else bad "$1" "$2 and $3 differ"; diff "$2" "$3" | head -n 10; fi
}

# a small configuration: 2 policies, 1 seed, a 2-minute constant trace; 2 x 2 cells
cat > "$T/s.ini" <<'INI'
[experiment]
name = sweeptest
policies = fixed, libra
seeds = 1
seed = 1

[cluster]
invokers = 1
cores = 8
memory_mb = 8192

[trace]
format = constant
per_minute = 1
minutes = 2
arrival = even
sizes = multi

[sweep]
cluster.invokers = 1, 2
overprovisioned_share = 0, 0.5   ; the derived axis
overprovision_ratio = 2
INI

expect "sweep runs" 0 "$HB" sweep "$T/s.ini" --out "$T/a" --jobs 2
contains "progress on stderr" "sweep: cell 0003 done"
[ -f "$T/a/sweep.csv" ] && [ -f "$T/a/sweep.md" ] && ok || bad "outputs" "no sweep.csv or sweep.md"
rows=$(tail -n +2 "$T/a/sweep.csv" | wc -l)
[ "$rows" -eq 8 ] && ok || bad "rows" "$rows rows, expected 4 cells x 2 policies"
head -n 1 "$T/a/sweep.csv" | grep -q '^cell,cluster.invokers,overprovisioned_share,overprovision_ratio,policy,baseline,' \
    && ok || bad "header" "$(head -n 1 "$T/a/sweep.csv")"
for c in 0000 0001 0002 0003; do
    grep -q '"status":[[:space:]]*"complete"' "$T/a/cells/$c/manifest.json" && ok || bad "cell $c" "not complete"
done
# cell 0002 is (invokers 2, share 0): its manifest records the values it ran with
grep -q '"invokers":[[:space:]]*2' "$T/a/cells/0002/manifest.json" && ok || bad "cell values" "cell 0002 did not run 2 invokers"
grep -q '"overprovisioned_share":[[:space:]]*"0"' "$T/a/cells/0002.json" && ok || bad "cell json" "cells/0002.json"
# the derived axis: in cell 0001 (share 0.5, ratio 2) dh (over-provisioned under seed 1) has 2x
# its catalog size (2 cores, 1024 MB), ip (not) keeps its own (1 core)
grep -q '"function.dh.user_cpu=4.00"' "$T/a/cells/0001.json" && grep -q '"function.ip.user_cpu=1.00"' "$T/a/cells/0001.json" \
    && ok || bad "derived sizes" "$(cat "$T/a/cells/0001.json")"

# a row of sweep.csv holds what `compare` computes for that cell
"$HB" compare "$T/a/cells/0001" --no-plots > /dev/null 2>&1
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $1 == "libra" { print $c["mean_change_pct"], $c["cpu_util_capacity_change_pct"] }' "$T/a/cells/0001/comparison.csv")
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $1 == "0001" && $c["policy"] == "libra" { print $c["mean_change_pct"], $c["cpu_util_change_pct"] }' "$T/a/sweep.csv")
echo "$want $got" | awk '{ for (i = 1; i <= 2; i++) { d = $i - $(i + 2); if (d < 0) d = -d; if (d > 1e-4 * ($i < 0 ? -$i : $i) + 1e-9) exit 1 } }' \
    && [ -n "$got" ] && ok || bad "sweep.csv = compare" "compare: $want, sweep.csv: $got"

# --jobs 1 gives the same bytes
expect "serial sweep" 0 "$HB" sweep "$T/s.ini" --out "$T/b" --jobs 1 --quiet
same "jobs 1 = jobs 2" "$T/a/sweep.csv" "$T/b/sweep.csv"

# an existing sweep directory needs --resume; a complete one resumes without running anything
expect "no silent overwrite" 2 "$HB" sweep "$T/s.ini" --out "$T/a"
contains "says --resume" "--resume"
m0=$(ls -l --time-style=full-iso "$T/a/cells/0000/manifest.json")
expect "resume of a complete sweep" 0 "$HB" sweep "$T/s.ini" --out "$T/a" --resume
contains "skips complete cells" "4 of 4 cells already complete"
[ "$m0" = "$(ls -l --time-style=full-iso "$T/a/cells/0000/manifest.json")" ] && ok || bad "resume" "cell 0000 was run again"

# SIGKILL in the middle, then --resume: the same sweep.csv as without the kill
sed 's/^cluster.invokers = 1, 2$/cluster.invokers = 1, 2, 3/' "$T/s.ini" > "$T/k.ini"
"$HB" sweep "$T/k.ini" --out "$T/k" --jobs 1 --quiet > /dev/null 2>&1 &
pid=$!
n=0
while [ $n -lt 600 ] && ! grep -q complete "$T/k/cells/0001/manifest.json" 2>/dev/null; do sleep 0.05; n=$((n + 1)); done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -f "$T/k/sweep.csv" ] && echo "note: the sweep ended before the kill"
expect "resume after SIGKILL" 0 "$HB" sweep "$T/k.ini" --out "$T/k" --resume --quiet
expect "uninterrupted" 0 "$HB" sweep "$T/k.ini" --out "$T/k2" --quiet
same "killed+resumed = uninterrupted" "$T/k/sweep.csv" "$T/k2/sweep.csv"

# --cell re-runs one cell; --collect merges to the same file
rm -rf "$T/b/cells/0002" "$T/b/sweep.csv"
expect "collect with a missing cell" 1 "$HB" sweep --collect "$T/b"
contains "names the cell" "cell 0002 is not complete"
expect "--cell" 0 "$HB" sweep "$T/s.ini" --out "$T/b" --cell 0002
expect "--cell out of range" 2 "$HB" sweep "$T/s.ini" --out "$T/b" --cell 0004
expect "--collect" 0 "$HB" sweep --collect "$T/b"
same "collect = local" "$T/a/sweep.csv" "$T/b/sweep.csv"

# bad axes: exit 2 before any cell runs, naming file:line: key
bad_axis() {  # bad_axis NAME LINE_TEXT WANT_IN_MESSAGE
    sed "s/^overprovision_ratio = 2$/$2/" "$T/s.ini" > "$T/bad.ini"
    rm -rf "$T/bad"
    expect "$1" 2 "$HB" sweep "$T/bad.ini" --out "$T/bad"
    contains "$1 names file:line: key" "$3"
    [ ! -d "$T/bad/cells" ] && ok || bad "$1" "cells were created"
}
bad_axis "unknown key" "cluster.nope = 1, 2" "bad.ini:22: cluster.nope"
bad_axis "wrong type" "trace.per_minute = 1, many" "bad.ini:22: trace.per_minute: the value 'many'"
bad_axis "unknown sweep key" "ratio = 2" "bad.ini:22: ratio: unknown sweep key"
bad_axis "unknown policy key" "policy.libra.nope = 1" "bad.ini:22: policy.libra.nope: the value '1': nope: unknown key"
bad_axis "policy value out of range" "policy.libra.safeguard_threshold = 0.5, 2" "bad.ini:22: policy.libra.safeguard_threshold: the value '2'"
bad_axis "derived out of range" "overprovision_ratio = -1" "bad.ini:22: overprovision_ratio"

# a cell whose run fails: the others run, the sweep exits 1 naming it and its log
sed 's|^overprovision_ratio = 2$|trace.format = constant, artifact|; /^overprovisioned_share/d; /^cluster.invokers = 1, 2$/d' "$T/s.ini" > "$T/f.ini"
expect "a failing cell" 1 "$HB" sweep "$T/f.ini" --out "$T/f" --jobs 2
contains "names the failed cell" "cell 0001 FAILED"
grep -q "invocations" "$T/f/logs/0001.log" && ok || bad "cell log" "$(cat "$T/f/logs/0001.log")"
grep -q '"status":[[:space:]]*"complete"' "$T/f/cells/0000/manifest.json" && ok || bad "other cells run" "cell 0000 not complete"

# heatmaps
expect "plot" 0 "$HB" sweep plot "$T/a" --x cluster.invokers --y overprovisioned_share
if command -v gnuplot > /dev/null 2>&1; then
    [ -s "$T/a/plots/heatmap_mean_libra_cluster_invokers_overprovisioned_share.png" ] && ok || bad "heatmap" "no png"
else
    skip "heatmap png" "gnuplot is not installed"
fi
# 2 x-values x 2 y-values, one cell each; the data holds sweep.csv's mean change of cell 0001
v=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $1 == "0001" && $c["policy"] == "libra" { print $c["mean_change_pct"] }' "$T/a/sweep.csv")
grep -q "^0 1 $v\$" "$T/a/plots/heatmap_mean_libra_cluster_invokers_overprovisioned_share.dat" && ok || bad "heatmap data" "no '0 1 $v'"
expect "plot: unknown axis" 2 "$HB" sweep plot "$T/a" --x cluster.cores --y overprovisioned_share
expect "plot: unknown metric" 2 "$HB" sweep plot "$T/a" --x cluster.invokers --y overprovisioned_share --metric nope
# a configuration edited outside [sweep] cannot resume the sweep it started (complete cells would
# mix two configurations)
sed -i 's/^cores = 8$/cores = 4/' "$T/s.ini"
expect "resume after an edit" 2 "$HB" sweep "$T/s.ini" --out "$T/a" --resume
contains "says it differs" "differs from the one in"
finish
