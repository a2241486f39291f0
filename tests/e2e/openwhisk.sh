#!/bin/sh
# End-to-end: `harvestbench serve` on a free port, `deploy` and `run --backend openwhisk` against it,
# `compare` on the result (the acceptance of issue 8); the key never in any output or result; wrong
# keys refused; fault injection (429, 500, dropped connections, delays, late records, shuffled
# annotations) loses nothing; records that never appear end as `lost`, as many as serve lost.
. tests/e2e/lib.sh

SERVE_PID=""
# every exit path stops the server: a normal end, a failure, INT/TERM/HUP (a timeout)
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
# the process checks below count with pgrep: without it they would pass by not finding anything
check "pgrep is installed (procps; scripts/deps.sh installs it)" sh -c 'command -v pgrep'

# start_serve NAME [FLAGS...]: serve on a free port; sets PORT, KEY, PROPS
start_serve() {
    name=$1; shift
    PROPS="$TMP/$name.props"
    "$HB" serve --port 0 --props "$PROPS" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
    SERVE_PID=$!
    i=0
    while [ $i -lt 200 ] && ! grep -q '^listening on' "$TMP/$name.out" 2>/dev/null; do
        sleep 0.05; i=$((i + 1))
    done
    PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/$name.out")
    KEY=$(sed -n 's/^AUTH=//p' "$PROPS" 2>/dev/null)
}
stop_serve() { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=""; }
stat_of() {  # stat_of NAME: a counter of /harvestbench/stats
    curl -s -u "$KEY" "http://127.0.0.1:$PORT/harvestbench/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}
col() {  # col FILE NAME: the values of one column of a CSV with a header
    awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1"
}

# The ten static binaries of the plain build (the sanitizer build's are too slow for the actions'
# time limits on a small machine: the harness is what runs under ASan here); without them,
# stand-in scripts.
WL="build/workloads"
if [ ! -x "$WL/ms" ]; then
    echo "note: $WL has no workloads; deploying stand-in scripts"
    WL="$TMP/standin"
    mkdir -p "$WL"
    for f in dh eg ip vp ir knn alu ms gd dv; do
        printf '#!/bin/sh\necho "{\\"function\\":\\"%s\\",\\"params\\":$1}"\n' "$f" > "$WL/$f"
        chmod +x "$WL/$f"
    done
fi

# ---- usage errors ----
"$HB" serve --help > /dev/null; check "serve --help" test $? -eq 0
"$HB" deploy --help > /dev/null; check "deploy --help" test $? -eq 0
"$HB" serve --faults 'drop=2' > /dev/null 2>&1; check "serve rejects a bad fault spec" test $? -eq 2
"$HB" serve --port 70000 > /dev/null 2>&1; check "serve rejects a bad port" test $? -eq 2
"$HB" deploy --flavor nope > /dev/null 2>&1; check "deploy rejects a bad flavor" test $? -eq 2

# ---- a key given by flag (issue 17 #6): --auth / -u take the key itself, as wsk's; no message
# ever shows a key-bearing flag's value, malformed or not ----
SECRET="hbsecret$$"
for args in "serve --auth $SECRET" "serve -u $SECRET" "serve --aut=$SECRET" "serve --auth=$SECRET:" \
            "deploy --auth $SECRET --apihost http://127.0.0.1:9" "deploy -u $SECRET --apihost http://127.0.0.1:9" \
            "deploy --aut=$SECRET" "serve --auth x:y --auth-file $SECRET"; do
    # shellcheck disable=SC2086
    timeout 20 "$HB" $args --port 0 > "$TMP/flag.log" 2>&1
    rc=$?
    check "$(echo "$args" | sed "s/$SECRET/VALUE/g") refused (exit $rc)" test $rc -eq 2 -o $rc -eq 1
    check "$(echo "$args" | sed "s/$SECRET/VALUE/g") does not print the value" sh -c "! grep -qF -- '$SECRET' '$TMP/flag.log'"
done
FK="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:$SECRET"
start_serve flagkey --auth "$FK"
check "serve --auth KEY serves that key" test "$(curl -s -o /dev/null -w '%{http_code}' -u "$FK" "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions")" = 200
check "serve --auth KEY: other keys refused" test "$(curl -s -o /dev/null -w '%{http_code}' -u "x:y" "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions")" = 401
WSK_CONFIG_FILE=/nonexistent "$HB" deploy configs/openwhisk-local.ini --apihost "http://127.0.0.1:$PORT" -u "$FK" --workloads "$WL" --dry-run > "$TMP/flagdeploy.log" 2>&1
check "deploy -u KEY is the key (not a file name)" test $? -eq 0
check "serve and deploy do not print a key given by flag" sh -c "! grep -qF -- '$SECRET' '$TMP/flagkey.out' '$TMP/flagkey.err' '$TMP/flagdeploy.log'"
stop_serve

# ---- SIGTERM with calls in flight and idle connections (issue 17 #3) ----
start_serve term --invocations-per-minute 0 --concurrent-invocations 0
TPID=$SERVE_PID
code='#!/bin/sh\nsleep 31341 &\nsleep 31341\necho {}\n'
curl -s -o /dev/null -u "$KEY" -X PUT -H 'Content-Type: application/json' \
    -d "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"openwhisk/dockerskeleton\",\"code\":\"$code\"},\"limits\":{\"timeout\":120000}}" \
    "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions/sleeper"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    curl -s -o /dev/null -u "$KEY" -X POST "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions/sleeper"
done
curl -s -o "$TMP/blocked.json" -m 60 -u "$KEY" -X POST "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions/sleeper?blocking=true" &
CURL_PID=$!
${CC:-cc} -O2 -o "$TMP/idle_conns" tests/soak/idle_conns.c
"$TMP/idle_conns" "$PORT" 200 60 > /dev/null 2>&1 &
IDLE_PID=$!
i=0
while [ $i -lt 100 ] && [ "$(pgrep -fc '[s]leep 31341')" -lt 12 ]; do sleep 0.1; i=$((i + 1)); done
check "the actions run before SIGTERM" test "$(pgrep -fc '[s]leep 31341')" -ge 12
t0=$(date +%s%N)
kill -TERM "$TPID"
i=0
while [ $i -lt 300 ] && kill -0 "$TPID" 2> /dev/null; do sleep 0.1; i=$((i + 1)); done
t1=$(date +%s%N)
check "serve ends within 30 s of SIGTERM with calls in flight" sh -c "! kill -0 $TPID 2> /dev/null"
wait "$TPID"
check "serve exits 0 after SIGTERM" test $? -eq 0
SERVE_PID=""
echo "note: serve took $(( (t1 - t0) / 1000000 )) ms to stop after SIGTERM"
check "no action process survives serve" test "$(pgrep -fc '[s]leep 31341')" -eq 0
check "no group of serve survives it" test -z "$(find /sys/fs/cgroup -maxdepth 6 -name "harvestbench-$TPID-*" 2> /dev/null)"
wait "$CURL_PID"
check "a blocking client got an answer" grep -q activationId "$TMP/blocked.json"
kill "$IDLE_PID" 2> /dev/null; wait "$IDLE_PID" 2> /dev/null

# a script that starts a server and is killed by a timeout stops it (scripts/ow-lateness.sh)
HB="$HB" timeout -s TERM 8 sh scripts/ow-lateness.sh 25 120 > "$TMP/late.log" 2>&1
check "ow-lateness.sh was stopped by the timeout" test $? -eq 124
sleep 0.5
check "ow-lateness.sh stopped its serve" sh -c "! pgrep -f '[h]b-lateness' > /dev/null"

# ---- serve, deploy, run, compare ----
start_serve plain
check "serve prints its port" test -n "$PORT"
check "serve writes the key to a 0600 properties file" sh -c "test -n '$KEY' && test \"\$(stat -c %a '$PROPS')\" = 600"
check "serve does not print the key" sh -c "! grep -qF -- '$KEY' '$TMP/plain.out' '$TMP/plain.err'"
export WSK_CONFIG_FILE="$PROPS"

WSK_AUTH="$KEY" "$HB" deploy configs/openwhisk-local.ini --workloads "$WL" --dry-run > "$TMP/dry.log" 2>&1
check "deploy --dry-run exits 0" test $? -eq 0
check "deploy --dry-run shows the requests" grep -q "^PUT http://127.0.0.1:$PORT/api/v1/namespaces/guest/actions/hb-ms-m512?overwrite=true" "$TMP/dry.log"
check "deploy --dry-run hides the key" sh -c "! grep -qF -- '${KEY#*:}' '$TMP/dry.log' && grep -q 'not shown' '$TMP/dry.log'"
check "deploy --dry-run sends nothing" test "$(stat_of invocations)" = 0 -a "$(curl -s -u "$KEY" "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions" | tr -d '[:space:]')" = "[]"

"$HB" deploy configs/openwhisk-local.ini --workloads "$WL" > "$TMP/deploy.log" 2>&1
check "deploy exits 0" test $? -eq 0
n_actions=$(sed -n 's/^\([0-9]*\) actions deployed$/\1/p' "$TMP/deploy.log")
check "deploy puts every variant" test "$n_actions" -gt 10
listed=$(curl -s -u "$KEY" "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions?limit=0" | grep -o '"name":"hb-' | wc -l)
check "the actions are listed by serve" test "$listed" -eq "$n_actions"
"$HB" deploy configs/openwhisk-local.ini --workloads "$WL" --quiet > /dev/null 2>&1
check "deploying again is fine (overwrite)" test $? -eq 0
check "deploy logs no key" sh -c "! grep -qF -- '${KEY#*:}' '$TMP/deploy.log'"

OUT="$TMP/ow"
"$HB" run configs/openwhisk-local.ini --backend openwhisk --out "$OUT" > "$TMP/run.log" 2>&1
check "run --backend openwhisk exits 0" test $? -eq 0
check "manifest complete" grep -q '"status":[[:space:]]*"complete"' "$OUT/manifest.json"
check "manifest: backend and its capability" sh -c "grep -q '\"backend\":[[:space:]]*\"openwhisk\"' '$OUT/manifest.json' && tr -d ' \t\n' < '$OUT/manifest.json' | grep -q '\"capabilities\":\[\"sizing\"\]'"
check "manifest: libra's placement and invoker hooks dropped" sh -c "tr -d ' \t\n' < '$OUT/manifest.json' | grep -q '\"libra\":\[\"placement\",\"invoker\"\]'"
check "the console says which hooks are not applied" grep -q "backend openwhisk cannot honour the placement invoker-side *hooks of policy libra" "$TMP/run.log"
for p in default libra; do
    f="$OUT/$p/seed-1/invocations.csv"
    check "$p: 60 calls, each once" test "$(tail -n +2 "$f" | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 60
    check "$p: every call succeeded" test "$(col "$f" outcome | grep -c '^success$')" -eq 60
    badlat=$(awk -F, 'NR > 1 && $14 != "lost" {
                for (i = 9; i <= 12; i++) { split($i, a, "."); us[i] = a[1] * 1000 + a[2] }
                if (us[9] + us[10] + us[11] != us[12]) print NR }' "$f" | wc -l)
    check "$p: latency = wait + init + duration" test "$badlat" -eq 0
    check "$p: activation ids are serve's" test "$(col "$f" activation_id | grep -c '^[0-9a-f]\{32\}$')" -eq 60
    cold=$(col "$f" cold_start | grep -c '^1$')
    check "$p: cold starts recorded ($cold)" test "$cold" -ge 1
    [ "$p" = default ] && check "$p: warm starts too" test "$cold" -lt 60
    late=$(col "$f" dispatch_late_ms | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    check "$p: dispatch lateness recorded (median $late ms)" awk -v x="$late" 'BEGIN { exit !(x >= 0 && x < 250) }'
    check "$p: usage rows" test "$(wc -l < "$OUT/$p/seed-1/usage.csv")" -gt 5
done
"$HB" compare "$OUT" --no-plots > "$TMP/compare.log" 2>&1
check "compare works on the result" test $? -eq 0
check "comparison.json has both policies" grep -q '"libra"' "$OUT/comparison.json"
leak=$(grep -rlF -- "${KEY#*:}" "$OUT" "$TMP/run.log" "$TMP/compare.log" 2>/dev/null | wc -l)
check "the key is in no result and no output" test "$leak" -eq 0

# an interrupted real-time replay stops at once (not at the next trace event) and is incomplete;
# background jobs of a script ignore SIGINT, so SIGTERM (handled the same way) stands in for ^C
"$HB" run configs/openwhisk-local.ini --backend openwhisk --out "$TMP/intr" --policy default --quiet \
    --set experiment.time_scale=1 > "$TMP/intr.log" 2>&1 &
run_pid=$!
sleep 2
t0=$(date +%s)
kill -TERM "$run_pid"
wait "$run_pid"
rc=$?
t1=$(date +%s)
check "an interrupted replay exits 1" test $rc -eq 1
check "... within seconds ($((t1 - t0)) s)" test $((t1 - t0)) -le 5
check "... marked incomplete" grep -q '"status":[[:space:]]*"incomplete"' "$TMP/intr/manifest.json"
check "... saying how to resume" grep -q -- "--resume" "$TMP/intr.log"

WSK_AUTH="${KEY%%:*}:not-the-key" "$HB" run configs/openwhisk-local.ini --backend openwhisk --out "$TMP/denied" --quiet > "$TMP/denied.log" 2>&1
check "a wrong key stops the run (exit 2)" test $? -eq 2
check "... saying the key was refused, and where it came from" grep -q "refused the key from WSK_AUTH" "$TMP/denied.log"
check "... and nothing is marked complete" sh -c "! grep -qs '\"complete\"' '$TMP/denied/manifest.json'"
stop_serve

# ---- faults that can be recovered: nothing is lost ----
FAST="--set experiment.time_scale=0.05 --set trace.minutes=1 --policy default --quiet"
start_serve faulty --faults '429=0.15,500=0.1,drop=0.1,delay=30,record-delay=200,shuffle,seed=9'
export WSK_CONFIG_FILE="$PROPS"
"$HB" deploy configs/openwhisk-local.ini --workloads "$WL" --quiet > "$TMP/deploy2.log" 2>&1
check "deploy through faults exits 0" test $? -eq 0
# shellcheck disable=SC2086
"$HB" run configs/openwhisk-local.ini --backend openwhisk --out "$TMP/faulty" $FAST > "$TMP/faulty.log" 2>&1
check "run through faults exits 0" test $? -eq 0
f="$TMP/faulty/default/seed-1/invocations.csv"
check "faults: 30 calls, each once" test "$(tail -n +2 "$f" | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 30
check "faults: nothing lost, every call succeeded" test "$(col "$f" outcome | grep -c '^success$')" -eq 30
check "faults were injected" sh -c "test $(stat_of injected_429) -gt 0 -a $(stat_of injected_500) -gt 0 -a $(stat_of injected_drop) -gt 0"
check "faults: retries reported" grep -q "requests retried" "$TMP/faulty.log"
stop_serve

# ---- records that never appear: lost, exactly those ----
start_serve losing --faults 'lose=0.3,seed=4'
export WSK_CONFIG_FILE="$PROPS"
"$HB" deploy configs/openwhisk-local.ini --workloads "$WL" --quiet --set workload.timeout_s=10 > /dev/null 2>&1
# shellcheck disable=SC2086
"$HB" run configs/openwhisk-local.ini --backend openwhisk --out "$TMP/losing" $FAST \
    --set workload.timeout_s=10 --set backend.openwhisk.record_grace_s=2 > "$TMP/losing.log" 2>&1
check "run with lost records exits 0" test $? -eq 0
f="$TMP/losing/default/seed-1/invocations.csv"
lost=$(col "$f" outcome | grep -c '^lost$')
check "lost: 30 calls, each once" test "$(tail -n +2 "$f" | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 30
check "lost: as many as serve lost ($lost)" test "$lost" -gt 0 -a "$lost" -eq "$(stat_of lost_records)"
check "lost: the others succeeded" test "$(col "$f" outcome | grep -c '^success$')" -eq $((30 - lost))
check "lost: the reason is recorded" grep -q ',lost,.*no activation record after' "$f"
stop_serve

finish
