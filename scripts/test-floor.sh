#!/usr/bin/env bash
# test-floor.sh — the floor pairing (docs/compatibility.md): the engine-protocol and end-to-end
# layers (tests/engine, tests/e2e) on Node 20 with the OLDEST @pulumi/pulumi the package claims (the
# floor of its peer range in package.json) and the Pulumi CLI v3.248.0.
#
# Usage: bash scripts/test-floor.sh [jest options as --name=value] [test paths]   (npm run test:floor)
#        (no paths: tests/engine and tests/e2e)
#
# The repository is copied (tracked and untracked-but-not-ignored files, no node_modules/dist) into
# a temporary directory, installed there with `npm ci` (from npm's cache when warm), and the floor
# SDK is installed over the locked one with `npm install --no-save`, so this checkout is never
# changed. Node 20 comes from the npm package node@20 (its binary ships inside the package), so
# the machine's own Node does not matter. The temporary directory is removed on exit.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLOOR_NODE_MAJOR=20
FLOOR_CLI_VERSION="v3.248.0"
NPM_FLAGS=(--no-audit --no-fund --prefer-offline)

log() { printf '[test-floor] %s\n' "$*" >&2; }

# The floor of the peer range, e.g. ">=3.139.0 <4" -> 3.139.0.
floor="$(node -e '
const range = require(process.argv[1]).peerDependencies["@pulumi/pulumi"];
const m = /^>=\s*(\d+\.\d+\.\d+)\b/.exec(range);
if (!m) { console.error(`peerDependencies["@pulumi/pulumi"] is "${range}", which has no ">=x.y.z" floor`); process.exit(1); }
console.log(m[1]);
' "$REPO_ROOT/package.json")"

work="$(mktemp -d "${TMPDIR:-/tmp}/kpa-floor-XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

log "Node $FLOOR_NODE_MAJOR, @pulumi/pulumi $floor (the peer-range floor), Pulumi CLI $FLOOR_CLI_VERSION, in $work"
mkdir -p "$work/repo" "$work/node"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$work/repo")

log "installing node@$FLOOR_NODE_MAJOR ..."
(cd "$work/node" && npm init -y >/dev/null && npm install "${NPM_FLAGS[@]}" "node@$FLOOR_NODE_MAJOR" >&2)
NODE_BIN_DIR="$work/node/node_modules/node/bin"

log "npm ci, then @pulumi/pulumi@$floor over the locked version ..."
cd "$work/repo"
npm ci "${NPM_FLAGS[@]}" >&2
npm install "${NPM_FLAGS[@]}" --no-save "@pulumi/pulumi@$floor" >&2

# Node 20 first on PATH, and NOT node_modules/.bin (whose `node` is the development pairing's Node 24):
# jest, the Pulumi language host and the dynamic-provider plugin all run this `node`.
export PATH="$NODE_BIN_DIR:$PATH"
export PULUMI_CLI_VERSION="$FLOOR_CLI_VERSION"
export PULUMI_ENSURE_NO_PATH=1 # exactly this CLI, even if a newer pulumi is on PATH
got_node="$(node --version)"
got_sdk="$(node -p 'require("@pulumi/pulumi/package.json").version')"
[ "${got_node%%.*}" = "v$FLOOR_NODE_MAJOR" ] || { log "ERROR: node is $got_node, expected v$FLOOR_NODE_MAJOR"; exit 1; }
[ "$got_sdk" = "$floor" ] || { log "ERROR: @pulumi/pulumi is $got_sdk, expected $floor"; exit 1; }
log "node $got_node, @pulumi/pulumi $got_sdk; setup took $(($(date +%s) - start))s"

node node_modules/typescript/bin/tsc -p tsconfig.json
node scripts/link-self.js
status=0
# Arguments that are not options (paths or patterns) replace the default layers; options (write them
# as --name=value) go to jest as they are.
patterns=()
options=()
for arg in "$@"; do
    case "$arg" in
    -*) options+=("$arg") ;;
    *) patterns+=("$arg") ;;
    esac
done
[ "${#patterns[@]}" -gt 0 ] || patterns=(tests/engine tests/e2e)
node node_modules/jest/bin/jest.js ${options[@]+"${options[@]}"} "${patterns[@]}" || status=$?
log "floor pairing finished in $(($(date +%s) - start))s (exit $status)"
exit "$status"
