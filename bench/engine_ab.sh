#!/usr/bin/env bash
# The engine's micro-benchmarks (a recorded op on one element, the 26-op scalar expression, the
# 2-4-1 network's step) of an earlier revision against this working tree, alternating the two
# builds round by round so that machine noise hits both alike. Prints the medians of the CPU time
# per iteration (on a shared machine, wall time also counts the time the benchmark was not
# running) and their ratio.
#
#   flock /tmp/tapegrad-bench.lock bench/engine_ab.sh REV [ROUNDS]
#
# Environment: BUILD_DIR (default <repo>/build, which must have bench/tapegrad_bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$root" rev-parse --short "${1:?usage: engine_ab.sh REV [ROUNDS]}")
rounds=${2:-20}
new=${BUILD_DIR:-$root/build}/bench/tapegrad_bench
snapshot=/tmp/tapegrad-ab-$rev
if [[ ! -x $snapshot/build/bench/tapegrad_bench ]]; then
  rm -rf "$snapshot" && mkdir -p "$snapshot"
  git -C "$root" archive "$rev" | tar -x -C "$snapshot"
  cmake -S "$snapshot" -B "$snapshot/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_TESTS=OFF \
    -DTAPEGRAD_BUILD_EXAMPLES=OFF -DTAPEGRAD_BUILD_BENCHMARKS=ON -DTAPEGRAD_WITH_MPI=OFF >/dev/null
  cmake --build "$snapshot/build" -j2 --target tapegrad_bench >&2
fi
old=$snapshot/build/bench/tapegrad_bench
filter='BM_tiny_add_fwd_bwd|BM_tiny_op_chain|BM_scalar_expression|BM_train_step_2_4_1'
results=$(mktemp /tmp/tapegrad-engine-ab-XXXX.jsonl)
for ((r = 0; r < rounds; ++r)); do
  order=(old new); ((r % 2)) && order=(new old)
  for which in "${order[@]}"; do
    bin=$old; [[ $which == new ]] && bin=$new
    OPENBLAS_NUM_THREADS=1 "$bin" --benchmark_filter="$filter" --benchmark_min_time=0.3 --benchmark_format=json 2>/dev/null |
      python3 -c "import json, sys
scale = {'ns': 1e-3, 'us': 1.0, 'ms': 1e3}
for b in json.load(sys.stdin)['benchmarks']:
    print(json.dumps({'build': '$which', 'name': b['name'], 'us': b['cpu_time'] * scale[b['time_unit']]}))" >>"$results"
  done
done
echo "Command: flock /tmp/tapegrad-bench.lock bench/engine_ab.sh $rev $rounds (this tree: $(git -C "$root" rev-parse --short HEAD));" \
     "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
python3 - "$results" "$rev" <<'PY'
import json, statistics, sys
from collections import defaultdict
rows = [json.loads(line) for line in open(sys.argv[1])]
by = defaultdict(lambda: defaultdict(list))
for r in rows:
    by[r["name"]][r["build"]].append(r["us"])
print(f"| benchmark | {sys.argv[2]}, CPU time (median) | this tree (median) | ratio | per-round ratios, middle half |")
print("| --- | --- | --- | --- | --- |")
for name, s in by.items():
    o, n = statistics.median(s["old"]), statistics.median(s["new"])
    q = sorted(b / a for a, b in zip(s["old"], s["new"]))
    print(f"| {name} | {o:.3f} µs | {n:.3f} µs | {n / o:.3f} | {q[len(q) // 4]:.2f}–{q[(3 * len(q)) // 4]:.2f} |")
PY
echo "[engine ab] raw results: $results" >&2
