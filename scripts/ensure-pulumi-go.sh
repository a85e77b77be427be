#!/usr/bin/env bash
# ensure-pulumi-go.sh — build the Go pieces the provider plugin's SDK tests need, through the Go
# module proxy, pinned by committed wrapper modules (no binaries in git):
#   pulumi-language-go  the Go language host (tools/pulumi-language-go: sdk/v3 v3.60.0, the newest
#                       release tried that still contains it; its own module is not served here)
#   pulumi-gen-sdk      the SDK generators of pkg/v3 v3.248.0 for go, nodejs and python
#                       (tools/pulumi-gen-sdk) — what `pulumi package gen-sdk` runs inside the
#                       language hosts, which are not available here for v3.248.0
# stdout: one line, the bin dir holding both. Cached in
#   ${PULUMI_CLI_CACHE:-$HOME/.cache/pulumi-alicloud-keypair-attachment}/pulumi-go-tools/<fingerprint>/bin
set -euo pipefail
{
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$(cd "$SCRIPT_DIR/../tools" && pwd)"
CACHE_ROOT="${PULUMI_CLI_CACHE:-${HOME:?HOME is not set}/.cache/pulumi-alicloud-keypair-attachment}"
log() { printf '[ensure-pulumi-go] %s\n' "$*" >&2; }

fingerprint="$(cd "$TOOLS" && find pulumi-language-go pulumi-gen-sdk -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
BIN_DIR="$CACHE_ROOT/pulumi-go-tools/$fingerprint/bin"
if [ -x "$BIN_DIR/pulumi-language-go" ] && [ -x "$BIN_DIR/pulumi-gen-sdk" ]; then printf '%s\n' "$BIN_DIR"; exit 0; fi
command -v go >/dev/null 2>&1 || { log "ERROR: Go is required"; exit 1; }
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.pulumi-go-tools.lock"
flock 9
if [ -x "$BIN_DIR/pulumi-language-go" ] && [ -x "$BIN_DIR/pulumi-gen-sdk" ]; then printf '%s\n' "$BIN_DIR"; exit 0; fi
mkdir -p "$BIN_DIR"
tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
log "building pulumi-language-go (sdk/v3 v3.60.0) ..."
(cd "$TOOLS/pulumi-language-go" && go build -trimpath -ldflags "-s -w" -o "$tmp/pulumi-language-go" github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go)
log "building pulumi-gen-sdk (pkg/v3 v3.248.0; first build: minutes) ..."
(cd "$TOOLS/pulumi-gen-sdk" && go build -trimpath -ldflags "-s -w" -o "$tmp/pulumi-gen-sdk" .)
mv -f "$tmp/pulumi-language-go" "$tmp/pulumi-gen-sdk" "$BIN_DIR/"
log "done: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
exit 0
}
