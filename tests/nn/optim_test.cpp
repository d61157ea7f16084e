// Optimizers: the first two steps against values worked out by hand from each update rule,
// with fixed gradients g1 = (0.5, −1) then g2 = (0.1, 0.3) on p0 = (1, −2); and the schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;
using nn_test::expect_error;
using nn_test::expect_near_all;
using nn_test::leaf64;

const std::vector<double> g1{0.5, -1.0}, g2{0.1, 0.3};

// Sets p's gradient to g, steps, returns p's values.
std::vector<double> step_with(optim::Optimizer& opt, Tensor& p, const std::vector<double>& g) {
  opt.zero_grad();
  p.set_grad(tensor(g, p.shape(), p.dtype()));
  opt.step();
  return p.to_vector();
}

TEST(SGD, PlainGradientDescent) {
  Tensor p = leaf64({1, -2}, {2});
  optim::SGD sgd({p}, 0.1);
  expect_near_all(step_with(sgd, p, g1), {1 - 0.05, -2 + 0.1});                  // p − α·g1
  expect_near_all(step_with(sgd, p, g2), {0.95 - 0.01, -1.9 - 0.03});            // then − α·g2
  EXPECT_EQ(sgd.steps(), 2);
  EXPECT_TRUE(sgd.state().empty()) << "no momentum, no buffers";
}

TEST(SGD, MomentumAndWeightDecay) {
  Tensor p = leaf64({1, -2}, {2});
  optim::SGD mom({p}, 0.1, {.momentum = 0.9});
  // v1 = g1 = (0.5, −1): p1 = (0.95, −1.9); v2 = 0.9·v1 + g2 = (0.55, −0.6): p2 = (0.895, −1.84)
  expect_near_all(step_with(mom, p, g1), {0.95, -1.9});
  expect_near_all(step_with(mom, p, g2), {0.895, -1.84});
  ASSERT_EQ(mom.state().size(), 1u);
  EXPECT_EQ(mom.state()[0].slot, "velocity");
  expect_near_all(mom.state()[0].value.to_vector(), {0.55, -0.6});

  Tensor q = leaf64({1, -2}, {2});
  optim::SGD wd({q}, 0.1, {.weight_decay = 0.1});
  // d1 = g1 + 0.1·p0 = (0.6, −1.2): p1 = (0.94, −1.88); d2 = g2 + 0.1·p1 = (0.194, 0.112): p2 = (0.9206, −1.8912)
  expect_near_all(step_with(wd, q, g1), {0.94, -1.88});
  expect_near_all(step_with(wd, q, g2), {0.9206, -1.8912});
}

TEST(RMSprop, FirstTwoSteps) {
  Tensor p = leaf64({1, -2}, {2});
  optim::RMSprop rms({p}, 0.01);  // α = 0.99, ε = 1e-8
  // s1 = 0.01·g1² = (0.0025, 0.01), √s1 = (0.05, 0.1): p1 = p0 − 0.01·(10, −10) = (0.9, −1.9)
  // (exactly: ε sits in the denominator)
  const double p1[2] = {1 - 0.01 * 0.5 / (0.05 + 1e-8), -2 + 0.01 * 1.0 / (0.1 + 1e-8)};
  expect_near_all(step_with(rms, p, g1), {p1[0], p1[1]}, 1e-15);
  EXPECT_NEAR(p1[0], 0.9, 1e-7);
  // s2 = 0.99·s1 + 0.01·g2² = (0.002575, 0.0108)
  expect_near_all(step_with(rms, p, g2),
                  {p1[0] - 0.01 * 0.1 / (std::sqrt(0.002575) + 1e-8), p1[1] - 0.01 * 0.3 / (std::sqrt(0.0108) + 1e-8)},
                  1e-14);
  expect_near_all(rms.state()[0].value.to_vector(), {0.002575, 0.0108}, 1e-15);
}

