#!/bin/sh
# Tries the README's promise on a fresh machine: builds a minimal Debian 12 root with debootstrap
# (from this machine's configured Debian archive), installs only gcc, make, git and
# ca-certificates, clones this repository into it, and runs the README's two commands there
# (`make demo`, then `make check`) as root, with /proc, /sys (and so the cgroup hierarchy), /dev
# bound in. Everything it mounts is unmounted on every exit path, and every process left in the root
# is killed. Needs root on a Debian host (it installs debootstrap when missing).
#
# usage: scripts/fresh-machine.sh [--dir DIR] [--keep] [--only CMDS] [--suite S] [--cache FILE]
#   --dir DIR     where to build the root (default: a new directory under /var/tmp); kept afterwards
#                 only with --keep
#   --keep        keep the root (and its log) for inspection
#   --only CMDS   run these commands instead of the README's two (e.g. "make demo")
#   --suite S     the Debian suite (default bookworm, Debian 12)
#   --cache FILE  keep the freshly debootstrapped root (before anything ran in it) as a tarball in
#                 FILE, and start from it when it exists: the same pristine root, minutes sooner
# Output: the commands' output, then a line `fresh-machine: <commands>: exit N (M s)`; a copy of
# the log in $DIR/fresh-machine.log (printed at the end). Exit status: that of the commands.
set -eu

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

DIR=""
KEEP=0
CMDS="make demo && make check"
SUITE=bookworm
CACHE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) [ $# -ge 2 ] || usage; DIR=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --only) [ $# -ge 2 ] || usage; CMDS=$2; shift 2 ;;
        --suite) [ $# -ge 2 ] || usage; SUITE=$2; shift 2 ;;
        --cache) [ $# -ge 2 ] || usage; CACHE=$2; shift 2 ;;
        -h|--help) usage ;;
        *) echo "fresh-machine: unknown argument '$1'" >&2; usage ;;
    esac
done

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
git -C "$REPO" rev-parse --git-dir > /dev/null 2>&1 || { echo "fresh-machine: $REPO is not a git checkout" >&2; exit 2; }

# The archive this machine is configured with: the first Debian URI in deb822 sources, else in
# sources.list. Nothing else is contacted.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /debian\/?$/) { print $i; exit } }' "$f")
    [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "fresh-machine: no Debian archive found in /etc/apt/sources.list(.d)" >&2; exit 2; }

if ! command -v debootstrap > /dev/null 2>&1; then
    echo "fresh-machine: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y debootstrap > /dev/null 2>&1 ||
        { apt-get -o DPkg::Lock::Timeout=900 update -q > /dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y debootstrap > /dev/null; }
fi

if [ -z "$DIR" ]; then
    DIR=$(mktemp -d /var/tmp/hb-fresh.XXXXXX)
else
    mkdir -p "$DIR"
fi
ROOT="$DIR/root"
LOG="$DIR/fresh-machine.log"
MOUNTS=""

cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    # Every process whose root is ours: killed before unmounting (in rounds: a dying parent's
    # children may still be starting)
    round=0
    while [ $round -lt 10 ]; do
        left=0
        for p in /proc/[0-9]*; do
            r=$(readlink "$p/root" 2>/dev/null || true)
            case "$r" in
                "$ROOT"|"$ROOT"/*) kill -9 "${p#/proc/}" 2>/dev/null && left=$((left + 1)) ;;
            esac
        done
        [ $left -eq 0 ] && break
        sleep 0.5
        round=$((round + 1))
    done
    [ -n "${PIPE_PID:-}" ] && wait "$PIPE_PID" 2>/dev/null
    # Unmount in reverse order of mounting (recursive binds first of all their sub-mounts).
    for m in $MOUNTS; do
        umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || true
    done
    if [ -d "$ROOT" ] && grep -q " $ROOT" /proc/mounts; then
        echo "fresh-machine: mounts left under $ROOT; not removing it" >&2
    elif [ "$KEEP" -eq 0 ]; then
        [ -f "$LOG" ] && cp "$LOG" "/var/tmp/hb-fresh-machine.log" 2>/dev/null || true
        rm -rf "$DIR"
        [ -f /var/tmp/hb-fresh-machine.log ] && echo "fresh-machine: log in /var/tmp/hb-fresh-machine.log" >&2
    else
        echo "fresh-machine: root kept in $ROOT, log in $LOG" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start=$(date +%s)
echo "fresh-machine: debootstrap $SUITE from $mirror into $ROOT" >&2
rm -rf "$ROOT"
if [ -n "$CACHE" ] && [ -f "$CACHE" ]; then
    mkdir -p "$ROOT"
    tar -xpf "$CACHE" -C "$ROOT"
else
    debootstrap --variant=minbase --include=gcc,make,git,ca-certificates "$SUITE" "$ROOT" "$mirror" \
        > "$DIR/debootstrap.log" 2>&1 ||
        { tail -n 20 "$DIR/debootstrap.log" >&2; echo "fresh-machine: debootstrap failed" >&2; exit 1; }
    [ -n "$CACHE" ] && tar -cpf "$CACHE" -C "$ROOT" .
fi
echo "fresh-machine: root ready in $(( $(date +%s) - start )) s" >&2

bind() {  # $1 = host path, $2 = path inside the root; recursive, so /sys brings the cgroups
    mkdir -p "$ROOT$2"
    mount --rbind "$1" "$ROOT$2"
    mount --make-rslave "$ROOT$2"
    MOUNTS="$ROOT$2 $MOUNTS"
}
mkdir -p "$ROOT/proc"
mount -t proc proc "$ROOT/proc"
MOUNTS="$ROOT/proc $MOUNTS"
bind /sys /sys
bind /dev /dev
# A machine of this kind comes with its network set up: name resolution, and the local certificate
# authorities its HTTPS goes through (npm reaches its registry through them; the system store gets
# them, and npm is pointed at the store as on this host). Nothing else of the host is copied.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
if ls /usr/local/share/ca-certificates/*.crt > /dev/null 2>&1; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" /usr/sbin/update-ca-certificates > /dev/null 2>&1 || true
fi
[ -f /etc/npmrc ] && cp /etc/npmrc "$ROOT/etc/npmrc"

rm -rf "$ROOT/root/harvestbench"
git clone -q --no-hardlinks "$REPO" "$ROOT/root/harvestbench"
# CI clones main with shared/ beside it; nothing reads it at run or test time, but it is there.
[ -d "$REPO/../shared" ] && cp -r "$REPO/../shared" "$ROOT/root/shared"

echo "fresh-machine: running '$CMDS' in the fresh root" >&2
t0=$(date +%s)
# sh has no pipefail: the commands' status goes through a file, the output through tee. In the
# background, so that a signal is taken at once (sh runs traps only between foreground commands).
{ chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM=dumb /bin/sh -c "cd /root/harvestbench && $CMDS" 2>&1 &&
      echo 0 > "$DIR/rc" || echo $? > "$DIR/rc"; } | tee "$LOG" &
PIPE_PID=$!
wait "$PIPE_PID"
PIPE_PID=""
rc=$(cat "$DIR/rc" 2>/dev/null || echo 1)
echo "fresh-machine: $CMDS: exit $rc ($(( $(date +%s) - t0 )) s)" | tee -a "$LOG"
exit "$rc"
