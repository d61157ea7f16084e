// One full-batch training step of the two-layer network 2→4→1 (sigmoid hidden and output,
// binary cross-entropy, plain gradient descent) on m = 400 samples, written with the autodiff
// API only: forward, backward, update; eagerly, and compiled (ad::compile: recorded once, then
// replayed).
#include <benchmark/benchmark.h>

#include <autodiff/autodiff.hpp>

#include "alloc_count.hpp"

namespace {

struct TwoLayer {
  ad::Tensor X, Y, W1, b1, W2, b2;
  TwoLayer() {
    ad::manual_seed(3);
    const int64_t m = 400;
    X = ad::randn({2, m});                          // A[0]: (n[0], m)
    Y = ad::gt(ad::rand({1, m}), 0.5);              // labels 0/1: (1, m)
    W1 = (ad::randn({4, 2}) * 0.01).requires_grad_();
    b1 = ad::zeros({4, 1}).requires_grad_();
    W2 = (ad::randn({1, 4}) * 0.01).requires_grad_();
    b2 = ad::zeros({1, 1}).requires_grad_();
  }
  ad::Tensor step(const ad::Tensor& x, const ad::Tensor& y) {
    ad::Tensor A1 = ad::sigmoid(ad::matmul(W1, x) + b1);   // (4, m)
    ad::Tensor A2 = ad::sigmoid(ad::matmul(W2, A1) + b2);  // (1, m)
    // J = −(1/m) Σ [y log a + (1−y) log(1−a)]
    ad::Tensor J = -ad::mean(y * ad::log(A2) + (1.0 - y) * ad::log(1.0 - A2));
    J.backward();
    ad::NoGradGuard no_grad;
    for (ad::Tensor* p : {&W1, &b1, &W2, &b2}) {
      p->add_(p->grad(), -1.2);
      p->zero_grad();
    }
    return J;
  }
};

void BM_train_step_2_4_1(benchmark::State& state) {
  TwoLayer net;
  double cost = 0;
  bench::time_steps(state, [&] { cost = net.step(net.X, net.Y).item(); });
  state.counters["cost"] = cost;
}
BENCHMARK(BM_train_step_2_4_1);

void BM_train_step_2_4_1_compiled(benchmark::State& state) {
  TwoLayer net;
  auto step = ad::compile([&](const ad::Tensor& x, const ad::Tensor& y) { return net.step(x, y); });
  double cost = 0;
  bench::time_steps(state, [&] { cost = step(net.X, net.Y).item(); });
  state.counters["cost"] = cost;
  state.counters["kernels"] = static_cast<double>(step.stats().kernels);
}
BENCHMARK(BM_train_step_2_4_1_compiled);

}  // namespace
