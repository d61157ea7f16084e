#!/usr/bin/env bash
# The data-parallel benchmark: for each network, round by round, one process × 2 threads
# against 2 processes × 1 thread each (overlapped, the same step compiled, all-reduce after
# backward, and no communication at all) at the same global batch, plus the all-reduce of the same gradient bytes
# alone; the order of the runs rotates every round so that machine noise hits them alike. Prints
# the medians and ratios (report.py), then the α–β model beyond one machine (scaling_model.py).
#
#   flock /tmp/tapegrad-bench.lock bench/dist/run.sh [--rounds N] [--out FILE]
#
# Environment: BUILD_DIR (default <repo>/build: it needs bench/dist_bench, built when MPI is).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=5 out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-$root/build}
bench=$build/bench/dist_bench
[[ -x $bench ]] || { echo "no $bench: build with MPI and TAPEGRAD_BUILD_BENCHMARKS=ON" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS
# OpenBLAS 0.3.21 takes recent CPUs for SSE3-era ones: choose its AVX kernels, for every run alike.
if [[ -z ${OPENBLAS_CORETYPE:-} ]] && OPENBLAS_VERBOSE=2 "$bench" --mode single --steps 1 --warmup 0 2>&1 | grep -q Prescott; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi

# dims optimizer global-batch steps: the 784-256-128-10 network with Adam, the
# 1024-4096-4096-10 one with plain gradient descent.
nets=("784,256,128,10 adam 128 200" "1024,4096,4096,10 sgd 256 10")
modes=(single overlap compiled after local allreduce)
results=$(mktemp /tmp/tapegrad-dist-XXXX.jsonl)
run() {  # mode dims opt batch steps
  if [[ $1 == single ]]; then
    OPENBLAS_NUM_THREADS=2 "$bench" --mode single --dims "$2" --opt "$3" --batch "$4" --steps "$5"
  else  # each rank computes on one core (ad::dist::Context divides the cores among the ranks)
    mpirun -np 2 "$bench" --mode "$1" --dims "$2" --opt "$3" --batch "$4" --steps "$5"
  fi
}
for ((r = 0; r < rounds; ++r)); do
  echo "[dist bench] round $((r + 1)) / $rounds" >&2
  for net in "${nets[@]}"; do
    for ((i = 0; i < ${#modes[@]}; ++i)); do
      # shellcheck disable=SC2086
      run "${modes[(i + r) % ${#modes[@]}]}" $net | sed "s/^{/{\"round\": $r, /" >>"$results"
    done
  done
done
{
  echo "Date: $(date -u +%F). Machine: $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores;" \
       "$(mpirun --version | head -n 1); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}."
  echo "Command: flock /tmp/tapegrad-bench.lock bench/dist/run.sh --rounds $rounds (tapegrad at" \
       "$(git -C "$root" rev-parse --short HEAD)). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  python3 "$here/report.py" "$results"
  echo
  python3 "$here/scaling_model.py" --from "$results"
} | tee ${out:+"$out"}
echo "[dist bench] raw results: $results" >&2
