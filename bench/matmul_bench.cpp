// matmul forward + backward against the bare BLAS calls it makes: C = A·B (NN), then
// dA = dC·Bᵀ (NT) and dB = Aᵀ·dC (TN), transposes by flag, none materialized. The difference
// is the engine's overhead (recording, allocation, routing). Target (issue 2): within 10%.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <autodiff/autodiff.hpp>

namespace {

void BM_matmul_fwd_bwd(benchmark::State& state) {
  const int64_t n = state.range(0);
  ad::manual_seed(1);
  ad::Tensor a = ad::randn({n, n}).requires_grad_();
  ad::Tensor b = ad::randn({n, n}).requires_grad_();
  ad::Tensor seed = ad::randn({n, n});
  for (auto _ : state) {
    ad::Tensor c = ad::matmul(a, b);
    c.backward(seed);
    // Cleared, not accumulated: each iteration makes the same three gemm calls and no add.
    a.zero_grad();
    b.zero_grad();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_matmul_fwd_bwd)->Arg(64)->Arg(256)->Arg(1024)->UseRealTime();

void BM_sgemm_bare_3calls(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  // Same 64-byte-aligned storage and the same values as the tapegrad case, so the only
  // difference is the engine around the calls.
  ad::manual_seed(1);
  ad::Tensor ta = ad::randn({n, n}), tb = ad::randn({n, n}), tg = ad::randn({n, n});
  ad::Tensor tc = ad::empty({n, n}), tda = ad::empty({n, n}), tdb = ad::empty({n, n});
  const float *a = ta.data<float>(), *b = tb.data<float>(), *g = tg.data<float>();
  float *c = tc.data<float>(), *da = tda.data<float>(), *db = tdb.data<float>();
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, g, n, b, n, 0.0f, da, n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0f, a, n, g, n, 0.0f, db, n);
    benchmark::DoNotOptimize(db);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_sgemm_bare_3calls)->Arg(64)->Arg(256)->Arg(1024)->UseRealTime();

}  // namespace
