// End-to-end: the classic course's networks trained with the library reach the accuracies its
// exercises report. Seeded, so each run is the same run.
#include <gtest/gtest.h>

#include <cmath>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;

// The two-layer network n = (2, 4, 1), small random init, full-batch gradient descent
// with α = 1.2 for 10,000 steps on the 400 flower points.
double train_flower(nn::Activation hidden) {
  manual_seed(1);
  nn::Dataset d = nn::flower();
  nn::Sequential net;
  net.add(nn::Linear(2, 4, nn::Init::Small))
      .add(nn::make_activation(hidden))
      .add(nn::Linear(4, 1, nn::Init::Small))
      .add(nn::Sigmoid());
  optim::SGD sgd(net.parameters(), 1.2);
  double first = 0, last = 0;
  for (int i = 0; i < 10000; ++i) {
    Tensor J = nn::binary_cross_entropy(net.forward(d.X), d.Y);
    if (i == 0) first = J.item();
    if (i == 9999) last = J.item();
    sgd.zero_grad();
    J.backward();
    sgd.step();
  }
  EXPECT_NEAR(first, std::log(2.0), 1e-3) << "small weights: A2 ≈ 0.5 everywhere";
  EXPECT_LT(last, 0.35);
  return nn::accuracy(net.forward(d.X), d.Y);
}

TEST(Training, FlowerWithSigmoidHiddenLayerReaches90Percent) {
  EXPECT_GE(train_flower(nn::Activation::Sigmoid), 0.90);
}

TEST(Training, FlowerWithTanhHiddenLayerReaches90Percent) { EXPECT_GE(train_flower(nn::Activation::Tanh), 0.90); }

TEST(Training, DeepReluNetworkOnSpiralsReaches95Percent) {
  manual_seed(0);
  nn::Dataset d = nn::spirals(100, 3);  // K = 3 arms, not linearly separable
  nn::Sequential net = nn::mlp({2, 32, 32, 3}, nn::Activation::ReLU, nn::Activation::Identity);
  optim::Adam adam(net.parameters(), 0.01);
  for (int i = 0; i < 1000; ++i) {
    Tensor J = nn::softmax_cross_entropy(net.forward(d.X), d.Y);
    adam.zero_grad();
    J.backward();
    adam.step();
  }
  EXPECT_GE(nn::accuracy(net.forward(d.X), d.Y), 0.95);
}

TEST(Training, MiniBatchesWithScheduleAndDropoutOnMoons) {
  manual_seed(3);
  nn::Dataset d = nn::moons(300, 0.1);
  nn::Sequential net;
  net.add(nn::Linear(2, 16, nn::Init::He)).add(nn::ReLU()).add(nn::Dropout(0.9)).add(nn::Linear(16, 1));
  optim::SGD sgd(net.parameters(), 0.5, {.momentum = 0.9});
  optim::ExponentialDecay schedule(0.5, 0.97);
  nn::MiniBatches batches(d.X, d.Y, 32);
  for (int epoch = 0; epoch < 60; ++epoch, batches.shuffle()) {
    schedule.apply(sgd, epoch);
    for (const nn::Batch& b : batches) {
      Tensor J = nn::binary_cross_entropy_with_logits(net.forward(b.X), b.Y);
      sgd.zero_grad();
      J.backward();
      sgd.step();
    }
  }
  net.eval();
  EXPECT_GE(nn::accuracy(sigmoid(net.forward(d.X)), d.Y), 0.95);
}

TEST(Training, WholeNetworkGradcheck) {
  // J(W1, b1, W2, b2) of a 3 → 4 → 1 tanh/sigmoid network with the L2 penalty, in float64
  manual_seed(9);
  nn::Sequential net = nn::mlp({3, 4, 1}, nn::Activation::Tanh, nn::Activation::Sigmoid, nn::Init::Xavier, DType::f64);
  Tensor X = randn({3, 5}, DType::f64), Y = tensor({0, 1, 1, 0, 1}, {1, 5}, DType::f64);
  auto f = [&](const std::vector<Tensor>& in) {
    size_t k = 0;
    net.visit_parameters([&](const std::string&, Tensor& p) { p = in[k++]; });
    return nn::binary_cross_entropy(net.forward(X), Y) + nn::l2_regularization(net, 0.3, 5);
  };
  auto r = gradcheck(f, net.parameters());
  EXPECT_TRUE(r.ok) << r;
}

}  // namespace
