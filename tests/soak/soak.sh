#!/bin/sh
# soak.sh - a bounded soak test of `harvestbench serve` on loopback (issue 17; `make soak`).
#
# Starts serve on a free port of 127.0.0.1 with faults injected (429, 500, dropped connections,
# delays, lost records), deploys five actions (quick, slow, failing, forking children, timing out)
# and drives it with a mixed load for SOAK_SECONDS (default 600): blocking and non-blocking
# invocations, record reads, listings, wrong keys, names OpenWhisk rejects (a%00b), clients that
# give up mid-request, and SOAK_IDLE (default 500) idle or slow connections held open throughout.
# A warm-up comes first (it also fills the store of activation records, bounded to 500 here, so
# that what the store holds by design is not counted as growth). Before and after the measured phase (each time once the containers' keep-
# alive has passed and idle connections have timed out), it reads serve's resident memory, open
# descriptors, threads, cgroups and child processes; it passes when descriptors, groups, children
# and threads are back where they were and resident memory grew by less than 10% + 8 MB.
# Prints both readings and the answers by status. Needs cc and curl; root for the local runner.
#
# usage: tests/soak/soak.sh        (SOAK_SECONDS=N SOAK_IDLE=N SOAK_CLIENTS=N HB=... to change)
set -u
HB=${HB:-build/harvestbench}
SECS=${SOAK_SECONDS:-600}
IDLE=${SOAK_IDLE:-500}
CLIENTS=${SOAK_CLIENTS:-6}
KEEP=15                                  # the containers' keep-alive, s
TMP=$(mktemp -d /tmp/hb-soak.XXXXXX)
SERVE_PID=""
LOAD_PIDS=""
cleanup() {
    for p in $LOAD_PIDS; do kill "$p" 2> /dev/null; done
    if [ -n "$SERVE_PID" ]; then
        kill "$SERVE_PID" 2> /dev/null
        wait "$SERVE_PID" 2> /dev/null
        # a sanitizer build of serve (HB=build/asan/harvestbench) reports leaks and errors at exit
        grep -A40 -E 'ERROR: (Leak|Address)Sanitizer|runtime error' "$TMP/serve.err" 2> /dev/null | head -n 80
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

${CC:-cc} -O2 -o "$TMP/idle_conns" tests/soak/idle_conns.c || exit 1
"$HB" serve --port 0 --props "$TMP/props" --invocations-per-minute 0 --concurrent-invocations 50 \
    --keep-alive-s $KEEP --max-activations 500 --faults "429=0.03,500=0.03,drop=0.03,delay=30,lose=0.03,seed=17" \
    --quiet > "$TMP/serve.out" 2> "$TMP/serve.err" &
SERVE_PID=$!
i=0
while [ $i -lt 200 ] && ! grep -q '^listening on' "$TMP/serve.out" 2> /dev/null; do sleep 0.05; i=$((i + 1)); done
PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/serve.out")
KEY=$(sed -n 's/^AUTH=//p' "$TMP/props")
[ -n "$PORT" ] && [ -n "$KEY" ] || { echo "soak: serve did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }
URL="http://127.0.0.1:$PORT/api/v1/namespaces/_"

# put NAME CODE TIMEOUT_MS: a script action (retried: faults are injected on every request)
put() {
    for k in 1 2 3 4 5 6 7 8 9 10; do
        st=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -u "$KEY" -X PUT -H 'Content-Type: application/json' \
            -d "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"openwhisk/dockerskeleton\",\"code\":\"$2\"},\"limits\":{\"timeout\":$3}}" \
            "$URL/actions/$1?overwrite=true")
        [ "$st" = 200 ] && return 0
    done
    echo "soak: cannot deploy $1" >&2
    exit 1
}
put quick '#!/bin/sh\necho {}\n' 10000
put slow '#!/bin/sh\nsleep 0.3\necho {}\n' 10000
put failing '#!/bin/sh\necho not json\nexit 3\n' 10000
put forks '#!/bin/sh\nsleep 30 &\nsleep 30 &\necho {}\n' 10000
put timeout '#!/bin/sh\nsleep 5\necho {}\n' 500

# one client: a mixed load until the file $TMP/stop exists; tallies HTTP codes in $TMP/codes.N
client() {
    n=0
    while [ ! -e "$TMP/stop" ]; do
        n=$((n + 1))
        case $((n % 10)) in
            0) a=slow ;; 1|2|3) a=quick ;; 4) a=failing ;; 5) a=forks ;; 6) a=timeout ;; *) a=quick ;;
        esac
        case $((n % 7)) in
            0) req="-d {} $URL/actions/$a?blocking=true" ;;
            1) req="-d {} $URL/actions/$a" ;;
            2) req="$URL/activations?limit=5&docs=true" ;;
            3) req="$URL/actions" ;;
            4) req="-X PUT -d {} $URL/actions/a%00b" ;;
            5) req="-m 0.05 -d {} $URL/actions/quick?blocking=true" ;;   # a client giving up
            *) req="-d {} $URL/actions/$a?blocking=true&result=true" ;;
        esac
        auth=$KEY
        [ $((n % 13)) = 0 ] && auth="wrong:key"
        # shellcheck disable=SC2086
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -u "$auth" -H 'Content-Type: application/json' $req)
        echo "$code" >> "$TMP/codes.$1"
    done
}

