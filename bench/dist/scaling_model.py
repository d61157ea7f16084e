#!/usr/bin/env python3
"""Beyond one machine, on paper: an α–β model of data-parallel training over p machines.

    python3 bench/dist/scaling_model.py --from results.jsonl      # inputs measured by run.sh
    python3 bench/dist/scaling_model.py --network NAME:STEP_MS:BATCH:BYTES:BUCKETS ...

The model. One machine computes a training step on its batch of b samples in T_c (measured:
one process, all of the machine's cores). The n bytes of gradients, in k buckets, are summed over
p machines by ring all-reduce, whose cost for a bucket of n_i bytes is
    2 (p - 1) α + 2 (p - 1) / p · n_i · β
(a reduce-scatter then an all-gather, each p - 1 steps; α the per-message latency, β the
seconds per byte of the link). Summed over the buckets:
    T_ar = 2 k (p - 1) α + 2 (p - 1) / p · n · β.
Without overlap a step takes T_c + T_ar. With buckets all-reduced while backward goes on, the
all-reduce can hide behind the part of the step that follows the first bucket, taken as a
fraction φ of T_c (backward is about two thirds of an MLP's step); the step takes
T_c + max(0, T_ar - φ T_c). Weak scaling (the global batch grows with p, as Horovod and PyTorch
DDP measure it): efficiency = T_c / step time.
"""
import argparse
import os
import sys

# Link rate (Gb/s) -> per-message latency α: TCP over Ethernet at 10 and 25 Gb/s, RDMA at 100.
LINKS = [(10, 30e-6), (25, 20e-6), (100, 5e-6)]
MACHINES = [2, 4, 8, 16, 32, 64, 128, 256]
PUBLISHED = [
    ("Horovod (Sergeev & Del Balso, 2018)", "ResNet-101, 512 GPUs", "~90% scaling efficiency"),
    ("PyTorch DDP (Li et al., VLDB 2020)", "256 GPUs", "near-linear scaling"),
]


def allreduce_seconds(p, nbytes, buckets, rate_gbps, alpha):
    beta = 8 / (rate_gbps * 1e9)
    return 2 * buckets * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def step_seconds(p, net, rate, alpha, phi, overlap):
    t_c = net["step_ms"] / 1000
    t_ar = allreduce_seconds(p, net["bytes"], net["buckets"], rate, alpha)
    return t_c + (max(0.0, t_ar - phi * t_c) if overlap else t_ar)


def table(net, phi):
    name = net["name"]
    print(f"**{name}**: one machine's step {net['step_ms']:.2f} ms at {net['batch']} samples "
          f"({1e3 * net['step_ms'] / net['batch']:.2f} µs per sample), {net['bytes'] / 1e6:.1f} MB of gradients "
          f"in {net['buckets']} buckets.")
    print()
    head = " | ".join(f"{rate} Gb/s: step, efficiency (no overlap)" for rate, _ in LINKS)
    print(f"| machines | {head} |")
    print("|" + " --- |" * (1 + len(LINKS)))
    for p in MACHINES:
        cells = []
        for rate, alpha in LINKS:
            t = step_seconds(p, net, rate, alpha, phi, True)
            t0 = step_seconds(p, net, rate, alpha, phi, False)
            t_c = net["step_ms"] / 1000
            cells.append(f"{1e3 * t:.1f} ms, {t_c / t:.0%} ({t_c / t0:.0%})")
        print(f"| {p} | " + " | ".join(cells) + " |")
    print()


def from_results(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report  # noqa: E402  (same folder)

    nets = []
    for dims, s in report.summarize(report.load(path)).items():
        nets.append({"name": f"{dims}, {s['opt']}", "step_ms": s["single"], "batch": s["batch"],
                     "bytes": s["bytes"], "buckets": s.get("buckets", 1)})
    return nets


def parse_network(text):
    name, step_ms, batch, nbytes, buckets = text.split(":")
    return {"name": name, "step_ms": float(step_ms), "batch": int(batch), "bytes": float(nbytes),
            "buckets": int(buckets)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="results", help="bench/dist/run.sh's raw results (JSON lines)")
    ap.add_argument("--network", action="append", default=[], type=parse_network,
                    help="NAME:STEP_MS:BATCH:BYTES:BUCKETS, one machine's measured step")
    ap.add_argument("--phi", type=float, default=0.6, help="share of a step an all-reduce can hide behind")
    args = ap.parse_args()
    nets = (from_results(args.results) if args.results else []) + args.network
    if not nets:
        ap.error("give --from or --network")
    print("α–β model of ring all-reduce beyond one machine (weak scaling; a machine = the measured one). "
          "Links: " + ", ".join(f"{r} Gb/s with α = {a * 1e6:.0f} µs, β = 1 / line rate" for r, a in LINKS)
          + f"; overlap hides up to φ = {args.phi} of a step. Cells: predicted step time and scaling "
          "efficiency with overlap (without overlap in parentheses).")
    print()
    for net in nets:
        table(net, args.phi)
    print("Published figures for comparison:")
    print()
    for who, what, figure in PUBLISHED:
        print(f"- {who}: {what}, {figure}.")


if __name__ == "__main__":
    main()
