#!/usr/bin/env bash
# Install the Debian 12 packages mxu needs to build and test. Idempotent and quiet
# when nothing is missing. Called by make; safe to run by hand.
#   install-deps.sh [--check]     --check only lists what is missing (exit 1 if any)
set -euo pipefail

packages=(
    build-essential g++ make pkg-config
    libcriterion-dev
    verilator iverilog
    zlib1g-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = "--check" ]; then
    echo "missing Debian packages: ${missing[*]}"
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "mxu: missing Debian packages: ${missing[*]}" >&2
    echo "mxu: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "mxu: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
