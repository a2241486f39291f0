#!/bin/sh
# End-to-end: policies out of tree (docs/policies.md, "A policy out of tree"). `make install` into a
# temporary prefix (and with DESTDIR); from an empty directory, both worked examples
# (docs/examples/harvest_idle.c, lastpeak.c) compiled as plugins with `pkg-config --cflags
# harvestbench` from that prefix, run on configs/demo.ini with --policy-lib beside `fixed`, and shown
# by `compare`; the installed binary exports exactly the include/ API; a program links the library
# with `pkg-config --cflags --libs`; and a wrong API version, a missing entry symbol, a harness
# symbol, a name clash, a file that is not a shared object and a missing file are refused with exit 2
# and a message naming the file. Under SAN=1 (BUILD=build/asan) the installed build is the sanitized
# one and the plugins are compiled with the same sanitizers. Ends with "N passed, N failed, N skipped".
. tests/e2e/lib.sh
trap 'exit 1' INT TERM HUP             # so that lib.sh's EXIT trap removes the temporary tree
ROOT=$(pwd)
T=$(cd "$TMP" && pwd -P)
BUILD=${BUILD:-build}
SAN=; SANFLAGS=
case "$BUILD" in */asan) SAN=1; SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
P=$T/prefix
mkdir -p "$T/work" "$T/src"

expect() {  # expect NAME WANT_STATUS command...
    name=$1; want=$2; shift 2
    "$@" >"$T/out" 2>&1; got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$name" "exit $got, expected $want"; sed 's/^/    /' "$T/out" | tail -n 20; fi
}
contains() {  # contains NAME TEXT (in the last command's output)
    if grep -F -q -- "$2" "$T/out"; then ok; else bad "$1" "output lacks '$2'"; sed 's/^/    /' "$T/out" | tail -n 20; fi
}
install_to() {  # the same build tests/run.sh tests, without the outer make's flags
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory install \
        BUILD="$BUILD" ${SAN:+SAN=1} "$@"
}
json_num() {  # json_num FILE KEY: a top-level number of a summary.json
    sed -n "s/^	\"$2\":[ 	]*\([-0-9.e+]*\),\{0,1\}$/\1/p" "$1"
}

# ---- make install ----
expect install 0 install_to PREFIX="$P"
for f in bin/harvestbench include/harvestbench/hb_policy.h include/harvestbench/hb_types.h \
         include/harvestbench/hb_error.h include/harvestbench/hb_backend.h lib/libharvestbench.a \
         lib/pkgconfig/harvestbench.pc; do
    if [ -f "$P/$f" ]; then ok; else bad "install-$f" "$P/$f missing"; fi
done
expect install-destdir 0 install_to PREFIX=/opt/hb DESTDIR="$T/stage"
if [ -x "$T/stage/opt/hb/bin/harvestbench" ] && grep -q '^prefix=/opt/hb$' "$T/stage/opt/hb/lib/pkgconfig/harvestbench.pc"
then ok; else bad install-destdir "not staged under DESTDIR with prefix /opt/hb"; fi

export PKG_CONFIG_PATH="$P/lib/pkgconfig"
CFLAGS_HB=$(pkg-config --cflags harvestbench)
case " $CFLAGS_HB " in *" -I$P/include/harvestbench "*) ok ;; *) bad pc-cflags "got '$CFLAGS_HB'" ;; esac
case " $CFLAGS_HB " in *"$ROOT"*) bad pc-cflags "points into the source tree: $CFLAGS_HB" ;; *) ok ;; esac
HB_OUT=$P/bin/harvestbench

# ---- the binary exports exactly the API: every function and object include/ declares ----
for h in "$P"/include/harvestbench/*.h; do printf '#include "%s"\n' "$(basename "$h")"; done > "$T/src/api.c"
# shellcheck disable=SC2086
cc -std=c17 $CFLAGS_HB -fsyntax-only -aux-info "$T/api.txt" "$T/src/api.c" 2>"$T/out"
grep -F "/* $P/include/harvestbench/" "$T/api.txt" | grep -v ' static ' |
    sed 's/.*[ *]\([A-Za-z_0-9]*\) (.*/\1/' | sort -u > "$T/api.want"