TEST(Adam, FirstTwoStepsWithBiasCorrection) {
  Tensor p = leaf64({1, -2}, {2});
  optim::Adam adam({p}, 0.1);  // β1 0.9, β2 0.999, ε 1e-8
  // t = 1: m̂ = g1, v̂ = g1², so p moves by lr·g/|g| = lr against the sign of g
  const double p1[2] = {1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 1.0 / (1.0 + 1e-8)};
  expect_near_all(step_with(adam, p, g1), {p1[0], p1[1]}, 1e-14);
  EXPECT_NEAR(p1[0], 0.9, 1e-8);
  // t = 2: m = 0.9·(0.05, −0.1) + 0.1·g2 = (0.055, −0.06); v = 0.999·(0.00025, 0.001) + 0.001·g2² = (0.00025975, 0.001089)
  const double c1 = 1 - 0.9 * 0.9, c2 = 1 - 0.999 * 0.999;
  const double d0 = 0.1 * (0.055 / c1) / (std::sqrt(0.00025975 / c2) + 1e-8);
  const double d1 = 0.1 * (-0.06 / c1) / (std::sqrt(0.001089 / c2) + 1e-8);
  expect_near_all(step_with(adam, p, g2), {p1[0] - d0, p1[1] - d1}, 1e-13);
  ASSERT_EQ(adam.state().size(), 2u);
  expect_near_all(adam.state()[0].value.to_vector(), {0.055, -0.06}, 1e-15);
  expect_near_all(adam.state()[1].value.to_vector(), {0.00025975, 0.001089}, 1e-15);
}

TEST(Adam, Float32AndTheContractsSignStep) {
  Tensor p = tensor({1.0, -1.0}, {2}).requires_grad_();
  optim::Adam adam({p}, 0.1);
  adam.zero_grad();
  sum(p * tensor({3.0, -5.0}, {2})).backward();
  adam.step();
  expect_near_all(p.to_vector(), {0.9, -0.9}, 1e-6);
}

// A parameter of 3·2²⁰ + 5 floats is updated in chunks on several threads: every element must
// get exactly the update a single thread gives it, the odd tail and the chunk seams included.
TEST(Optimizer, ThreadSplitGivesTheSingleThreadResult) {
  const int64_t n = 3 * (int64_t{1} << 20) + 5;
  const int saved = get_num_threads();
  auto run = [&](int threads, const char* which) {
    set_num_threads(threads);
    manual_seed(21);
    Tensor p = randn({n}).requires_grad_();
    std::unique_ptr<optim::Optimizer> opt;
    if (std::string(which) == "sgd") opt = std::make_unique<optim::SGD>(std::vector<Tensor>{p}, 0.1, optim::SGDOptions{.momentum = 0.9});
    else if (std::string(which) == "rmsprop") opt = std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, 0.01);
    else opt = std::make_unique<optim::Adam>(std::vector<Tensor>{p}, 0.01);
    for (int t = 0; t < 2; ++t) {
      opt->zero_grad();
      p.set_grad(randn({n}));
      opt->step();
    }
    return p.to_vector();
  };
  for (const char* which : {"sgd", "rmsprop", "adam"}) {
    const std::vector<double> one = run(1, which), two = run(3, which);
    ASSERT_EQ(one.size(), static_cast<size_t>(n));
    EXPECT_EQ(one, two) << which;
  }
  // And the values are the rule's: SGD with momentum 0.9 from p0 with gradients g1 then g2 is
  // p0 − 0.1·g1 − 0.1·(0.9·g1 + g2); checked on the first and the last element.
  set_num_threads(2);
  manual_seed(21);
  const std::vector<double> p0 = randn({n}).to_vector(), ga = randn({n}).to_vector(), gb = randn({n}).to_vector();
  const std::vector<double> got = run(2, "sgd");
  for (size_t i : {size_t{0}, static_cast<size_t>(n - 1)})
    EXPECT_NEAR(got[i], p0[i] - 0.1 * ga[i] - 0.1 * (0.9 * ga[i] + gb[i]), 1e-5) << i;
  set_num_threads(saved);
}

TEST(Optimizer, SkipsParametersWithoutGradientAndDoesNotRecord) {
  Tensor a = leaf64({1, 2}, {2}), b = leaf64({3}, {1});
  optim::SGD sgd({a, b}, 0.5);
  a.set_grad(tensor({1, 1}, {2}, DType::f64));
  const size_t tape_before = tape_size();
  sgd.step();
  EXPECT_EQ(tape_size(), tape_before);
  expect_near_all(a.to_vector(), {0.5, 1.5});
  expect_near_all(b.to_vector(), {3});
  sgd.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizer, LearningRateAndValidation) {
  Tensor p = leaf64({1}, {1});
  optim::SGD sgd({p}, 0.1);
  sgd.set_learning_rate(0.02);
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.02);
  expect_error<ValueError>([&] { sgd.set_learning_rate(-1); }, {"learning rate -1"});
  expect_error<ValueError>([&] { optim::SGD({p}, NAN); }, {"SGD", "learning rate"});
  expect_error<UsageError>([] { optim::Adam({tensor({1}, {1})}, 0.1); }, {"Adam", "parameter 0", "requires_grad_"});
  expect_error<ValueError>([&] { optim::Adam({p}, 0.1, {.beta1 = 1.0}); }, {"beta1"});
  expect_error<ValueError>([&] { optim::SGD({p}, 0.1, {.momentum = -0.5}); }, {"momentum"});
  expect_error<ValueError>([&] { optim::SGD({p}, 0.1, {.weight_decay = NAN}); }, {"SGD", "weight_decay = nan"});
  expect_error<ValueError>([&] { optim::RMSprop({p}, 0.1, {.weight_decay = INFINITY}); }, {"weight_decay = inf"});
  expect_error<ValueError>([&] { optim::Adam({p}, 0.1, {.weight_decay = -1}); }, {"Adam", "weight_decay = -1"});
}

