// Fused losses: one op each where fusing gives the stable form and the short gradient.
// Classes lie along `dim` (0 in the nn layer's column layout).
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// Mean over the other dims (m samples) of −Σ_dim Y ⊙ log softmax(Z); Y and Z of one shape, or
/// Y int64 class labels, one per lane along dim (Z's shape without dim), taken as one-hot.
///   dZ = (softmax(Z) − Y) / m for targets summing to 1 over dim (in general (softmax(Z)·Σ_dim Y − Y) / m),
///   dY = −log softmax(Z) / m
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t dim = 0);
/// Mean of max(Z,0) − Z⊙Y + log(1 + e^−|Z|), stable for |Z| in the thousands; Y and Z of one shape.
///   dZ = (σ(Z) − Y) / n, dY = −Z / n
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets);
/// Mean of −[Y⊙log A + (1 − Y)⊙log(1 − A)] on probabilities A (a sigmoid's output), A clamped
/// to [ε, 1 − ε] (ε = 1e−7 in float32, 1e−12 in float64); Y and A of one shape.
///   dA = (A − Y) / (A(1 − A)) / n (0 where the clamp is active), dY = (log(1 − A) − log A) / n
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets);
/// Mean over the other dims (m samples) of −Σ_dim Y ⊙ log A on probabilities A (a softmax's
/// output), A clamped below at ε; Y of A's shape, or int64 class labels as for
/// softmax_cross_entropy.                dA = −Y / A / m (0 where the clamp is active)
Tensor categorical_cross_entropy(const Tensor& probs, const Tensor& targets, int64_t dim = 0);
/// Mean of (A − Y)² over all elements; A and Y of one shape.   dA = 2(A − Y) / n, dY = −dA
Tensor mse_loss(const Tensor& predictions, const Tensor& targets);

}  // namespace ad
