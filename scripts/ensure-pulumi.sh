#!/usr/bin/env bash
# ensure-pulumi.sh — make the Pulumi CLI (v3.274.1 by default, or another pinned
# version; + the nodejs language host) available on a machine that has Go but cannot download Pulumi's release
# binaries (get.pulumi.com unreachable). Builds them from source through the Go
# module proxy, pinned by tools/pulumi-cli/{go.mod,go.sum}.
#
# Usage:
#   PATH="$(scripts/ensure-pulumi.sh | tail -1):$PATH"
#   pulumi version        # -> v3.274.1 (the default)
#   scripts/ensure-pulumi.sh v3.248.0          # or PULUMI_CLI_VERSION=v3.248.0
# A version needs its own wrapper module: tools/pulumi-cli (v3.248.0) or
# tools/pulumi-cli-<version without v> (e.g. tools/pulumi-cli-3.274.1); see tools/README.md.
# Optionally append the project's SDK dir AFTER the bin dir (see "Dynamic providers"):
#   PATH="$(scripts/ensure-pulumi.sh | tail -1):$PWD/node_modules/@pulumi/pulumi:$PATH"
#
# stdout: exactly one line, the directory that contains `pulumi`,
#         `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs` (always
#         the last line). Progress -> stderr.
#
# Behaviour:
#   1. If a `pulumi` on PATH reports >= the requested version and `pulumi-language-nodejs` is
#      available (next to it or on PATH), print that directory and exit.
#   2. Else if the cached build exists, matches the committed wrapper module and
#      runs, print its bin dir and exit.
#   3. Else build (first build: several minutes — ~5-20 min on 2 cores; later
#      builds reuse Go's module/build caches) into
#        ${PULUMI_CLI_CACHE:-$HOME/.cache/pulumi-alicloud-keypair-attachment}/pulumi-<version>/bin/
#      (outside the repo), then print that dir.
#   Idempotent and safe to run concurrently (flock, or a mkdir lock if flock is
#   missing); binaries are renamed into place atomically.
#
# Dynamic providers: `pulumi.dynamic.Resource` needs the plugin
# `pulumi-resource-pulumi-nodejs`. Official Pulumi releases ship it next to the
# `pulumi` binary; it is a tiny shell script (also shipped in the npm SDK at
# node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs) that runs
# `node $(node -e "require.resolve('@pulumi/pulumi/cmd/dynamic-provider')")`
# from the program's directory, i.e. it always uses the *project's own* SDK.
# This script writes the same shim into the bin dir (a copy, not a symlink, so
# nothing points into any repo). Callers MAY additionally/alternatively put
# `<project>/node_modules/@pulumi/pulumi` on PATH (second usage line above):
# that works too, but if it comes BEFORE the bin dir the engine prints
# "warning: using pulumi-resource-pulumi-nodejs from $PATH at ..." on every
# operation, so put the bin dir first.
#
# Environment knobs:
#   PULUMI_CLI_VERSION      the CLI version to build (default v3.274.1; the first argument wins)
#   PULUMI_CLI_CACHE        cache root (default $HOME/.cache/pulumi-alicloud-keypair-attachment)
#   PULUMI_ENSURE_FORCE=1   ignore any pulumi on PATH and the cached build; rebuild
#   PULUMI_ENSURE_NO_PATH=1 ignore any pulumi on PATH (use/build the pinned one)
#   PULUMI_BUILD_JOBS       go build -p (default: number of CPUs, capped at 4)
#   GOPROXY etc.            honoured as usual (the Go module proxy must be reachable
#                           on the first build, unless the module cache is warm)
#
# Reproducibility: built with -mod=readonly from the committed go.sum,
# -trimpath, -buildvcs=false, -ldflags=-s -w, CGO_ENABLED=0, and
#   -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=<version>
# (so `pulumi version` and plugin version checks report that version). The nodejs
# language host is built from tools/pulumi-language-nodejs (sdk/v3 v3.68.0, the
# last release whose module contains it; see that go.mod) and reports v3.68.0.
set -euo pipefail

