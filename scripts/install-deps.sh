#!/usr/bin/env bash
# Install the Debian 12 packages mxu needs to build and test. Idempotent and quiet
# when nothing is missing. Called by make; safe to run by hand.
#   install-deps.sh [--check] [GROUP...]
#     GROUP: base (default: build and test), fuzz (make fuzz), plots (make plots),
#            synth (make synth), train (models/ training scripts)
#     --check only lists what is missing (exit 1 if any)
set -euo pipefail

check=0
groups=()
for a in "$@"; do
    case "$a" in
        --check) check=1 ;;
        base|fuzz|plots|synth|train) groups+=("$a") ;;
        *) echo "install-deps.sh: unknown group '$a'" >&2; exit 2 ;;
    esac
done
[ ${#groups[@]} -eq 0 ] && groups=(base)

packages=()
for g in "${groups[@]}"; do
    case "$g" in
        base) packages+=(build-essential g++ make pkg-config libcriterion-dev verilator iverilog
                         zlib1g-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev
                         python3-onnx python3-numpy libusb-1.0-0-dev umockdev libumockdev-dev
                         libglib2.0-dev darknet dataset-fashion-mnist) ;;
        fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
        plots) packages+=(gnuplot-nox) ;;
        synth) packages+=(yosys) ;;
        train) packages+=(python3-torch libopenblas0-pthread python3-onnx python3-numpy
                          dataset-fashion-mnist) ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$check" = 1 ]; then
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
