#!/usr/bin/env bash
# Sanitizer runs (README, contributing):
#   scripts/sanitize.sh [address]   ASan + UBSan (-fno-sanitize-recover=all) in build-asan: every
#                                   test (the soak in its short form) and every example's quick run
#   scripts/sanitize.sh thread      TSan in build-tsan: the threads tests, the 4-thread
#                                   concurrency test, the optimizers' multi-threaded step and
#                                   the thin and packed matrix products split across threads,
#                                   compiled steps replayed by two threads at once, and a
#                                   replay whose hooks hand gradients to other threads
# Any finding aborts the test that hit it, so the script fails. BUILD_DIR overrides the directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-address}
jobs=$(nproc)

# OpenBLAS is not built with the sanitizers. Its worker threads synchronise through their own
# spin-waits, which TSan cannot see, so every matrix product handed to a worker would be
# reported as a race in OpenBLAS's code; with one BLAS thread each product runs on the calling
# thread, where every access is instrumented. (Results are bit-identical either way at these sizes.)
export OPENBLAS_NUM_THREADS=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Impossible sizes (zeros({2^40})) must reach the library as a failed allocation, which it turns
# into a ValueError; by default the sanitizers' allocators abort on them instead.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export TSAN_OPTIONS=allocator_may_return_null=1:halt_on_error=1:second_deadlock_stack=1

case $mode in
  address)
    build=${BUILD_DIR:-$root/build-asan}
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE="address;undefined" \
      -DTAPEGRAD_BUILD_TESTS=ON -DTAPEGRAD_BUILD_EXAMPLES=ON -DTAPEGRAD_BUILD_BENCHMARKS=OFF >/dev/null
    cmake --build "$build" -j "$jobs"
    # Everything: unit tests, reliability tests (soak short form) and the examples' quick runs.
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  thread)
    build=${BUILD_DIR:-$root/build-tsan}
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE=thread \
      -DTAPEGRAD_BUILD_TESTS=ON -DTAPEGRAD_BUILD_EXAMPLES=OFF -DTAPEGRAD_BUILD_BENCHMARKS=OFF >/dev/null
    cmake --build "$build" -j "$jobs" --target autodiff_threads_test reliability_concurrency_test reliability_anomaly_test \
      nn_optim_test kernels_thin_gemm_test kernels_packed_gemm_test autodiff_compile_test autodiff_compile_hooks_test
    # The threads tests of the engine and its worker pool, the concurrency tests (label
    # `threads`), anomaly detection's per-thread switch, and the loops and products split
    # across threads.
    ctest --test-dir "$build" --output-on-failure -j "$jobs" -R '^(Threads|Concurrency|Anomaly|CompileThreads)\.|CompileHooks\.AHookMayHand|Optimizer\.ThreadSplit|ThinGemm|PackedGemm'
    ;;
  *)
    echo "usage: $0 [address|thread]" >&2
    exit 2
    ;;
esac
echo "sanitize.sh $mode: no findings"
