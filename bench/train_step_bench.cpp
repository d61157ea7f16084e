// One full-batch training step of the two-layer network 2→4→1 (sigmoid hidden and output,
// binary cross-entropy, plain gradient descent) on m = 400 samples, written with the autodiff
// API only: forward, backward, update.
#include <benchmark/benchmark.h>

#include <autodiff/autodiff.hpp>

namespace {

void BM_train_step_2_4_1(benchmark::State& state) {
  ad::manual_seed(3);
  const int64_t m = 400;
  ad::Tensor X = ad::randn({2, m});                          // A[0]: (n[0], m)
  ad::Tensor Y = ad::gt(ad::rand({1, m}), 0.5);              // labels 0/1: (1, m)
  ad::Tensor W1 = (ad::randn({4, 2}) * 0.01).requires_grad_();
  ad::Tensor b1 = ad::zeros({4, 1}).requires_grad_();
  ad::Tensor W2 = (ad::randn({1, 4}) * 0.01).requires_grad_();
  ad::Tensor b2 = ad::zeros({1, 1}).requires_grad_();
  ad::Tensor params[] = {W1, b1, W2, b2};
  const double lr = 1.2;
  double cost = 0;
  for (auto _ : state) {
    ad::Tensor A1 = ad::sigmoid(ad::matmul(W1, X) + b1);   // (4, m)
    ad::Tensor A2 = ad::sigmoid(ad::matmul(W2, A1) + b2);  // (1, m)
    // J = −(1/m) Σ [y log a + (1−y) log(1−a)]
    ad::Tensor J = -ad::mean(Y * ad::log(A2) + (1.0 - Y) * ad::log(1.0 - A2));
    J.backward();
    ad::NoGradGuard no_grad;
    for (ad::Tensor& p : params) {
      ad::add_scaled_(p, p.grad(), -lr);
      p.zero_grad();
    }
    cost = J.item();
  }
  state.counters["cost"] = cost;
}
BENCHMARK(BM_train_step_2_4_1);

}  // namespace
