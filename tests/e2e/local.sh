#!/bin/sh
# End-to-end tests of `run --backend local` (docs/local.md): real processes of the C workloads in
# cgroups. A small trace under default, fixed and libra accounts for every call and shows Libra's
# harvesting and safeguard; no group of ours is left after a run, after an error, or after SIGINT;
# a run killed outright leaves groups that the next run sweeps away, saying so; limits = none is
# recorded in the manifest.
# Without root or a usable cgroup hierarchy each group test is counted as skipped, with the reason,
# and the script checks instead that the run fails with a message saying what is missing.
. "$(dirname "$0")/lib.sh"

REPO=$(pwd)
# Under AddressSanitizer the workloads hold far more memory (shadow, quarantine): keep the
# quarantine small, and do not expect Libra's memory sizing (made for the real binaries) to fit.
san=0
case "${BUILD:-build}" in *asan*) san=1; export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" ;; esac
WL="$REPO/$BUILD/workloads"
[ -n "${BUILD:-}" ] || WL="$REPO/build/workloads"

# A small experiment: dh, eg, ip and vp called twice in a minute, played at a fifth of real time
# (12 s); vp uses 106 MB, which Libra's predictor puts at 128 MB, so its safeguard fires.
cat > "$TMP/small.ini" <<EOF
[experiment]
name = small
policies = default, fixed, libra
backend = local
time_scale = 0.2

[cluster]
cores = 2
memory_mb = 4096
keep_alive_s = 60

[trace]
format = constant
functions = 4
per_minute = 2
minutes = 1
sizes = multi

[workload]
; OpenWhisk's largest limit: at a fifth of real time 60 s of trace time is 12 s of wall time, which
; ip under CPU shares may need on a loaded machine (and under ASan)
timeout_s = 300

[function.dh]
mem_clip_mb = 128,1024
[function.eg]
mem_clip_mb = 128,1024
[function.ip]
mem_clip_mb = 128,256
[function.vp]
mem_clip_mb = 128,512

[policy.libra]
predictor = trained
model = $REPO/configs/libra-local.csv

[backend.local]
workloads = $WL
EOF

# Directories named harvestbench-PID-* in the cpu, cpuacct and memory hierarchies (v1, at any
# depth under them) or under the cgroup2 mount (v2).
groups_of() {
    find /sys/fs/cgroup -maxdepth 5 -type d -name "harvestbench-$1-*" 2>/dev/null | wc -l
}

