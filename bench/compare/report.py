#!/usr/bin/python3
"""Reads the JSON lines the implementations printed and prints the comparison as markdown:
the workload table (time per step, ratios against tapegrad, GFLOP/s, RSS, cost cross-check),
the targets met or not, the per-op overhead and the scaling curves.
Usage: report.py RESULTS.jsonl"""
import json
import statistics
import sys
from collections import defaultdict

from common import workload_spec

IMPLS = ["tapegrad", "tapegrad-compiled", "libtorch", "pytorch", "numpy"]
REFS = ["libtorch", "pytorch", "numpy"]  # the reference frameworks
# The networks by their layer sizes (workload keys stay short on the command line).
LABEL = {"w1": "2-4-1, m = 400, GD", "w2": "12288-20-7-5-1, m = 209, GD",
         "w3": "784-256-128-10, batch 128, Adam", "w4": "1024-4096-4096-10, batch 256, SGD"}
W3_DATA_MB = 60000 * 784 * 4 / 2**20
SIZE = {}  # the driver's library size and compile-time record


def load(path):
    runs = defaultdict(list)  # (workload, impl) -> list of run records
    measured = defaultdict(list)  # cblas_sgemm yardsticks: "peak", "w4_products"
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r["impl"] == "cblas_sgemm":
            measured[r["workload"]].append(r)
        elif r["workload"] == "size":
            SIZE.update(r)
        else:
            runs[(r["workload"], r["impl"])].append(r)
    # The yardsticks are measured once per round beside W4 (the machine's speed drifts on a
    # shared host): the median of each is used, their range is reported.
    def median_of(records):
        if not records:
            return None
        records = sorted(records, key=lambda r: r["gflops"])
        m = dict(records[len(records) // 2])
        m["count"], m["low"], m["high"] = len(records), records[0]["gflops"], records[-1]["gflops"]
        return m

    peak = median_of(measured["peak"])
    if peak:
        peak["w4_products"] = median_of(measured["w4_products"])
    return runs, peak


class Stat:
    def __init__(self, records):
        self.times = sorted(t for r in records for t in r["step_seconds"])
        self.median = statistics.median(self.times)
        self.spread = (self.times[-1] - self.times[0]) / self.median  # (max − min) / median
        self.n = len(self.times)
        self.peak_rss = max(r["peak_rss_kb"] for r in records) / 1024
        self.start_rss = statistics.median(r["start_rss_kb"] for r in records) / 1024
        self.cost = records[0]["check_cost"]
        self.check_steps = records[0]["check_steps"]


def fmt_time(s):
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def flops_per_step(w):
    weights = sum(w.dims[l] * w.dims[l - 1] for l in range(1, len(w.dims)))
    return 6 * w.batch * weights


def workload_table(runs, peak, stats):
    out = ["| workload | impl | time / step (median) | spread | n | tapegrad faster by | GFLOP/s | peak RSS | start RSS | cost after k steps |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for wn in ["w1", "w2", "w3", "w4"]:
        w = workload_spec(wn)
        base = stats.get((wn, "tapegrad"))
        for impl in IMPLS:
            s = stats.get((wn, impl))
            if not s:
                continue
            ratio = f"{s.median / base.median:.2f}×" if base else "—"
            gf = flops_per_step(w) / s.median / 1e9
            gf_s = f"{gf:.1f}" + (f" ({100 * gf / peak['gflops']:.0f}% of peak)" if wn == "w4" and peak else "")
            extra = f" ({fmt_time(s.median * 469)} / epoch)" if wn == "w3" else ""
            out.append(f"| {LABEL[wn]} | {impl} | {fmt_time(s.median)}{extra} | ±{50 * s.spread:.0f}% | {s.n} | "
                       f"{ratio} | {gf_s} | {s.peak_rss:.0f} MB | {s.start_rss:.1f} MB | "
                       f"{s.cost:.7g} (k = {s.check_steps}) |")
    return out


def cost_check(stats):
    out = []
    for wn in ["w1", "w2", "w3", "w4"]:
        costs = {i: stats[(wn, i)].cost for i in IMPLS if (wn, i) in stats}
        if len(costs) < 2:
            continue
        ref = statistics.median(costs.values())
        worst = max(abs(c - ref) / abs(ref) for c in costs.values())
        out.append(f"- {LABEL[wn]}: costs {', '.join(f'{i} {c:.7g}' for i, c in costs.items())}: "
                   f"largest relative gap {worst:.1e} — {'same computation' if worst < 1e-4 else 'MISMATCH'}")
    return out


def verdict(ok, gap):
    return ("met" if ok else "**not met**") + f" ({gap})"


def ratio_verdict(r, target):
    """A 'faster by' ratio against its target: the margin when met, the factor still needed if not."""
    if r >= target:
        return f"met ({r / target:.2f}× the target)"
    return f"**not met** (need {target / r:.2f}× more)"


def targets(stats, peak):
    out = ["| target | measured | status |", "|---|---|---|"]
    t = lambda w, i: stats[(w, i)].median if (w, i) in stats else None
    tg = t("w1", "tapegrad")
    if tg and t("w1", "numpy") and t("w1", "libtorch"):
        rn, rl = t("w1", "numpy") / tg, t("w1", "libtorch") / tg
        out.append(f"| {LABEL['w1']}: ≥ 10× faster than NumPy | {rn:.1f}× | {ratio_verdict(rn, 10)} |")
        out.append(f"| {LABEL['w1']}: ≥ 15× faster than LibTorch | {rl:.1f}× | {ratio_verdict(rl, 15)} |")
    for wn in ["w2", "w3"]:
        refs = {i: t(wn, i) for i in REFS if t(wn, i)}
        if t(wn, "tapegrad") and refs:
            best = min(refs, key=refs.get)
            r = refs[best] / t(wn, "tapegrad")
            out.append(f"| {LABEL[wn]}: ≥ 1.5× faster than the fastest reference ({best}) | {r:.2f}× | "
                       f"{ratio_verdict(r, 1.5)} |")
    if t("w4", "tapegrad") and peak:
        gf = flops_per_step(workload_spec("w4")) / t("w4", "tapegrad") / 1e9
        frac = gf / peak["gflops"]
        out.append(f"| {LABEL['w4']}: ≥ 90% of cblas_sgemm peak ({peak['gflops']:.0f} GFLOP/s) | {100 * frac:.0f}% | "
                   f"{verdict(frac >= 0.9, f'gap {100 * (0.9 - frac):+.0f} points' if frac < 0.9 else 'ok')} |")
        ceiling = peak.get("w4_products")
        if ceiling:
            out.append(f"| (its products alone, bare `cblas_sgemm`: the ceiling of a step built on this BLAS) | "
                       f"{100 * ceiling['gflops'] / peak['gflops']:.0f}% of peak; tapegrad's step reaches "
                       f"{100 * gf / ceiling['gflops']:.0f}% of it | — |")
        slowest_ref = min((t("w4", i) for i in REFS if t("w4", i)), default=None)
        if slowest_ref:
            r = slowest_ref / t("w4", "tapegrad")
            out.append(f"| {LABEL['w4']}: not slower than any reference | fastest reference / tapegrad = {r:.2f}× | "
                       f"{verdict(r >= 1.0, 'ok' if r >= 1 else f'{100 * (1 / r - 1):.0f}% slower')} |")
    out += compiled_targets(t)
    for name, key in [("a recorded 1-element add + backward", "perop_add"), ("micrograd's 26-op expression + backward", "perop_expr")]:
        if t(key, "tapegrad") and t(key, "libtorch"):
            r = t(key, "libtorch") / t(key, "tapegrad")
            out.append(f"| per-op overhead ≤ 1/5 of LibTorch's: {name} | {fmt_time(t(key, 'tapegrad'))} vs "
                       f"{fmt_time(t(key, 'libtorch'))} = 1/{r:.1f} | {verdict(r >= 5, f'need {5 / r:.1f}× more' if r < 5 else 'ok')} |")
    if ("w3", "tapegrad") in stats:
        s = stats[("w3", "tapegrad")]
        lim = W3_DATA_MB + 40
        out.append(f"| {LABEL['w3']}: peak RSS ≤ data ({W3_DATA_MB:.0f} MB) + 40 MB | {s.peak_rss:.0f} MB | "
                   f"{verdict(s.peak_rss <= lim, f'{s.peak_rss - lim:+.0f} MB')} |")
        out.append(f"| tapegrad program RSS at start < 10 MB | {s.start_rss:.1f} MB | {verdict(s.start_rss < 10, 'ok')} |")
    if SIZE:
        mb = SIZE["lib_bytes"] / 2**20
        out.append(f"| libtapegrad_autodiff.a + libtapegrad_nn.a < 5 MB (Release) | {mb:.2f} MB | {verdict(mb < 5, 'ok' if mb < 5 else f'{mb - 5:+.2f} MB')} |")
        cs = SIZE["compile_seconds"]
        out.append(f"| a program including nn/nn.hpp compiles in < 5 s (g++ -O2) | {cs:.1f} s | {verdict(cs < 5, 'ok' if cs < 5 else f'{cs - 5:+.1f} s')} |")
    return out


def compiled_targets(t):
    """ad::compile's targets: absolute times for the small steps, no slower than eager for the big."""
    out = []
    c = "tapegrad-compiled"
    for key, label, limit in [("w1", LABEL["w1"], 1.5e-6), ("perop_expr", "micrograd's 26-op expression + backward", 1.0e-6)]:
        if t(key, c):
            eager = f"; eager {fmt_time(t(key, 'tapegrad'))} ({t(key, 'tapegrad') / t(key, c):.2f}× the replay)" if t(key, "tapegrad") else ""
            gap = "ok" if t(key, c) <= limit else f"{t(key, c) / limit:.2f}× the target"
            out.append(f"| {label}, compiled: ≤ {fmt_time(limit)} | {fmt_time(t(key, c))}{eager} | {verdict(t(key, c) <= limit, gap)} |")
    for wn in ["w2", "w3"]:
        if t(wn, c) and t(wn, "tapegrad"):
            r = t(wn, "tapegrad") / t(wn, c)
            out.append(f"| {LABEL[wn]}, compiled: no slower than eager | eager / compiled = {r:.2f}× | "
                       f"{verdict(r >= 1.0, 'ok' if r >= 1 else f'{100 * (1 / r - 1):.0f}% slower')} |")
    return out


def perop_table(stats):
    out = ["| per-op benchmark | impl | time (median) | per recorded op | spread | n |", "|---|---|---|---|---|---|"]
    for key, ops in [("perop_add", 1), ("perop_expr", 26)]:
        for impl in IMPLS:
            s = stats.get((key, impl))
            if s:
                out.append(f"| {key} | {impl} | {fmt_time(s.median)} | {fmt_time(s.median / ops)} | ±{50 * s.spread:.0f}% | {s.n} |")
    return out


def scaling_table(stats, prefix, label):
    keys = sorted({w for (w, _) in stats if w[0] == prefix and w[1:].isdigit()}, key=lambda w: int(w[1:]))
    if not keys:
        return []
    impls = [i for i in IMPLS if any((k, i) in stats for k in keys)]
    out = [f"| {label} | " + " | ".join(f"{i} time / step" for i in impls) + " | tapegrad faster than fastest reference by |",
           "|---" * (len(impls) + 2) + "|"]
    for k in keys:
        cells = [fmt_time(stats[(k, i)].median) if (k, i) in stats else "—" for i in impls]
        refs = [stats[(k, i)].median for i in impls if i in REFS and (k, i) in stats]
        r = f"{min(refs) / stats[(k, 'tapegrad')].median:.2f}×" if refs and (k, "tapegrad") in stats else "—"
        out.append(f"| {k[1:]} | " + " | ".join(cells) + f" | {r} |")
    return out


def main():
    runs, peak = load(sys.argv[1])
    stats = {k: Stat(v) for k, v in runs.items()}
    print("### Workloads (float32, 2 threads)\n")
    print("\n".join(workload_table(runs, peak, stats)))
    if peak:
        print(f"\n`cblas_sgemm` peak on this machine: {peak['gflops']:.1f} GFLOP/s (square n = {peak['n']}, 2 threads; "
              f"median of {peak['count']} measurements, one per round beside the 1024-4096-4096-10 network, range {peak['low']:.0f}–{peak['high']:.0f}).")
        c = peak.get("w4_products")
        if c:
            print(f"\nThe 1024-4096-4096-10 network's products alone (bare `cblas_sgemm` calls, the shapes and transpose flags of one step, "
                  f"nothing between them): {c['gflops']:.1f} GFLOP/s = {100 * c['gflops'] / peak['gflops']:.0f}% of that peak "
                  f"(median of {c['count']}, range {c['low']:.0f}–{c['high']:.0f}), {c['seconds'] * 1e3:.0f} ms per step.")
    print("\nCost cross-check (same data, same initial weights, float32):\n")
    print("\n".join(cost_check(stats)))
    print("\n### Targets\n")
    print("\n".join(targets(stats, peak)))
    if any(k[0].startswith("perop") for k in stats):
        print("\n### Per-op overhead\n")
        print("\n".join(perop_table(stats)))
    for prefix, label, title in [("b", "batch", "784-256-128-10 (Adam): time per step against batch size"),
                                 ("d", "depth", "depth × width 256 (batch 128, SGD): time per step against depth")]:
        table = scaling_table(stats, prefix, label)
        if table:
            print(f"\n### Scaling: {title}\n")
            print("\n".join(table))


if __name__ == "__main__":
    main()