# The whole body is one { ... } block so bash parses it completely before running:
# editing/pulling this file while a (long) build runs cannot corrupt that run.
{

# The default is the CLI of the development pairing (Node 24, newest @pulumi/pulumi; docs/compatibility.md).
DEFAULT_PULUMI_VERSION="v3.274.1"
PULUMI_VERSION="${1:-${PULUMI_CLI_VERSION:-$DEFAULT_PULUMI_VERSION}}"
PULUMI_VERSION="v${PULUMI_VERSION#v}"
VERSION_PKG="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# One wrapper module per CLI version (its go.mod/go.sum pin every module of that release):
# tools/pulumi-cli-<version> (e.g. tools/pulumi-cli-3.274.1), or tools/pulumi-cli for v3.248.0
# (its original name, kept so existing caches stay valid).
WRAPPER_DIR="$REPO_ROOT/tools/pulumi-cli-${PULUMI_VERSION#v}"
if [ ! -f "$WRAPPER_DIR/go.mod" ] && grep -q "github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION " "$REPO_ROOT/tools/pulumi-cli/go.mod" 2>/dev/null; then
  WRAPPER_DIR="$REPO_ROOT/tools/pulumi-cli"
fi
# The nodejs language host: see tools/pulumi-language-nodejs/go.mod for why it has its own module.
LANGHOST_DIR="$REPO_ROOT/tools/pulumi-language-nodejs"
LANGHOST_VERSION="v3.68.0"

CACHE_ROOT="${PULUMI_CLI_CACHE:-${HOME:?HOME is not set}/.cache/pulumi-alicloud-keypair-attachment}"
PREFIX="$CACHE_ROOT/pulumi-$PULUMI_VERSION"
BIN_DIR="$PREFIX/bin"
STAMP_FILE="$PREFIX/build.stamp"
LOCK_FILE="$CACHE_ROOT/.pulumi-$PULUMI_VERSION.lock"

log() { printf '[ensure-pulumi] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

export PULUMI_SKIP_UPDATE_CHECK=true

# --- helpers ------------------------------------------------------------------

# version_ge A B: true if semver A >= B (leading "v" ignored).
version_ge() {
  local a="${1#v}" b="${2#v}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -V | head -n1)" = "$b" ]
}

# Print the version reported by a pulumi binary, or nothing.
pulumi_version_of() {
  "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]' || true
}

# Fingerprint of everything that determines the build.
wrapper_fingerprint() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then sum="sha256sum"; else sum="shasum -a 256"; fi
  (
    cd "$REPO_ROOT/tools"
    printf '%s\n' "$PULUMI_VERSION"
    find "$(basename "$WRAPPER_DIR")" pulumi-language-nodejs -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | LC_ALL=C sort | while read -r f; do
      printf '%s ' "$f"; $sum <"$f" | cut -d' ' -f1
    done
  ) | $sum | cut -d' ' -f1
}

# The language host has no -version flag; its usage text names its own flags.
langhost_runs() {
  # grep without -q reads all the usage text: with -q it may exit first, and pipefail would see the host's SIGPIPE.
  "$1" -h 2>&1 | grep -- '-nodeargs' >/dev/null
}

cached_build_ok() {
  [ -x "$BIN_DIR/pulumi" ] && [ -x "$BIN_DIR/pulumi-language-nodejs" ] && [ -f "$STAMP_FILE" ] || return 1
  [ "$(cat "$STAMP_FILE" 2>/dev/null)" = "$(wrapper_fingerprint)" ] || return 1
  [ "$(pulumi_version_of "$BIN_DIR/pulumi")" = "$PULUMI_VERSION" ] || return 1
  langhost_runs "$BIN_DIR/pulumi-language-nodejs" || return 1
}

# The dynamic-provider plugin shim (same as upstream's, with "$@" quoted).
install_dynamic_provider_shim() {
  local dest="$BIN_DIR/pulumi-resource-pulumi-nodejs" tmp
  local content='#!/bin/sh
# Installed by scripts/ensure-pulumi.sh (same as @pulumi/pulumi/pulumi-resource-pulumi-nodejs):
# runs the dynamic provider host of the @pulumi/pulumi SDK resolved from the current (program) directory.
PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve('"'"'@pulumi/pulumi/cmd/dynamic-provider'"'"'))")
if [ ! -z "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then
    exec node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" "$@"
fi'
  if [ -x "$dest" ] && [ "$(cat "$dest")" = "$content" ]; then return 0; fi
  mkdir -p "$BIN_DIR"
  tmp="$(mktemp "$BIN_DIR/.shim.XXXXXX")"
  printf '%s\n' "$content" >"$tmp" && chmod 755 "$tmp" && mv -f "$tmp" "$dest"
}

# --- 1. a pulumi on PATH that is new enough -----------------------------------
if [ -z "${PULUMI_ENSURE_FORCE:-}" ] && [ -z "${PULUMI_ENSURE_NO_PATH:-}" ] && command -v pulumi >/dev/null 2>&1; then
  path_pulumi="$(command -v pulumi)"
  path_dir="$(cd "$(dirname "$path_pulumi")" && pwd)"
  v="$(pulumi_version_of "$path_pulumi")"
  if [ -n "$v" ] && version_ge "$v" "$PULUMI_VERSION"; then
    if [ -x "$path_dir/pulumi-language-nodejs" ] || command -v pulumi-language-nodejs >/dev/null 2>&1; then
      log "using pulumi $v from PATH ($path_pulumi)"
      printf '%s\n' "$path_dir"
      exit 0
    fi
    log "pulumi $v on PATH but no pulumi-language-nodejs next to it; using the pinned build"
  elif [ -n "$v" ]; then
    log "pulumi on PATH is $v (< $PULUMI_VERSION); using the pinned build"
  fi
fi

