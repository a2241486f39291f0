#!/bin/sh
# The walls the build enforces (docs/architecture.md, "Walls"):
#   - policies/ is compiled with include/ only: tests/walls/good_policy.c (public headers) builds with
#     the rule that builds policies/, tests/walls/bad_policy.c (includes engine.h) does not;
#   - every #include "..." of policies/ names a header of include/ or of the file's own folder;
#   - a backend folder (harness/backends/NAME/) includes no header of another backend folder; what
#     backends share lives in harness/backends/common/, which includes no backend folder.
. "$(dirname "$0")/lib.sh"
: "${BUILD:=build}"
MK=${MAKE:-make}

obj() { echo "$BUILD/obj/tests/walls/$1.o"; }

# ---- the compiler enforces it ----
rm -f "$(obj good_policy)" "$(obj bad_policy)"
if $MK --no-print-directory -s BUILD="$BUILD" "$(obj good_policy)" >"$TMP/good" 2>&1; then
    ok "a policy on include/ builds"
else
    bad "a policy on include/ builds" "$(cat "$TMP/good")"
fi
if $MK --no-print-directory -s BUILD="$BUILD" "$(obj bad_policy)" >"$TMP/bad" 2>&1; then
    bad "a policy including engine.h fails to build" "it built: the policies' flags reach harness/"
elif grep -q "engine.h" "$TMP/bad"; then
    ok "a policy including engine.h fails to build"
else
    bad "a policy including engine.h fails to build" "failed for another reason: $(head -5 "$TMP/bad")"
fi
rm -f "$(obj good_policy)" "$(obj bad_policy)"

# ---- policies/: include/ or the file's own folder ----
# (train_libra.* is the Libra trainer, a harness program on its way to harness/: not a policy)
: >"$TMP/pol"
for f in $(find policies -name '*.[ch]' ! -name 'train_libra.*' | sort); do
    d=$(dirname "$f")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r h; do
        [ -f "include/$h" ] || [ -f "$d/$h" ] || echo "$f: \"$h\"" >>"$TMP/pol"
    done
done
[ ! -s "$TMP/pol" ] && ok "policies include include/ and their own folder only" \
    || bad "policies include include/ and their own folder only" "$(cat "$TMP/pol")"

# ---- backends: no backend includes another's headers ----
: >"$TMP/be"
for dir in harness/backends/*/; do
    me=$(basename "$dir")
    for f in "$dir"*.[ch]; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r h; do
            case "$h" in
            */*) other=${h%%/*} ;;                                   # "local/x.h"
            *) [ -f "$dir$h" ] && continue                           # its own folder
               other=$(cd harness/backends && ls -d */ 2>/dev/null | tr -d / | while read -r b; do
                   [ -f "$b/$h" ] && echo "$b"; done | head -1) ;;
            esac
            [ -z "$other" ] || [ "$other" = "$me" ] && continue
            [ "$other" = common ] && [ "$me" != common ] && continue
            [ -d "harness/backends/$other" ] && echo "$f: \"$h\" (backends/$other)" >>"$TMP/be"
        done
    done
done
[ ! -s "$TMP/be" ] && ok "no backend includes another backend's headers" \
    || bad "no backend includes another backend's headers" "$(cat "$TMP/be")"

finish
