// Costs J: scalars averaged like PyTorch's default reduction. Predictions and targets are
// (n[L], m) with the samples as columns; for the multi-class costs n[L] = C classes and the
// sum over the classes (dim 0) is averaged over the m columns. Class targets may be one-hot
// (C, m) or int64 labels (m) or (1, m).
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/ops/losses.hpp"
#include "autodiff/tensor.hpp"
#include "nn/module.hpp"

namespace ad::nn {

// The costs are the autodiff ops themselves (classes along dim 0 by default), brought in by
// name so ad::nn::f and ad::f are one function and unqualified calls are not ambiguous:
//   binary_cross_entropy(A, Y): −mean(Y⊙log A + (1−Y)⊙log(1−A)) over all elements, A clamped
//     to [ε, 1−ε] (ε = 1e-7 in float32, 1e-12 in float64) so a saturated sigmoid gives a large
//     finite cost, not inf.                              dA = (A − Y) / (A(1−A)) / numel inside the clamp
//   binary_cross_entropy_with_logits(Z, Y): the same cost from the logits Z (A = σ(Z)),
//     stable for |Z| in the thousands.                   dZ = (σ(Z) − Y) / numel
//   softmax_cross_entropy(Z, Y): −(1/m) Σ Y⊙log softmax(Z, 0) for one-hot Y (C, m) or labels.
//                                                        dZ = (softmax(Z) − Y) / m
//   categorical_cross_entropy(A, Y): −(1/m) Σ Y⊙log A on probabilities A (C, m) (after a
//     Softmax), A clamped below at ε.                    dA = −Y / A / m
//   mse_loss(A, Y): mean((A − Y)²) over all elements.    dA = 2(A − Y) / numel
using ad::binary_cross_entropy;
using ad::binary_cross_entropy_with_logits;
using ad::categorical_cross_entropy;
using ad::mse_loss;
using ad::softmax_cross_entropy;
/// softmax_cross_entropy with integer class labels, one per column (Y = one_hot(labels, C)).
Tensor softmax_cross_entropy(const Tensor& Z, const std::vector<int64_t>& labels);
/// categorical_cross_entropy with integer class labels.
Tensor categorical_cross_entropy(const Tensor& A, const std::vector<int64_t>& labels);

/// The one-hot Y of shape (C, m): Y[labels[i], i] = 1. Throws ValueError for a label ∉ [0, C).
Tensor one_hot(const std::vector<int64_t>& labels, int64_t C, DType dtype = DType::f32);
/// The same from a tensor of class indices, (m) or (1, m) (int64 or whole-valued floats).
Tensor one_hot(const Tensor& labels, int64_t C, DType dtype = DType::f32);
/// Integer labels from a (1, m) or (m) tensor of class indices (values must be whole numbers).
std::vector<int64_t> labels_of(const Tensor& indices);

/// The L2 penalty λ/(2m) Σ_l ‖W[l]‖²_F over the weights W[l] of every Linear layer in
/// the model (biases and other parameters are not penalized). Add it to the cost:
/// J + l2_regularization(…).
Tensor l2_regularization(Module& model, double lambda, int64_t m);

}  // namespace ad::nn
