#!/usr/bin/env bash
# Valgrind memcheck over the public API contract programs (built against an installed tapegrad,
# the way a user's program meets it) and one example's quick run. Fails on any invalid read or
# write, use of uninitialised memory, or definitely lost block.
#
# Usage: scripts/valgrind.sh [EXAMPLE]   (default autodiff_basics)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
example=${1:-autodiff_basics}
contract=${TAPEGRAD_CONTRACT_DIR:-$root/../shared/contract}
jobs=$(nproc)
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "valgrind: building and installing tapegrad (RelWithDebInfo) in $work"
cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$work/prefix" \
  -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=ON -DTAPEGRAD_BUILD_BENCHMARKS=OFF >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j "$jobs" --target tapegrad_autodiff tapegrad_nn "$example" >"$work/build.log" 2>&1 \
  || { tail -n 60 "$work/build.log"; exit 1; }
cmake --install "$work/build" >/dev/null

programs=()
if [[ -d $contract ]]; then
  mkdir -p "$work/user"
  {
    echo "cmake_minimum_required(VERSION 3.20)"
    echo "project(tapegrad_contract CXX)"
    echo "set(CMAKE_CXX_STANDARD 20)"
    echo "find_package(tapegrad CONFIG REQUIRED)"
    for part in autodiff nn; do
      echo "add_executable(contract_$part \"$contract/contract_$part.cpp\")"
      echo "target_include_directories(contract_$part PRIVATE \"$contract\")"
      echo "target_link_libraries(contract_$part PRIVATE tapegrad::$part)"
    done
  } >"$work/user/CMakeLists.txt"
  cmake -S "$work/user" -B "$work/user/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/user.log" 2>&1 || { cat "$work/user.log"; exit 1; }
  cmake --build "$work/user/build" -j "$jobs" >"$work/user-build.log" 2>&1 || { tail -n 60 "$work/user-build.log"; exit 1; }
  programs+=("$work/user/build/contract_autodiff" "$work/user/build/contract_nn")
else
  echo "valgrind: no contract programs at $contract; checking the example only"
fi

# One BLAS thread and a generic kernel: valgrind emulates a plain x86-64 CPU.
export OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell
status=0
run() {
  local name=$1
  shift
  local log="$work/$name.valgrind.log"
  if valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
      --track-origins=yes --error-exitcode=99 --log-file="$log" "$@" >"$work/$name.out" 2>&1; then
    echo "valgrind $name: $(grep -E 'ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== //'); $(grep -E 'definitely lost' "$log" | sed 's/^==[0-9]*== *//' || echo 'definitely lost: 0 bytes in 0 blocks (no leaks possible)')"
  else
    status=1
    echo "valgrind $name: FAILED"
    grep -E -A12 'Invalid|uninitialised|definitely lost' "$log" | head -n 80 || tail -n 40 "$log"
    tail -n 5 "$work/$name.out"
  fi
}
for p in "${programs[@]}"; do run "$(basename "$p")" "$p"; done
run "$example" "$work/build/examples/$example" --out "$work/example_out"
exit $status
