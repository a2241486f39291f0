#!/bin/sh
# End-to-end: `harvestbench workloads list|run` and `harvestbench profile` (a tiny grid), and a
# simulated run that reads the measured profile it wrote.
. tests/e2e/lib.sh

"$HB" workloads list > "$TMP/list" 2>&1
check "workloads list exits 0" test $? -eq 0
check "workloads list: header and ten functions" test "$(wc -l < "$TMP/list")" -eq 11
for id in dh eg ip vp ir knn alu ms gd dv; do
    check "workloads list names $id" grep -q "^$id " "$TMP/list"
done

"$HB" workloads run alu --size 1000 --parallel 2 > "$TMP/alu.json"
check "workloads run alu exits 0" test $? -eq 0
check "workloads run prints the result" grep -q '"function":"alu","size":1000,"parallel":2' "$TMP/alu.json"
for field in checksum wall_s cpu_usage mem_usage cpu_timestamp mem_timestamp cpu_peak mem_peak; do
    check "result has $field" grep -q "\"$field\":" "$TMP/alu.json"
done

"$HB" workloads run ms --size -5 > "$TMP/bad.json" 2>/dev/null
check "a negative size exits 2" test $? -eq 2
check "a negative size gives an error result" grep -q '"error":"size' "$TMP/bad.json"
"$HB" workloads run nosuch > /dev/null 2>&1
check "an unknown function exits 2" test $? -eq 2
"$HB" workloads run ms --bogus 1 > /dev/null 2>&1
check "an unknown option exits 2" test $? -eq 2
"$HB" workloads > /dev/null 2>&1
check "workloads without a subcommand exits 2" test $? -eq 2
for cmd in "workloads" "workloads list" "workloads run" "profile"; do
    # shellcheck disable=SC2086
    "$HB" $cmd --help > "$TMP/help" 2>&1
    check "$cmd --help exits 0" test $? -eq 0
    check "$cmd --help prints usage" grep -q "usage:" "$TMP/help"
done

# a tiny profile of all ten: sizes 1 and 2, one CPU limit, one repeat (vp at --quick's resolution)
"$HB" profile --quick --sizes 1,2 --cpus 2 --repeats 1 --quiet --out "$TMP/measured.csv" > "$TMP/profile.log" 2>&1
check "profile exits 0" test $? -eq 0
check "profile says how it limits CPU" grep -q "CPU limit by" "$TMP/profile.log"
check "profile file has its header" grep -q '^function_id,param,x_gt,x_le,a,b,c$' "$TMP/measured.csv"
for id in dh eg ip vp ir knn alu ms gd dv; do
    for param in exec_s parallelism mem_peak_mb ref_cores cold_start_s cv mem_start_frac mem_ramp_frac; do
        check "profile: $id $param" grep -q "^$id,$param," "$TMP/measured.csv"
    done
done
# ... and the usage timeline of every run, next to --out (workloads/profiles/README.md, "timelines")
TL="$TMP/timelines-measured.csv"
check "profile writes the timelines next to --out" test -s "$TL"
check "timelines: format line first" test "$(head -n 1 "$TL")" = "# harvestbench timeline library, format 1"
check "timelines: header says machine and kernel" grep -q '^# machine: .* CPUs), kernel ' "$TL"
check "timelines: header says how CPU was limited" grep -q '^# cpu limit: .*; sample period 100 ms; repeats 1$' "$TL"
check "timelines: header counts disturbed runs" grep -q '^# disturbed: [0-9]* of 20 runs' "$TL"
check "timelines: header records loadavg" grep -q '^# shared machine: loadavg before ' "$TL"
check "timelines: column line" grep -qx 'function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu_cores,mem_mb,runnable' "$TL"
for id in dh eg ip vp ir knn alu ms gd dv; do
    check "timelines: $id size 2 has samples" grep -q "^$id,2,2,1,0," "$TL"
done
# every run's rows contiguous, t_ms = 0, 100, ...; dt_ms > 0 (100 but for a run's last); nothing negative
awk -F, '/^#/ || /^function_id/ {next}
    { key = $1 "," $2 "," $3 "," $4
      if (NF != 9 || $6 <= 0 || $7 < 0 || $8 < 0 || $9 < -1) bad++
      if (key != cur) { if (key in seen || $5 != 0) bad++; seen[key] = 1; cur = key }
      else if ($5 != prev + 100 || pdt != 100) bad++
      prev = $5; pdt = $6; n++ }
    END { exit !(n > 0 && bad == 0) }' "$TL"
check "timelines: runs contiguous and well-formed" test $? -eq 0
mkdir -p "$TMP/none"
"$HB" profile --quick --functions alu --sizes 1 --cpus 2 --repeats 1 --quiet --out "$TMP/none/m.csv" \
    --timelines none > /dev/null 2>&1
check "profile --timelines none exits 0" test $? -eq 0
check "profile --timelines none writes no timelines" test "$(ls "$TMP/none")" = "m.csv"
"$HB" profile --functions alu --sizes 1 --timelines /nonexistent/dir/t.csv --out "$TMP/m3.csv" > /dev/null 2>&1
check "profile: an unwritable --timelines exits 2" test $? -eq 2

"$HB" profile --functions nosuch > /dev/null 2>&1
check "profile: an unknown function exits 2" test $? -eq 2
"$HB" profile --out /nonexistent/dir/p.csv --functions alu --sizes 1 > /dev/null 2>&1
check "profile: an unwritable --out exits 2" test $? -eq 2

# the simulator reads it: the demo trace with profile = measured
sed -e "s#\.\./data#$PWD/data#g" -e "s#^out = .*#out = $TMP/sim#" -e "s#^seeds = .*#seeds = 1#" \
    -e "s#^policies = .*#policies = default, fixed#" -e "s#^checkpoint = #checkpoint = $PWD/configs/#" \
    -e "s#^profile = artifact#profile = measured\nprofile_file = $TMP/measured.csv#" \
    -e "s#^usage = .*#usage = flat#" \
    configs/demo.ini > "$TMP/measured.ini"
"$HB" run "$TMP/measured.ini" --quiet > "$TMP/run.log" 2>&1
check "run accepts the measured profile" test $? -eq 0
check "run with the measured profile completes" grep -q '"status":[[:space:]]*"complete"' "$TMP/sim/manifest.json"

finish
