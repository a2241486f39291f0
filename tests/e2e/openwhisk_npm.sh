#!/bin/sh
# End-to-end: the official `openwhisk` npm client (pinned by tests/e2e/npm/package-lock.json,
# installed by `npm ci` into $BUILD/npm-openwhisk)
# against `harvestbench serve`: create an action, invoke it blocking and not, fetch the activation,
# list, update, delete (tests/e2e/openwhisk_npm.js). When Node.js or the npm registry cannot be
# reached, it says so on a line starting with SKIPPED and counts nothing as passed.
. tests/e2e/lib.sh

SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

skip() { SKIP=$((SKIP + 1)); echo "SKIPPED: e2e/openwhisk_npm: $1"; finish; exit 0; }

command -v node > /dev/null 2>&1 || skip "node is not installed"
command -v npm > /dev/null 2>&1 || skip "npm is not installed"
# The client as tests/e2e/npm/package-lock.json pins it (npm ci installs exactly the lock), into
# the build directory, reinstalled only when the lock changes.
CLIENT="$BUILD/npm-openwhisk"
if ! cmp -s tests/e2e/npm/package-lock.json "$CLIENT/package-lock.json" ||
   [ ! -f "$CLIENT/node_modules/openwhisk/package.json" ]; then
    rm -rf "$CLIENT"
    mkdir -p "$CLIENT"
    cp tests/e2e/npm/package.json tests/e2e/npm/package-lock.json "$CLIENT/"
    if ! (cd "$CLIENT" && npm ci --no-audit --no-fund) > "$TMP/npm.log" 2>&1; then
        skip "npm could not install the pinned openwhisk client (registry unreachable?): $(tail -n 1 "$TMP/npm.log")"
    fi
fi
check "the npm client is installed" test -f "$CLIENT/node_modules/openwhisk/package.json"

"$HB" serve --port 0 --props "$TMP/props" > "$TMP/serve.out" 2> "$TMP/serve.err" &
SERVE_PID=$!
i=0
while [ $i -lt 200 ] && ! grep -q '^listening on' "$TMP/serve.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/serve.out")
check "serve listens" test -n "$PORT"

OW_APIHOST="http://127.0.0.1:$PORT" OW_KEY="$(sed -n 's/^AUTH=//p' "$TMP/props")" \
    node tests/e2e/openwhisk_npm.js "$PWD/$CLIENT/node_modules/openwhisk" > "$TMP/node.log" 2>&1
check "the client script exits 0" test $? -eq 0
while IFS= read -r line; do
    case "$line" in
        "ok "*) ok "${line#ok }" ;;
        "fail "*) bad "npm client" "${line#fail }" ;;
        *) echo "$line" ;;
    esac
done < "$TMP/node.log"
check "the client ran all 17 checks" test "$(grep -c '^ok \|^fail ' "$TMP/node.log")" -eq 17
finish
