"""What the Python implementations of the comparison share (mirrors common.hpp): the workloads,
reading make_data.py's raw files, the measurement loop and its one-line JSON result."""
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Workload:
    name: str
    dims: list
    m: int
    batch: int
    lr: float
    check_steps: int
    steps_per_measure: int
    sigmoid_hidden: bool = False
    binary: bool = False
    adam: bool = False
    synthetic: bool = False


def workload(w):
    """The workload named w; CHECK_STEPS in the environment overrides its check_steps."""
    spec = workload_spec(w)
    if "CHECK_STEPS" in os.environ:
        spec.check_steps = int(os.environ["CHECK_STEPS"])
    return spec


def workload_spec(w):
    """As common.hpp's workload_spec (the scaling curves' lr of 1e-9 is explained there)."""
    if w == "w1":
        return Workload("w1", [2, 4, 1], 400, 400, 1.2, 1000, 1000, True, True, False)
    if w == "w2":
        return Workload("w2", [12288, 20, 7, 5, 1], 209, 209, 0.0075, 50, 20, False, True, False)
    if w == "w3":
        return Workload("w3", [784, 256, 128, 10], 60000, 128, 1e-3, 20, 469, False, False, True)
    if w == "w4":
        return Workload("w4", [1024, 4096, 4096, 10], 256, 256, 0.01, 3, 2, False, False, False)
    if w.startswith("b"):
        b = int(w[1:])
        return Workload(w, [784, 256, 128, 10], b, b, 1e-9, 2, min(max(8192 // b, 3), 400), False, False, True, True)
    if w.startswith("d"):
        d = int(w[1:])
        return Workload(w, [256] * d + [10], 128, 128, 1e-9, 2, max(10, 1000 // d), False, False, False, True)
    raise ValueError(f"unknown workload {w}")


def read(data_dir, name, dtype, shape):
    return np.fromfile(os.path.join(data_dir, name), dtype=dtype).reshape(shape)


def batch_index(perm, batch, k):
    m = len(perm)
    per_epoch = (m + batch - 1) // batch
    start = (k % per_epoch) * batch
    return perm[start:min(m, start + batch)]


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def measure(impl, w, reps, start_rss, step):
    """Check steps (the last reports its cost), then `reps` timed blocks; one JSON line."""
    k, cost = 0, 0.0
    while k < w.check_steps:
        cost = step(k, k + 1 == w.check_steps)
        k += 1
    secs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(w.steps_per_measure):
            step(k, False)
            k += 1
        secs.append((time.perf_counter() - t0) / w.steps_per_measure)
    print(json.dumps({"impl": impl, "workload": w.name, "check_steps": w.check_steps, "check_cost": float(cost),
                      "steps_per_measure": w.steps_per_measure, "step_seconds": secs, "start_rss_kb": start_rss,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)


def args():
    which, data_dir = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    return which, data_dir, reps
