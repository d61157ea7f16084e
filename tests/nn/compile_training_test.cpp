// Training steps compiled by ad::compile against the same steps run eagerly: nn::Sequential,
// every optimizer, both dtypes, mini-batches (the last, smaller batch records its own trace),
// learning-rate schedules, dropout. Parameters must agree bit for bit after every step.
#include <gtest/gtest.h>

#include <nn/nn.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <string>

namespace {

using ad::Tensor;
namespace nn = ad::nn;
namespace optim = ad::optim;

bool same_bits(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape()) || a.dtype() != b.dtype()) return false;
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

struct Case {
  std::string name;
  MakeOptimizer make;
};

std::vector<Case> optimizers() {
  return {
      {"sgd", [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), 0.5); }},
      {"momentum",
       [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), 0.1, optim::SGDOptions{0.9, 1e-3}); }},
      {"rmsprop", [](std::vector<Tensor> p) { return std::make_unique<optim::RMSprop>(std::move(p), 0.01); }},
      {"adam", [](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(std::move(p), 0.01); }},
  };
}

// A network, its optimizer, and one training step as a user writes it.
struct Trainer {
  nn::Sequential net;
  std::unique_ptr<optim::Optimizer> opt;
  Trainer(const MakeOptimizer& make, ad::DType dt, bool dropout = false) {
    ad::manual_seed(21);
    net = nn::mlp({2, 8, 6, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid);
    if (dropout) net.add(std::make_shared<nn::Dropout>(0.8));
    net.to(dt);
    opt = make(net.parameters());
  }
  Tensor step(const Tensor& X, const Tensor& Y) {
    Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
    opt->zero_grad();
    J.backward();
    opt->step();
    return J;
  }
  bool same_parameters(Trainer& other) {
    auto a = net.parameters(), b = other.net.parameters();
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_bits(a[i], b[i])) return false;
    return true;
  }
};

nn::Dataset data(int64_t m, ad::DType dt) {
  ad::manual_seed(4);
  Tensor X = ad::randn({2, m}, dt);
  Tensor Y = ad::gt(ad::sum(X * X, 0, true), 1.0);
  return {X, Y, {}, 2};
}

class CompiledTraining : public ::testing::TestWithParam<Case> {};

TEST_P(CompiledTraining, EqualsEagerBitForBit) {
  for (ad::DType dt : {ad::DType::f32, ad::DType::f64}) {
    const nn::Dataset d = data(60, dt);
    Trainer eager(GetParam().make, dt), compiled(GetParam().make, dt);
    auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y); });
    for (int i = 0; i < 25; ++i) {
      const Tensor Je = eager.step(d.X, d.Y), Jc = step(d.X, d.Y);
      ASSERT_TRUE(same_bits(Je, Jc)) << ad::dtype_name(dt) << " step " << i;
      ASSERT_TRUE(eager.same_parameters(compiled)) << ad::dtype_name(dt) << " step " << i;
    }
    EXPECT_EQ(compiled.opt->steps(), 25);
    EXPECT_EQ(step.stats().records, 1u);
    EXPECT_EQ(step.stats().host_calls, 1u);
  }
}

// The learning rate a schedule sets between calls is read by the replayed step.
TEST_P(CompiledTraining, BatchesAndScheduleEqualEager) {
  const nn::Dataset d = data(50, ad::DType::f32);
  Trainer eager(GetParam().make, ad::DType::f32), compiled(GetParam().make, ad::DType::f32);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y); });
  const optim::ExponentialDecay schedule(0.05, 0.8);
  ad::manual_seed(8);
  nn::MiniBatches batches(d.X, d.Y, 16);  // 16, 16, 16 and 2 columns
  for (int64_t epoch = 0; epoch < 3; ++epoch, batches.shuffle()) {
    schedule.apply(*eager.opt, epoch);
    schedule.apply(*compiled.opt, epoch);
    for (const nn::Batch& b : batches) {
      ASSERT_TRUE(same_bits(eager.step(b.X, b.Y), step(b.X, b.Y))) << "epoch " << epoch;
      ASSERT_TRUE(eager.same_parameters(compiled)) << "epoch " << epoch;
    }
  }
  EXPECT_EQ(step.stats().records, 2u);  // the full batches, and the last one of 2 columns
  EXPECT_EQ(step.stats().replays, 10u);
}

INSTANTIATE_TEST_SUITE_P(, CompiledTraining, ::testing::ValuesIn(optimizers()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(CompiledTrainingDropout, MasksAreDrawnAfreshAsInEagerMode) {
  const nn::Dataset d = data(40, ad::DType::f32);
  const MakeOptimizer sgd = optimizers()[0].make;
  Trainer eager(sgd, ad::DType::f32, true), compiled(sgd, ad::DType::f32, true);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) { return compiled.step(X, Y); });
  ad::manual_seed(30);
  std::vector<Tensor> costs;
  for (int i = 0; i < 10; ++i) costs.push_back(eager.step(d.X, d.Y).clone());
  ad::manual_seed(30);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(same_bits(costs[static_cast<size_t>(i)], step(d.X, d.Y))) << i;
  EXPECT_TRUE(eager.same_parameters(compiled));
}

// Multi-class: the one-hot targets are an argument; building them from labels inside would
// bake one batch's labels into the trace, so one_hot refuses.
TEST(CompiledTrainingMulticlass, OneHotTargetsAreAnArgument) {
  ad::manual_seed(2);
  nn::Sequential net = nn::mlp({4, 8, 3}, nn::Activation::ReLU, nn::Activation::Identity);
  optim::Adam adam(net.parameters(), 0.01);
  auto step = ad::compile([&](const Tensor& X, const Tensor& Y) {
    Tensor J = nn::softmax_cross_entropy(net.forward(X), Y);
    adam.zero_grad();
    J.backward();
    adam.step();
    return J;
  });
  Tensor X = ad::randn({4, 10});
  Tensor Y = nn::one_hot({0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, 3);
  const double first = step(X, Y).item();
  for (int i = 0; i < 20; ++i) step(X, Y);
  EXPECT_LT(step(X, Y).item(), first);
  const std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
  auto with_labels = ad::compile([&](const Tensor& X) { return nn::softmax_cross_entropy(net.forward(X), labels).detach(); });
  try {
    with_labels(X);
    ADD_FAILURE() << "one_hot inside a compiled function did not throw";
  } catch (const ad::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("one_hot"), std::string::npos) << e.what();
  }
}

}  // namespace
