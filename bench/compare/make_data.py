#!/usr/bin/python3
"""Writes the data and initial weights every implementation reads, so all four compute the same
thing. Usage: make_data.py OUTDIR

Files are raw little-endian arrays, row-major, no header (shapes are fixed by the workloads):
  wK_X.f32    (m, n0)   samples as rows (column-layout implementations transpose on load)
  wK_y.f32    (m,)      binary labels 0/1            (W1, W2)
  wK_y.i32    (m,)      class indices                (W3, W4)
  wK_W{l}.f32 (n[l], n[l-1])   wK_b{l}.f32 (n[l],)    initial parameters, layer l = 1..L
  w3_perm.i32 (60000,)  the shuffled sample order of the epoch
"""
import gzip
import os
import sys

import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist"


def planar(rng, m=400):
    """The course's two-petal 'flower' dataset: 2 features, m points, labels 0/1."""
    n = m // 2
    X = np.zeros((m, 2))
    y = np.zeros(m)
    for j in range(2):
        ix = slice(n * j, n * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.standard_normal(n) * 0.2
        r = 4 * np.sin(4 * t) + rng.standard_normal(n) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def fashion(rng):
    """Fashion-MNIST's 60,000 training images scaled to [0, 1], or synthetic data of that shape."""
    try:
        with gzip.open(f"{FASHION}/train-images-idx3-ubyte.gz") as f:
            X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(60000, 784)
        with gzip.open(f"{FASHION}/train-labels-idx1-ubyte.gz") as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8)
        return X.astype(np.float32) / 255.0, y.astype(np.int32), "fashion-mnist"
    except OSError:
        return rng.random((60000, 784), np.float32), rng.integers(0, 10, 60000).astype(np.int32), "synthetic"


def write(out, name, a, dtype):
    np.ascontiguousarray(a, dtype=dtype).tofile(os.path.join(out, name))


def weights(out, tag, dims, rng, scale):
    """W[l] ~ N(0, 1)·scale(n[l-1]), b[l] = 0, for l = 1..L."""
    for l in range(1, len(dims)):
        write(out, f"{tag}_W{l}.f32", rng.standard_normal((dims[l], dims[l - 1])) * scale(dims[l - 1]), np.float32)
        write(out, f"{tag}_b{l}.f32", np.zeros(dims[l]), np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(2024)
    he = lambda n: np.sqrt(2.0 / n)

    X, y = planar(rng)                                   # W1: planar 2→4→1
    write(out, "w1_X.f32", X, np.float32)
    write(out, "w1_y.f32", y, np.float32)
    weights(out, "w1", [2, 4, 1], rng, lambda n: 0.01)

    X = rng.random((209, 12288))                         # W2: deep 12288→20→7→5→1 (cat-vs-non-cat shape)
    write(out, "w2_X.f32", X, np.float32)
    write(out, "w2_y.f32", rng.integers(0, 2, 209), np.float32)
    weights(out, "w2", [12288, 20, 7, 5, 1], rng, lambda n: 1.0 / np.sqrt(n))

    X, y, source = fashion(rng)                          # W3: fashion 784→256→128→10
    write(out, "w3_X.f32", X, np.float32)
    write(out, "w3_y.i32", y, np.int32)
    write(out, "w3_perm.i32", rng.permutation(60000), np.int32)
    weights(out, "w3", [784, 256, 128, 10], rng, he)

    write(out, "w4_X.f32", rng.standard_normal((256, 1024)), np.float32)  # W4: wide 1024→4096→4096→10
    write(out, "w4_y.i32", rng.integers(0, 10, 256), np.int32)
    weights(out, "w4", [1024, 4096, 4096, 10], rng, he)
    print(f"data in {out} (W3: {source})")


if __name__ == "__main__":
    main()
