#!/bin/sh
# End-to-end: `harvestbench sweep --slurm` through a real single-node Slurm on localhost. Starts its
# own munged (a fresh key and socket in a temporary directory), slurmctld and slurmd (a generated
# slurm.conf: free loopback ports, state, spool and logs in the temporary directory, no systemd),
# runs a 2 x 2 sweep locally and as a job array, and requires identical sweep.csv files. Every
# daemon is stopped by its PID on every exit path. Skipped (with the reason) when the Slurm or
# munge packages are missing (scripts/deps.sh installs them) or when not root (slurmd must be).
# Ends with "N passed, N failed, N skipped".
. tests/e2e/lib.sh
T=$TMP
S=$T/slurm
PIDS=""
stop_all() {
    for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        [ -n "$p" ] && kill "$p" 2>/dev/null
        n=0
        while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap stop_all EXIT
trap 'exit 1' INT TERM

for c in munged slurmctld slurmd sbatch squeue; do
    if ! command -v "$c" > /dev/null 2>&1; then
        skip "slurm round trip" "$c is not installed (sh scripts/deps.sh installs slurmctld slurmd munge slurm-client)"
        finish; exit $?
    fi
done
if [ "$(id -u)" -ne 0 ]; then
    skip "slurm round trip" "slurmd needs root"
    finish; exit $?
fi

# a TCP port free on 127.0.0.1 now (bind to port 0 and read what the kernel gave)
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + $$ % 20000 + $1))
}

# munge: the key readable by its owner only; the socket's directory must be searchable by all
chmod 755 "$T"   # mktemp -d gives 0700; munged needs every directory above its socket searchable
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log" "$S/key"
chmod 755 "$S"
chmod 755 "$S/munge"
chmod 700 "$S/key"
dd if=/dev/urandom of="$S/key/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$S/key/munge.key"
if ! munged --socket="$S/munge/sock" --key-file="$S/key/munge.key" --pid-file="$S/munge/munged.pid" \
        --log-file="$S/log/munged.log" --seed-file="$S/munge/seed" > "$S/log/munged.out" 2>&1; then
    bad "munged" "did not start: $(cat "$S/log/munged.out")"
    finish; exit $?
fi
ok

P1=$(free_port 1); P2=$(free_port 2)
while [ "$P2" = "$P1" ]; do P2=$(free_port 3); done
MEM=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)   # below what slurmd finds
cat > "$S/slurm.conf" <<CONF
ClusterName=hbtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/sock
SlurmctldPort=$P1
SlurmdPort=$P2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"
if ! slurmctld -f "$SLURM_CONF" > "$S/log/slurmctld.out" 2>&1; then
    bad "slurmctld" "did not start: $(cat "$S/log/slurmctld.out"; tail -n 5 "$S/log/slurmctld.log")"
    finish; exit $?
fi
# slurmd registers with the controller: wait until the node is idle (polling, at most 30 s)
slurmd -f "$SLURM_CONF" -N localhost > "$S/log/slurmd.out" 2>&1 || { bad "slurmd" "did not start: $(cat "$S/log/slurmd.out")"; finish; exit $?; }
# (the controller's address is given, so nothing depends on resolving "localhost": a fresh root
# may have no /etc/hosts; each client call is bounded, and so is the wait, by the clock)
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ] && ! timeout 5 sinfo -h -o %t 2>/dev/null | grep -q idle; do sleep 0.2; done
if timeout 5 sinfo -h -o %t 2>/dev/null | grep -q idle; then ok; else
    bad "slurm node" "not idle: $(timeout 5 sinfo 2>&1); $(tail -n 5 "$S/log/slurmctld.log"; tail -n 5 "$S/log/slurmd.log")"
    finish; exit $?
fi

cat > "$T/s.ini" <<'INI'
[experiment]
name = slurmtest
policies = fixed, libra
seeds = 1
seed = 1

[trace]
format = constant
per_minute = 1
minutes = 2
arrival = even
sizes = multi

[sweep]
cluster.invokers = 1, 2
overprovisioned_share = 0, 0.5
overprovision_ratio = 2
INI

"$HB" sweep "$T/s.ini" --out "$T/local" --quiet > "$T/out" 2>&1 && ok || { bad "local sweep" "$(cat "$T/out")"; }
# two cells per array task: 2 tasks
"$HB" sweep "$T/s.ini" --out "$T/slurm-run" --slurm --cells-per-task 2 --partition debug --time 5 \
    --sbatch-arg=--job-name=hb-e2e > "$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || { bad "slurm sweep" "exit $rc: $(cat "$T/out"; cat "$T/slurm-run"/slurm/task-*.log 2>/dev/null)"; }
grep -q '^#SBATCH --array=0-1$' "$T/slurm-run/slurm/sweep.sbatch" && ok || bad "array" "$(cat "$T/slurm-run/slurm/sweep.sbatch")"
if cmp -s "$T/local/sweep.csv" "$T/slurm-run/sweep.csv"; then ok; else
    bad "slurm = local" "sweep.csv differs"; diff "$T/local/sweep.csv" "$T/slurm-run/sweep.csv" | head -n 10
fi

# --no-wait, a failed cell, --collect listing it with its Slurm log, --resume resubmitting it
"$HB" sweep "$T/s.ini" --out "$T/nw" --slurm --no-wait > "$T/out" 2>&1 && grep -q "sweep --collect" "$T/out" && ok \
    || bad "--no-wait" "$(cat "$T/out")"
job=$(sed -n 's/^Submitted Slurm job \([0-9]*\);.*/\1/p' "$T/out")
end=$(($(date +%s) + 60))
while [ -n "$job" ] && [ "$(date +%s)" -lt $end ] && [ -n "$(timeout 5 squeue -h -j "$job" 2>/dev/null)" ]; do sleep 0.2; done
rm -rf "$T/nw/cells/0001"
"$HB" sweep --collect "$T/nw" > "$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "cell 0001 is not complete; Slurm log: $T/nw/slurm/task-1.log" "$T/out" && ok \
    || bad "--collect lists the failed cell" "exit $rc: $(cat "$T/out")"
"$HB" sweep "$T/s.ini" --out "$T/nw" --slurm --resume > "$T/out" 2>&1 && ok || bad "--slurm --resume" "$(cat "$T/out")"
grep -q '^#SBATCH --array=0-0$' "$T/nw/slurm/sweep.sbatch" && grep -q '^0) CELLS="0001" ;;$' "$T/nw/slurm/sweep.sbatch" \
    && ok || bad "resubmits only the missing cell" "$(cat "$T/nw/slurm/sweep.sbatch")"
cmp -s "$T/local/sweep.csv" "$T/nw/sweep.csv" && ok || bad "resumed slurm = local" "sweep.csv differs"
finish
