#!/bin/sh
# End-to-end: the baseline policies (greedy, ensure, freyr) in `run`, and `train freyr`: its output,
# reproducibility, the checkpoint it writes, and bad usage.
. tests/e2e/lib.sh

# a copy of the demo configuration with absolute paths, one seed, the baselines, a checkpoint key
demo_copy() {  # $1 = directory, $2 = checkpoint path relative to it
    mkdir -p "$1"
    sed "s|= \.\./|= $PWD/|; s|^seeds = .*|seeds = 1|; s|^out = .*|out = $1/out|; s|^policies = .*|policies = fixed, greedy, ensure, freyr|" \
        configs/demo.ini | awk '/^\[policy\.freyr\]/{skip=1; next} /^\[/{skip=0} !skip' > "$1/demo.ini"
    printf '\n[policy.freyr]\ncheckpoint = %s\n' "$2" >> "$1/demo.ini"
}

# ---- train freyr ----
demo_copy "$TMP/t" ck.json
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 1 --out "$TMP/t/ck.json" \
    --curve "$TMP/t/curve.csv" > "$TMP/t/log" 2>&1
check "train freyr exits 0" test $? -eq 0
check "train prints an episode line" grep -q '^episode    2/2  reward' "$TMP/t/log"
check "train prints the held-out evaluation" grep -q '^eval after    2 episodes: reward' "$TMP/t/log"
check "checkpoint format" grep -q '"format":[[:space:]]*"harvestbench-freyr"' "$TMP/t/ck.json"
check "checkpoint records the command" grep -q '"command":[[:space:]]*"harvestbench train freyr' "$TMP/t/ck.json"
check "curve: 2 training and 3 evaluation rows" \
    test "$(grep -c '^train,' "$TMP/t/curve.csv") $(grep -c '^eval,' "$TMP/t/curve.csv")" = "2 3"
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 0 --quiet --out "$TMP/t/ck2.json" > /dev/null 2>&1
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 0 --quiet --out "$TMP/t/ck3.json" > /dev/null 2>&1
# the same but for the recorded command line (which names the output file)
check "training is reproducible byte for byte" sh -c "grep -v '\"command\"' '$TMP/t/ck2.json' > '$TMP/t/2'; grep -v '\"command\"' '$TMP/t/ck3.json' > '$TMP/t/3'; cmp -s '$TMP/t/2' '$TMP/t/3'"
check "evaluation does not change training" sh -c "grep -v '\"command\"' '$TMP/t/ck.json' > '$TMP/t/a'; grep -v '\"command\"' '$TMP/t/ck2.json' > '$TMP/t/b'; cmp -s '$TMP/t/a' '$TMP/t/b'"
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 0 --quiet --seed 7 --out "$TMP/t/ck4.json" > /dev/null 2>&1
check "another seed trains another network" sh -c "! cmp -s '$TMP/t/ck2.json' '$TMP/t/ck4.json'"

"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 0 --quiet --set experiment.seed=7 --out "$TMP/t/ck5.json" > /dev/null 2>&1
check "--set overrides the config (the seed)" sh -c "grep -v '\"command\"' '$TMP/t/ck4.json' > '$TMP/t/4'; grep -v '\"command\"' '$TMP/t/ck5.json' > '$TMP/t/5'; cmp -s '$TMP/t/4' '$TMP/t/5'"
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --eval-every 0 --quiet --gamma 1 --minibatch 0 --out "$TMP/t/ck6.json" > /dev/null 2>&1
check "--gamma and --minibatch train another network" sh -c "test -s '$TMP/t/ck6.json' && grep -v '\"command\"' '$TMP/t/ck6.json' > '$TMP/t/6' && ! cmp -s '$TMP/t/2' '$TMP/t/6'"
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --gamma 1.5 --out "$TMP/t/x.json" > "$TMP/t/err" 2>&1
check "train --gamma outside [0, 1] exits 2" test $? -eq 2
"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 --set cluster.corse=3 --out "$TMP/t/x.json" > "$TMP/t/err" 2>&1
check "train with a bad --set exits 2" test $? -eq 2

