// Fused ops (DESIGN principle 5): the bias-add of a dense layer folded into its activation's
// pass, and each activation's backward as one kernel instead of two or three ops and their
// temporaries. Both are ordinary differentiable ops, so create_graph works through them.
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// The activations a fused op applies.
enum class Act { identity, sigmoid, relu, tanh };
/// "identity", "sigmoid", "relu" or "tanh".
const char* act_name(Act act);

/// g(Z + b) in one pass; b broadcasts to Z's shape (a bias (n, 1) over the m columns of Z).
/// The same values as g(Z + b) by two ops.
///                                    dZ = dA ⊙ g'(Z + b), db = dZ summed over the broadcast dims
Tensor bias_act(const Tensor& z, const Tensor& b, Act act);
/// A dense layer as one recorded op: g(W · X + b), the product by one gemm and the bias-add
/// fused into the activation's pass. The same values as bias_act(matmul(W, X), b, act).
///                                    dZ = dA ⊙ g'(Z), dW = dZ · Xᵀ, dX = Wᵀ · dZ,
///                                    db = dZ summed over the broadcast dims
Tensor linear(const Tensor& w, const Tensor& x, const Tensor& b, Act act);
/// dA ⊙ g'(Z) for A = g(Z), computed from A alone: σ' = A(1 − A), tanh' = 1 − A², relu' = [A > 0].
/// The activations' backward rules, one kernel each.
///                                    d(dA) = dY ⊙ g'(Z); dA_out (A) = dY ⊙ dA ⊙ (1 − 2A) for σ,
///                                    dY ⊙ dA ⊙ (−2A) for tanh, 0 for relu
Tensor act_backward(const Tensor& grad, const Tensor& a, Act act);

}  // namespace ad
