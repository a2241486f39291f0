#!/bin/sh
# The sensitivity map of Libra (issue 15 item 4; docs/libra.md "The sensitivity map"): runs every
# sweep of configs/sensitivity.ini and configs/sensitivity/*.ini into OUT/NAME (default
# results/sensitivity), JOBS cells at a time (default: the online cores), then draws the headline
# heatmaps of libra against fixed. A sweep directory that exists is continued (--resume).
#   sh scripts/sensitivity.sh [OUT]          HB=build/harvestbench JOBS=2
set -eu
HB=${HB:-build/harvestbench}
OUT=${1:-results/sensitivity}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT"
start=$(date +%s)
for cfg in configs/sensitivity.ini configs/sensitivity/*.ini; do
    name=$(basename "$cfg" .ini)
    [ "$name" = sensitivity ] && name=map
    resume=""
    [ -f "$OUT/$name/sweep.json" ] && resume=--resume
    echo "sensitivity: $cfg -> $OUT/$name"
    "$HB" sweep "$cfg" --out "$OUT/$name" --jobs "$JOBS" --quiet $resume
done
plot() {  # plot NAME X Y [METRIC]
    "$HB" sweep plot "$OUT/$1" --x "$2" --y "$3" --policy libra --metric "${4:-mean}" > /dev/null
}
for m in mean p99 cpu_util; do
    plot map-predicted overprovisioned_share overprovision_ratio $m
    plot map overprovisioned_share overprovision_ratio $m
    plot under overprovisioned_share overprovision_ratio $m
done
plot load trace.per_minute cluster.invokers mean
plot ablation policy.libra.borrow policy.libra.placement mean
plot ablation policy.libra.admit policy.libra.safeguard mean
plot mispredict workload.cpu_class_error workload.mem_class_error mean
plot safeguard policy.libra.safeguard_threshold overprovisioned_share mean
echo "sensitivity: done in $(( $(date +%s) - start )) s; tables in $OUT/*/sweep.md, heatmaps in $OUT/*/plots/"
