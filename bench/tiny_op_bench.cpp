// Per-op overhead: recording an elementwise op on a 1-element tensor, plus its share of the
// backward walk. At this size the kernel is a few instructions, so what is measured is the
// engine: handle and storage allocation, the tape record, the backward rule and the routing of
// its gradient. Target (issue 2): under 300 ns per op including its share of backward.
#include <benchmark/benchmark.h>

#include <autodiff/autodiff.hpp>

namespace {

// One recorded add on a requires-grad scalar, then backward: the whole cost of a one-op graph
// (including seeding the backward pass).
void BM_tiny_add_fwd_bwd(benchmark::State& state) {
  ad::Tensor x = ad::scalar(1.0).requires_grad_();
  ad::Tensor a = ad::scalar(0.5);
  for (auto _ : state) {
    ad::Tensor y = x + a;
    y.backward();
    x.zero_grad();
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_tiny_add_fwd_bwd);

// A chain of N recorded ops (alternating add and mul with constant 1-element tensors), then one
// backward: the per-op cost with the fixed cost of backward() amortized. `per_op` is the time
// per recorded op, forward + backward.
void BM_tiny_op_chain(benchmark::State& state) {
  const int64_t n = state.range(0);
  ad::Tensor x = ad::scalar(1.0).requires_grad_();
  ad::Tensor a = ad::scalar(0.5), b = ad::scalar(0.999);
  for (auto _ : state) {
    ad::Tensor y = x;
    for (int64_t i = 0; i < n; i += 2) {
      y = y + a;
      y = y * b;
    }
    y.backward();
    x.zero_grad();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["per_op"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_tiny_op_chain)->Arg(2)->Arg(32)->Arg(1024);

// micrograd's test expression on two scalars (powers written as products): 26 recorded ops
// (counted in the comments), then backward into a and b. The same expression is timed against
// LibTorch in compare/.
ad::Tensor scalar_expression(ad::Tensor a, ad::Tensor b) {
  ad::Tensor c = a + b;                      // 1
  ad::Tensor d = a * b + b * b * b;          // 5
  c = c + (c + 1.0);                         // 7
  c = c + (1.0 + c + (-a));                  // 11
  d = d + (d * 2.0 + ad::relu(b + a));       // 16
  d = d + (3.0 * d + ad::relu(b - a));       // 21
  ad::Tensor e = c - d;                      // 22
  ad::Tensor f = e * e;                      // 23
  ad::Tensor g = f / 2.0;                    // 24
  g = g + 10.0 / f;                          // 26
  a.zero_grad();
  b.zero_grad();
  g.backward();
  return g;
}

void BM_scalar_expression(benchmark::State& state) {
  ad::Tensor a = ad::scalar(-4.0).requires_grad_();
  ad::Tensor b = ad::scalar(2.0).requires_grad_();
  for (auto _ : state) {
    ad::Tensor g = scalar_expression(a, b);
    benchmark::DoNotOptimize(a.grad().raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 26);
  state.counters["per_op"] =
      benchmark::Counter(26.0, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_scalar_expression);

// The same expression compiled (ad::compile): recorded once, then replayed: its kernels only.
void BM_scalar_expression_compiled(benchmark::State& state) {
  ad::Tensor a = ad::scalar(-4.0).requires_grad_();
  ad::Tensor b = ad::scalar(2.0).requires_grad_();
  auto expr = ad::compile([&] { return scalar_expression(a, b); });
  expr();
  for (auto _ : state) {
    ad::Tensor g = expr();
    benchmark::DoNotOptimize(a.grad().raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 26);
  state.counters["per_op"] =
      benchmark::Counter(26.0, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_scalar_expression_compiled);

}  // namespace
