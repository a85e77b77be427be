#!/usr/bin/env bash
# ensure-sshd.sh — make Debian's OpenSSH server and client available for the
# online-activation tests (tests/online/), which start a real sshd on loopback.
#
# Idempotent: when /usr/sbin/sshd, ssh and ssh-keygen are all present it does
# nothing and exits 0. Otherwise it installs openssh-server and openssh-client
# with apt-get (running `apt-get update` once first only if the package is not
# known to apt yet). It never starts or enables the system's ssh service: the
# tests run their own sshd with their own config.
#
# Needs root (or sudo) and a reachable Debian mirror. Exit status is non-zero,
# with the reason on stderr, when installation is impossible.
#
# Usage: bash scripts/ensure-sshd.sh
set -euo pipefail

have_all() {
    [[ -x /usr/sbin/sshd ]] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1
}

if have_all; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-sshd: /usr/sbin/sshd is missing and apt-get is not available; install openssh-server by hand" >&2
    exit 1
fi

sudo_cmd=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "ensure-sshd: /usr/sbin/sshd is missing and installing it needs root (no sudo found)" >&2
        exit 1
    fi
fi

# Other processes (another helper, unattended upgrades) may hold the dpkg lock:
# wait for it rather than fail (seconds).
lock_timeout_seconds=600
apt=("${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=${lock_timeout_seconds}")

# Refresh the package lists only when apt does not know a candidate yet
# (a fresh container usually has empty lists).
if ! apt-cache policy openssh-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${apt[@]}" update -q >&2
fi

# policy-rc.d keeps the package's postinst from starting the system sshd in a
# container; restore whatever was there afterwards.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ "$(id -u)" -eq 0 && ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
cleanup() {
    if [[ "$created_policy" -eq 1 ]]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

"${apt[@]}" install -y -q --no-install-recommends openssh-server openssh-client >&2

if ! have_all; then
    echo "ensure-sshd: apt-get finished but /usr/sbin/sshd, ssh or ssh-keygen is still missing" >&2
    exit 1
fi