echo hb_functions >> "$T/api.want"
nm -D --defined-only "$HB_OUT" | awk '$3 ~ /^hb_/ { print $3 }' | sort -u > "$T/api.got"
if [ "$(wc -l < "$T/api.want")" -ge 20 ]; then ok; else bad api-list "only $(wc -l < "$T/api.want") declarations found"; fi
if sort -u "$T/api.want" | cmp -s - "$T/api.got"; then ok; else
    bad api-exports "exported hb_ symbols differ from include/ (< declared, > exported):"
    sort -u "$T/api.want" | diff - "$T/api.got" | sed 's/^/    /'
fi

# ---- both examples, compiled out of tree as plugins from an empty directory ----
cp "$ROOT/docs/examples/harvest_idle.c" "$ROOT/docs/examples/lastpeak.c" "$T/src/"
cd "$T/work" || exit 1
# shellcheck disable=SC2086
expect cc-harvest-idle 0 cc -std=c17 -Wall -Wextra -Wpedantic -Werror -shared -fPIC $SANFLAGS \
    $CFLAGS_HB "$T/src/harvest_idle.c" -o harvest_idle.so
# shellcheck disable=SC2086
expect cc-lastpeak 0 cc -std=c17 -Wall -Wextra -Wpedantic -Werror -shared -fPIC $SANFLAGS \
    $CFLAGS_HB "$T/src/lastpeak.c" -o lastpeak.so -lm
expect run 0 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so \
    --policy-lib ./lastpeak.so --policy fixed,harvest-idle,lastpeak --out "$T/r" --quiet
contains run-table "harvest-idle "
for pol in fixed harvest-idle lastpeak; do
    n=$(ls "$T/r/$pol"/seed-*/summary.json 2>/dev/null | wc -l)
    if [ "$n" -eq 5 ]; then ok; else bad "run-$pol" "$n summaries, expected 5"; fi
done
expect compare 0 "$HB_OUT" compare "$T/r"
contains compare-harvest-idle "| harvest-idle "
contains compare-lastpeak "| lastpeak "
# harvest-idle lends: cores harvested from some calls and borrowed by others, in equal amounts (a
# loan moves cores, never adds), no decision clipped, every call of fixed run
S=$T/r/harvest-idle/seed-1/summary.json F=$T/r/fixed/seed-1/summary.json
h=$(json_num "$S" harvested_cpu_s); b=$(json_num "$S" borrowed_cpu_s)
if awk -v h="$h" -v b="$b" 'BEGIN { d = h - b; exit !(h > 10 && (d < 0 ? -d : d) < 1e-6 * h) }'
then ok; else bad harvest-idle-lends "harvested_cpu_s '$h', borrowed_cpu_s '$b'"; fi
if [ "$(json_num "$S" clipped_decisions)" = 0 ] && [ -n "$(json_num "$S" invocations)" ] &&
   [ "$(json_num "$S" invocations)" = "$(json_num "$F" invocations)" ]
then ok; else bad harvest-idle-calls "clipped or calls differ from fixed"; fi
# lastpeak right-sizes memory (as tests/unit/test_policy_example.c checks in tree)
if awk -v l="$(json_num "$T/r/lastpeak/seed-1/summary.json" mem_alloc_mb_s)" -v f="$(json_num "$F" mem_alloc_mb_s)" \
    'BEGIN { exit !(l > 0 && l < 0.75 * f) }'; then ok; else bad lastpeak-memory "not below 0.75 x fixed"; fi
# the manifest names the libraries, as loaded, and their policies
for want in "\"path\":	\"$T/work/harvest_idle.so\"" "\"path\":	\"$T/work/lastpeak.so\"" \
            '"policies":	["harvest-idle"]' '"policies":	["lastpeak"]' '"api_version":	1'; do
    if grep -F -q -- "$want" "$T/r/manifest.json"; then ok; else bad manifest "lacks $want"; fi
