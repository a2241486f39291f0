#!/bin/sh
# api_symbols.sh - the names of the functions and objects the public headers declare (include/*.h):
# the API a policy loaded with --policy-lib may call, which the harvestbench binary exports
# (Makefile, -Wl,--dynamic-list). A declaration is a file-scope line that is neither static, typedef
# nor a preprocessor line, naming hb_... before "(" (a function) or "[" / ";" after "extern" (an object).
# usage: scripts/api_symbols.sh [--dynamic-list] HEADER...   (one name a line, or a linker dynamic list)
set -eu
list=0
if [ "${1:-}" = "--dynamic-list" ]; then list=1; shift; fi
names=$(sed -e 's|/\*.*\*/||g' "$@" | awk '
    /^[ \t]/ || /^(static|typedef|#|\/\*|\*| \*)/ { next }
    /^extern / { if (match($0, /hb_[a-z0-9_]+[ \t]*(\[|;)/)) { s = substr($0, RSTART, RLENGTH); sub(/[ \t]*(\[|;)$/, "", s); print s } ; next }
    { if (match($0, /[ \t*]hb_[a-z0-9_]+\(/)) { s = substr($0, RSTART + 1, RLENGTH - 2); print s } }' | sort -u)
if [ "$list" -eq 1 ]; then
    echo '{'
    for n in $names; do echo "    $n;"; done
    echo '};'
else
    printf '%s\n' $names
fi
