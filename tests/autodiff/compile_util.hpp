// What the ad::compile tests share: bitwise comparison, and the two-layer network of the notes
// as a gradient-descent step written with the autodiff API.
#pragma once

#include <gtest/gtest.h>

#include <autodiff/autodiff.hpp>

#include <cstring>
#include <vector>

namespace compile_test {

using ad::Tensor;

/// Equal shapes, dtypes and bits (NaN-safe; −0 and +0 differ): what "bit for bit" means.
inline ::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return ::testing::AssertionFailure() << "one of the two is undefined";
  if (!a.defined()) return ::testing::AssertionSuccess();
  if (!(a.shape() == b.shape()) || a.dtype() != b.dtype())
    return ::testing::AssertionFailure() << a.shape().str() << " " << ad::dtype_name(a.dtype()) << " vs "
                                         << b.shape().str() << " " << ad::dtype_name(b.dtype());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i)
    if (std::memcmp(&x[i], &y[i], sizeof(double)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << x[i] << " vs " << y[i];
  return ::testing::AssertionSuccess();
}

/// The 2 → 4 → 1 network, sigmoid hidden and output, binary cross-entropy, plain gradient
/// descent; two instances made with one seed start equal.
struct Net {
  Tensor W1, b1, W2, b2;
  explicit Net(ad::DType dt = ad::DType::f32) {
    ad::manual_seed(11);
    W1 = (ad::randn({4, 2}, dt) * 0.5).detach().requires_grad_();
    b1 = (ad::randn({4, 1}, dt) * 0.1).detach().requires_grad_();
    W2 = (ad::randn({1, 4}, dt) * 0.5).detach().requires_grad_();
    b2 = ad::zeros({1, 1}, dt).requires_grad_();
  }
  std::vector<Tensor*> params() { return {&W1, &b1, &W2, &b2}; }
  Tensor cost(const Tensor& X, const Tensor& Y) const {
    Tensor A1 = ad::sigmoid(ad::matmul(W1, X) + b1);
    Tensor A2 = ad::sigmoid(ad::matmul(W2, A1) + b2);
    return -ad::mean(Y * ad::log(A2) + (1.0 - Y) * ad::log(1.0 - A2));
  }
  /// Forward, backward, W := W − lr·dW, gradients cleared; returns the cost.
  Tensor step(const Tensor& X, const Tensor& Y, double lr) {
    Tensor J = cost(X, Y);
    J.backward();
    ad::NoGradGuard off;
    for (Tensor* p : params()) {
      if (!p->grad().defined()) continue;  // frozen
      p->sub_(p->grad(), lr);
      p->zero_grad();
    }
    return J;
  }
};

/// m samples (2, m) with labels (1, m): inside or outside the unit circle.
struct Data {
  Tensor X, Y;
  explicit Data(int64_t m, ad::DType dt = ad::DType::f32, uint64_t seed = 5) {
    ad::manual_seed(seed);
    X = ad::randn({2, m}, dt);
    Y = ad::gt(ad::sum(X * X, 0, true), 1.0);
  }
};

}  // namespace compile_test