done
# their [policy.NAME] keys are read like a built-in policy's
expect key-ok 0 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so --seeds 1 \
    --policy harvest-idle --set policy.harvest-idle.headroom=0.5 --out "$T/r2" --quiet
expect key-bad 2 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so \
    --policy harvest-idle --set policy.harvest-idle.headroom=lots --out "$T/r3" --quiet
contains key-bad-msg "headroom: 'lots' is not a number"
expect key-unknown 2 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so \
    --policy harvest-idle --set policy.harvest-idle.margin=1 --out "$T/r3" --quiet
contains key-unknown-msg "margin"

# an interrupted run's hint repeats --policy-lib, and following it completes the run
"$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so --policy fixed,harvest-idle \
    --seeds 20 --out "$T/r4" --quiet >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ ! -f "$T/r4/fixed/seed-2/summary.json" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
hint=$(sed -n 's/^harvestbench run: interrupted; continue with: //p' "$T/err")
case "$hint" in
*"--policy-lib $T/work/harvest_idle.so"*"--resume"*) ok ;;
*) bad resume-hint "no --policy-lib in: $hint $(cat "$T/err")" ;;
esac
if [ -n "$hint" ] && eval "$hint" >"$T/out" 2>&1 && grep -q '"status":	"complete"' "$T/r4/manifest.json"
then ok; else bad resume "following the hint did not complete: $(tail -n 5 "$T/out")"; fi

# ---- what is refused: exit 2, the file named, nothing run ----
for bad in bad_version no_entry clash internal_symbol; do
    # shellcheck disable=SC2086
    cc -std=c17 -Wall -Wextra -Werror -shared -fPIC $SANFLAGS $CFLAGS_HB \
        "$ROOT/tests/e2e/plugins/$bad.c" -o "$bad.so" 2>"$T/out" || { bad "cc-$bad" "$(cat "$T/out")"; }
done
V=$(sed -n 's/^#define HB_POLICY_API_VERSION \([0-9]*\).*/\1/p' "$P/include/harvestbench/hb_policy.h")
refused() {  # refused NAME LIB TEXT
    expect "refuse-$1" 2 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy fixed --policy-lib "$2" \
        --out "$T/neg" --quiet
    contains "refuse-$1-file" "$2"
    contains "refuse-$1-why" "$3"
}
refused version ./bad_version.so "built for policy API version $((V + 1)), this harvestbench has version $V"
refused no-entry ./no_entry.so "no entry symbol 'hb_policy_plugin'"
refused internal ./internal_symbol.so "undefined symbol: hb_engine_run"
refused clash ./clash.so "policy 'fixed' clashes with the built-in policy of that name"
refused not-a-library "$ROOT/configs/demo.ini" "cannot load it as a policy library"
refused missing ./nope.so "no such file"
expect refuse-twice 2 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy-lib ./harvest_idle.so \
    --policy-lib "$T/work/harvest_idle.so" --policy fixed --out "$T/neg" --quiet
contains refuse-twice-why "clashes with policy 'harvest-idle' of $T/work/harvest_idle.so"
expect unloaded 2 "$HB_OUT" run "$ROOT/configs/demo.ini" --policy fixed,harvest-idle --out "$T/neg" --quiet
contains unloaded-why "unknown policy 'harvest-idle'"
if [ -e "$T/neg" ]; then bad refused-nothing-run "$T/neg was created"; else ok; fi

# ---- a program links the library with --libs ----
# shellcheck disable=SC2086
expect cc-embed 0 cc -std=c17 $SANFLAGS "$ROOT/tests/e2e/plugins/embed.c" -o embed \
    $(pkg-config --cflags --libs harvestbench)
expect embed 0 ./embed
contains embed-out "function dynamic-html oom 2"

cd "$ROOT" || exit 1
finish