# reading LABEL: serve's resident memory (kB), descriptors, threads, groups, children
reading() {
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVE_PID/status")
    fds=$(ls "/proc/$SERVE_PID/fd" | wc -l)
    thr=$(ls "/proc/$SERVE_PID/task" | wc -l)
    grp=$(find /sys/fs/cgroup -name "harvestbench-$SERVE_PID-*" -type d 2> /dev/null | wc -l)
    kids=$(ps -o pid= --ppid "$SERVE_PID" | wc -l)
    printf '%-6s rss %7s kB  fds %5s  threads %3s  groups %4s  children %3s\n' "$1" "$rss" "$fds" "$thr" "$grp" "$kids"
    eval "${1}_rss=$rss ${1}_fds=$fds ${1}_thr=$thr ${1}_grp=$grp ${1}_kids=$kids"
}

# phase SECONDS: load and idle connections for that long, then quiet until containers expire
phase() {
    rm -f "$TMP/stop"
    LOAD_PIDS=""
    "$TMP/idle_conns" "$PORT" "$IDLE" "$1" > "$TMP/idle.out" 2>&1 &
    LOAD_PIDS="$!"
    c=1
    while [ $c -le "$CLIENTS" ]; do client $c & LOAD_PIDS="$LOAD_PIDS $!"; c=$((c + 1)); done
    sleep "$1"
    touch "$TMP/stop"
    for p in $LOAD_PIDS; do wait "$p"; done
    LOAD_PIDS=""
    sleep $((KEEP + 20))                 # keep-alive, then a 15 s idle timeout and a margin
}

WARM=$((SECS / 10 < 30 ? 30 : SECS / 10))
echo "soak: serve on 127.0.0.1:$PORT; warm-up ${WARM}s, then ${SECS}s with $CLIENTS clients and $IDLE idle connections"
phase "$WARM"
rm -f "$TMP"/codes.*
reading start
t0=$(date +%s)
phase "$SECS"
reading end
n=$(cat "$TMP"/codes.* | wc -l)
echo "soak: $n requests in $(( $(date +%s) - t0 ))s (incl. $((KEEP + 20))s quiet); answers by HTTP status:"
cat "$TMP"/codes.* | sort | uniq -c | sort -rn | awk '{ printf "  %s x %s\n", $2, $1 }'
echo "soak: idle connections: $(tr '\n' ' ' < "$TMP/idle.out")"
curl -s -u "$KEY" "http://127.0.0.1:$PORT/harvestbench/stats"; echo

fail=0
for v in fds grp kids thr; do
    eval "a=\$start_$v b=\$end_$v"
    [ "$a" = "$b" ] || { echo "soak: FAIL: $v $a at the start, $b at the end"; fail=1; }
done
limit=$((start_rss + start_rss / 10 + 8192))
[ "$end_rss" -le "$limit" ] || { echo "soak: FAIL: resident memory $start_rss kB -> $end_rss kB (limit $limit)"; fail=1; }
ok=$(cat "$TMP"/codes.* | grep -c '^2')
[ "$ok" -gt 0 ] || { echo "soak: FAIL: no request succeeded"; fail=1; }
[ $fail = 0 ] && echo "soak: passed" || echo "soak: failed"
exit $fail