# the column of a CSV by name
col() { awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$1"; }

can_cgroup=1
why=""
if [ "$(id -u)" -ne 0 ]; then can_cgroup=0; why="not root"; fi
if [ ! -d /sys/fs/cgroup/cpu ] && ! grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    can_cgroup=0; why="${why:+$why; }no cgroup hierarchy with the cpu controller"
fi

if [ "$can_cgroup" -eq 0 ]; then
    # every check below that needs groups, each counted as a skip with the reason
    for c in "run exits 0" "manifest complete" "manifest backend" "manifest limits"; do
        skip "$c" "$why"
    done
    for p in default fixed libra; do
        for c in "every call has a row" "every call ended" "calls succeed" "cold then warm" \
                 "latency sums" "usage rows measure CPU"; do
            skip "$p: $c" "$why"
        done
    done
    for c in "libra harvests memory" "libra's safeguard fires" "usage.csv shows the harvest" \
             "history strings" "no group left after a run" "a failed spawn fails the run" \
             "the error names the step" "no group left after an error" "a running call has its group" \
             "SIGINT: exit 1" "SIGINT: says interrupted" "SIGINT: manifest incomplete" \
             "no group left after SIGINT" "SIGKILL leaves named groups" "the next run runs" \
             "the next run says it swept" "the killed run's groups are gone" \
             "no process of the killed run is left" "limits = none runs" \
             "manifest says limits none" "the console says so"; do
        skip "$c" "$why"
    done
    "$HB" run "$TMP/small.ini" --out "$TMP/out" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
    [ "$rc" -eq 1 ] && ok "without cgroups: exit 1" || bad "without cgroups: exit 1" "rc=$rc"
    grep -q "limits = none" "$TMP/e" && ok "the message says how to run anyway" \
        || bad "the message" "$(cat "$TMP/e")"
    finish
    exit $?
fi

# ---- a run of three policies ----
"$HB" run "$TMP/small.ini" --out "$TMP/out" --quiet >"$TMP/o" 2>"$TMP/e" &
pid=$!
wait $pid; rc=$?
[ "$rc" -eq 0 ] && ok "run exits 0" || bad "run exits 0" "rc=$rc: $(cat "$TMP/e")"
grep -q '"status":	"complete"' "$TMP/out/manifest.json" && ok "manifest complete" || bad "manifest" "not complete"
grep -q '"backend":	"local"' "$TMP/out/manifest.json" && ok "manifest backend" || bad "manifest backend" "not local"
grep -q '"limits":	"cgroup v[12]"' "$TMP/out/manifest.json" && ok "manifest limits" || bad "manifest limits" "$(grep limits "$TMP/out/manifest.json")"
for p in default fixed libra; do
    f="$TMP/out/$p/seed-1/invocations.csv"
    n=$(($(wc -l <"$f") - 1))
    [ "$n" -eq 8 ] && ok "$p: every call has a row" || bad "$p: rows" "$n of 8"
    ended=$(col "$f" outcome | grep -c -E '^(success|timeout|oom|error)$')
    [ "$ended" -eq 8 ] && ok "$p: every call ended" || bad "$p: outcomes" "$(col "$f" outcome | tr '\n' ' ')"
    okc=$(col "$f" outcome | grep -c '^success$')
    if [ "$san" -eq 1 ] && [ "$p" = libra ]; then okc=8; fi
    [ "$okc" -ge 6 ] && ok "$p: calls succeed" || bad "$p: successes" "$okc of 8: $(col "$f" error | tr '\n' '|')"
    cold=$(col "$f" cold_start | grep -c '^1$')
    [ "$cold" -ge 4 ] && [ "$cold" -lt 8 ] && ok "$p: cold then warm" || bad "$p: cold starts" "$cold"
    # latency = wait + init + duration, in trace time; durations are real (> 0)
    awk -F, 'NR > 1 && $14 == "success" { d = $10 + $11 + $9 - $12; if (d > 0.01 || d < -0.01 || $11 <= 0) bad++ }
             END { exit bad > 0 }' "$f" && ok "$p: latency sums" || bad "$p: latency sums" "mismatch"
    u="$TMP/out/$p/seed-1/usage.csv"
    used=$(col "$u" cpu_used | awk '{ s += $1 } END { print (s > 1) }')
    [ "$used" -eq 1 ] && ok "$p: usage rows measure CPU" || bad "$p: usage" "no CPU used"
done
L="$TMP/out/libra/seed-1"
harv=$(col "$L/invocations.csv" harvested_mem_mb_s | awk '$1 > 0' | wc -l)
[ "$harv" -ge 4 ] && ok "libra harvests memory" || bad "libra harvest" "$harv calls lent memory"
sg=$(col "$L/invocations.csv" safeguard | grep -c '^1$')
# (under ASan vp may use more than its 128 MB and end as oom before the safeguard can act)
[ "$san" -eq 1 ] && [ "$sg" -eq 0 ] && col "$L/invocations.csv" outcome | grep -q '^oom$' && sg=1
[ "$sg" -ge 1 ] && ok "libra's safeguard fires" || bad "libra safeguard" "none"
col "$L/usage.csv" mem_harvested_mb | awk '$1 > 0 { n++ } END { exit n < 1 }' && ok "usage.csv shows the harvest" \
    || bad "usage harvest" "no mem_harvested_mb"
# the artifact's trajectory: history strings "S;MD CD;MI CI;...", S = 1 for safeguarded calls
traj=$(ls "$L"/artifact/*trajectory.csv)
hist=',True,False,[^,]*,[^,]*,[^,]*,[^,]*,1;-[0-9]'
[ "$san" -eq 1 ] && hist=',[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[01];-[0-9]'
grep -q "$hist" "$traj" && ok "history strings" || bad "history strings" "$(sed -n 2,3p "$traj")"
[ "$(groups_of $pid)" -eq 0 ] && ok "no group left after a run" || bad "groups after run" "$(groups_of $pid) left"

# ---- an error in the middle of a run ----
mkdir -p "$TMP/wl"
for f in "$WL"/*; do ln -s "$f" "$TMP/wl/"; done
rm "$TMP/wl/eg"
printf 'not a program\n' >"$TMP/wl/eg"
chmod +x "$TMP/wl/eg"
sed -e "s|^workloads = .*|workloads = $TMP/wl|" -e 's/^policies = .*/policies = fixed/' \
    "$TMP/small.ini" >"$TMP/broken.ini"
"$HB" run "$TMP/broken.ini" --out "$TMP/out2" --quiet >"$TMP/o" 2>"$TMP/e" &
pid=$!
wait $pid; rc=$?
[ "$rc" -eq 1 ] && ok "a failed spawn fails the run" || bad "failed spawn" "rc=$rc"
grep -q "exec" "$TMP/e" && ok "the error names the step" || bad "spawn error" "$(cat "$TMP/e")"
[ "$(groups_of $pid)" -eq 0 ] && ok "no group left after an error" || bad "groups after error" "$(groups_of $pid) left"

# ---- SIGINT ----
sed -e 's/^time_scale = .*/time_scale = 1/' -e 's/^policies = .*/policies = fixed/' \
    "$TMP/small.ini" >"$TMP/long.ini"
"$HB" run "$TMP/long.ini" --out "$TMP/out3" --quiet >"$TMP/o" 2>"$TMP/e" &
pid=$!
i=0
while [ "$(groups_of $pid)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(groups_of $pid)" -ge 2 ] && ok "a running call has its group" || bad "groups while running" "$(groups_of $pid)"
kill -INT $pid
wait $pid; rc=$?
[ "$rc" -eq 1 ] && ok "SIGINT: exit 1" || bad "SIGINT exit" "rc=$rc"
grep -q "interrupted" "$TMP/e" && ok "SIGINT: says interrupted" || bad "SIGINT message" "$(cat "$TMP/e")"
grep -q '"status":	"incomplete"' "$TMP/out3/manifest.json" && ok "SIGINT: manifest incomplete" \
    || bad "SIGINT manifest" "not incomplete"
[ "$(groups_of $pid)" -eq 0 ] && ok "no group left after SIGINT" || bad "groups after SIGINT" "$(groups_of $pid) left"

# ---- killed outright: the next run sweeps ----
"$HB" run "$TMP/long.ini" --out "$TMP/out4" --quiet >"$TMP/o" 2>"$TMP/e" &
pid=$!
i=0
while [ "$(groups_of $pid)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL $pid
wait $pid 2>/dev/null
left=$(groups_of $pid)
[ "$left" -ge 2 ] && ok "SIGKILL leaves named groups" || bad "SIGKILL groups" "$left"
procs_before=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "harvestbench-$pid-*" 2>/dev/null |
    while read -r d; do cat "$d/cgroup.procs" 2>/dev/null; done | sort -u | tr '\n' ' ')
sed -e 's/^minutes = .*/minutes = 1/' -e 's/^functions = .*/functions = 1/' -e 's/^per_minute = .*/per_minute = 1/' \
    "$TMP/small.ini" | sed 's/^policies = .*/policies = fixed/' >"$TMP/one.ini"
"$HB" run "$TMP/one.ini" --out "$TMP/out5" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 0 ] && ok "the next run runs" || bad "next run" "rc=$rc: $(cat "$TMP/e")"
grep -q "removed [1-9][0-9]* cgroup(s) and [0-9]* action directory(ies) left by" "$TMP/e" \
    && ok "the next run says it swept" || bad "sweep message" "$(cat "$TMP/e")"
[ "$(groups_of $pid)" -eq 0 ] && ok "the killed run's groups are gone" || bad "sweep" "$(groups_of $pid) left"
# the killed run's calls were in its groups: the sweep killed them (they were our children's
# children, reparented; a workload binary of ours still running would be one of them)
# (a killed process whose new parent has not reaped it yet is a zombie: dead, not left running)
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$st" ] && [ "$st" != Z ]; }
n=0
for p in $procs_before; do alive "$p" && n=$((n + 1)); done
[ "$n" -eq 0 ] && ok "no process of the killed run is left" || bad "processes after sweep" "$n of: $procs_before"

# ---- limits = none ----
printf '\nlimits = none\n' >>"$TMP/one.ini"
"$HB" run "$TMP/one.ini" --out "$TMP/out6" --quiet >"$TMP/o" 2>"$TMP/e"; rc=$?
[ "$rc" -eq 0 ] && ok "limits = none runs" || bad "limits none" "rc=$rc: $(cat "$TMP/e")"
grep -q '"limits":	"none"' "$TMP/out6/manifest.json" && ok "manifest says limits none" \
    || bad "manifest none" "$(grep limits "$TMP/out6/manifest.json")"
grep -q "without limits" "$TMP/e" && ok "the console says so" || bad "console none" "$(cat "$TMP/e")"

finish
