// One activation vocabulary (ad::Activation): ad::activate applies each, the fusable ones have
// fused forms, and their backward rules stay exact to the third derivative (the curvature of
// g' is written as a differentiable op).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

using ad::Activation;
using ad::DType;
using ad::Tensor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<Activation> kAll = {Activation::Identity, Activation::Sigmoid, Activation::ReLU,
                                      Activation::Tanh,     Activation::LeakyReLU, Activation::Softmax};

TEST(Activation, NamesAndFusability) {
  std::vector<std::string> names;
  for (Activation g : kAll) names.push_back(ad::activation_name(g));
  EXPECT_THAT(names, ElementsAre("identity", "sigmoid", "relu", "tanh", "leaky_relu", "softmax"));
  for (Activation g : kAll)
    EXPECT_EQ(ad::is_fusable(g), g != Activation::LeakyReLU && g != Activation::Softmax) << ad::activation_name(g);
}

TEST(Activation, ActivateAppliesEachByItsOp) {
  Tensor z = ad::tensor({-2, 0.5, 1, -0.25}, {2, 2}, DType::f64);
  auto same = [](const Tensor& a, const Tensor& b) { return a.to_vector() == b.to_vector(); };
  EXPECT_TRUE(ad::activate(z, Activation::Identity).is_same(z));
  EXPECT_TRUE(same(ad::activate(z, Activation::Sigmoid), ad::sigmoid(z)));
  EXPECT_TRUE(same(ad::activate(z, Activation::ReLU), ad::relu(z)));
  EXPECT_TRUE(same(ad::activate(z, Activation::Tanh), ad::tanh(z)));
  EXPECT_TRUE(same(ad::activate(z, Activation::LeakyReLU), ad::leaky_relu(z, 0.01)));
  EXPECT_TRUE(same(ad::activate(z, Activation::LeakyReLU, 0.2), ad::leaky_relu(z, 0.2)));
  EXPECT_TRUE(same(ad::activate(z, Activation::Softmax), ad::softmax(z, 0)));
  Tensor x = z.detach().requires_grad_();
  EXPECT_STREQ(ad::activate(x, Activation::Tanh).op_name(), "tanh");
}

TEST(Activation, FusedFormsRefuseTheOthers) {
  Tensor z = ad::ones({2, 3}), b = ad::ones({2, 1});
  for (Activation g : {Activation::LeakyReLU, Activation::Softmax}) {
    try {
      ad::bias_act(z, b, g);
      ADD_FAILURE() << "no throw";
    } catch (const ad::ValueError& e) {
      EXPECT_THAT(e.what(), HasSubstr("bias_act"));
      EXPECT_THAT(e.what(), HasSubstr(ad::activation_name(g)));
    }
    EXPECT_THROW(ad::linear(ad::ones({2, 2}), ad::ones({2, 3}), b, g), ad::ValueError);
  }
}

// d³/dx³ of g at x against the closed form, by three nested ad::grad calls.
double third_derivative(Tensor (*g)(const Tensor&), double x0) {
  Tensor x = ad::scalar(x0, DType::f64).requires_grad_();
  Tensor d1 = ad::grad({g(x)}, {x}, {}, true, true)[0];
  Tensor d2 = ad::grad({d1}, {x}, {}, true, true)[0];
  return ad::grad({d2}, {x})[0].item();
}

TEST(Activation, ThirdDerivativesThroughTheFusedRule) {
  for (double x : {-1.3, 0.2, 2.1}) {
    const double s = 1 / (1 + std::exp(-x)), t = std::tanh(x);
    EXPECT_NEAR(third_derivative(ad::sigmoid, x), s * (1 - s) * (1 - 6 * s + 6 * s * s), 1e-12) << x;
    EXPECT_NEAR(third_derivative(ad::tanh, x), -2 * (1 - t * t) * (1 - 3 * t * t), 1e-12) << x;
  }
}

}  // namespace
