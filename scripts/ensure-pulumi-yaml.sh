#!/usr/bin/env bash
# ensure-pulumi-yaml.sh — make the Pulumi YAML language host (pulumi-language-yaml) available,
# built from its Go module through the Go module proxy (as ensure-pulumi.sh builds the CLI).
#
# stdout: exactly one line, the directory that contains `pulumi-language-yaml` (put it on PATH
#         after the CLI's bin dir; the CLI then warns "using pulumi-language-yaml from $PATH",
#         because official releases ship it next to `pulumi`).
# Cached in ${PULUMI_CLI_CACHE:-$HOME/.cache/pulumi-alicloud-keypair-attachment}/pulumi-yaml-<version>/bin
# (outside the repo). First build: a few minutes on 2 cores; later runs: instant.
set -euo pipefail
{
YAML_VERSION="v1.25.0"   # served by the module proxy (github.com/pulumi/pulumi-yaml); needs Go >= 1.24
CACHE_ROOT="${PULUMI_CLI_CACHE:-${HOME:?HOME is not set}/.cache/pulumi-alicloud-keypair-attachment}"
BIN_DIR="$CACHE_ROOT/pulumi-yaml-$YAML_VERSION/bin"
log() { printf '[ensure-pulumi-yaml] %s\n' "$*" >&2; }

# Output captured first: with pipefail, `grep -q` closing the pipe early would fail the check at random (SIGPIPE).
runs() {
  [ -x "$BIN_DIR/pulumi-language-yaml" ] || return 1
  local usage
  usage="$("$BIN_DIR/pulumi-language-yaml" -h 2>&1 || true)"
  grep -q -- '-root' <<<"$usage"
}

if runs; then printf '%s\n' "$BIN_DIR"; exit 0; fi
command -v go >/dev/null 2>&1 || { log "ERROR: Go is required to build pulumi-language-yaml"; exit 1; }
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.pulumi-yaml-$YAML_VERSION.lock"
flock 9
if runs; then printf '%s\n' "$BIN_DIR"; exit 0; fi
tmp="$(mktemp -d "$CACHE_ROOT/.yaml-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "building github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION with $(go version | cut -d' ' -f3) ..."
(cd "$tmp" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$tmp/bin" \
  go install -trimpath -ldflags "-s -w" "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION") \
  || { log "ERROR: go install failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"; exit 1; }
mkdir -p "$BIN_DIR"
mv -f "$tmp/bin/pulumi-language-yaml" "$BIN_DIR/pulumi-language-yaml"
runs || { log "ERROR: the built pulumi-language-yaml does not run"; exit 1; }
log "done: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
exit 0
}
