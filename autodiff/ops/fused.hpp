// Activations by name, and the fused forms of a dense layer. ad::activate applies any
// ad::Activation; bias_act and linear are what nn::Sequential runs for a Linear followed by a
// fusable activation: one recorded op and one pass instead of two or three, with the same values
// as the unfused ops. Both are ordinary differentiable ops, so create_graph works through them.
#pragma once

#include "autodiff/activation.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

/// A = g(Z): sigmoid, relu, tanh, leaky_relu (with `slope` for Z < 0), softmax over dim 0, or
/// Z itself for Identity.         dZ = dA ⊙ g'(Z) (softmax: its Jacobian)
Tensor activate(const Tensor& z, Activation g, double slope = 0.01);

/// Fusion helper: g(Z + b) in one pass for a fusable g (ad::is_fusable); b broadcasts to Z's
/// shape (a bias (n, 1) over the m columns of Z). The same values as activate(Z + b, g).
///                                    dZ = dA ⊙ g'(Z + b), db = dZ summed over the broadcast dims
Tensor bias_act(const Tensor& z, const Tensor& b, Activation g);
/// Fusion helper: a dense layer as one recorded op, g(W · X + b) for a fusable g: the product by
/// one gemm and the bias-add fused into the activation's pass. The same values as
/// bias_act(matmul(W, X), b, g).
///                                    dZ = dA ⊙ g'(Z), dW = dZ · Xᵀ, dX = Wᵀ · dZ,
///                                    db = dZ summed over the broadcast dims
Tensor linear(const Tensor& w, const Tensor& x, const Tensor& b, Activation g);

}  // namespace ad
