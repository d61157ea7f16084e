// Elementwise binary ops with NumPy broadcasting, their scalar forms, comparisons and selection.
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// a + b, broadcast.                  dA = dZ, dB = dZ (summed over broadcast dims)
Tensor add(const Tensor& a, const Tensor& b);
/// a − b, broadcast.                  dA = dZ, dB = −dZ
Tensor sub(const Tensor& a, const Tensor& b);
/// a ⊙ b, broadcast.                  dA = dZ ⊙ B, dB = dZ ⊙ A
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b, broadcast.                  dA = dZ / B, dB = −dZ ⊙ A / B²
Tensor div(const Tensor& a, const Tensor& b);
/// Elementwise minimum, broadcast.    the gradient goes to the smaller (ties: split evenly)
Tensor minimum(const Tensor& a, const Tensor& b);
/// Elementwise maximum, broadcast.    the gradient goes to the larger (ties: split evenly)
Tensor maximum(const Tensor& a, const Tensor& b);
/// mask ? a : b, all three broadcast; mask is nonzero/zero (any dtype) and gets no gradient.
///                                    dA = dZ ⊙ mask, dB = dZ ⊙ (1 − mask)
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);

// Comparisons give 1 where the relation holds and 0 elsewhere, in the inputs' dtype and their
// broadcast shape; they are not differentiable (nothing is recorded). A scalar compares with
// every element.
/// a > b.
Tensor gt(const Tensor& a, const Tensor& b);
/// a > s.
Tensor gt(const Tensor& a, double s);
/// a < b.
Tensor lt(const Tensor& a, const Tensor& b);
/// a < s.
Tensor lt(const Tensor& a, double s);
/// a ≥ b.
Tensor ge(const Tensor& a, const Tensor& b);
/// a ≥ s.
Tensor ge(const Tensor& a, double s);
/// a ≤ b.
Tensor le(const Tensor& a, const Tensor& b);
/// a ≤ s.
Tensor le(const Tensor& a, double s);
/// a = b.
Tensor eq(const Tensor& a, const Tensor& b);
/// a = s.
Tensor eq(const Tensor& a, double s);
/// a ≠ b.
Tensor ne(const Tensor& a, const Tensor& b);
/// a ≠ s.
Tensor ne(const Tensor& a, double s);

/// add(a, b).
Tensor operator+(const Tensor& a, const Tensor& b);
/// sub(a, b).
Tensor operator-(const Tensor& a, const Tensor& b);
/// mul(a, b): elementwise, not the matrix product (that is matmul).
Tensor operator*(const Tensor& a, const Tensor& b);
/// div(a, b).
Tensor operator/(const Tensor& a, const Tensor& b);
/// −x.                                dX = −dY
Tensor operator-(const Tensor& x);
/// x + s.                             dX = dY
Tensor operator+(const Tensor& x, double s);
/// s + x.                             dX = dY
Tensor operator+(double s, const Tensor& x);
/// x − s.                             dX = dY
Tensor operator-(const Tensor& x, double s);
/// s − x.                             dX = −dY
Tensor operator-(double s, const Tensor& x);
/// x · s.                             dX = s·dY
Tensor operator*(const Tensor& x, double s);
/// s · x.                             dX = s·dY
Tensor operator*(double s, const Tensor& x);
/// x / s.                             dX = dY / s
Tensor operator/(const Tensor& x, double s);
/// s / x.                             dX = −s·dY / x²
Tensor operator/(double s, const Tensor& x);

}  // namespace ad
