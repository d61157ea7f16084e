#!/usr/bin/env python3
"""Medians and ratios of bench/dist/run.sh's results (one JSON object per line), as markdown.

    python3 bench/dist/report.py results.jsonl

Per network: samples/s of one process with 2 threads against 2 processes with 1 thread each
(overlapped all-reduce, the same step under ad::compile, all-reduce after backward, no
communication), the all-reduce of the
same gradient bytes alone, and how much of it the overlap hides:
    exposed = T(overlapped) - T(no communication),  hidden = 1 - exposed / T(all-reduce alone),
where the all-reduce alone is the fastest of one MPI_Allreduce, DataParallel's buckets as
MPI_Iallreduce calls, and the same buckets through tapegrad::dist's transport.
"""
import json
import statistics
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summarize(rows):
    """{dims: {mode: median step ms, ..., 'mpi_ms', 'bucketed_ms', 'bytes', 'batch', 'buckets', 'series'}}."""
    by = defaultdict(lambda: defaultdict(list))
    meta = defaultdict(dict)
    for row in rows:
        d = row["dims"]
        if row["mode"] == "allreduce":
            by[d]["mpi_ms"].append(row["mpi_allreduce_ms"])
            by[d]["bucketed_ms"].append(row["bucketed_iallreduce_ms"])
            if "bucketed_tapegrad_ms" in row:
                by[d]["tapegrad_ms"].append(row["bucketed_tapegrad_ms"])
            meta[d]["bytes"] = row["bytes"]
        else:
            by[d][row["mode"]].append(row["step_ms"])
            meta[d]["batch"] = row["batch"]
            meta[d]["opt"] = row["opt"]
            if row["mode"] == "overlap":
                meta[d]["buckets"] = row["buckets"]
    out = {}
    for d, series in by.items():
        out[d] = {k: statistics.median(v) for k, v in series.items()}
        out[d]["series"] = series
        out[d].update(meta[d])
    return out


def per_round_ratio(series, a, b):
    """Range over rounds of series[a][i] / series[b][i] (runs of one round sit side by side)."""
    ratios = [x / y for x, y in zip(series[a], series[b])]
    return min(ratios), max(ratios)


def compiled(s, rate):
    """The compiled step's rate, and its time against the overlapped eager step's (range over rounds)."""
    if "compiled" not in s:
        return "—"
    lo, hi = per_round_ratio(s["series"], "compiled", "overlap")
    return f"{rate(s['compiled'])}, {s['compiled'] / s['overlap']:.2f}× the eager time ({lo:.2f}–{hi:.2f})"


def report(summary):
    print("| network, optimizer, global batch | 1 process × 2 threads | 2 processes × 1 thread, overlapped "
          "| ratio (range over rounds) | 2 × 1, overlapped and compiled | 2 × 1, all-reduce after backward "
          "| 2 × 1, no communication |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for d, s in summary.items():
        rate = lambda ms: f"{1000 * s['batch'] / ms:,.0f} samples/s ({ms:.2f} ms)"
        lo, hi = per_round_ratio(s["series"], "single", "overlap")
        print(f"| {d}, {s['opt']}, {s['batch']} | {rate(s['single'])} | {rate(s['overlap'])} "
              f"| {s['single'] / s['overlap']:.1%} ({lo:.0%}–{hi:.0%}) | {compiled(s, rate)} | {rate(s['after'])} "
              f"| {rate(s['local'])} |")
    print()
    print("| network | gradient bytes, buckets | MPI_Allreduce alone | the buckets alone (MPI_Iallreduce) "
          "| the buckets alone (tapegrad::dist) | exposed, overlapped | exposed, after backward | hidden by the overlap |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for d, s in summary.items():
        floor = min(s["mpi_ms"], s["bucketed_ms"], s.get("tapegrad_ms", float("inf")))
        tapegrad = f"{s['tapegrad_ms']:.2f} ms" if "tapegrad_ms" in s else "—"
        exposed = s["overlap"] - s["local"]
        after = s["after"] - s["local"]
        print(f"| {d} | {s['bytes'] / 1e6:.1f} MB, {s.get('buckets', '?')} | {s['mpi_ms']:.2f} ms "
              f"| {s['bucketed_ms']:.2f} ms | {tapegrad} | {exposed:.2f} ms | {after:.2f} ms | {1 - exposed / floor:.0%} |")
    print()
    print("Medians over the rounds. Exposed = step time minus the no-communication step; hidden = "
          "1 − exposed (overlapped) / the fastest of the all-reduces alone (the floor).")


if __name__ == "__main__":
    report(summarize(load(sys.argv[1])))
