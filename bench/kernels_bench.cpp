// The hot kernels the comparison's profiles point at (bench/README.md, "Profile"): elementwise
// transcendental maps, the bias-gradient reduction, the column gather of a mini-batch, the
// fused losses and Adam's update, each at the sizes W1–W3 use.
#include <benchmark/benchmark.h>

#include <autodiff/autodiff.hpp>
#include <nn/nn.hpp>
#include <vector>

namespace {

int64_t elements(const benchmark::State& state) { return state.range(0) * state.range(1); }

// sigmoid forward, no recording: W1's hidden layer is 4×400, W3's 256×128.
void BM_sigmoid_fwd(benchmark::State& state) {
  ad::Tensor x = ad::randn({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ad::sigmoid(x).impl());
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_sigmoid_fwd)->Args({4, 400})->Args({256, 128})->Args({1024, 1024});

void BM_log_fwd(benchmark::State& state) {
  ad::Tensor x = ad::rand({state.range(0), state.range(1)}) + 0.1;
  for (auto _ : state) benchmark::DoNotOptimize(ad::log(x).impl());
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_log_fwd)->Args({1, 400})->Args({1024, 1024});

// relu forward + backward through the engine (W2–W4's hidden layers).
void BM_relu_fwd_bwd(benchmark::State& state) {
  ad::Tensor x = ad::randn({state.range(0), state.range(1)}).requires_grad_();
  ad::Tensor seed = ad::ones({state.range(0), state.range(1)});
  for (auto _ : state) {
    ad::relu(x).backward(seed);
    x.zero_grad();
  }
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_relu_fwd_bwd)->Args({256, 128})->Args({4096, 256});

// db[l] = Σ_columns dZ[l]: the engine's sum_to for a (n, 1) bias broadcast over m columns.
void BM_sum_to_bias(benchmark::State& state) {
  ad::Tensor g = ad::randn({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ad::sum_to(g, {state.range(0), 1}).impl());
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_sum_to_bias)->Args({4, 400})->Args({256, 128})->Args({4096, 256});

// W3's mini-batch: 128 shuffled columns of the (784, 60000) data set.
void BM_gather_columns_w3(benchmark::State& state) {
  ad::Tensor X = ad::rand({784, 60000});
  std::vector<int64_t> idx;
  for (int i = 0; i < 128; ++i) idx.push_back(static_cast<int64_t>(ad::random_u64() % 60000));
  for (auto _ : state) benchmark::DoNotOptimize(ad::nn::gather_columns(X, idx).impl());
  state.SetItemsProcessed(state.iterations() * 784 * 128);
}
BENCHMARK(BM_gather_columns_w3);

// The fused softmax cross-entropy on W3's logits (10, 128), forward + backward.
void BM_softmax_ce_fwd_bwd(benchmark::State& state) {
  ad::Tensor z = ad::randn({10, 128}).requires_grad_();
  std::vector<int64_t> labels;
  for (int i = 0; i < 128; ++i) labels.push_back(i % 10);
  for (auto _ : state) {
    ad::nn::softmax_cross_entropy(z, labels).backward();
    z.zero_grad();
  }
}
BENCHMARK(BM_softmax_ce_fwd_bwd);

// binary_cross_entropy on W1's output (1, 400), forward + backward.
void BM_bce_fwd_bwd(benchmark::State& state) {
  ad::Tensor a = ad::rand({1, 400}).requires_grad_();
  ad::Tensor y = ad::gt(ad::rand({1, 400}), 0.5);
  for (auto _ : state) {
    ad::nn::binary_cross_entropy(a, y).backward();
    a.zero_grad();
  }
}
BENCHMARK(BM_bce_fwd_bwd);

// Adam's update of W3's 235,146 parameters.
void BM_adam_step_w3(benchmark::State& state) {
  ad::nn::Sequential net = ad::nn::mlp({784, 256, 128, 10}, ad::nn::Activation::ReLU, ad::nn::Activation::Identity);
  for (ad::Tensor& p : net.parameters()) p.set_grad(ad::randn(p.shape()));
  ad::optim::Adam adam(net.parameters(), 1e-3);
  for (auto _ : state) adam.step();
  state.SetItemsProcessed(state.iterations() * 235146);
}
BENCHMARK(BM_adam_step_w3);

// A whole nn::mlp forward + backward as a user writes it: W1's 2→4→1 sigmoid net on m = 400
// and W3's 784→256→128→10 ReLU net on a batch of 128. Arg 1: net.forward (Sequential fuses
// each Linear's bias-add into the activation that follows); arg 0: the same modules called one
// by one (never fused), for the comparison in one run.
ad::Tensor run_net(ad::nn::Sequential& net, const ad::Tensor& x, bool whole) {
  if (whole) return net.forward(x);
  ad::Tensor a = x;
  for (size_t i = 0; i < net.size(); ++i) a = net[i].forward(a);
  return a;
}

void BM_mlp_fwd_bwd_w1(benchmark::State& state) {
  ad::nn::Sequential net = ad::nn::mlp({2, 4, 1}, ad::nn::Activation::Sigmoid, ad::nn::Activation::Sigmoid);
  ad::Tensor X = ad::randn({2, 400});
  ad::Tensor Y = ad::gt(ad::rand({1, 400}), 0.5);
  for (auto _ : state) {
    ad::nn::binary_cross_entropy(run_net(net, X, state.range(0) != 0), Y).backward();
    net.zero_grad();
  }
}
BENCHMARK(BM_mlp_fwd_bwd_w1)->Arg(0)->Arg(1);

void BM_mlp_fwd_bwd_w3(benchmark::State& state) {
  ad::nn::Sequential net = ad::nn::mlp({784, 256, 128, 10}, ad::nn::Activation::ReLU, ad::nn::Activation::Identity);
  ad::Tensor X = ad::rand({784, 128});
  std::vector<int64_t> labels;
  for (int i = 0; i < 128; ++i) labels.push_back(i % 10);
  for (auto _ : state) {
    ad::nn::softmax_cross_entropy(run_net(net, X, state.range(0) != 0), labels).backward();
    net.zero_grad();
  }
}
BENCHMARK(BM_mlp_fwd_bwd_w3)->Arg(0)->Arg(1);

// One unrecorded ad::gemm at the small shapes of W1/W2 (args m, k, n, transpose_a,
// transpose_b), where the BLAS call's fixed cost is most of the time.
void BM_gemm_small(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  ad::Tensor a = ta ? ad::randn({k, m}) : ad::randn({m, k});
  ad::Tensor b = tb ? ad::randn({n, k}) : ad::randn({k, n});
  for (auto _ : state) benchmark::DoNotOptimize(ad::gemm(a, b, ta, tb).impl());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gemm_small)
    ->Args({4, 2, 400, 0, 0})     // W1 Z1 = W1·X
    ->Args({1, 4, 400, 0, 0})     // W1 Z2 = W2·A1
    ->Args({4, 400, 2, 0, 1})     // W1 dW1 = dZ1·Xᵀ
    ->Args({1, 400, 4, 0, 1})     // W1 dW2 = dZ2·A1ᵀ
    ->Args({4, 1, 400, 1, 0})     // W1 dA1 = W2ᵀ·dZ2
    ->Args({7, 20, 209, 0, 0})    // W2 Z2
    ->Args({7, 209, 20, 0, 1})    // W2 dW2
    ->Args({20, 7, 209, 1, 0})    // W2 dA1
    ->Args({32, 32, 32, 0, 0})
    ->Args({10, 128, 128, 0, 0})  // W3 Z3
    ->Args({64, 64, 64, 0, 0});

}  // namespace
