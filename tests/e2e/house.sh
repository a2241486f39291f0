#!/bin/sh
# The house rules of issue 14, item 1, measured: no command file (harness/cli/*.c) over 250 lines,
# no function in the harness core (harness/core/*.c) over 80 lines. A function's length runs from the
# first line of its signature to its closing brace, both included. Each offender is printed as
# "file:line: NAME: N lines (max M)". The counter is awk (a fresh Debian has no python3 and no
# ctags); it first proves on made-up files that it finds a long function and is not fooled by braces
# in strings, characters or comments, so the check can fail.
#   sh tests/e2e/house.sh            the check (from the repository root)
#   sh tests/e2e/house.sh --list F.c every function of F.c with its length, longest first
. "$(dirname "$0")/lib.sh"
MAX_CLI_LINES=250
MAX_FN_LINES=80

# fnlen FILE...: one line "file<TAB>line<TAB>name<TAB>length" a function definition.
# A definition is a `{` that opens brace depth 0 right after a signature: the text since the last
# blank line, `;`, `}` or comment at depth 0 holds a `(` and ends with `)`. Strings, character
# constants, comments and preprocessor lines (with their `\` continuations) are blanked first.
fnlen() {
    awk '
    function strip(s,    out, i, c, n, q) {
        out = ""; n = length(s); i = 1
        while (i <= n) {
            c = substr(s, i, 1)
            if (incomment) {
                if (c == "*" && substr(s, i + 1, 1) == "/") { incomment = 0; i += 2; out = out " "; continue }
                i++; continue
            }
            if (c == "/" && substr(s, i + 1, 1) == "*") { incomment = 1; i += 2; continue }
            if (c == "/" && substr(s, i + 1, 1) == "/") break
            if (c == "\"" || c == "\047") {
                q = c; i++
                while (i <= n) {
                    c = substr(s, i, 1)
                    if (c == "\\") { i += 2; continue }
                    i++
                    if (c == q) break
                }
                out = out q q; continue
            }
            out = out c; i++
        }
        return out
    }
    FNR == 1 { depth = 0; incomment = 0; inpp = 0; sig = ""; start = 0 }
    {
        raw = $0
        if (inpp) { inpp = (raw ~ /\\$/); next }
        if (!incomment && depth == 0 && raw ~ /^[ \t]*#/) { inpp = (raw ~ /\\$/); sig = ""; start = 0; next }
        s = strip(raw)
        n = length(s)
        if (depth == 0 && !start && s !~ /^[ \t]*$/) start = FNR
        for (i = 1; i <= n; i++) {
            c = substr(s, i, 1)
            if (c == "{") {
                if (depth == 0) {
                    t = sig " " substr(s, 1, i - 1)
                    gsub(/[ \t]+$/, "", t)
                    if (start && index(t, "(") && t ~ /\)$/) {
                        name = substr(t, 1, index(t, "(") - 1)
                        gsub(/[ \t*]+$/, "", name); sub(/.*[^A-Za-z0-9_]/, "", name)
                        fstart = start; fname = name; infn = 1
                    } else {
                        infn = 0
                    }
                }
                depth++
            } else if (c == "}") {
                if (depth > 0) depth--
                if (depth == 0) {
                    if (infn) printf "%s\t%d\t%s\t%d\n", FILENAME, fstart, fname, FNR - fstart + 1
                    infn = 0; sig = ""; start = 0
                }
            } else if (c == ";" && depth == 0) {
                sig = ""; start = 0
            }
        }
        if (depth == 0) {
            if (s ~ /^[ \t]*$/) { sig = ""; start = 0 }
            else if (s !~ /[;}][ \t]*$/) sig = sig " " s
        }
    }' "$@"
}

if [ "${1:-}" = "--list" ]; then
    shift
    fnlen "$@" | sort -t "$(printf '\t')" -k4,4nr
    trap - EXIT; rm -rf "$TMP"
    exit 0
fi

# ---- the counter itself, on made-up files ----
mk_fn() {  # mk_fn NAME BODY_LINES: a function whose signature, braces and body make BODY_LINES + 4 lines
    printf 'static int %s(int a,\n' "$1"
    printf '              int b)\n{\n'
    i=0; while [ $i -lt $(($2 - 1)) ]; do printf '    a += b; /* } { */\n'; i=$((i + 1)); done
    printf '    return a;\n}\n'
}
{
    printf '/* a comment with { and }\n   over two lines { */\n#define BRACE {\n#define TWO(x) \\\n    { x }\n\n'
    printf 'static const char *s = "}{";\nstatic const int tbl[] = {\n    1, 2,\n};\n\n'
    mk_fn short_one 75                  # 79 lines
    printf '\n/* why */\n'
    mk_fn exactly_max 76                # 80 lines
    printf '\n'
    mk_fn one_over 77                   # 81 lines
    printf '\nint tricky(void)\n{\n    char c = %s;\n    const char *q = "\\"{";\n    // }\n    return c + *q;\n}\n' "'}'"
} >"$TMP/probe.c"
fnlen "$TMP/probe.c" >"$TMP/probe.out"
got=$(awk -F '\t' '{ printf "%s:%s:%s ", $3, $2, $4 }' "$TMP/probe.out")
want="short_one:12:79 exactly_max:93:80 one_over:174:81 tricky:256:7 "
[ "$got" = "$want" ] && ok "the counter measures the made-up functions" \
    || bad "the counter measures the made-up functions" "got '$got', want '$want'"

# ---- the check fails on a long function (a copy of a core file with one made long) ----
f=$(ls harness/core/*.c | head -n 1)
{ cat "$f"; printf '\n'; mk_fn house_probe_long 90; } >"$TMP/long.c"
fnlen "$TMP/long.c" | awk -F '\t' -v m=$MAX_FN_LINES '$4 > m && $3 == "house_probe_long" { f = 1 } END { exit !f }' \
    && ok "a core file with a long function is an offender" \
    || bad "a core file with a long function is an offender" "not found in $TMP/long.c"

# ---- (a) command files ----
off=0
for f in harness/cli/*.c; do
    n=$(wc -l <"$f")
    if [ "$n" -gt $MAX_CLI_LINES ]; then
        echo "$f:1: file: $n lines (max $MAX_CLI_LINES)"
        off=$((off + 1))
    fi
done
[ $off -eq 0 ] && ok "command files at most $MAX_CLI_LINES lines" \
    || bad "command files at most $MAX_CLI_LINES lines" "$off file(s) over"

# ---- (b) functions of the harness core ----
fnlen harness/core/*.c >"$TMP/core.out"
[ -s "$TMP/core.out" ] && ok "the counter finds the core's functions" \
    || bad "the counter finds the core's functions" "none found"
awk -F '\t' -v m=$MAX_FN_LINES '$4 > m { printf "%s:%s: %s: %d lines (max %d)\n", $1, $2, $3, $4, m }' \
    "$TMP/core.out" >"$TMP/core.off"
cat "$TMP/core.off"
off=$(wc -l <"$TMP/core.off")
[ "$off" -eq 0 ] && ok "core functions at most $MAX_FN_LINES lines" \
    || bad "core functions at most $MAX_FN_LINES lines" "$off function(s) over"

finish
