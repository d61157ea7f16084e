#!/usr/bin/env bash
# Installs the Debian packages tapegrad needs, only those missing; safe to run again.
# Usage: scripts/setup.sh [--with-data]   (--with-data adds the Fashion-MNIST package)
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libopenblas-dev libfmt-dev libgtest-dev libgmock-dev
          libbenchmark-dev nlohmann-json3-dev zlib1g-dev doxygen libopenmpi-dev openmpi-bin)
[[ "${1:-}" == "--with-data" ]] && packages+=(dataset-fashion-mnist)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
