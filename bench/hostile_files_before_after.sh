#!/usr/bin/env bash
# The readers' peak memory and time on hostile files, before the strict checks and now, in one
# run under the shared benchmark lock. "Before" is revision BEFORE (default 3e10aaf: main at
# 1e0fb27 plus bench/hostile_files.cpp), exported and built once in BEFORE_DIR; it runs this
# tree's hostile_files.cpp, so both sides load the same files.
# Usage: bench/hostile_files_before_after.sh [BUILD_DIR]   (this tree's build; default: build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
before_rev=${BEFORE:-3e10aaf}
before_dir=${BEFORE_DIR:-${TMPDIR:-/tmp}/tapegrad-hostile-before-$before_rev}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

if [[ ! -x "$before_dir/build/bench/hostile_files" ]]; then
  rm -rf "$before_dir"
  mkdir -p "$before_dir"
  git -C "$root" archive "$before_rev" | tar -x -C "$before_dir"
  cp "$root/bench/hostile_files.cpp" "$before_dir/bench/"
  cmake -S "$before_dir" -B "$before_dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DTAPEGRAD_BUILD_BENCHMARKS=ON >/dev/null
fi
cmake --build "$before_dir/build" --target hostile_files >/dev/null
cmake --build "$build" --target hostile_files >/dev/null

flock /tmp/tapegrad-bench.lock bash -c "
  echo '### before ($before_rev)'; '$before_dir/build/bench/hostile_files'
  echo; echo '### after ($(git -C "$root" rev-parse --short HEAD))'; '$build/bench/hostile_files'"
