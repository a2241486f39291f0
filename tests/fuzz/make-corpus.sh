#!/bin/sh
# Regenerates the seed corpus tests/fuzz/corpus/TARGET/ from the repository's own fixtures, data and
# configurations (docs/fuzzing.md). Seeds are small on purpose: libFuzzer mutates them. Files named
# finding-* are regression inputs of fixed findings and are kept as they are.
# usage: sh tests/fuzz/make-corpus.sh         (from the repository root)
set -eu
C=tests/fuzz/corpus
SEP='%%'
for d in csv trace_artifact trace_azure trace_info config ow_activation; do
    mkdir -p "$C/$d"
    find "$C/$d" -type f ! -name 'finding-*' -delete
done

join() {  # join OUT FILE... : the files separated by FUZZ_SEP lines (a missing file is "")
    out=$1
    shift
    first=1
    for f in "$@"; do
        [ "$first" -eq 1 ] || printf '\n%s\n' "$SEP"
        first=0
        case "$f" in opt:*) printf '%s' "${f#opt:}" ;; *) cat "$f" ;; esac
    done > "$out"
}

FX=tests/fixtures/traces
DEMO=data/traces/libra-demo
FREYR=data/traces/freyr-60min

# every trace file, alone: the CSV reader and `trace info`
for f in $FX/*.csv $DEMO/*.csv $FREYR/*.csv; do
    cp "$f" "$C/csv/$(basename "$f")"
    cp "$f" "$C/trace_info/$(basename "$f")"
done
head -n 12 data/libra-artifact-predictors.csv > "$C/csv/predictors_head.csv"
printf 'a,"b ""quoted""",c\n1,2.5,-3\n"x\ny",inf,\n' > "$C/csv/quoted.csv"
printf '1,2\n5,6\n7\n' > "$C/trace_info/sizes_third_line.csv"

# artifact traces: invocations %% durations %% memory %% input sizes %% options
A=$C/trace_artifact
join "$A/demo_all" $DEMO/demo_1_invocation_traces_0.csv $DEMO/demo_1_duration_traces_0.csv \
    $DEMO/demo_1_memory_traces_0.csv $DEMO/demo_1_input_size_traces_0.csv
join "$A/demo_window" $DEMO/demo_1_invocation_traces_0.csv $DEMO/demo_1_duration_traces_0.csv \
    $DEMO/demo_1_memory_traces_0.csv $DEMO/demo_1_input_size_traces_0.csv "opt:1 1 1"
join "$A/freyr" $FREYR/exp_openwhisk_invocation_traces_0.csv \
    $FREYR/exp_openwhisk_duration_traces_0.csv $FREYR/exp_openwhisk_memory_traces_0.csv
join "$A/freyr_scaled" $FREYR/exp_openwhisk_invocation_traces_0.csv \
    $FREYR/exp_openwhisk_duration_traces_0.csv $FREYR/exp_openwhisk_memory_traces_0.csv \
    /dev/null "opt:5 20 2.5"
cp $DEMO/demo_1_invocation_traces_0.csv "$A/demo_inv_only"
for bad in badquote garbled truncated; do cp $FX/${bad}_invocations.csv "$A/$bad"; done
join "$A/sizes_short" $DEMO/demo_1_invocation_traces_0.csv /dev/null /dev/null $FX/sizes_short.csv

# azure2019: invocations %% durations %% memory %% options
Z=$C/trace_azure
join "$Z/all" $FX/azure_invocations.csv $FX/azure_durations.csv $FX/azure_memory.csv
join "$Z/sampled" $FX/azure_invocations.csv $FX/azure_durations.csv $FX/azure_memory.csv \
    "opt:2 3 1.5 2 0 9 1"
join "$Z/filtered" $FX/azure_invocations.csv $FX/azure_durations.csv $FX/azure_memory.csv \
    "opt:1 0 1 10 1 5 0"
cp $FX/azure_invocations.csv "$Z/inv_only"

# configurations, and one with --set assignments after it
for f in configs/*.ini; do cp "$f" "$C/config/$(basename "$f")"; done
join "$C/config/demo_with_sets" configs/ci.ini "opt:cluster.invokers=4" \
    "opt:policy.libra.predictor=artifact" "opt:trace.scale=0.5" "opt:experiment.policies=default,greedy"

# activation records (as in tests/unit/test_ow_activation.c)
O=$C/ow_activation
rec() {  # rec FILE ANNOTATIONS STATUS SUCCESS RESULT
    printf '{"namespace":"guest","name":"hb-ms-m512","version":"0.0.1","subject":"guest","activationId":"a1b2c3d4e5f60718293a4b5c6d7e8f90","start":1700000000100,"end":1700000000350,"duration":250,"statusCode":0,"response":{"status":"%s","statusCode":0,"success":%s,"result":%s},"logs":[],"annotations":[%s],"publish":false}' \
        "$3" "$4" "$5" "$2" > "$1"
}
ANN='{"key":"path","value":"guest/hb-ms-m512"},{"key":"waitTime","value":12},{"key":"kind","value":"blackbox"},{"key":"initTime","value":40},{"key":"limits","value":{"concurrency":1,"logs":10,"memory":512,"timeout":60000}},{"key":"timeout","value":false}'
USAGE='{"function":"ms","interval_ms":100,"cpu_timestamp":[1700000000.25,1700000000.35],"cpu_usage":[1.5,0.5],"mem_timestamp":[1700000000.25,1700000000.35],"mem_usage":[10,20],"cpu_peak":1.5,"mem_peak":20}'
rec "$O/cold_usage" "$ANN" success true "$USAGE"
rec "$O/timeout" '{"key":"timeout","value":true},{"key":"waitTime","value":3}' "developer error" false \
    '{"error":"The action exceeded its time limits of 100 milliseconds."}'
rec "$O/oom" '{"key":"waitTime","value":3}' "developer error" false \
    '{"error":"The action exhausted its memory and was aborted."}'
rec "$O/app_error" '' "application error" false '{"error":"size: must be in [1, 5]"}'
printf '{"activationId":"x1","start":5,"end":9,"response":{"status":"success"}}' > "$O/bare"

# serve requests ("METHOD URL", then the body): written by hand, see tests/fuzz/corpus/serve_request/
# (kept as committed: this script does not regenerate them)

# workload tables: predictor table %% profile file
W=$C/workload_tables
mkdir -p "$W"
find "$W" -type f ! -name 'finding-*' -delete
head -n 40 data/libra-artifact-predictors.csv > "$W/predictors_head"
awk -F, 'NR == 1 || $1 == "vp"' data/libra-artifact-predictors.csv > "$W/predictors_vp"
grep -v '^#' workloads/profiles/measured.csv | awk -F, 'NR == 1 || $1 == "ms" || $1 == "dh"' > /tmp/hb-fuzz-profile.$$
join "$W/profile_only" /dev/null /tmp/hb-fuzz-profile.$$
join "$W/both" "$W/predictors_vp" /tmp/hb-fuzz-profile.$$
rm -f /tmp/hb-fuzz-profile.$$
