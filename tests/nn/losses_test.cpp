// Costs against closed-form values and gradients, and gradcheck in float64.
#include <gtest/gtest.h>

#include <cmath>

#include <nn/nn.hpp>

#include "test_util.hpp"

namespace {

using namespace ad;
using nn_test::expect_error;
using nn_test::expect_near_all;
using nn_test::leaf64;

double sig(double z) { return 1 / (1 + std::exp(-z)); }

TEST(BinaryCrossEntropy, ClosedFormValueAndGradient) {
  Tensor A = leaf64({0.9, 0.2, 0.6, 0.5}, {1, 4});
  Tensor Y = tensor({1, 0, 1, 0}, {1, 4}, DType::f64);
  Tensor J = nn::binary_cross_entropy(A, Y);
  ASSERT_EQ(J.dim(), 0);
  EXPECT_NEAR(J.item(), -(std::log(0.9) + std::log(0.8) + std::log(0.6) + std::log(0.5)) / 4, 1e-14);
  J.backward();
  // dJ/dA = (A − Y) / (A(1 − A)) / m
  expect_near_all(A.grad().to_vector(), {-1 / 0.9 / 4, 1 / 0.8 / 4, -1 / 0.6 / 4, 1 / 0.5 / 4}, 1e-13);
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return nn::binary_cross_entropy(in[0], in[1]); },
                     {A, leaf64({0.3, 0.8, 1, 0}, {1, 4})});
  EXPECT_TRUE(r.ok) << r;
}

// The fused cost computes its gradient in one loop, but under create_graph it records the same
// formulas as ops: the second derivative d²J/dA² = ((1−y)/(1−a)² + y/a²)/n must come out right.
TEST(BinaryCrossEntropy, SecondOrderThroughCreateGraph) {
  Tensor Y = tensor({1, 0, 1, 0}, {1, 4}, DType::f64);
  auto r = gradcheck(
      [&](const std::vector<Tensor>& in) {
        ad::EnableGradGuard on;  // gradcheck's numeric pass runs without recording
        Tensor J = nn::binary_cross_entropy(in[0], Y);
        return ad::grad({J}, {in[0]}, {}, true, true)[0];
      },
      {leaf64({0.9, 0.2, 0.6, 0.5}, {1, 4})});
  EXPECT_TRUE(r.ok) << r;
  Tensor A = leaf64({0.9, 0.2, 0.6, 0.5}, {1, 4});
  Tensor dA = ad::grad({nn::binary_cross_entropy(A, Y)}, {A}, {}, true, true)[0];
  Tensor d2 = ad::grad({ad::sum(dA)}, {A})[0];
  expect_near_all(d2.to_vector(), {1 / 0.81 / 4, 1 / 0.64 / 4, 1 / 0.36 / 4, 1 / 0.25 / 4}, 1e-12);
}

TEST(BinaryCrossEntropy, AveragesAllEntriesFiniteWhenSaturated) {
  EXPECT_NEAR(nn::binary_cross_entropy(full({2, 2}, 0.5), tensor({0, 1, 1, 0}, {2, 2})).item(), std::log(2.0), 1e-6);
  // A = 1 against Y = 0 would be −log 0 = ∞; the clamp to 1 − ε gives −log ε per element
  const double j = nn::binary_cross_entropy(tensor({1, 1}, {1, 2}, DType::f64), tensor({0, 1}, {1, 2}, DType::f64)).item();
  EXPECT_NEAR(j, -std::log(1e-12) / 2, 1e-3);
  expect_error<ShapeError>([] { nn::binary_cross_entropy(ones({1, 4}), ones({1, 5})); },
                           {"binary_cross_entropy", "(1, 4)", "(1, 5)"});
  expect_error<DTypeError>([] { nn::binary_cross_entropy(ones({1, 4}), ones({1, 4}, DType::f64)); },
                           {"binary_cross_entropy", "float32", "float64"});
}

TEST(BinaryCrossEntropyWithLogits, ClosedFormStableAndGradient) {
  Tensor Z = leaf64({-2, 0, 3}, {1, 3});
  Tensor Y = tensor({0, 1, 1}, {1, 3}, DType::f64);
  Tensor J = nn::binary_cross_entropy_with_logits(Z, Y);
  // y = 0: log(1 + e^z); y = 1: log(1 + e^−z)
  EXPECT_NEAR(J.item(), (std::log1p(std::exp(-2.0)) + std::log(2.0) + std::log1p(std::exp(-3.0))) / 3, 1e-14);
  J.backward();
  expect_near_all(Z.grad().to_vector(), {sig(-2) / 3, (0.5 - 1) / 3, (sig(3) - 1) / 3}, 1e-14);
  // |Z| in the thousands: the loss of a confident mistake is |z|, of a confident hit 0
  Tensor big = nn::binary_cross_entropy_with_logits(tensor({1000, -1000, 1000}, {1, 3}), tensor({0, 1, 1}, {1, 3}));
  EXPECT_NEAR(big.item(), 2000.0 / 3, 1e-2);
  auto r = gradcheck(
      [](const std::vector<Tensor>& in) { return nn::binary_cross_entropy_with_logits(in[0], in[1]); },
      {leaf64({-1.5, 0.2, 2.5, -0.3}, {2, 2}), tensor({1, 0, 1, 0}, {2, 2}, DType::f64)});
  EXPECT_TRUE(r.ok) << r;
}

