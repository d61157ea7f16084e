// The yardsticks of W4's GFLOP/s, both bare cblas_sgemm calls on the BLAS's configured
// threads, each printed as one JSON line:
//   - "peak": square products at a few sizes, the best size's median (issue 5's yardstick);
//   - "w4_products": the products of one W4 training step and nothing else, the same shapes
//     and transpose flags a step runs, median of the sequence's time, with GFLOP/s counted as
//     for the workloads (6 · batch · weights). This is the ceiling of any W4 step built on this
//     BLAS: it separates what the product shapes cost (skinny k = 256 and n = 256 products run
//     below the square peak) from what an implementation adds around them.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.hpp"

namespace {

struct Product {
  bool ta, tb;
  int m, n, k;
};

float* filled(size_t count) {
  float* p = static_cast<float*>(std::aligned_alloc(64, count * sizeof(float)));
  for (size_t i = 0; i < count; ++i) p[i] = static_cast<float>(i % 7) * 0.1f;
  return p;
}

double seconds_of(const std::vector<Product>& products, const float* a, const float* b, float* c) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const Product& p : products)
    cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k, 1.f,
                a, p.ta ? p.m : p.k, b, p.tb ? p.k : p.n, 0.f, c, p.n);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void square_peak(int reps) {
  double best = 0;
  int best_n = 0;
  for (int n : {1024, 2048, 4096}) {
    const size_t nn = static_cast<size_t>(n) * n;
    float *a = filled(nn), *b = filled(nn), *c = filled(nn);
    const std::vector<Product> square = {{false, false, n, n, n}};
    seconds_of(square, a, b, c);  // warm-up
    std::vector<double> gflops;
    for (int r = 0; r < reps; ++r) gflops.push_back(2.0 * n * n * n / seconds_of(square, a, b, c) / 1e9);
    const double med = median(gflops);
    std::fprintf(stderr, "sgemm %d: median %.1f GFLOP/s\n", n, med);
    if (med > best) best = med, best_n = n;
    std::free(a), std::free(b), std::free(c);
  }
  std::printf("{\"impl\": \"cblas_sgemm\", \"workload\": \"peak\", \"n\": %d, \"gflops\": %.2f}\n", best_n, best);
}

// A step of the column-layout MLP, layer l with W (n_l × n_{l−1}) and batch B: forward
// Z = W·A (n_l × B from k = n_{l−1}); backward dW = dZ·Aᵀ (k = B) and, above the first layer,
// dA = Wᵀ·dZ (k = n_l).
void w4_products(int reps) {
  const cmp::Workload w = cmp::workload("w4");
  const int batch = static_cast<int>(w.batch);
  std::vector<Product> step;
  size_t largest = 0;
  double weights = 0;
  for (size_t l = 1; l < w.dims.size(); ++l) {
    const int rows = static_cast<int>(w.dims[l]), cols = static_cast<int>(w.dims[l - 1]);
    step.push_back({false, false, rows, batch, cols});
    step.push_back({false, true, rows, cols, batch});
    if (l > 1) step.push_back({true, false, cols, batch, rows});
    largest = std::max({largest, static_cast<size_t>(rows) * cols, static_cast<size_t>(std::max(rows, cols)) * batch});
    weights += static_cast<double>(rows) * cols;
  }
  float *a = filled(largest), *b = filled(largest), *c = filled(largest);
  seconds_of(step, a, b, c);  // warm-up
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) times.push_back(seconds_of(step, a, b, c));
  const double s = median(times), gflops = 6.0 * batch * weights / s / 1e9;
  std::fprintf(stderr, "W4's products, bare: median %.1f ms, %.1f GFLOP/s\n", s * 1e3, gflops);
  std::printf("{\"impl\": \"cblas_sgemm\", \"workload\": \"w4_products\", \"seconds\": %.6f, \"gflops\": %.2f}\n", s,
              gflops);
  std::free(a), std::free(b), std::free(c);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  if (reps < 1) return 0;  // run.sh's probe: only OpenBLAS's start-up message is wanted
  square_peak(reps);
  w4_products(reps);
  return 0;
}
