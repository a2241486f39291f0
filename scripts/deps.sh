#!/bin/sh
# Installs the Debian packages harvestbench needs, and only those that are missing.
# As root it runs apt-get (waiting up to 15 minutes for a held dpkg lock); otherwise it prints the
# exact command to run and exits 1. Used by `make demo` and `make check`.
set -eu

# build and run: compiler front-end helpers and the libraries of the field
PKGS="pkg-config libcjson-dev libcsv-dev libgsl-dev libinih-dev libcurl4-openssl-dev
      libmicrohttpd-dev libzip-dev gnuplot-nox fonts-dejavu-core libxgboost-dev"
# the Libra fork's Redis side channel (hiredis); its tests start a real redis-server (and read the
# hashes back with redis-cli, which redis-server's package pulls in as redis-tools)
PKGS="$PKGS libhiredis-dev redis-server"
# the workload binaries are linked statically: Jansson (JSON; Debian's cJSON has no static archive)
# and zlib (deflate for eg, ip, vp) both ship their .a files
PKGS="$PKGS libjansson-dev zlib1g-dev"
# tests: Check, and the commands the end-to-end tests call that a minimal Debian lacks (curl;
# pgrep and ps from procps)
PKGS="$PKGS check libsubunit-dev curl procps"
# fuzzing (make fuzz, make check): clang, and Debian's default compiler-rt, whose
# libclang-rt-14-dev holds libFuzzer (libclang_rt.fuzzer) and the sanitizer runtimes for clang
PKGS="$PKGS clang libclang-rt-dev"
# the Slurm round trip of `harvestbench sweep --slurm` (tests/e2e/slurm_sweep.sh starts a
# single-node Slurm on localhost from these)
PKGS="$PKGS slurmctld slurmd munge slurm-client"

# Commands that another packaging may already provide (Node.js from another archive ships its own
# npm, and Debian's npm would conflict with it): installed only when the command itself is missing.
# Format: command=package. node and npm run the conformance test with the official openwhisk client
# (tests/e2e/openwhisk_npm.sh, pinned by tests/e2e/npm/package-lock.json).
CMDS="node=nodejs npm=npm"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

for cp in $CMDS; do
    command -v "${cp%%=*}" > /dev/null 2>&1 || missing="$missing ${cp#*=}"
done

[ -z "$missing" ] && exit 0

line="apt-get -o DPkg::Lock::Timeout=900 install -y$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "harvestbench: missing Debian packages:$missing" >&2
    echo "run as root:  apt-get update && $line" >&2
    exit 1
fi

echo "harvestbench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh them once before installing.
if ! apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $missing >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $missing
fi
