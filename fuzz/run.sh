#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan, and runs each one for a bounded time
# starting from the seed corpus in fuzz/corpus/<target>. Any crash, sanitizer report, leak,
# timeout or out-of-memory stops that target and fails the script; the reproducer is written
# to <build>/artifacts/. Prints executions per second and total runs per target.
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s; targets: safetensors idx tape)
#   TAPEGRAD_FUZZ_BUILD=dir   build directory (default build-fuzz)
#   Reproduce a finding: <build>/fuzz/fuzz_<target> <build>/artifacts/<file>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(safetensors idx tape)
build=${TAPEGRAD_FUZZ_BUILD:-$root/build-fuzz}

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: installing clang and libFuzzer (Debian: clang, libclang-rt-14-dev)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTAPEGRAD_BUILD_FUZZERS=ON -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF \
  -DTAPEGRAD_BUILD_BENCHMARKS=OFF -DTAPEGRAD_INSTALL=OFF -DTAPEGRAD_SANITIZE="address;undefined" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# One BLAS thread: libFuzzer runs one input at a time, and BLAS thread pools only add noise.
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
status=0
summary=""
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"  # grows as the fuzzer finds new paths; the seeds stay untouched
  mkdir -p "$corpus"
  log="$build/fuzz_$t.log"
  echo "fuzz: $t for ${secs}s"
  if ! "$build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/$t-" "$corpus" "$root/fuzz/corpus/$t" >"$log" 2>&1; then
    status=1
    echo "fuzz: $t FAILED; the end of $log:"
    tail -n 40 "$log"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
  summary+=$(printf '%-12s %10s runs  %7s exec/s  coverage %s edges  corpus %s files' "$t" "$runs" "$rate" "$cov" \
    "$(ls "$corpus" | wc -l)")$'\n'
done
echo "fuzz summary (${secs}s per target):"
printf '%s' "$summary"
exit $status
