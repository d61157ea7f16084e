#!/usr/bin/env bash
# Builds tapegrad and runs the main demo: the two-layer network on the planar flower data, then
# the 10-class network on Fashion-MNIST. Reports land in out/ (open out/*/report.html).
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

"$root/scripts/setup.sh" --with-data
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target two_layer_planar fashion_mnist
"$build/examples/two_layer_planar" --out "$root/out/two_layer_planar"
"$build/examples/fashion_mnist" --full --out "$root/out/fashion_mnist"
