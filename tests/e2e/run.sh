#!/bin/sh
# End-to-end: `harvestbench run` on the demo configuration, determinism, bad input, interruption
# and resume, and the other foundation subcommands.
. tests/e2e/lib.sh

OUT="$TMP/demo"
"$HB" run configs/demo.ini --out "$OUT" > "$TMP/run.log" 2>&1
check "demo run exits 0" test $? -eq 0
check "manifest complete" grep -q '"status":[[:space:]]*"complete"' "$OUT/manifest.json"

header="index,activation_id,function,input_size,invoker,arrival_s,start_s,end_s,wait_ms,init_ms,duration_ms,latency_ms,cold_start,outcome,user_cpu,user_mem_mb,pred_cpu,pred_mem_mb,pred_duration_ms,alloc_cpu,alloc_mem_mb,cpu_peak,mem_peak_mb,harvested_cpu_s,harvested_mem_mb_s,borrowed_cpu_s,borrowed_mem_mb_s,safeguard"
for p in default fixed; do
    for k in 1 2 3 4 5; do
        d="$OUT/$p/seed-$k"
        for f in invocations.csv usage.csv summary.json artifact; do
            check "$p seed $k has $f" test -e "$d/$f"
        done
        check "$p seed $k: BRIEF's columns first" sh -c "head -n 1 '$d/invocations.csv' | grep -q '^$header'"
        # every trace invocation exactly once, in index order
        rows=$(tail -n +2 "$d/invocations.csv" | cut -d, -f1 | awk 'BEGIN{bad=0} {if ($1 != NR-1) bad=1} END{print NR, bad}')
        check "$p seed $k: 268 rows, indices 0..267" test "$rows" = "268 0"
        # latency = wait + init + duration, exactly (all values are whole microseconds)
        badlat=$(awk -F, 'NR > 1 && $14 != "lost" {
                    split("wait init dur lat", n, " ");
                    for (i = 9; i <= 12; i++) { split($i, a, "."); us[i] = a[1] * 1000 + a[2] }
                    if (us[9] + us[10] + us[11] != us[12]) print NR }' "$d/invocations.csv" | wc -l)
        check "$p seed $k: latency = wait + init + duration" test "$badlat" -eq 0
        check "$p seed $k: artifact trajectory rows" test "$(cat "$d"/artifact/*_trajectory.csv | wc -l)" -eq 269
        check "$p seed $k: usage has rows" test "$(wc -l < "$d/usage.csv")" -gt 3000
    done
done
check "console prints the artifact lines" grep -q '^Total events: 1340$' "$TMP/run.log"
check "console prints the table" grep -q '^fixed ' "$TMP/run.log"

# determinism: the same config and seeds give byte-identical files
"$HB" run configs/demo.ini --out "$TMP/again" --quiet > /dev/null 2>&1
same=0
for f in $(cd "$OUT" && find . -name '*.csv'); do
    cmp -s "$OUT/$f" "$TMP/again/$f" || { same=1; echo "differs: $f"; }
done
check "a second run is byte-identical" test $same -eq 0
check "summaries identical but the wall time" sh -c "grep -v wall_seconds '$OUT/fixed/seed-3/summary.json' > '$TMP/a'; grep -v wall_seconds '$TMP/again/fixed/seed-3/summary.json' > '$TMP/b'; cmp -s '$TMP/a' '$TMP/b'"
"$HB" run configs/demo.ini --out "$TMP/other" --seeds 1 --policy fixed --quiet > /dev/null 2>&1
check "--seeds and --policy override the file" sh -c "test -d '$TMP/other/fixed/seed-1' && ! test -e '$TMP/other/fixed/seed-2' && ! test -e '$TMP/other/default'"

# bad input: exit 2 and a message naming file and line; no results marked complete
mkdir -p "$TMP/bad"
sed 's|^invocations = .*|invocations = '"$PWD"'/tests/fixtures/traces/garbled_invocations.csv|' configs/demo.ini \
    | sed 's|^\(durations\|memory\) = .*||; s|^out = .*|out = '"$TMP"'/bad/out|' > "$TMP/bad/garbled.ini"
