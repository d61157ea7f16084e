// Internal to the ops: ops that exist for the operators and for fused backward rules, not for
// users (they reach them through x * s, s / x, the activations and ad::linear). They are recorded
// like any op, so gradients of gradients flow through them.
#pragma once

#include "autodiff/activation.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

/// a·x + b for scalars a, b: every scalar operator but s / x.   dX = a·dZ
Tensor affine(const Tensor& x, double scale, double shift);
/// s / x.                             dX = −s·dZ / x²
Tensor scalar_div(double s, const Tensor& x);
/// dA ⊙ g'(Z) for A = g(Z), computed from A alone (g fusable): σ' = A(1 − A), tanh' = 1 − A²,
/// relu' = [A > 0]. The fusable activations' backward rules, one kernel each.
///                                    d(dA) = dY ⊙ g'(A); dA_out (A) = dY ⊙ dA ⊙ d(g')/dA
Tensor act_backward(const Tensor& grad, const Tensor& a, Activation g);

}  // namespace ad
