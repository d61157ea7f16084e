#!/usr/bin/python3
"""The comparison's workloads in PyTorch eager, batch-first as its users write them.
Usage: torch_compare.py WORKLOAD DATA_DIR [REPS]. Run with OMP_WAIT_POLICY=PASSIVE (run.sh does):
Debian's OpenMP threads otherwise spin against OpenBLAS's."""
import numpy as np
import torch
import torch.nn.functional as F

from common import Workload, args, batch_index, measure, read, rss_kb, workload


def make_net(w, data_dir):
    layers, linears = [], []
    L = len(w.dims) - 1
    for l in range(1, L + 1):
        lin = torch.nn.Linear(w.dims[l - 1], w.dims[l])
        layers.append(lin)
        linears.append(lin)
        if l < L:
            layers.append(torch.nn.Sigmoid() if w.sigmoid_hidden else torch.nn.ReLU())
        elif w.binary:
            layers.append(torch.nn.Sigmoid())
        if not w.synthetic:
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(read(data_dir, f"{w.name}_W{l}.f32", np.float32, lin.weight.shape)))
                lin.bias.copy_(torch.from_numpy(read(data_dir, f"{w.name}_b{l}.f32", np.float32, lin.bias.shape)))
    return torch.nn.Sequential(*layers)


def make_optimizer(w, net):
    return torch.optim.Adam(net.parameters(), lr=w.lr) if w.adam else torch.optim.SGD(net.parameters(), lr=w.lr)


def run(w, data_dir, reps, rss0):
    if w.synthetic:
        torch.manual_seed(7)
        X = torch.rand(w.m, w.dims[0])
        y = torch.randint(w.dims[-1], (w.m,))
    else:
        X = torch.from_numpy(read(data_dir, f"{w.name}_X.f32", np.float32, (w.m, w.dims[0])))
        if w.binary:
            y = torch.from_numpy(read(data_dir, f"{w.name}_y.f32", np.float32, (w.m, 1)))
        else:
            y = torch.from_numpy(read(data_dir, f"{w.name}_y.i32", np.int32, (w.m,))).long()
    perm = (torch.from_numpy(read(data_dir, f"{w.name}_perm.i32", np.int32, (w.m,))).long()
            if w.batch < w.m else None)
    net = make_net(w, data_dir)
    opt = make_optimizer(w, net)
    loss_fn = F.binary_cross_entropy if w.binary else F.cross_entropy

    def step(k, want_cost):
        xb, yb = X, y
        if perm is not None:
            idx = batch_index(perm, w.batch, k)
            xb, yb = X[idx], y[idx]
        J = loss_fn(net(xb), yb)
        opt.zero_grad(set_to_none=True)
        J.backward()
        opt.step()
        return J.item() if want_cost else 0.0

    measure("pytorch", w, reps, rss0, step)


def run_perop(which, reps, rss0):
    """One recorded add + backward, or micrograd's 26-op expression + backward; checks dg/da."""
    a, b = torch.tensor(-4.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)

    def add(k, want):
        (a + b).backward()
        g = a.grad.item() if want else 0.0
        a.grad = b.grad = None
        return g

    def expr(k, want):
        c = a + b
        d = a * b + b * b * b
        c = c + (c + 1.0)
        c = c + (1.0 + c + (-a))
        d = d + (d * 2.0 + torch.relu(b + a))
        d = d + (3.0 * d + torch.relu(b - a))
        e = c - d
        f = e * e
        g = f / 2.0 + 10.0 / f
        g.backward()
        ga = a.grad.item() if want else 0.0
        a.grad = b.grad = None
        return ga

    w = Workload(which, [], 1, 1, 0.0, 200, 20000 if which == "perop_add" else 2000)
    measure("pytorch", w, reps, rss0, add if which == "perop_add" else expr)


def main():
    rss0 = rss_kb()
    which, data_dir, reps = args()
    torch.set_num_threads(2)
    if which.startswith("perop"):
        run_perop(which, reps, rss0)
    else:
        run(workload(which), data_dir, reps, rss0)


if __name__ == "__main__":
    main()
