#!/bin/sh
# End-to-end checks of issue 17's input hygiene on the simulator: a bad [policy.NAME] key fails
# before anything runs (exit 2, file:line:key, no results touched); a key before the first section
# is an error; the console labels each kind of failed call; the resume hint after SIGINT is the
# complete command, and following it completes the run.
. "$(dirname "$0")/lib.sh"

REPO=$(pwd)
cat > "$TMP/two.ini" <<EOF
[experiment]
name = two
policies = default, libra
seeds = 2
[cluster]
cores = 8
memory_mb = 8192
[trace]
format = artifact
invocations = $REPO/data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv
durations = $REPO/data/traces/freyr-60min/exp_openwhisk_duration_traces_0.csv
memory = $REPO/data/traces/freyr-60min/exp_openwhisk_memory_traces_0.csv
[policy.libra]
bogus = 1
EOF

# ---- a bad key of the second policy: at once ----
"$HB" run "$TMP/two.ini" --out "$TMP/o1" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && ok "bad policy key: exit 2" || bad "bad policy key: exit 2" "rc=$rc: $(cat "$TMP/e")"
grep -q "two.ini:14: bogus" "$TMP/e" && ok "bad policy key: file:line:key" || bad "bad policy key: where" "$(cat "$TMP/e")"
[ ! -e "$TMP/o1" ] && ok "bad policy key: nothing ran" || bad "bad policy key: nothing ran" "$(ls -R "$TMP/o1" | head -5)"
# the same through --set
sed '/^\[policy.libra\]/,$d' "$TMP/two.ini" >"$TMP/ok.ini"
"$HB" run "$TMP/ok.ini" --set policy.libra.bogus=1 --out "$TMP/o2" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$TMP/o2" ] && grep -q "bogus" "$TMP/e" && ok "bad --set policy key: at once" \
    || bad "bad --set policy key" "rc=$rc: $(cat "$TMP/e")"
cp "$TMP/ok.ini" "$TMP/sim.ini"
printf '[backend.sim]\nbogus = 1\n' >>"$TMP/sim.ini"
"$HB" run "$TMP/sim.ini" --out "$TMP/o3" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$TMP/o3" ] && grep -q "sim.ini:14: bogus" "$TMP/e" && ok "bad backend key: at once" \
    || bad "bad backend key" "rc=$rc: $(cat "$TMP/e")"

# ---- a key before the first section ----
{ echo "name = x"; cat "$TMP/ok.ini"; } >"$TMP/early.ini"
"$HB" run "$TMP/early.ini" --out "$TMP/o4" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q "early.ini:1: name: " "$TMP/e" && ok "key before any section: error" \
    || bad "key before any section" "rc=$rc: $(cat "$TMP/e")"

# ---- the console says what each failed call was ----
"$HB" run configs/demo.ini --policy greedy --out "$TMP/o5" >"$TMP/o" 2>"$TMP/e"; rc=$?
oom=$(cat "$TMP"/o5/greedy/seed-*/invocations.csv |
    awk -F, '$1 ~ /^[a-z]/ { for (i = 1; i <= NF; i++) if ($i == "outcome") c = i; next } $c == "oom"' | wc -l)
[ "$oom" -gt 0 ] && grep -q "^Error num: $oom (oom $oom, error 0, lost 0)$" "$TMP/o" && ok "Error num says oom" \
    || bad "Error num labels" "oom=$oom: $(grep 'Error num' "$TMP/o")"

# ---- SIGINT, then follow the hint ----
"$HB" run "$TMP/ok.ini" --seeds 40 --policy 'default,fixed' --set 'trace.scale=2' --backend sim \
    --out "$TMP/o 6" --quiet >"$TMP/o" 2>"$TMP/e" &
pid=$!
i=0
while [ ! -f "$TMP/o 6/default/seed-2/summary.json" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid; rc=$?
hint=$(sed -n 's/^harvestbench run: interrupted; continue with: //p' "$TMP/e")
[ "$rc" -eq 1 ] && [ -n "$hint" ] && ok "SIGINT: a hint" || bad "SIGINT hint" "rc=$rc: $(cat "$TMP/e")"
case "$hint" in
*"--seeds 40"*"--out '$TMP/o 6'"*) ok "the hint has every flag, quoted" ;;
*) bad "the hint's flags" "$hint" ;;
esac
eval "$hint" >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 0 ] && grep -q '"status":	"complete"' "$TMP/o 6/manifest.json" && ok "following the hint completes" \
    || bad "following the hint" "rc=$rc: $(cat "$TMP/e")"

finish