"$HB" train freyr "$TMP/t/demo.ini" --episodes 2 > "$TMP/t/err" 2>&1
check "train without --out exits 2" test $? -eq 2
"$HB" train freyr "$TMP/t/demo.ini" --episodes 0 --out "$TMP/t/x.json" > "$TMP/t/err" 2>&1
check "train --episodes 0 exits 2" test $? -eq 2
"$HB" train freyr "$TMP/t/nope.ini" --out "$TMP/t/x.json" > "$TMP/t/err" 2>&1
check "train with a missing config exits 2" test $? -eq 2
"$HB" train nosuch "$TMP/t/demo.ini" > "$TMP/t/err" 2>&1
check "train of an unknown policy exits 2" test $? -eq 2
check "train --help" sh -c "'$HB' train freyr --help | grep -q -- '--episodes N'"
check "help lists train" sh -c "'$HB' help | grep -q '^  train '"

# ---- run the baselines ----
"$HB" run "$TMP/t/demo.ini" --out "$TMP/t/out" --quiet > "$TMP/t/run.log" 2>&1
check "run with the baselines exits 0" test $? -eq 0
for p in greedy ensure freyr; do
    f="$TMP/t/out/$p/seed-1/invocations.csv"
    check "$p: 268 rows" test "$(tail -n +2 "$f" | wc -l)" -eq 268
    # alloc_cpu (col 20) within the artifact's clip [1, 2]; alloc_mem_mb (col 21) within [128, 1024]
    check "$p: allocations within the clip ranges" \
        test "$(awk -F, 'NR > 1 && ($20 < 1 || $20 > 2 || $21 < 128 || $21 > 1024)' "$f" | wc -l)" -eq 0
    check "$p: no predictions" test "$(awk -F, 'NR > 1 && ($17 != "" || $19 != "")' "$f" | wc -l)" -eq 0
    # the built-in policies clip themselves: the engine had nothing to clip
    check "$p: clipped_decisions is 0" grep -q '"clipped_decisions":[[:space:]]*0,' "$TMP/t/out/$p/seed-1/summary.json"
done
check "the manifest records compare's baseline (fixed)" grep -q '"baseline":[[:space:]]*"fixed"' "$TMP/t/out/manifest.json"
check "the manifest records the statistics window" grep -q '"warmup_s":[[:space:]]*0' "$TMP/t/out/manifest.json"
check "greedy harvests memory" grep -q '"harvested_mem_mb_s":[[:space:]]*[1-9]' "$TMP/t/out/greedy/seed-1/summary.json"

# ---- bad checkpoints and keys ----
demo_copy "$TMP/b" missing.json
"$HB" run "$TMP/b/demo.ini" --policy freyr --out "$TMP/b/out" --quiet > "$TMP/b/log" 2>&1
check "missing checkpoint exits 2" test $? -eq 2
check "missing checkpoint names the key's line" grep -q 'demo.ini:[0-9]*: checkpoint' "$TMP/b/log"
printf '{"format": "harvestbench-freyr", "version": 1,\n "features": []}\n' > "$TMP/b/missing.json"
"$HB" run "$TMP/b/demo.ini" --policy freyr --out "$TMP/b/out" --quiet > "$TMP/b/log" 2>&1
check "malformed checkpoint exits 2" test $? -eq 2
check "malformed checkpoint names file and field" grep -q 'missing.json: features' "$TMP/b/log"
cp "$TMP/t/ck.json" "$TMP/b/missing.json"
printf 'sample = perhaps\n' >> "$TMP/b/demo.ini"
"$HB" run "$TMP/b/demo.ini" --policy freyr --out "$TMP/b/out" --quiet > "$TMP/b/log" 2>&1
check "bad sample value exits 2" test $? -eq 2
check "bad sample value names file and line" grep -q 'demo.ini:[0-9]*: sample' "$TMP/b/log"
printf 'learning_rate = 1\n' >> "$TMP/b/demo.ini"
sed -i 's/^sample = perhaps$/sample = true/' "$TMP/b/demo.ini"
"$HB" run "$TMP/b/demo.ini" --policy freyr --out "$TMP/b/out" --quiet > "$TMP/b/log" 2>&1
check "unknown freyr key exits 2" test $? -eq 2
check "unknown freyr key is named" grep -q 'learning_rate' "$TMP/b/log"
printf '\n[policy.greedy]\nfoo = 1\n' >> "$TMP/b/demo.ini"
"$HB" run "$TMP/b/demo.ini" --policy greedy --out "$TMP/b/out2" --quiet > "$TMP/b/log" 2>&1
check "greedy takes no keys" test $? -eq 2

finish