TEST(Optimizer, TrainsTheSeedsSingleLayer) {
  // logistic regression on two separable points: gradient descent drives the cost down
  Tensor X = tensor({-1, 1}, {1, 2}, DType::f64), Y = tensor({0, 1}, {1, 2}, DType::f64);
  nn::Sequential net;
  net.add(nn::Linear(1, 1, nn::Init::Zeros, DType::f64)).add(nn::Sigmoid());
  optim::SGD sgd(net.parameters(), 1.0);
  double first = 0, last = 0;
  for (int i = 0; i < 50; ++i) {
    Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
    if (i == 0) first = J.item();
    last = J.item();
    sgd.zero_grad();
    J.backward();
    sgd.step();
  }
  EXPECT_NEAR(first, std::log(2.0), 1e-12);
  EXPECT_LT(last, 0.1);
}

// A step changes the parameters in place, counted in their version: a graph recorded before the
// step refuses to backpropagate through the old values; the usual order (forward, backward,
// step) never meets that.
TEST(Optimizer, AStepBetweenForwardAndBackwardIsCaught) {
  Tensor X = tensor({-1, 1}, {1, 2}, DType::f64), Y = tensor({0, 1}, {1, 2}, DType::f64);
  nn::Sequential net;  // two layers: dA1 = W2ᵀ·dZ2 reads W2, which the step changes
  net.add(nn::Linear(1, 2, nn::Init::Xavier, DType::f64)).add(nn::Tanh());
  net.add(nn::Linear(2, 1, nn::Init::Xavier, DType::f64)).add(nn::Sigmoid());
  optim::SGD sgd(net.parameters(), 1.0);
  const uint32_t before = net.parameters()[0].version();
  Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
  J.backward({}, true);
  sgd.step();
  EXPECT_EQ(net.parameters()[0].version(), before + 1);
  Tensor K = nn::binary_cross_entropy(net.forward(X * 2.0), Y);  // recorded after the step: fine
  sgd.zero_grad();
  K.backward();
  sgd.step();
  expect_error<UsageError>([&] { J.backward(); }, {"changed in place", "after backward()"});
}

TEST(Schedules, StepExponentialInverseTime) {
  optim::StepDecay step(0.1, 10, 0.5);
  EXPECT_DOUBLE_EQ(step.lr(0), 0.1);
  EXPECT_DOUBLE_EQ(step.lr(9), 0.1);
  EXPECT_DOUBLE_EQ(step.lr(10), 0.05);
  EXPECT_DOUBLE_EQ(step.lr(25), 0.025);
  optim::ExponentialDecay exp_decay(0.2, 0.95);
  EXPECT_NEAR(exp_decay.lr(3), 0.2 * 0.95 * 0.95 * 0.95, 1e-15);
  optim::InverseTimeDecay inv(1.0, 0.5);
  EXPECT_DOUBLE_EQ(inv.lr(4), 1.0 / 3);  // 1/(1 + 0.5·4)
  optim::InverseTimeDecay fixed(1.0, 0.5, 10);
  EXPECT_DOUBLE_EQ(fixed.lr(25), 0.5);  // 1/(1 + 0.5·⌊25/10⌋)
  Tensor p = leaf64({1}, {1});
  optim::SGD sgd({p}, 1.0);
  step.apply(sgd, 12);
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.05);
  expect_error<ValueError>([] { optim::StepDecay(0.1, 0); }, {"step_size = 0"});
  expect_error<ValueError>([&] { step.lr(-1); }, {"epoch -1"});
}

}  // namespace