"$HB" run "$TMP/bad/garbled.ini" > "$TMP/bad/log" 2>&1
check "garbled trace exits 2" test $? -eq 2
check "garbled trace names file and line" grep -q 'garbled_invocations.csv:7: minute 1:' "$TMP/bad/log"
check "garbled trace leaves nothing complete" sh -c "! grep -qs '\"complete\"' '$TMP/bad/out/manifest.json'"
sed 's|^invocations = .*|invocations = '"$PWD"'/tests/fixtures/traces/truncated_invocations.csv|' "$TMP/bad/garbled.ini" > "$TMP/bad/trunc.ini"
"$HB" run "$TMP/bad/trunc.ini" > "$TMP/bad/log" 2>&1
check "truncated trace exits 2" test $? -eq 2
check "truncated trace names file and line" grep -q 'truncated_invocations.csv:5:' "$TMP/bad/log"
printf '[cluster]\ninvokers = 1\ncorse = 8\n' > "$TMP/bad/key.ini"
"$HB" run "$TMP/bad/key.ini" > "$TMP/bad/log" 2>&1
check "unknown key exits 2" test $? -eq 2
check "unknown key names file, line and key" grep -q 'key.ini:3: corse: unknown key' "$TMP/bad/log"
"$HB" run /nonexistent.ini > /dev/null 2>&1
check "missing config exits 2" test $? -eq 2
"$HB" run configs/demo.ini --policy nope > "$TMP/bad/log" 2>&1
check "unknown policy exits 2" test $? -eq 2
"$HB" run configs/demo.ini --seeds zero > /dev/null 2>&1
check "bad --seeds exits 2" test $? -eq 2
"$HB" run > /dev/null 2>&1
check "no CONFIG exits 2" test $? -eq 2

# interruption: SIGINT leaves an incomplete manifest, --resume completes it
cat > "$TMP/long.ini" <<INI
[experiment]
name = long
policies = fixed
seeds = 20
out = $TMP/long
[cluster]
invokers = 4
[trace]
invocations = $PWD/data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv
scale = 60
sizes = multi
INI
"$HB" run "$TMP/long.ini" --quiet > "$TMP/long.log" 2>&1 &
pid=$!
n=0
while [ ! -e "$TMP/long/fixed/seed-1/summary.json" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
kill -INT $pid
wait $pid
rc=$?
check "interrupted run exits 1" test $rc -eq 1
check "interrupted run is marked incomplete" grep -q '"status":[[:space:]]*"incomplete"' "$TMP/long/manifest.json"
check "interrupted run says how to resume" grep -q -- '--resume' "$TMP/long.log"
check "completed seeds were kept" test -e "$TMP/long/fixed/seed-1/summary.json"
check "the last seed was not written" sh -c "! test -e '$TMP/long/fixed/seed-20/summary.json'"
"$HB" run "$TMP/long.ini" --resume --quiet > "$TMP/resume.log" 2>&1
check "resume exits 0" test $? -eq 0
check "resume completes the manifest" grep -q '"status":[[:space:]]*"complete"' "$TMP/long/manifest.json"
check "resumed run has every seed" test "$(ls "$TMP/long/fixed" | wc -l)" -eq 20
check "no temporary files are left" test -z "$(find "$TMP/long" -name '*.tmp')"
sed -i 's/^seeds = 20/seeds = 19/' "$TMP/long.ini"
"$HB" run "$TMP/long.ini" --resume --quiet > "$TMP/resume2.log" 2>&1
check "resume refuses a changed config" test $? -eq 2

# the other foundation subcommands
"$HB" trace info data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv > "$TMP/info" 2>&1
check "trace info exits 0" test $? -eq 0
check "trace info counts invocations" grep -q 'invocations 268' "$TMP/info"
"$HB" trace info tests/fixtures/traces/garbled_invocations.csv > "$TMP/info" 2>&1
check "trace info on a garbled file exits 2" test $? -eq 2
"$HB" bench --invocations 20000 --json > "$TMP/bench.json" 2>&1
check "bench --json exits 0" test $? -eq 0
for k in invocations seconds invocations_per_second peak_rss_mb; do
    check "bench --json has $k" grep -q "\"$k\":" "$TMP/bench.json"
done
# every policy benches, freyr on the shipped checkpoint; --all: one JSON object per policy
"$HB" bench --invocations 2000 --policy freyr --json > "$TMP/bench.json" 2>&1
check "bench --policy freyr exits 0" test $? -eq 0
"$HB" bench --invocations 2000 --all --json > "$TMP/bench.json" 2>&1
check "bench --all --json exits 0" test $? -eq 0
for p in default fixed libra libra-np greedy ensure freyr; do
    check "bench --all --json has $p" test "$(grep -c "\"policy\": \"$p\"" "$TMP/bench.json")" -eq 1
done
check "bench --all --json: one line per policy" test "$(wc -l < "$TMP/bench.json")" -eq 7
for c in run trace bench version help; do
    "$HB" $c --help > /dev/null 2>&1
    check "$c --help exits 0" test $? -eq 0
done
"$HB" frobnicate > /dev/null 2>&1
check "unknown command exits 2" test $? -eq 2

finish
