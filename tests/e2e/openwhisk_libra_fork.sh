#!/bin/sh
# End-to-end: the Libra fork's Redis side channel (issue 18 B). (Not named lib*: tests/run.sh takes
# those for helpers.) A real redis-server (loopback, a
# random free port, a temporary directory, no persistence, a password and db 3) is started and
# stopped by its PID on every exit path; `harvestbench serve --flavor libra-fork --redis` plays the
# fork's invoker towards it; `run --backend openwhisk` with flavor = libra-fork and `redis` writes
# the libra policy's predictions and reads back the trajectories and pools. Checks: the hashes
# hold what the fork's formats say, every activation has its trajectory, the predictions written
# are the policy's, the records' allocations are what serve applied; an unreachable Redis or a
# wrong password stops a run at start (exit 2); a Redis restarted mid-run loses no call: a short
# outage is retried through, a long one ends the calls it holds up as `error` with the reason.
. tests/e2e/lib.sh

REDIS_PID=""
SERVE_PID=""
RUN_PID=""
cleanup() {
    [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if ! command -v redis-server > /dev/null 2>&1 || ! command -v redis-cli > /dev/null 2>&1; then
    bad "redis-server and redis-cli are installed" "missing: run scripts/deps.sh (Debian redis-server)"
    finish
    exit 1
fi

PW="hbredis$$pw"
printf '%s\n' "$PW" > "$TMP/redis.pw"
DB=3
RDIR="$TMP/redis"
mkdir -p "$RDIR"
R() { redis-cli -h 127.0.0.1 -p "$RPORT" -a "$PW" --no-auth-warning -n "$DB" "$@"; }

# start_redis [PORT]: on that port, else on a random free one (retried if taken); sets RPORT
start_redis() {
    want=${1:-}
    tries=0
    while [ $tries -lt 20 ]; do
        tries=$((tries + 1))
        RPORT=${want:-$(awk -v s="$$$tries" 'BEGIN { srand(s + systime()); print 20000 + int(rand() * 40000) }')}
        redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$RDIR" --save '' --appendonly no \
            --daemonize no --requirepass "$PW" > "$TMP/redis-$RPORT.log" 2>&1 &
        REDIS_PID=$!
        i=0
        while [ $i -lt 100 ]; do
            kill -0 "$REDIS_PID" 2>/dev/null || break
            [ "$(R ping 2>/dev/null)" = PONG ] && return 0
            sleep 0.05; i=$((i + 1))
        done
        kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=""
        [ -n "$want" ] && sleep 0.2          # the same port again: give it a moment
    done
    return 1
}
stop_redis() { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=""; }

start_serve() {
    name=$1; shift
    PROPS="$TMP/$name.props"
    "$HB" serve --port 0 --props "$PROPS" --flavor libra-fork "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
    SERVE_PID=$!
    i=0
    while [ $i -lt 200 ] && ! grep -q '^listening on' "$TMP/$name.out" 2>/dev/null; do
        sleep 0.05; i=$((i + 1))
    done
    PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/$name.out")
}
stop_serve() { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=""; }
col() {  # col FILE NAME: the values of one column of a CSV with a header
    awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1"
}

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

check "redis-server starts on a free loopback port" start_redis
RARGS="--redis 127.0.0.1:$RPORT --redis-db $DB --redis-password-file $TMP/redis.pw"
CONF=configs/openwhisk-local.ini
SET="--set backend.openwhisk.flavor=libra-fork --set backend.openwhisk.redis=127.0.0.1:$RPORT
     --set backend.openwhisk.redis_db=$DB --set backend.openwhisk.redis_password_file=$TMP/redis.pw
     --set trace.minutes=1 --policy libra"

# ---- usage and start errors ----
"$HB" serve --port 0 --redis "127.0.0.1:$RPORT" > "$TMP/u1.log" 2>&1
check "serve --redis without --flavor libra-fork: exit 2" test $? -eq 2
check "... saying so" grep -q "needs --flavor libra-fork" "$TMP/u1.log"
"$HB" serve --port 0 --flavor libra-fork --redis 127.0.0.1:1 --props "$TMP/u2.props" > "$TMP/u2.log" 2>&1
check "serve with Redis unreachable: exit 2" test $? -eq 2
check "... a clear error" grep -q "redis 127.0.0.1:1 db 0: cannot connect" "$TMP/u2.log"
printf 'not-the-password\n' > "$TMP/wrong.pw"
"$HB" serve --port 0 --flavor libra-fork --redis "127.0.0.1:$RPORT" --redis-password-file "$TMP/wrong.pw" \
    --props "$TMP/u3.props" > "$TMP/u3.log" 2>&1
check "serve with a wrong Redis password: exit 2" test $? -eq 2
check "... saying AUTH was refused, not showing the password" sh -c "grep -q 'AUTH (password not shown) refused' '$TMP/u3.log' && ! grep -q not-the-password '$TMP/u3.log'"

start_serve fork $RARGS
check "serve --flavor libra-fork --redis listens" test -n "$PORT"
export WSK_CONFIG_FILE="$PROPS"
"$HB" deploy "$CONF" --flavor libra-fork --workloads "$WL" --quiet > "$TMP/deploy.log" 2>&1
check "deploy --flavor libra-fork exits 0" test $? -eq 0

# ---- serve plays the fork's invoker: a lender and a borrower, by hand ----
KEY=$(sed -n 's/^AUTH=//p' "$PROPS")
put() {  # put NAME ENCODED SLEEP_S: a script action with limits.memory ENCODED
    curl -s -o /dev/null -w '%{http_code}' -u "$KEY" -X PUT -H 'Content-Type: application/json' \
        -d "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"openwhisk/dockerskeleton\",\"code\":\"#!/bin/sh\\nsleep $3\\necho {}\\n\"},\"limits\":{\"memory\":$2}}" \
        "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions/$1"
}
invoke() { curl -s -u "$KEY" -X POST "http://127.0.0.1:$PORT/api/v1/namespaces/_/actions/$1" | sed -n 's/.*"activationId":"\([0-9a-f]*\)".*/\1/p'; }
check "a lender action (user 3 cores, 512 MB: encoded 20)" test "$(put lender 20 3)" = 200
check "a borrower action (user 1 core, 256 MB: encoded 2)" test "$(put borrower 2 1)" = 200
R hset predict_peak lender 2 > /dev/null; R hset predict_duration lender 60000 > /dev/null     # 1 core, 256 MB
R hset predict_peak borrower 20 > /dev/null; R hset predict_duration borrower 1000 > /dev/null  # 3 cores, 512 MB
L=$(invoke lender)
i=0; while [ $i -lt 40 ] && ! R hget invoker0 cpu_summary | grep -q "^$L:2;"; do sleep 0.05; i=$((i + 1)); done
pool=$(R hget invoker0 memory_summary)
check "the lender's harvest is published in invoker0 ($pool)" sh -c "echo '$pool' | grep -Eq '^$L:2;[0-9]+;[0-9]+$'"
s0=$(echo "$pool" | cut -d';' -f2); e0=$(echo "$pool" | cut -d';' -f3)
check "... over its predicted window (end - start = 60000 ms)" test $((e0 - s0)) -eq 60000
B=$(invoke borrower)
i=0; while [ $i -lt 15 ] && [ "$(R hget invoker0 cpu_summary)" != None ]; do sleep 0.05; i=$((i + 1)); done
check "the pool is empty while both run (all lent)" test "$(R hget invoker0 cpu_summary)" = None
i=0; while [ $i -lt 100 ] && [ "$(R hexists invocations "$B")" != 1 ]; do sleep 0.05; i=$((i + 1)); done
check "the borrower's trajectory: borrowed 256 MB and 2 cores from the lender" test "$(R hget invocations "$B")" = "0;256 2;0 0;$L:256;$L:2"
i=0; while [ $i -lt 15 ] && ! R hget invoker0 cpu_summary | grep -q "^$L:2;"; do sleep 0.05; i=$((i + 1)); done
back=$(R hget invoker0 cpu_summary)
check "the loan went back to the lender's pool entry, until its predicted end ($back)" \
    sh -c "echo '$back' | grep -Eq '^$L:2;[0-9]+;$e0$'"
i=0; while [ $i -lt 100 ] && [ "$(R hexists invocations "$L")" != 1 ]; do sleep 0.05; i=$((i + 1)); done
lt=$(R hget invocations "$L")
check "the lender's trajectory: harvested 256 MB and 2 cores, lent them to the borrower ($lt)" \
    sh -c "echo '$lt' | grep -Eq '^0;-256 -2;[0-9]+ [0-9]+;$B:-256;$B:-2$'"
check "the activation record keeps the action's encoded limit" sh -c "curl -s -u '$KEY' 'http://127.0.0.1:$PORT/api/v1/namespaces/_/activations/$B' | grep -q '\"memory\":2'"
R hset predict_peak lender 99 > /dev/null
X=$(invoke lender)
i=0; while [ $i -lt 100 ] && [ "$(R hexists invocations "$X")" != 1 ]; do sleep 0.05; i=$((i + 1)); done
check "a malformed prediction is the fork's 'none': the user allocation" test "$(R hget invocations "$X")" = "0;0 0;0 0;;"
R del predict_peak predict_duration invocations > /dev/null

# shellcheck disable=SC2086
"$HB" run "$CONF" --backend openwhisk --out "$TMP/down" $SET --set backend.openwhisk.redis=127.0.0.1:1 \
    --quiet > "$TMP/down.log" 2>&1
check "run with Redis unreachable: exit 2" test $? -eq 2
check "... a clear error naming the setting" grep -q "redis 127.0.0.1:1 db $DB: cannot connect" "$TMP/down.log"
check "... nothing marked complete" sh -c "! grep -qs '\"complete\"' '$TMP/down/manifest.json'"
# shellcheck disable=SC2086
"$HB" run "$CONF" --backend openwhisk --out "$TMP/wrongpw" $SET \
    --set "backend.openwhisk.redis_password_file=$TMP/wrong.pw" --quiet > "$TMP/wrongpw.log" 2>&1
check "run with a wrong Redis password: exit 2" test $? -eq 2
check "... AUTH refused, the password not shown" sh -c "grep -q 'AUTH (password not shown) refused' '$TMP/wrongpw.log' && ! grep -q not-the-password '$TMP/wrongpw.log'"
# shellcheck disable=SC2086
"$HB" run "$CONF" --backend openwhisk --out "$TMP/stockr" $SET --set backend.openwhisk.flavor=stock \
    --quiet > "$TMP/stockr.log" 2>&1
check "redis with flavor stock: exit 2" test $? -eq 2

# ---- the round trip ----
# shellcheck disable=SC2086
"$HB" run "$CONF" --backend openwhisk --out "$TMP/rt" $SET --set backend.openwhisk.redis_sample_ms=20 \
    > "$TMP/rt.log" 2>&1
check "run --backend openwhisk with the fork's Redis channel exits 0" test $? -eq 0
f="$TMP/rt/libra/seed-1/invocations.csv"
n=$(tail -n +2 "$f" | wc -l)
check "30 calls, each once" test "$(tail -n +2 "$f" | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 30 -a "$n" -eq 30
check "every call succeeded" test "$(col "$f" outcome | grep -c '^success$')" -eq 30
missing=0
for id in $(col "$f" activation_id); do
    [ "$(R hexists invocations "$id")" = 1 ] || missing=$((missing + 1))
done
check "every activation has a trajectory in invocations ($missing missing)" test "$missing" -eq 0
check "... and only those" test "$(R hlen invocations)" -eq 30
badfmt=0
for id in $(col "$f" activation_id); do
    R hget invocations "$id" | grep -Eq '^[01];-?[0-9]+ -?[0-9]+;[0-9]+ [0-9]+;([0-9a-f]+:-?[0-9]+( [0-9a-f]+:-?[0-9]+)*)?;([0-9a-f]+:-?[0-9]+( [0-9a-f]+:-?[0-9]+)*)?$' \
        || badfmt=$((badfmt + 1))
done
check "trajectories in the fork's format ($badfmt not)" test "$badfmt" -eq 0
# every loan is in both trajectories: "L:+x" in the borrower's, "B:-x" in the lender's
R hgetall invocations > "$TMP/traj.txt"
loans=$(awk 'NR % 2 == 1 { id = $0; next }
    { split($0, f, ";"); for (d = 4; d <= 5; d++) { n = split(f[d], it, " ");
        for (i = 1; i <= n; i++) { split(it[i], kv, ":"); if (kv[2] > 0) { b[d "," id "," kv[1]] += kv[2]; nb++ }
                                   else l[d "," kv[1] "," id] -= kv[2] } } }
    END { bad = 0; for (k in b) if (b[k] != l[k]) bad++; for (k in l) if (b[k] != l[k]) bad++; print nb + 0, bad }' "$TMP/traj.txt")
echo "note: loans in the round trip: ${loans% *}"
check "every loan is in the lender's and the borrower's trajectory (${loans#* } not)" test "${loans#* }" -eq 0
# the records' allocation is what serve applied: the user configuration + the trajectory's deltas
mism=$(tail -n +2 "$f" | while IFS=, read -r idx id fn rest; do
    row=$(awk -F, -v id="$id" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
            $2 == id { print $h["user_cpu"], $h["user_mem_mb"], $h["alloc_cpu"], $h["alloc_mem_mb"] }' "$f")
    set -- $row
    d=$(R hget invocations "$id" | cut -d';' -f2)
    echo "$1 $2 $3 $4 $d" | awk '{ uc = $1 == int($1) ? $1 : int($1) + 1; um = int(($2 + 127) / 128) * 128;
        if ($3 != uc + $6 || $4 != um + $5) print "mismatch" }'
done | wc -l)
check "records' allocations = user + the trajectory's deltas ($mism mismatches)" test "$mism" -eq 0
# (this configuration's CPU predictions are never below the user's: memory is what is harvested)
harvested=$(col "$f" harvested_mem_mb_s | awk '{ s += $1 } END { print s + 0 }')
check "libra harvested memory (from the fork's deltas: $harvested MB-s)" awk -v x="$harvested" 'BEGIN { exit !(x > 0) }'
# the predictions written are the policy's: the last call of each function left its own
pbad=0
for fn in $(col "$f" function | sort -u); do
    last=$(awk -F, -v fn="$fn" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
            $h["function"] == fn { l = $h["pred_cpu"] " " $h["pred_mem_mb"] " " $h["pred_duration_ms"] " " $h["user_cpu"] " " $h["user_mem_mb"] }
            END { print l }' "$f")
    set -- $last
    enc=$(echo "$1 $2" | awk '{ c = ($1 == int($1)) ? $1 : int($1) + 1; m = int(($2 + 127) / 128);
        if (c < 1) c = 1; if (c > 8) c = 8; if (m < 1) m = 1; if (m > 8) m = 8; print (c - 1) * 8 + m }')
    uc=$(echo "$4" | awk '{ print ($1 == int($1)) ? $1 : int($1) + 1 }')
    um=$(echo "$5" | awk '{ print int(($1 + 127) / 128) * 128 }')
    action="hb-$fn-c$uc-m$um"
    got=$(R hget predict_peak "$action")
    gotd=$(R hget predict_duration "$action")
    wantd=$(echo "$3" | awk '{ print int($1) }')
    if [ "$got" != "$enc" ] || [ "$gotd" != "$wantd" ]; then
        pbad=$((pbad + 1)); echo "note: $action: predict_peak $got (policy $enc), predict_duration $gotd (policy $wantd)"
    fi
done
check "predict_peak and predict_duration hold the policy's last prediction of each function ($pbad differ)" test "$pbad" -eq 0
check "the pools are published (invoker0)" test -n "$(R hget invoker0 memory_summary)"
p0=$(R hget invoker0 cpu_summary)
check "invoker0 cpu_summary in the fork's format ('$p0')" sh -c "echo '$p0' | grep -Eq '^(None|[0-9a-f]+:[0-9]+;[0-9]+;[0-9]+(,[0-9a-f]+:[0-9]+;[0-9]+;[0-9]+)*)$'"
u="$TMP/rt/libra/seed-1/usage.csv"
hmax=$(col "$u" mem_harvested_mb | sort -g | tail -n 1)
check "pool samples reach the usage timeline (max mem_harvested_mb $hmax)" awk -v x="$hmax" 'BEGIN { exit !(x > 0) }'
check "the closing line counts the trajectories" grep -q "30 trajectories read, 0 calls without one" "$TMP/rt.log"
leak=$(grep -rlF -- "$PW" "$TMP/rt" "$TMP/rt.log" "$TMP/fork.out" "$TMP/fork.err" 2>/dev/null | wc -l)
check "the Redis password is in no result and no output" test "$leak" -eq 0
"$HB" compare "$TMP/rt" --no-plots > "$TMP/compare.log" 2>&1
check "compare works on the result" test $? -eq 0

# ---- Redis restarted mid-run: nothing without an outcome ----
# a short outage (0.5 s) inside redis_timeout_ms (1.5 s): retried through; then a long one (4 s)
# beyond it: the calls it holds up end as `error` saying why; later ones succeed again
# shellcheck disable=SC2086
"$HB" run "$CONF" --backend openwhisk --out "$TMP/restart" $SET --set backend.openwhisk.redis_timeout_ms=1500 \
    --set trace.minutes=3 > "$TMP/restart.log" 2>&1 &
RUN_PID=$!
sleep 2.5
stop_redis
sleep 0.5
check "redis-server restarts on the same port (short outage)" start_redis "$RPORT"
sleep 4.5
stop_redis
sleep 4
check "redis-server restarts on the same port (long outage)" start_redis "$RPORT"
wait "$RUN_PID"
rc=$?
RUN_PID=""
check "a run through Redis restarts exits 0 (exit $rc)" test $rc -eq 0
f="$TMP/restart/libra/seed-1/invocations.csv"
n=$(tail -n +2 "$f" | cut -d, -f1 | sort -n | uniq | wc -l)
check "restarts: 90 calls, each once ($n)" test "$n" -eq 90 -a "$(tail -n +2 "$f" | wc -l)" -eq 90
ok_n=$(col "$f" outcome | grep -c '^success$')
err_n=$(grep -c ',error,.*prediction not written to Redis' "$f")
echo "note: through the restarts: $ok_n succeeded, $err_n ended as error (the long outage)"
# every call has an outcome (on a loaded machine a call may also time out, or its record come too
# late and the call end as lost: outcomes too)
check "restarts: every call has an outcome" test "$(col "$f" outcome | grep -cE '^(success|timeout|oom|error|lost)$')" -eq 90
check "restarts: an error always says why" test "$(awk -F, 'NR > 1 && $14 == "error" && $NF == ""' "$f" | wc -l)" -eq 0
check "restarts: the long outage failed some calls, as error saying the prediction was not written" test "$err_n" -gt 0
# the run's clock starts after the shell's: the failed calls are compared with each other, not with
# the shell's times. A failure in the short outage would lie 4.5 s or more before the long one's.
span=$(awk -F, 'NR > 1 && /prediction not written/ { if (lo == "" || $6 < lo) lo = $6; if ($6 > hi) hi = $6 }
               END { print hi - lo }' "$f")
check "restarts: the short outage was retried through (the failed calls span $span s: one outage)" \
    awk -v x="$span" 'BEGIN { exit !(x <= 4) }'
# (their outcome is the workload's: on a loaded machine one may time out)
check "restarts: the last calls went through once Redis was back" \
    test "$(tail -n +2 "$f" | sort -t, -k6,6g | tail -n 5 | grep -c 'prediction not written')" -eq 0
check "restarts: the run counted the failed writes" grep -q "failed attempts" "$TMP/restart.log"
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID"
rc=$?
SERVE_PID=""
check "serve exits 0 after SIGTERM (exit $rc; a sanitizer's report would change it)" test $rc -eq 0
check "... and reports nothing from a sanitizer" sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/fork.err'"
check "serve's closing line counts the Redis side" grep -q "redis 127.0.0.1:$RPORT db $DB: .* calls" "$TMP/fork.err"
stop_redis

finish
