// The fused ops (autodiff/ops/fused.hpp): bias_act gives bit for bit what add then the
// activation gives, forward and backward; act_backward matches the closed-form derivatives; a
// fused layer is two records. (Their finite-difference checks, first and second order, dtypes,
// recording and errors are rows of the op table, op_table_test.cpp.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include "autodiff/ops/detail/fusion.hpp"
#include <cmath>
#include <vector>

namespace {

using ad::Activation;
using ad::Tensor;

// g(Z) by the activation's own op (sigmoid, relu, tanh), or Z itself.
Tensor unfused(const Tensor& z, Activation act) { return ad::activate(z, act); }

void expect_bitwise(const Tensor& a, const Tensor& b, const char* what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], y[i]) << what << " at " << i;
}

class BiasActTest : public ::testing::TestWithParam<Activation> {};

// Forward values and both gradients of bias_act equal those of Z + b then g, in float32, for the
// column bias of a dense layer of 4 units over 400 samples and of 256 over 13 (the vector body
// and the scalar tail).
TEST_P(BiasActTest, SameAsAddThenActivation) {
  const Activation act = GetParam();
  for (ad::Shape shape : {ad::Shape{4, 400}, ad::Shape{256, 13}}) {
    ad::manual_seed(7);
    Tensor z = (ad::randn(shape) * 3.0).detach().requires_grad_();
    Tensor b = ad::randn({shape[0], 1}).requires_grad_();
    Tensor seed = ad::randn(shape);
    Tensor fused = ad::bias_act(z, b, act);
    fused.backward(seed);
    const Tensor dz = z.grad(), db = b.grad();
    z.zero_grad();
    b.zero_grad();
    Tensor plain = unfused(z + b, act);
    plain.backward(seed);
    expect_bitwise(fused, plain, "A");
    expect_bitwise(db, b.grad(), "db");
    if (act == Activation::Tanh) {  // 1 − A² may be one fused multiply-add in the kernel
      EXPECT_THAT(dz.to_vector(), ::testing::Pointwise(::testing::FloatNear(1e-6f), z.grad().to_vector()));
    } else {
      expect_bitwise(dz, z.grad(), "dZ");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(, BiasActTest,
                         ::testing::Values(Activation::Identity, Activation::Sigmoid, Activation::ReLU,
                                           Activation::Tanh),
                         [](const auto& info) { return std::string(ad::activation_name(info.param)); });

// ad::linear is bias_act(matmul(W, X), b, g) in one record: the same bits for A, dW, dX, db.
TEST_P(BiasActTest, LinearSameBitsAsMatmulThenBiasAct) {
  const Activation act = GetParam();
  ad::manual_seed(11);
  Tensor W = ad::randn({6, 5}).requires_grad_();
  Tensor X = ad::randn({5, 33}).requires_grad_();
  Tensor b = ad::randn({6, 1}).requires_grad_();
  Tensor seed = ad::randn({6, 33});
  Tensor one = ad::linear(W, X, b, act);
  EXPECT_EQ(ad::tape_size(), 1u);
  one.backward(seed);
  std::vector<Tensor> g1 = {W.grad(), X.grad(), b.grad()};
  for (Tensor* t : {&W, &X, &b}) t->zero_grad();
  Tensor two = ad::bias_act(ad::matmul(W, X), b, act);
  two.backward(seed);
  expect_bitwise(one, two, "A");
  expect_bitwise(g1[0], W.grad(), "dW");
  expect_bitwise(g1[1], X.grad(), "dX");
  expect_bitwise(g1[2], b.grad(), "db");
}

// db is dZ summed over the columns, dZ = dA ⊙ σ(Z + b)(1 − σ(Z + b)), by hand in double.
TEST(BiasAct, ClosedFormSigmoidGradients) {
  Tensor z = ad::tensor({0.5, -1.0, 2.0, 0.0, 1.5, -0.5}, {2, 3}, ad::DType::f64).requires_grad_();
  Tensor b = ad::tensor({0.25, -0.75}, {2, 1}, ad::DType::f64).requires_grad_();
  Tensor da = ad::tensor({1.0, 2.0, -1.0, 0.5, 3.0, -2.0}, {2, 3}, ad::DType::f64);
  ad::bias_act(z, b, Activation::Sigmoid).backward(da);
  const std::vector<double> zv = z.to_vector(), dav = da.to_vector(), bv = {0.25, -0.75};
  const std::vector<double> dz = z.grad().to_vector(), db = b.grad().to_vector();
  for (int r = 0; r < 2; ++r) {
    double row = 0;
    for (int c = 0; c < 3; ++c) {
      const size_t i = static_cast<size_t>(r * 3 + c);
      const double s = 1.0 / (1.0 + std::exp(-(zv[i] + bv[static_cast<size_t>(r)])));
      EXPECT_NEAR(dz[i], dav[i] * s * (1 - s), 1e-15);
      row += dav[i] * s * (1 - s);
    }
    EXPECT_NEAR(db[static_cast<size_t>(r)], row, 1e-15);
  }
}

// act_backward against σ' = A(1 − A), tanh' = 1 − A², relu' = [A > 0].
TEST(ActBackward, ClosedForms) {
  Tensor a = ad::tensor({0.25, 0.5, 0.0, 0.9}, {4}, ad::DType::f64);
  Tensor g = ad::tensor({2.0, -1.0, 3.0, 0.5}, {4}, ad::DType::f64);
  using ::testing::DoubleNear;
  using ::testing::Pointwise;
  const std::vector<double> sig = {2.0 * 0.25 * 0.75, -0.25, 0.0, 0.5 * 0.9 * 0.1};
  const std::vector<double> th = {2.0 * (1 - 0.0625), -0.75, 3.0, 0.5 * (1 - 0.81)};
  EXPECT_THAT(ad::act_backward(g, a, Activation::Sigmoid).to_vector(), Pointwise(DoubleNear(1e-15), sig));
  EXPECT_THAT(ad::act_backward(g, a, Activation::Tanh).to_vector(), Pointwise(DoubleNear(1e-15), th));
  EXPECT_THAT(ad::act_backward(g, a, Activation::ReLU).to_vector(), ::testing::ElementsAre(2.0, -1.0, 0.0, 0.5));
  EXPECT_THAT(ad::act_backward(g, a, Activation::Identity).to_vector(), ::testing::ElementsAre(2.0, -1.0, 3.0, 0.5));
}

// A fused layer is two records (matmul, bias_act) where the unfused one was three; the
// activations' backward adds no records of its own outside create_graph.
TEST(BiasAct, RecordsOneOp) {
  Tensor W = ad::randn({4, 2}).requires_grad_();
  Tensor b = ad::zeros({4, 1}).requires_grad_();
  Tensor X = ad::randn({2, 10});
  {
    Tensor A = ad::bias_act(ad::matmul(W, X), b, Activation::Sigmoid);
    EXPECT_EQ(ad::tape_size(), 2u);
    EXPECT_STREQ(A.op_name(), "bias_act");
    ad::sum(A).backward();
  }
  EXPECT_EQ(ad::tape_size(), 0u);
  EXPECT_TRUE(W.grad().defined() && b.grad().defined());
}

}  // namespace
