#!/bin/sh
# Generates a synthetic dataset in the raw Azure Functions 2019 schemas (docs/traces.md), for tests
# and for measuring `harvestbench trace sample` at scale. Not real data: per function a rate drawn
# log-uniformly in [1e-3, 300] calls/minute (per-minute count: floor(rate) plus one with probability
# frac(rate)), a log-uniform average duration in [1 ms, 30 s] with percentiles around it, and per app
# (one to four functions each, one owner per app) a log-uniform average memory in [30, 500] MB.
# Deterministic for a given seed and awk.
#
# usage: scripts/gen-azure2019.sh [-f FUNCTIONS] [-m MINUTES] [-d DAY] [-s SEED] [-z] [-b BREAK] DIR
#   -f 50000 -m 1440 is the scale of one day of the real dataset (roughly 800 MB of text).
#   -z gzips the three files (name.csv.gz).
#   -b BREAK writes a malformed dataset: short-row (a truncated invocation row), bad-count (a
#      non-numeric count), bad-header (minute columns out of order), bad-duration (a non-numeric
#      Average), dup (a repeated HashFunction: valid, the sampler drops it), no-memory (no memory file)
set -eu
F=20 M=60 D=1 SEED=1 GZ=0 BREAK=
while getopts f:m:d:s:zb: o; do
    case $o in
    f) F=$OPTARG ;; m) M=$OPTARG ;; d) D=$OPTARG ;; s) SEED=$OPTARG ;; z) GZ=1 ;; b) BREAK=$OPTARG ;;
    *) echo "usage: $0 [-f FUNCTIONS] [-m MINUTES] [-d DAY] [-s SEED] [-z] [-b BREAK] DIR" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
OUT=${1:?usage: $0 [-f FUNCTIONS] [-m MINUTES] [-d DAY] [-s SEED] [-z] [-b BREAK] DIR}
mkdir -p "$OUT"
DD=$(printf 'd%02d' "$D")
INV="$OUT/invocations_per_function_md.anon.$DD.csv"
DUR="$OUT/function_durations_percentiles.anon.$DD.csv"
MEM="$OUT/app_memory_percentiles.anon.$DD.csv"

awk -v F="$F" -v M="$M" -v seed="$SEED" -v brk="$BREAK" -v inv="$INV" -v dur="$DUR" -v mem="$MEM" '
function hex(n,   s, i) { s = ""; for (i = 0; i < 16; i++) s = s sprintf("%x", int(rand() * 16)); return n s }
function logu(lo, hi) { return exp(log(lo) + rand() * (log(hi) - log(lo))) }
BEGIN {
    srand(seed)
    triggers[0] = "http"; triggers[1] = "timer"; triggers[2] = "queue"; triggers[3] = "event"
    triggers[4] = "storage"; triggers[5] = "orchestration"; triggers[6] = "others"
    h = "HashOwner,HashApp,HashFunction,Trigger"
    for (m = 1; m <= M; m++) h = h "," ((brk == "bad-header" && m == 2) ? 3 : m)
    print h > inv
    print "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100" > dur
    print "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100" > mem
    left = 0
    for (f = 1; f <= F; f++) {
        if (left == 0) {             # a new app
            owner = hex("o"); app = hex("a"); left = 1 + int(rand() * 4)
            am = logu(30, 500)
            printf "%s,%s,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f\n", owner, app, 100 + int(rand() * 1000), am, am * 0.6, am * 0.7, am * 0.85, am, am * 1.1, am * 1.3, am * 1.4, am * 1.5 > mem
        }
        left--
        fn = hex("f")
        if (brk == "dup" && f == 3) fn = prev
        prev = fn
        rate = logu(0.001, 300)
        ip = int(rate); fr = rate - ip; total = 0
        line = owner "," app "," fn "," triggers[int(rand() * 7)]
        for (m = 1; m <= M; m++) {
            c = ip + (rand() < fr ? 1 : 0)
            total += c
            if (brk == "bad-count" && f == 2 && m == 3) c = "x1"
            if (brk == "short-row" && f == 4 && m == M) break
            line = line "," c
        }
        print line > inv
        a = logu(1, 30000)
        printf "%s,%s,%s,%s,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f\n", owner, app, fn, (brk == "bad-duration" && f == 5) ? "abc" : sprintf("%.2f", a), total, a * 0.2, a * 4, a * 0.2, a * 0.3, a * 0.7, a * 0.95, a * 1.2, a * 3, a * 4 > dur
    }
}'
if [ "$BREAK" = no-memory ]; then rm -f "$MEM"; fi
if [ "$GZ" = 1 ]; then
    for f in "$INV" "$DUR" "$MEM"; do [ -f "$f" ] && gzip -f "$f"; done
fi
exit 0