TEST(SoftmaxCrossEntropy, ValueAndGradientArePMinusYOverM) {
  Tensor Z = leaf64({1, 0, 2, 1, 3, 0}, {3, 2});  // C = 3 classes, m = 2 columns
  Tensor Y = tensor({0, 1, 1, 0, 0, 0}, {3, 2}, DType::f64);  // classes 1 and 0
  Tensor J = nn::softmax_cross_entropy(Z, Y);
  // column 0: z = (1, 2, 3), class 1; column 1: z = (0, 1, 0), class 0
  const double s0 = std::exp(1) + std::exp(2) + std::exp(3), s1 = 2 + std::exp(1);
  EXPECT_NEAR(J.item(), -(std::log(std::exp(2) / s0) + std::log(1 / s1)) / 2, 1e-14);
  J.backward();
  const double p[6] = {std::exp(1) / s0, 1 / s1, std::exp(2) / s0, std::exp(1) / s1, std::exp(3) / s0, 1 / s1};
  const double y[6] = {0, 1, 1, 0, 0, 0};
  std::vector<double> want;
  for (int i = 0; i < 6; ++i) want.push_back((p[i] - y[i]) / 2);
  expect_near_all(Z.grad().to_vector(), want, 1e-14);
  // the integer-label form is the same cost
  EXPECT_NEAR(nn::softmax_cross_entropy(Z, std::vector<int64_t>{1, 0}).item(), J.item(), 1e-15);
  EXPECT_NEAR(nn::softmax_cross_entropy(zeros({3, 2}), tensor({1, 0, 0, 1, 0, 0}, {3, 2})).item(), std::log(3.0), 1e-6);
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return nn::softmax_cross_entropy(in[0], Y); }, {Z});
  EXPECT_TRUE(r.ok) << r;
}

TEST(CategoricalCrossEntropy, OnProbabilities) {
  Tensor A = leaf64({0.2, 0.5, 0.7, 0.25, 0.1, 0.25}, {3, 2});
  Tensor Y = nn::one_hot({1, 2}, 3, DType::f64);
  Tensor J = nn::categorical_cross_entropy(A, Y);
  EXPECT_NEAR(J.item(), -(std::log(0.7) + std::log(0.25)) / 2, 1e-14);
  J.backward();
  expect_near_all(A.grad().to_vector(), {0, 0, -1 / 0.7 / 2, 0, 0, -1 / 0.25 / 2}, 1e-14);  // −Y / A / m
  EXPECT_NEAR(nn::categorical_cross_entropy(A, std::vector<int64_t>{1, 2}).item(), J.item(), 1e-15);
  // after a Softmax module it equals the fused cost on the logits
  Tensor Z = tensor({0.3, -1, 2, 0.5, -0.7, 1.2}, {3, 2}, DType::f64);
  EXPECT_NEAR(nn::categorical_cross_entropy(nn::Softmax().forward(Z), Y).item(), nn::softmax_cross_entropy(Z, Y).item(),
              1e-13);
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return nn::categorical_cross_entropy(in[0], Y); }, {A});
  EXPECT_TRUE(r.ok) << r;
}

TEST(MseLoss, ClosedForm) {
  Tensor A = leaf64({1, 2, 3, 5}, {2, 2});
  Tensor Y = tensor({0, 2, 1, 1}, {2, 2}, DType::f64);
  Tensor J = nn::mse_loss(A, Y);
  EXPECT_NEAR(J.item(), (1 + 0 + 4 + 16) / 4.0, 1e-15);
  J.backward();
  expect_near_all(A.grad().to_vector(), {2 * 1 / 4.0, 0, 2 * 2 / 4.0, 2 * 4 / 4.0});  // 2(A − Y)/n
  EXPECT_DOUBLE_EQ(nn::mse_loss(ones({2, 2}), zeros({2, 2})).item(), 1.0);
}

