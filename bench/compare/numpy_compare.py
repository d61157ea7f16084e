#!/usr/bin/python3
"""The comparison's workloads in NumPy with the backward pass written by hand, in the course's
column layout: X is (n0, m), Z[l] = W[l]·A[l-1] + b[l]. Usage: numpy_compare.py WORKLOAD DATA_DIR [REPS]"""
import numpy as np

from common import args, batch_index, measure, read, rss_kb, workload


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Net:
    def __init__(self, w, data_dir):
        self.w = w
        L = len(w.dims) - 1
        rng = np.random.default_rng(7)
        self.W, self.b = [None], [None]  # 1-based like the notation
        for l in range(1, L + 1):
            shape = (w.dims[l], w.dims[l - 1])
            if w.synthetic:
                self.W.append((rng.standard_normal(shape) * np.sqrt(2.0 / shape[1])).astype(np.float32))
                self.b.append(np.zeros((w.dims[l], 1), np.float32))
            else:
                self.W.append(read(data_dir, f"{w.name}_W{l}.f32", np.float32, shape).copy())
                self.b.append(read(data_dir, f"{w.name}_b{l}.f32", np.float32, (w.dims[l], 1)).copy())
        self.params = [p for l in range(1, L + 1) for p in (self.W[l], self.b[l])]
        self.adam_m = [np.zeros_like(p) for p in self.params]
        self.adam_v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, X):
        """A[L] (or the logits Z[L]) and the caches (A[l-1], A[l]) backward needs."""
        w, L = self.w, len(self.W) - 1
        A, caches = X, []
        for l in range(1, L + 1):
            Z = self.W[l] @ A + self.b[l]
            if l < L:
                A_next = sigmoid(Z) if w.sigmoid_hidden else np.maximum(Z, 0)
            else:
                A_next = sigmoid(Z) if w.binary else Z
            caches.append((A, A_next))
            A = A_next
        return A, caches

    def cost_and_dZ(self, out, y):
        """J and dJ/dZ[L]: (A − Y)/m for sigmoid + BCE, (softmax(Z) − onehot)/m for softmax CE."""
        m = out.shape[1]
        if self.w.binary:
            J = -np.mean(y * np.log(out) + (1 - y) * np.log(1 - out))
            return J, (out - y) / m
        Zs = out - out.max(axis=0, keepdims=True)
        logp = Zs - np.log(np.exp(Zs).sum(axis=0, keepdims=True))
        cols = np.arange(m)
        J = -logp[y, cols].mean()
        dZ = np.exp(logp)
        dZ[y, cols] -= 1
        dZ /= m
        return J, dZ

    def backward(self, caches, dZ):
        """dW[l] = dZ[l]·A[l-1]ᵀ, db[l] = Σ_cols dZ[l], dZ[l-1] = W[l]ᵀ·dZ[l] ⊙ g'(Z[l-1])."""
        L = len(self.W) - 1
        grads = [None] * (2 * L)
        for l in range(L, 0, -1):
            A_prev, _ = caches[l - 1]
            grads[2 * l - 2] = dZ @ A_prev.T
            grads[2 * l - 1] = dZ.sum(axis=1, keepdims=True)
            if l > 1:
                dA = self.W[l].T @ dZ
                dZ = dA * (A_prev * (1 - A_prev)) if self.w.sigmoid_hidden else dA * (A_prev > 0)
        return grads

    def update(self, grads):
        lr = self.w.lr
        if not self.w.adam:
            for p, g in zip(self.params, grads):
                p -= lr * g
            return
        b1, b2, eps = 0.9, 0.999, 1e-8
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.adam_m, self.adam_v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= (lr / c1) * m / (np.sqrt(v / c2) + eps)


def run(w, data_dir, reps, rss0):
    if w.synthetic:
        rng = np.random.default_rng(7)
        X = rng.random((w.m, w.dims[0]), np.float32)
        y = rng.integers(0, w.dims[-1], w.m)
    else:
        X = read(data_dir, f"{w.name}_X.f32", np.float32, (w.m, w.dims[0]))
        y = (read(data_dir, f"{w.name}_y.f32", np.float32, (1, w.m)) if w.binary
             else read(data_dir, f"{w.name}_y.i32", np.int32, (w.m,)))
    perm = read(data_dir, f"{w.name}_perm.i32", np.int32, (w.m,)) if w.batch < w.m else None
    XT = None if perm is not None else np.ascontiguousarray(X.T)  # the course's (n0, m)
    net = Net(w, data_dir)

    def step(k, want_cost):
        xb, yb = XT, y
        if perm is not None:
            idx = batch_index(perm, w.batch, k)
            xb, yb = X[idx].T, y[idx]  # the batch's rows, seen as columns (BLAS takes the transpose flag)
        out, caches = net.forward(xb)
        J, dZ = net.cost_and_dZ(out, yb)
        net.update(net.backward(caches, dZ))
        return float(J) if want_cost else 0.0

    measure("numpy", w, reps, rss0, step)


def main():
    rss0 = rss_kb()
    which, data_dir, reps = args()
    run(workload(which), data_dir, reps, rss0)


if __name__ == "__main__":
    main()
