// The hot kernels the comparison's profiles point at (bench/README.md, "Profile"): elementwise
// transcendental maps, the bias-gradient reduction, the gather of a mini-batch from either
// layout, the fused losses and the optimizers' updates, each at the sizes W1–W4 use.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <autodiff/autodiff.hpp>
#include <nn/nn.hpp>
#include <vector>

namespace {

int64_t elements(const benchmark::State& state) { return state.range(0) * state.range(1); }

// sigmoid forward, no recording: W1's hidden layer is 4×400, W3's 256×128.
void BM_sigmoid_fwd(benchmark::State& state) {
  ad::Tensor x = ad::randn({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ad::sigmoid(x).raw_data());
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_sigmoid_fwd)->Args({4, 400})->Args({256, 128})->Args({1024, 1024});

void BM_log_fwd(benchmark::State& state) {
  ad::Tensor x = ad::rand({state.range(0), state.range(1)}) + 0.1;
  for (auto _ : state) benchmark::DoNotOptimize(ad::log(x).raw_data());
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
  for (auto _ : state) benchmark::DoNotOptimize(ad::sum_to(g, {state.range(0), 1}).raw_data());
  state.SetItemsProcessed(state.iterations() * elements(state));
}
BENCHMARK(BM_sum_to_bias)->Args({4, 400})->Args({256, 128})->Args({4096, 256});

// W3's mini-batches: 128 samples of the 60,000 in a shuffled order, a new batch every
// iteration (one epoch's 469 batches, cycled) so that, as in training, the batch is not in cache.
std::vector<std::vector<int64_t>> w3_batches() {
  std::vector<int64_t> order(60000);
  for (int64_t i = 0; i < 60000; ++i) order[static_cast<size_t>(i)] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[ad::random_u64() % i]);
  std::vector<std::vector<int64_t>> batches;
  for (size_t b = 0; b + 128 <= order.size(); b += 128) batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(b), order.begin() + static_cast<std::ptrdiff_t>(b + 128));
  return batches;
}

// Arg 0: from the (784, 60000) column layout, 100,352 elements 240 KB apart (gather_columns).
// Arg 1: from the (60000, 784) sample-major layout, 128 contiguous rows of 3 KB (gather_samples).
void BM_gather_w3(benchmark::State& state) {
  const bool samples = state.range(0) != 0;
  ad::Tensor data = samples ? ad::rand({60000, 784}) : ad::rand({784, 60000});
  const auto batches = w3_batches();
  size_t k = 0;
  for (auto _ : state) {
    const auto& idx = batches[k++ % batches.size()];
    benchmark::DoNotOptimize((samples ? ad::nn::gather_samples(data, idx) : ad::nn::gather_columns(data, idx)).raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 784 * 128);
}
BENCHMARK(BM_gather_w3)->Arg(0)->Arg(1);

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

// W4's SGD step: 21 million parameters, memory-bound (each step reads the weights and their
// gradients and writes the weights: 250 MB). Arg: threads (the split of kernels::parallel_for).
void BM_sgd_step_w4(benchmark::State& state) {
  const int saved = ad::get_num_threads();
  ad::set_num_threads(static_cast<int>(state.range(0)));
  ad::nn::Sequential net = ad::nn::mlp({1024, 4096, 4096, 10}, ad::nn::Activation::ReLU, ad::nn::Activation::Identity);
  for (ad::Tensor& p : net.parameters()) p.set_grad(ad::full(p.shape(), 1e-3));
  ad::optim::SGD sgd(net.parameters(), 1e-3);
  for (auto _ : state) sgd.step();
  state.SetItemsProcessed(state.iterations() * 21'020'682);
  ad::set_num_threads(saved);
}
BENCHMARK(BM_sgd_step_w4)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

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
  for (auto _ : state) benchmark::DoNotOptimize(ad::gemm(a, b, ta, tb).raw_data());
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

// The thin products (at most 24 rows in C, a wide operand) that ad::gemm hands to its own
// kernel instead of BLAS, against the bare cblas_sgemm call on the same operands (arg 5: 1 =
// ad::gemm, 0 = cblas_sgemm). Args m, k, n, transpose_b as above.
void BM_gemm_thin(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool tb = state.range(3) != 0, ours = state.range(4) != 0;
  ad::Tensor a = ad::randn({m, k}), b = tb ? ad::randn({n, k}) : ad::randn({k, n}), c = ad::empty({m, n});
  for (auto _ : state) {
    if (ours) {
      benchmark::DoNotOptimize(ad::gemm(a, b, false, tb).raw_data());
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                  static_cast<int>(k), 1.0f, a.data<float>(), static_cast<int>(k), b.data<float>(),
                  static_cast<int>(tb ? k : n), 0.0f, c.data<float>(), static_cast<int>(n));
      benchmark::ClobberMemory();
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gemm_thin)
    ->Args({20, 12288, 209, 0, 1})->Args({20, 12288, 209, 0, 0})  // W2 Z1 = W1·X
    ->Args({20, 209, 12288, 1, 1})->Args({20, 209, 12288, 1, 0})  // W2 dW1 = dZ1·Xᵀ
    ->Args({10, 4096, 256, 0, 1})->Args({10, 4096, 256, 0, 0})    // W4 Z3 = W3·A2
    ->Args({10, 256, 4096, 1, 1})->Args({10, 256, 4096, 1, 0})    // W4 dW3 = dZ3·A2ᵀ
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The products ad::gemm hands to the packed kernel (every float32 product from 2.6·10⁵
// multiply-adds that is not thin), against the bare cblas_sgemm call (arg 5: 1 = ad::gemm,
// 0 = cblas_sgemm). Args m, k, n, transpose_a, ours. All of ours run first: after a threaded
// call OpenBLAS's workers spin for ~0.1 s and would take half a core from the next benchmark.
void BM_gemm_packed(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3) != 0, ours = state.range(4) != 0;
  // The forward shapes (ta = 0) multiply W · A; ta = 1 is the backward Wᵀ · dZ; m × n from k.
  ad::Tensor a = ta ? ad::randn({k, m}) : ad::randn({m, k}), b = ad::randn({k, n}), c = ad::empty({m, n});
  for (auto _ : state) {
    if (ours) {
      benchmark::DoNotOptimize(ad::gemm(a, b, ta, false).raw_data());
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                  static_cast<int>(k), 1.0f, a.data<float>(), static_cast<int>(ta ? m : k), b.data<float>(),
                  static_cast<int>(n), 0.0f, c.data<float>(), static_cast<int>(n));
      benchmark::ClobberMemory();
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gemm_packed)
    ->Args({4096, 1024, 256, 0, 1})  // W4 Z1 = W1·X
    ->Args({4096, 4096, 256, 0, 1})  // W4 Z2 = W2·A1
    ->Args({4096, 4096, 256, 1, 1})  // W4 dA1 = W2ᵀ·dZ2
    ->Args({4096, 10, 256, 1, 1})    // W4 dA2 = W3ᵀ·dZ3
    ->Args({256, 784, 128, 0, 1})    // W3 Z1
    ->Args({2048, 2048, 2048, 0, 1})
    ->Args({4096, 1024, 256, 0, 0})
    ->Args({4096, 4096, 256, 0, 0})
    ->Args({4096, 4096, 256, 1, 0})
    ->Args({4096, 10, 256, 1, 0})
    ->Args({256, 784, 128, 0, 0})
    ->Args({2048, 2048, 2048, 0, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
