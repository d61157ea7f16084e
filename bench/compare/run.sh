#!/usr/bin/env bash
# The side-by-side comparison: builds tapegrad's (eager and under ad::compile), LibTorch's,
# PyTorch's and NumPy's versions of the four workloads, runs them on the same data and initial weights with 2
# threads, interleaved round by round so machine noise hits all of them alike, and prints one
# markdown report (report.py).
#
#   bench/compare/run.sh [--rounds N] [--no-main] [--no-scaling] [--no-perop] [--commit REV] [--out FILE]
#
# --commit REV benchmarks a clean snapshot of that revision (git archive) instead of the working
# tree. Environment: BUILD_DIR (default <repo>/build-compare), DATA_DIR (default
# /tmp/tapegrad-compare-data), OPENBLAS_CORETYPE (default: chosen below).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=5 main=1 scaling=1 perop=1 commit="" out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --no-scaling) scaling=0; shift ;;
    --no-perop) perop=0; shift ;;
    --no-main) main=0; shift ;;
    --commit) commit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-$root/build-compare}
data=${DATA_DIR:-/tmp/tapegrad-compare-data}
py=/usr/bin/python3  # Debian's Python: python3-torch and python3-numpy live there, not in a pyenv
log() { echo "[compare] $*" >&2; }

# 1. Reference packages (never needed by the library or its tests).
need=()
for p in cmake ninja-build g++ libopenblas-dev libfmt-dev libtorch-dev python3-torch python3-numpy dataset-fashion-mnist; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. Build (Release, -O3): tapegrad from this tree or a snapshot, LibTorch, the sgemm yardstick.
src=$root
if [[ -n $commit ]]; then
  commit=$(git -C "$root" rev-parse --short "$commit")
  src=$build/snapshot
  rm -rf "$src" && mkdir -p "$src"
  git -C "$root" archive "$commit" | tar -x -C "$src"
  cp -r "$here"/. "$src/bench/compare/"  # the harness itself always from this tree
fi
log "building in $build (tapegrad from $src)"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_SOURCE_DIR="$src" >/dev/null
cmake --build "$build" -j2 >&2

# 3. Same threads for everyone; Debian's PyTorch needs passive OpenMP waiting or its spinning
#    threads fight OpenBLAS's. OpenBLAS 0.3.21 does not know newer CPUs (e.g. family 6 model
#    207) and falls back to its SSE3 "Prescott" kernels; then pick the newest kernel the CPU
#    runs, for every implementation alike (all four use the same OpenBLAS).
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
core=$(OPENBLAS_VERBOSE=2 "$build/sgemm_peak" 0 2>&1 || true)
if [[ -z ${OPENBLAS_CORETYPE:-} && $core == *"Core: Prescott"* ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
log "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<auto>}"

# 4. Data and initial weights, once.
[[ -f $data/w4_W2.f32 ]] || "$py" "$here/make_data.py" "$data" >&2

# 5. Measurements: each (workload, implementation) runs in its own process (its own peak RSS),
#    `rounds` times, the implementations' order rotating each round.
results=$(mktemp /tmp/tapegrad-compare-XXXX.jsonl)
run_impl() {  # impl workload reps
  case "$1" in
    tapegrad) "$build/tapegrad_compare" "$2" "$data" "$3" ;;
    tapegrad-compiled) "$build/tapegrad_compare" "$2" "$data" "$3" compiled ;;
    libtorch) "$build/libtorch_compare" "$2" "$data" "$3" ;;
    pytorch) "$py" "$here/torch_compare.py" "$2" "$data" "$3" ;;
    numpy) "$py" "$here/numpy_compare.py" "$2" "$data" "$3" ;;
  esac >>"$results"
}

# Library size and a user program's compile time (the nn umbrella header, -O2).
libs=$(stat -c %s "$build"/tapegrad/autodiff/libtapegrad_autodiff.a "$build"/tapegrad/nn/libtapegrad_nn.a | awk '{s += $1} END {print s}')
printf '#include <nn/nn.hpp>\nint main() { auto net = ad::nn::mlp({2, 4, 1}, ad::nn::Activation::Tanh, ad::nn::Activation::Sigmoid);\n  return net.parameters().size() == 4 ? 0 : 1; }\n' >"$build/user_program.cpp"
t0=$(date +%s.%N)
g++ -std=c++20 -O2 -I"$src" -c "$build/user_program.cpp" -o "$build/user_program.o"
compile_s=$(awk "BEGIN {print $(date +%s.%N) - $t0}")
echo "{\"impl\": \"tapegrad\", \"workload\": \"size\", \"lib_bytes\": $libs, \"compile_seconds\": $compile_s}" >>"$results"
impls=(tapegrad tapegrad-compiled libtorch pytorch numpy)
for ((r = 0; r < rounds * main; ++r)); do
  log "round $((r + 1)) / $rounds"
  for w in w1 w2 w3 w4; do
    # W3: a whole epoch per measurement; W4: 2 steps (~0.4 s), measured 3 times per round: its
    # times swing 1.5× with the host from one minute to the next, and one block per round left
    # the medians to 5 draws (one run had tapegrad at 186–315 ms)
    reps=2; [[ $w == w3 ]] && reps=1; [[ $w == w4 ]] && reps=3
    for ((i = 0; i < ${#impls[@]}; ++i)); do run_impl "${impls[(i + r) % ${#impls[@]}]}" "$w" $reps; done
  done
  "$build/sgemm_peak" 5 >>"$results"  # W4's yardsticks (square peak, its bare products), beside W4
  if [[ $perop == 1 ]]; then
    for w in perop_add perop_expr; do for impl in tapegrad tapegrad-compiled libtorch pytorch; do run_impl "$impl" "$w" 1; done; done
  fi
done
if [[ $scaling == 1 ]]; then
  log "scaling curves"
  for w in b1 b4 b16 b64 b256 b1024 b4096 d2 d4 d8 d16 d32 d64; do
    for impl in tapegrad libtorch pytorch numpy; do run_impl "$impl" "$w" 3; done
  done
fi

# 6. The report.
{
  echo "Date: $(date -u +%F). Machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores;" \
       "OpenBLAS $(dpkg-query -W -f '${Version}' libopenblas0 2>/dev/null), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto};" \
       "LibTorch/PyTorch $(dpkg-query -W -f '${Version}' libtorch-dev), NumPy $(dpkg-query -W -f '${Version}' python3-numpy)."
  echo "Command: bench/compare/run.sh --rounds $rounds$([[ $scaling == 1 ]] || echo ' --no-scaling')$([[ -z $commit ]] || echo " --commit $commit")" \
       "(tapegrad at $(git -C "$root" rev-parse --short "${commit:-HEAD}")$([[ -n $commit ]] || echo ' + working tree'))." \
       "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  "$py" "$here/report.py" "$results"
} | tee ${out:+"$out"}
log "raw results: $results"
