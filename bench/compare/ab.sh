#!/usr/bin/env bash
# Before/after for tapegrad alone: builds tapegrad_compare at two revisions (clean snapshots by
# git archive) and runs them alternately, the order swapping every round, so that the machine's
# noise hits both alike; prints the median step time of each and their ratio per workload.
#
#   bench/compare/ab.sh BEFORE AFTER [--rounds N] [WORKLOAD...]   (default: w1 w2 w3 w4)
#
# It builds first, then takes the shared benchmark lock (/tmp/tapegrad-bench.lock) for the
# measurements. Environment as run.sh: BUILD_DIR (default <repo>/build-ab), DATA_DIR (default
# /tmp/tapegrad-compare-data).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $# -ge 2 ]] || { echo "usage: $0 BEFORE AFTER [--rounds N] [WORKLOAD...]" >&2; exit 2; }
revs=("$1" "$2"); shift 2
rounds=5 workloads=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    *) workloads+=("$1"); shift ;;
  esac
done
[[ ${#workloads[@]} -gt 0 ]] || workloads=(w1 w2 w3 w4)
build=${BUILD_DIR:-$root/build-ab}
data=${DATA_DIR:-/tmp/tapegrad-compare-data}
[[ -f $data/w4_W2.f32 ]] || /usr/bin/python3 "$here/make_data.py" "$data" >&2

for side in 0 1; do
  src=$build/src$side
  rm -rf "$src" && mkdir -p "$src"
  git -C "$root" archive "${revs[side]}" | tar -x -C "$src"
  cp -r "$here"/. "$src/bench/compare/"  # the harness itself always from this tree
  cmake -S "$src/bench/compare" -B "$build/b$side" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DTAPEGRAD_SOURCE_DIR="$src" -DCOMPARE_WITH_LIBTORCH=OFF >/dev/null
  cmake --build "$build/b$side" --target tapegrad_compare >&2
done

exec 9>/tmp/tapegrad-bench.lock
flock 9
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
results=$(mktemp /tmp/tapegrad-ab-XXXX.jsonl)
for ((r = 0; r < rounds; ++r)); do
  echo "[ab] round $((r + 1)) / $rounds, load $(cut -d' ' -f1 /proc/loadavg)" >&2
  for w in "${workloads[@]}"; do
    reps=2; [[ $w == w3 ]] && reps=1; [[ $w == w4 || $w == b* || $w == d* ]] && reps=3
    for i in 0 1; do
      side=$(((i + r) % 2))
      line=$("$build/b$side/tapegrad_compare" "$w" "$data" $reps)
      echo "{\"side\": $side, ${line#\{}" >>"$results"
    done
  done
done
echo "Before: ${revs[0]} ($(git -C "$root" rev-parse --short "${revs[0]}")), after: ${revs[1]}" \
     "($(git -C "$root" rev-parse --short "${revs[1]}")); $rounds rounds, load average at the end $(cut -d' ' -f1 /proc/loadavg)."
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("\n| workload | before ms/step | after ms/step | after / before |\n|---|---:|---:|---:|")
for w in dict.fromkeys(r["workload"] for r in rows):
    med = [statistics.median(s for r in rows if r["workload"] == w and r["side"] == side for s in r["step_seconds"])
           for side in (0, 1)]
    print(f"| {w} | {med[0] * 1e3:.3f} | {med[1] * 1e3:.3f} | {med[1] / med[0]:.3f} |")
PY
