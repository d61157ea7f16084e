// Training steps of the comparison's larger networks, eagerly and under ad::compile (recorded on
// the first call, replayed after), built with the nn layer as a user would: nn::mlp, the fused
// costs, ad::optim. Every benchmark reports heap allocations per step; the compiled ones also
// report step.stats(): kernels per replay, the replay's arena of intermediates and the most
// intermediate memory the eager step had alive at once.
#include <benchmark/benchmark.h>

#include <autodiff/autodiff.hpp>
#include <nn/nn.hpp>

#include "alloc_count.hpp"

namespace {

using ad::Tensor;
namespace nn = ad::nn;

void report_stats(benchmark::State& state, const ad::CompileStats& s) {
  state.counters["kernels"] = static_cast<double>(s.kernels);
  state.counters["arena_KiB"] = static_cast<double>(s.arena_bytes) / 1024;
  state.counters["eager_peak_KiB"] = static_cast<double>(s.eager_peak_bytes) / 1024;
  state.counters["persistent_KiB"] = static_cast<double>(s.persistent_bytes) / 1024;
  state.counters["records"] = static_cast<double>(s.records);
}

// A binary classifier trained by full-batch gradient descent on binary cross-entropy, with a
// sigmoid output, on m samples; X is drawn by `draw_x` after the weights, the labels uniformly.
struct BinaryGD {
  Tensor X, Y;
  nn::Sequential net;
  ad::optim::SGD sgd;
  BinaryGD(std::vector<int64_t> sizes, int64_t m, nn::Activation hidden, double lr, uint64_t seed,
           Tensor (*draw_x)(const ad::Shape&))
      : net(nn::mlp(sizes, hidden, nn::Activation::Sigmoid)), sgd(net.parameters(), lr) {
    ad::manual_seed(seed);
    X = draw_x({sizes.front(), m});
    Y = ad::gt(ad::rand({1, m}), 0.5);
  }
  Tensor step(const Tensor& x, const Tensor& y) {
    Tensor J = nn::binary_cross_entropy(net.forward(x), y);
    sgd.zero_grad();
    J.backward();
    sgd.step();
    return J;
  }
};

Tensor draw_randn(const ad::Shape& s) { return ad::randn(s); }
Tensor draw_rand(const ad::Shape& s) { return ad::rand(s); }

// 2-4-1 (sigmoid hidden) on m = 400 random points, α = 1.2: the comparison's smallest network.
struct TwoLayer : BinaryGD {
  TwoLayer() : BinaryGD({2, 4, 1}, 400, nn::Activation::Sigmoid, 1.2, 4, draw_randn) {}
};

// 12288-20-7-5-1 (ReLU hidden) on m = 209 random 64×64×3 "images", α = 0.0075.
struct DeepBinary : BinaryGD {
  DeepBinary() : BinaryGD({12288, 20, 7, 5, 1}, 209, nn::Activation::ReLU, 0.0075, 5, draw_rand) {}
};

// 784-256-128-10 (ReLU, logits) on one batch of 128 random samples with int64 labels: softmax
// cross-entropy, Adam 1e-3.
struct MnistAdam {
  Tensor X, Y;  // Y: the class labels
  nn::Sequential net = nn::mlp({784, 256, 128, 10}, nn::Activation::ReLU, nn::Activation::Identity);
  ad::optim::Adam adam{net.parameters(), 1e-3};
  MnistAdam() {
    ad::manual_seed(6);
    X = ad::rand({784, 128});
    Y = ad::empty({128}, ad::DType::i64);
    for (int64_t i = 0; i < 128; ++i) Y.data<int64_t>()[i] = static_cast<int64_t>(ad::random_u64() % 10);
  }
  Tensor step(const Tensor& x, const Tensor& y) {
    Tensor J = ad::softmax_cross_entropy(net.forward(x), y);
    adam.zero_grad();
    J.backward();
    adam.step();
    return J;
  }
};

template <class Net>
void eager(benchmark::State& state) {
  Net n;
  bench::time_steps(state, [&] { benchmark::DoNotOptimize(n.step(n.X, n.Y).raw_data()); });
}

template <class Net>
void compiled(benchmark::State& state) {
  Net n;
  auto step = ad::compile([&](const Tensor& x, const Tensor& y) { return n.step(x, y); });
  bench::time_steps(state, [&] { benchmark::DoNotOptimize(step(n.X, n.Y).raw_data()); });
  report_stats(state, step.stats());
}

void BM_step_2_4_1(benchmark::State& state) { eager<TwoLayer>(state); }
void BM_step_2_4_1_compiled(benchmark::State& state) { compiled<TwoLayer>(state); }
void BM_step_12288_20_7_5_1(benchmark::State& state) { eager<DeepBinary>(state); }
void BM_step_12288_20_7_5_1_compiled(benchmark::State& state) { compiled<DeepBinary>(state); }
void BM_step_784_256_128_10_adam(benchmark::State& state) { eager<MnistAdam>(state); }
void BM_step_784_256_128_10_adam_compiled(benchmark::State& state) { compiled<MnistAdam>(state); }
BENCHMARK(BM_step_2_4_1);
BENCHMARK(BM_step_2_4_1_compiled);
BENCHMARK(BM_step_12288_20_7_5_1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_step_12288_20_7_5_1_compiled)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_step_784_256_128_10_adam)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_step_784_256_128_10_adam_compiled)->Unit(benchmark::kMicrosecond);

}  // namespace
