#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

TEST(Smoke, LayerForwardBackward) {
  ad::Tensor W = ad::tensor({1, 2, 3, 4}, {2, 2}, ad::DType::f64).requires_grad_();
  ad::Tensor b = ad::tensor({1, -1}, {2, 1}, ad::DType::f64).requires_grad_();
  ad::Tensor X = ad::tensor({1, 0, 0, 1}, {2, 2}, ad::DType::f64);
  ad::Tensor J = ad::sum(ad::matmul(W, X) + b);
  J.backward();
  EXPECT_DOUBLE_EQ(J.item(), 10.0);
  EXPECT_EQ(W.grad().to_vector(), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<double>{2, 2}));
}
