// Elementwise binary ops with NumPy broadcasting, their scalar forms, and selection.
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
/// mask ? a : b, all three broadcast; mask is nonzero/zero and gets no gradient.
///                                    dA = dZ ⊙ mask, dB = dZ ⊙ (1 − mask)
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
/// a·x + b for scalars a, b (covers x ± s, s − x, x·s, x/s, −x).   dX = a·dZ
Tensor affine(const Tensor& x, double scale, double shift);
/// s / x.                             dX = −s·dZ / x²
Tensor scalar_div(double s, const Tensor& x);

/// a > b as 0/1 values of the inputs' dtype, broadcast. Comparisons are not differentiable.
Tensor gt(const Tensor& a, const Tensor& b);
/// a < b as 0/1, broadcast.
Tensor lt(const Tensor& a, const Tensor& b);
/// a ≥ b as 0/1, broadcast.
Tensor ge(const Tensor& a, const Tensor& b);
/// a ≤ b as 0/1, broadcast.
Tensor le(const Tensor& a, const Tensor& b);
/// a = b as 0/1, broadcast.
Tensor eq(const Tensor& a, const Tensor& b);
/// a > s as 0/1.
Tensor gt(const Tensor& a, double s);
/// a < s as 0/1.
Tensor lt(const Tensor& a, double s);

/// In place, not recorded: dst += src (src broadcast to dst's shape).
Tensor& add_(Tensor& dst, const Tensor& src);
/// In place, not recorded: dst += alpha · src (same shape), the optimizers' axpy.
Tensor& add_scaled_(Tensor& dst, const Tensor& src, double alpha);
/// In place, not recorded: dst *= s.
Tensor& mul_(Tensor& dst, double s);

/// add(a, b).
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
/// sub(a, b).
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
/// mul(a, b): elementwise, not the matrix product (that is matmul).
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
/// div(a, b).
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
/// −x.
inline Tensor operator-(const Tensor& x) { return affine(x, -1.0, 0.0); }
/// x + s.
inline Tensor operator+(const Tensor& x, double s) { return affine(x, 1.0, s); }
/// s + x.
inline Tensor operator+(double s, const Tensor& x) { return affine(x, 1.0, s); }
/// x − s.
inline Tensor operator-(const Tensor& x, double s) { return affine(x, 1.0, -s); }
/// s − x.
inline Tensor operator-(double s, const Tensor& x) { return affine(x, -1.0, s); }
/// x · s.
inline Tensor operator*(const Tensor& x, double s) { return affine(x, s, 0.0); }
/// s · x.
inline Tensor operator*(double s, const Tensor& x) { return affine(x, s, 0.0); }
/// x / s.
inline Tensor operator/(const Tensor& x, double s) { return affine(x, 1.0 / s, 0.0); }
/// s / x (scalar_div).
inline Tensor operator/(double s, const Tensor& x) { return scalar_div(s, x); }

}  // namespace ad
