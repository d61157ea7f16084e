// Reductions and the normalizations built on them. A negative dim counts from the end.
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// Σ of all elements, a 0-d tensor.  dX = dY broadcast to X's shape
Tensor sum(const Tensor& x);
/// Σ over `dim`.                      dX = dY broadcast back over dim
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
/// Mean of all elements.              dX = dY / n
Tensor mean(const Tensor& x);
/// Mean over `dim`.                   dX = dY / n broadcast back over dim
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
/// Maximum over `dim`.                the gradient goes to the first maximal entry
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
/// Index of the maximum over `dim` (first on ties), as an int64 tensor; not differentiable.
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
/// softmax over `dim`, stable for large inputs.   dX = Y ⊙ (dY − Σ_dim dY ⊙ Y)
Tensor softmax(const Tensor& x, int64_t dim);
/// log softmax over `dim`, stable.    dX = dY − softmax(X) ⊙ Σ_dim dY
Tensor log_softmax(const Tensor& x, int64_t dim);
/// x summed down to `shape` (the inverse of broadcasting; the engine uses it for gradients).
///                                    dX = broadcast_to(dY, X's shape)
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace ad
