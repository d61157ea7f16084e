// The small-product bake-off: kernels::small_gemm against one cblas_sgemm / cblas_dgemm call on
// the small products of the networks (bench/README.md, "Small products"), float32 and float64.
// Names read BM_small_gemm/<backend>/<dtype>/<network> <role> <m×n←k>; a layer with W[l]
// (n_l × n_{l−1}) at batch b runs W·A (n_l × b ← n_{l−1}), Wᵀ·dZ (n_{l−1} × b ← n_l, above the
// first layer) and dZ·Aᵀ (n_l × n_{l−1} ← b).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/kernels/small_gemm.hpp"

namespace {

struct Product {
  std::string name;
  int64_t m, n, k;
  bool ta, tb;
};

void add_layers(std::vector<Product>& out, const std::string& net, const std::vector<int64_t>& dims, int64_t b,
                size_t first_layer = 1) {
  for (size_t l = first_layer; l < dims.size(); ++l) {
    const int64_t rows = dims[l], cols = dims[l - 1];
    out.push_back({net + " W·A", rows, b, cols, false, false});
    if (l > 1) out.push_back({net + " Wᵀ·dZ", cols, b, rows, true, false});
    out.push_back({net + " dZ·Aᵀ", rows, cols, b, false, true});
  }
}

std::vector<Product> products() {
  std::vector<Product> out;
  for (int64_t m : {1, 4, 16, 64, 400, 1024, 4096}) add_layers(out, "2-4-1 m=" + std::to_string(m), {2, 4, 1}, m);
  add_layers(out, "12288-20-7-5-1 m=209", {12288, 20, 7, 5, 1}, 209, 2);  // the last three layers
  return out;
}

template <class T>
void fill(std::vector<T>& v, uint64_t s) {
  for (T& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<T>(static_cast<double>(s >> 40) / static_cast<double>(1ull << 24) - 0.5);
  }
}

void blas(const Product& p, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0f, a,
              static_cast<blasint>(p.ta ? p.m : p.k), b, static_cast<blasint>(p.tb ? p.k : p.n), 0.0f, c,
              static_cast<blasint>(p.n));
}
void blas(const Product& p, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(p.m), static_cast<blasint>(p.n), static_cast<blasint>(p.k), 1.0, a,
              static_cast<blasint>(p.ta ? p.m : p.k), b, static_cast<blasint>(p.tb ? p.k : p.n), 0.0, c,
              static_cast<blasint>(p.n));
}

template <class T>
void run(benchmark::State& state, const Product& p, bool small) {
  std::vector<T> a(static_cast<size_t>(p.m * p.k)), b(static_cast<size_t>(p.k * p.n)), c(static_cast<size_t>(p.m * p.n));
  fill(a, 1);
  fill(b, 2);
  for (auto _ : state) {
    if (small)
      ad::kernels::small_gemm(p.m, p.n, p.k, a.data(), p.ta ? p.m : p.k, p.ta, b.data(), p.tb ? p.k : p.n, p.tb,
                              c.data(), p.n);
    else
      blas(p, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["madds"] = static_cast<double>(p.m * p.n * p.k);
}

const bool registered = [] {
  for (const Product& p : products()) {
    std::string shape = " ";
    shape.append(std::to_string(p.m)).append("×").append(std::to_string(p.n)).append("←").append(std::to_string(p.k));
    for (bool small : {true, false}) {
      const std::string backend = small ? "small" : "openblas";
      benchmark::RegisterBenchmark(("BM_small_gemm/" + backend + "/f32/" + p.name + shape).c_str(),
                                   [p, small](benchmark::State& s) { run<float>(s, p, small); });
      benchmark::RegisterBenchmark(("BM_small_gemm/" + backend + "/f64/" + p.name + shape).c_str(),
                                   [p, small](benchmark::State& s) { run<double>(s, p, small); });
    }
  }
  return true;
}();

}  // namespace
