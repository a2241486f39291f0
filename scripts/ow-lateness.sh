#!/bin/sh
# ow-lateness.sh - how late the openwhisk backend dispatches calls, by rate (docs/openwhisk.md).
#
# Starts `harvestbench serve` on a free port with no throttles, deploys a trivial action (a shell
# script answering {"ok":true}) under every variant name, then replays a constant trace at each
# rate for about DURATION seconds of wall clock with `harvestbench run --backend openwhisk`, and
# prints per rate: calls, outcomes, and the dispatch lateness (dispatch_late_ms of invocations.csv:
# first send minus trace time x time_scale) at p50, p99 and max, and the end-to-end latency p50.
# A rate is sustained when every call succeeded and p99 lateness stayed under LIMIT_MS.
#
# usage: scripts/ow-lateness.sh [RATES] [DURATION] [LIMIT_MS]
#        RATES: calls per second, comma-separated (default 25,50,100,200,400,800)
# Needs a built build/harvestbench. Uses a scratch directory, removed at the end.
set -u
HB=${HB:-build/harvestbench}
RATES=${1:-25,50,100,200,400,800}
DURATION=${2:-10}
LIMIT_MS=${3:-50}
TMP=$(mktemp -d /tmp/hb-lateness.XXXXXX)
SERVE_PID=""
RUN_PID=""
# every exit path stops what it started: a normal end, an error, and INT/TERM/HUP (a timeout)
cleanup() {
    [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null
    if [ -n "$SERVE_PID" ]; then
        kill "$SERVE_PID" 2>/dev/null
        wait "$SERVE_PID" 2>/dev/null  # serve ends its actions and removes its groups first
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

"$HB" serve --port 0 --props "$TMP/props" --invocations-per-minute 0 --concurrent-invocations 0 \
    --quiet > "$TMP/serve.out" 2> "$TMP/serve.err" &
SERVE_PID=$!
i=0
while [ $i -lt 200 ] && ! grep -q '^listening on' "$TMP/serve.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
grep -q '^listening on' "$TMP/serve.out" || { echo "serve did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }
export WSK_CONFIG_FILE="$TMP/props"

mkdir -p "$TMP/trivial"
for f in dh eg ip vp ir knn alu ms gd dv; do
    printf '#!/bin/sh\necho '"'"'{"ok":true}'"'"'\n' > "$TMP/trivial/$f"
    chmod +x "$TMP/trivial/$f"
done
cat > "$TMP/bench.ini" <<EOF
[experiment]
name = lateness
policies = default
[cluster]
cores = 2
memory_mb = 4096
[trace]
format = constant
functions = 10
minutes = 1
arrival = equidistant
sizes = multi
[workload]
timeout_s = 30
[backend.openwhisk]
max_connections = 64
EOF
"$HB" deploy "$TMP/bench.ini" --workloads "$TMP/trivial" --quiet &
RUN_PID=$!
wait "$RUN_PID" || exit 1
RUN_PID=""

pct() {  # pct P < sorted numbers: linear interpolation between closest ranks
    awk -v p="$1" '{ a[NR] = $1 } END { if (!NR) { print "nan"; exit }
        h = (NR - 1) * p + 1; l = int(h); f = h - l
        print (l >= NR ? a[NR] : a[l] + f * (a[l + 1] - a[l])) }'
}

printf '%8s %7s %7s %5s %5s %10s %10s %10s %12s %6s\n' "rate/s" "calls" "ok" "lost" "error" \
    "late p50" "late p99" "late max" "latency p50" "wall"
best=0
for rate in $(echo "$RATES" | tr ',' ' '); do
    # 10 functions x per_minute calls in 60 trace seconds, played in DURATION wall seconds
    per_minute=$(awk -v r="$rate" -v d="$DURATION" 'BEGIN { k = int(r * d / 10 + 0.5); print k < 1 ? 1 : k }')
    scale=$(awk -v d="$DURATION" 'BEGIN { printf "%.6f", d / 60 }')
    out="$TMP/r$rate"
    t0=$(date +%s.%N)
    # in the background: a signal's trap runs at once, not when the run ends
    "$HB" run "$TMP/bench.ini" --backend openwhisk --out "$out" --quiet \
        --set trace.per_minute="$per_minute" --set experiment.time_scale="$scale" \
        > "$TMP/run$rate.log" 2>&1 &
    RUN_PID=$!
    wait "$RUN_PID"
    rc=$?
    RUN_PID=""
    t1=$(date +%s.%N)
    f="$out/default/seed-1/invocations.csv"
    if [ $rc -ne 0 ] || [ ! -f "$f" ]; then
        printf '%8s  run failed (exit %d): %s\n' "$rate" $rc "$(tail -n 1 "$TMP/run$rate.log")"
        continue
    fi
    late=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "dispatch_late_ms") k = i; next } { print $k }' "$f" | sort -g)
    lat=$(awk -F, 'NR > 1 && $14 == "success" { print $12 }' "$f" | sort -g)
    calls=$(tail -n +2 "$f" | wc -l)
    ok=$(awk -F, 'NR > 1 && $14 == "success"' "$f" | wc -l)
    lost=$(awk -F, 'NR > 1 && $14 == "lost"' "$f" | wc -l)
    err=$((calls - ok - lost))
    p50=$(echo "$late" | pct 0.5)
    p99=$(echo "$late" | pct 0.99)
    max=$(echo "$late" | tail -n 1)
    l50=$(echo "$lat" | pct 0.5)
    printf '%8s %7d %7d %5d %5d %10.2f %10.2f %10.2f %12.1f %6.1f\n' "$((calls / DURATION))" "$calls" "$ok" \
        "$lost" "$err" "$p50" "$p99" "$max" "$l50" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    if [ "$ok" -eq "$calls" ] && awk -v x="$p99" -v l="$LIMIT_MS" 'BEGIN { exit !(x < l) }'; then
        best=$((calls / DURATION))
    fi
done
echo "highest rate sustained (every call succeeded, p99 lateness < $LIMIT_MS ms): $best calls/s"