TEST(OneHot, BuildsColumnsAndRejectsBadLabels) {
  Tensor Y = nn::one_hot({2, 0, 1, 2}, 3);
  EXPECT_EQ(Y.shape(), Shape({3, 4}));
  EXPECT_EQ(Y.to_vector(), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1}));
  expect_error<ValueError>([] { nn::one_hot({0, 3}, 3); }, {"label 3", "column 1", "[0, 3)"});
  expect_error<ValueError>([] { nn::one_hot({-1}, 3); }, {"label -1"});
  EXPECT_EQ(nn::labels_of(tensor({2, 0, 1}, {1, 3})), (std::vector<int64_t>{2, 0, 1}));
  expect_error<ValueError>([] { nn::labels_of(tensor({0.5}, {1, 1})); }, {"0.5", "class index"});
}

TEST(L2Regularization, LambdaOver2mTimesSumOfSquaredWeights) {
  nn::Sequential net;
  net.add(nn::Linear(2, 2, nn::Init::Zeros, DType::f64)).add(nn::ReLU()).add(nn::Linear(2, 1, nn::Init::Zeros, DType::f64));
  auto& l1 = dynamic_cast<nn::Linear&>(net[0]);
  auto& l2 = dynamic_cast<nn::Linear&>(net[2]);
  {
    NoGradGuard no_grad;
    l1.W.copy_(tensor({1, -2, 3, 0.5}, {2, 2}, DType::f64));
    l2.W.copy_(tensor({2, -1}, {1, 2}, DType::f64));
    l1.b.fill_(10.0);  // biases are not penalized
  }
  Tensor R = nn::l2_regularization(net, 0.7, 5);
  EXPECT_NEAR(R.item(), 0.7 / 10 * (1 + 4 + 9 + 0.25 + 4 + 1), 1e-14);
  R.backward();
  expect_near_all(l1.W.grad().to_vector(), {0.7 / 5 * 1, 0.7 / 5 * -2, 0.7 / 5 * 3, 0.7 / 5 * 0.5}, 1e-15);  // λ/m·W
  EXPECT_FALSE(l1.b.grad().defined());
  expect_error<ValueError>([&] { nn::l2_regularization(net, 0.7, 0); }, {"m = 0"});
}

// Class labels may be an int64 tensor, (m) or (1, m), wherever integer labels are taken.
TEST(Labels, Int64TensorsStandForTheirOneHotColumns) {
  Tensor Z = tensor({0.3, -1, 2, 0.5, -0.7, 1.2}, {3, 2}, DType::f64);
  Tensor labels = tensor({1, 2}, {1, 2}, DType::i64);
  EXPECT_EQ(nn::softmax_cross_entropy(Z, labels).item(), nn::softmax_cross_entropy(Z, std::vector<int64_t>{1, 2}).item());
  Tensor A = nn::Softmax().forward(Z);
  EXPECT_EQ(nn::categorical_cross_entropy(A, labels).item(),
            nn::categorical_cross_entropy(A, std::vector<int64_t>{1, 2}).item());
  EXPECT_EQ(nn::labels_of(labels), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nn::one_hot(labels, 3).to_vector(), nn::one_hot({1, 2}, 3).to_vector());
  expect_error<ValueError>([] { nn::labels_of(tensor({-1}, {1}, DType::i64)); }, {"-1", "class index"});
  EXPECT_DOUBLE_EQ(nn::accuracy(Z, labels), 1.0);  // the argmax of each column is its label
  EXPECT_DOUBLE_EQ(nn::accuracy(Z, tensor({1, 0}, {2}, DType::i64)), 0.5);
}

// The penalty follows the modules: a Linear's W counts whatever the names, a parameter of the
// user's own named like a weight does not.
struct Gain : nn::Module {
  Tensor Wg = tensor({5}, {1}, DType::f64).requires_grad_();
  Tensor forward(const Tensor& z) override { return z * Wg; }
  void visit_parameters(const nn::ParameterVisitor& visit) override { visit("Wg", Wg); }
};

TEST(L2Regularization, PicksTheWeightsOfLinearLayersByModule) {
  nn::Sequential inner;
  inner.add(nn::Linear(2, 1, nn::Init::Zeros, DType::f64));
  nn::Sequential net;
  net.add(Gain()).add(std::make_shared<nn::Sequential>(inner));
  {
    NoGradGuard no_grad;
    dynamic_cast<nn::Linear&>(inner[0]).W.copy_(tensor({3, 4}, {1, 2}, DType::f64));
  }
  EXPECT_DOUBLE_EQ(nn::l2_regularization(net, 1.0, 1).item(), (9 + 16) / 2.0);
  nn::Sequential no_linear;
  no_linear.add(Gain());
  expect_error<UsageError>([&] { nn::l2_regularization(no_linear, 1.0, 1); }, {"l2_regularization", "Linear"});
}

}  // namespace
