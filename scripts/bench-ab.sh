#!/bin/sh
# A/B speed of two harvestbench builds (docs/simulator.md, "Speed"): for each policy, 5 runs of
# `bench --json` of each binary, interleaved, under /usr/bin/time; prints one row per run:
#   POLICY before|after CALLS user_s sys_s elapsed_s max_rss_kb invocations engine_seconds
# usage: [BENCH_SET="S.K=V ..."] scripts/bench-ab.sh BEFORE_BIN AFTER_BIN [N] > raw.txt
# (freyr runs N/10 calls; a binary whose bench cannot run a policy prints no numbers for it;
# BENCH_SET: overrides for both, each a --set, e.g. BENCH_SET=workload.usage=flat)
set -u
B0=$1 B1=$2 N=${3:-1000000}
SETS=""
for s in ${BENCH_SET:-}; do SETS="$SETS --set $s"; done
cd "$(dirname "$0")/.."
for p in fixed default greedy ensure libra libra-np freyr; do
    n=$N; [ "$p" = freyr ] && n=$((N / 10))
    for i in 1 2 3 4 5; do
        for which in before after; do
            if [ "$which" = before ]; then bin=$B0; else bin=$B1; fi
            t=$(/usr/bin/time -f "%U %S %e %M" "$bin" bench --invocations "$n" --policy "$p" $SETS --json \
                2>&1 >/tmp/bench-ab.$$ | tail -1)
            j=$(sed 's/.*"invocations": \([0-9]*\).*"seconds": \([0-9.]*\).*/\1 \2/' /tmp/bench-ab.$$)
            echo "$p $which $n $t $j"
        done
    done
done
rm -f /tmp/bench-ab.$$