# --- 2. cached build (fast path, no lock needed: files are renamed in atomically)
if [ -z "${PULUMI_ENSURE_FORCE:-}" ] && cached_build_ok; then
  install_dynamic_provider_shim
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

# --- 3. build (under a lock) ----------------------------------------------------
[ -f "$WRAPPER_DIR/go.mod" ] || die "no wrapper module for pulumi $PULUMI_VERSION: $WRAPPER_DIR/go.mod is missing (tools/README.md says how to add one)"
command -v go >/dev/null 2>&1 || die "Go is required to build the Pulumi CLI (https://go.dev/dl/); go.mod asks for go $(awk '/^go /{print $2}' "$WRAPPER_DIR/go.mod")"
mkdir -p "$CACHE_ROOT"

release_lock() { :; }
if command -v flock >/dev/null 2>&1; then
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another ensure-pulumi.sh is building; waiting for $LOCK_FILE ..."
    flock 9
  fi
else
  # Portable fallback (e.g. macOS): mkdir is atomic. Stale locks (dead pid) are broken.
  LOCK_DIR="$LOCK_FILE.d"
  waited=0
  until mkdir "$LOCK_DIR" 2>/dev/null; do
    holder="$(cat "$LOCK_DIR/pid" 2>/dev/null || true)"
    if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
      log "breaking stale lock held by dead pid $holder"
      rm -rf "$LOCK_DIR"; continue
    fi
    [ "$waited" = 0 ] && log "another ensure-pulumi.sh is building; waiting for $LOCK_DIR ..."
    waited=1; sleep 2
  done
  echo $$ >"$LOCK_DIR/pid"
  release_lock() { rm -rf "$LOCK_DIR"; }
fi

BUILD_TMP=""
cleanup() {
  [ -n "$BUILD_TMP" ] && rm -rf "$BUILD_TMP"
  release_lock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Someone else may have finished the build while we waited.
if [ -z "${PULUMI_ENSURE_FORCE:-}" ] && cached_build_ok; then
  log "pinned pulumi $PULUMI_VERSION already built by a concurrent run"
  install_dynamic_provider_shim
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

ncpu="$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 2)"
jobs="${PULUMI_BUILD_JOBS:-$ncpu}"
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=2
[ "$jobs" -le 4 ] || jobs=4

mkdir -p "$PREFIX"
BUILD_TMP="$(mktemp -d "$PREFIX/.build.XXXXXX")"

export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"   # strictly from the committed go.mod/go.sum; no git stamping (byte-reproducible)
export GOMAXPROCS="$jobs"
export GOWORK=off                # never pick up a go.work from a parent dir
LDFLAGS="-s -w -X $VERSION_PKG=$PULUMI_VERSION"

log "building Pulumi CLI $PULUMI_VERSION from source with $(go version | cut -d' ' -f3) (-p $jobs, CGO_ENABLED=0)"
log "with cold Go caches this downloads ~800 modules and compiles the whole CLI: expect several minutes (~5-20 min on 2 cores); warm: ~10s"
log "output: $BIN_DIR"
start=$(date +%s)

log "[1/3] go mod download (verifying against tools/$(basename "$WRAPPER_DIR")/go.sum and tools/pulumi-language-nodejs/go.sum) ..."
(cd "$WRAPPER_DIR" && go mod download && cd "$LANGHOST_DIR" && go mod download) || die "go mod download failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"

log "[2/3] go build pulumi (the big one) ..."
(cd "$WRAPPER_DIR" && go build -p "$jobs" -trimpath -ldflags "$LDFLAGS" \
  -o "$BUILD_TMP/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || die "building pulumi failed"
log "      pulumi built after $(( $(date +%s) - start ))s"

log "[3/3] go build pulumi-language-nodejs ($LANGHOST_VERSION) ..."
(cd "$LANGHOST_DIR" && go build -p "$jobs" -trimpath -ldflags "-s -w -X $VERSION_PKG=$LANGHOST_VERSION" \
  -o "$BUILD_TMP/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) || die "building pulumi-language-nodejs failed"

got="$(pulumi_version_of "$BUILD_TMP/pulumi")"
[ "$got" = "$PULUMI_VERSION" ] || die "built pulumi reports '$got', expected $PULUMI_VERSION"
langhost_runs "$BUILD_TMP/pulumi-language-nodejs" || die "built pulumi-language-nodejs does not run"

mkdir -p "$BIN_DIR"
for b in pulumi pulumi-language-nodejs; do
  mv -f "$BUILD_TMP/$b" "$BIN_DIR/$b"     # same filesystem: atomic rename
done
install_dynamic_provider_shim
wrapper_fingerprint >"$BUILD_TMP/stamp" && mv -f "$BUILD_TMP/stamp" "$STAMP_FILE"

log "done in $(( $(date +%s) - start ))s: $(ls -1 "$BIN_DIR" | tr '\n' ' ')"
log "put the bin dir FIRST on PATH (node_modules/@pulumi/pulumi after it, if at all)"
printf '%s\n' "$BIN_DIR"
exit 0
}
