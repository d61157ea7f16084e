// Ops that move or select elements without arithmetic.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace ad {

/// Swaps the two dims of a 2-D tensor (a copy).     dX = dYᵀ
Tensor transpose(const Tensor& x);
/// The same elements in another shape (one dim may be −1); shares storage.   dX = reshape(dY, X's shape)
Tensor reshape(const Tensor& x, const Shape& shape);
/// x repeated along its size-1 dims (NumPy broadcasting) to `shape`.   dX = sum_to(dY, X's shape)
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Joins tensors along `dim`; all other dims must agree.   dXᵢ = the matching slice of dY
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
/// Elements start ≤ i < end along `dim` (negative bounds count from the end).   dX = dY in that slice, 0 elsewhere
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);
/// The entries `index` (a 1-D int64 tensor) along `dim`, repeats allowed. For a dim of size n
/// each index lies in [−n, n); a negative one counts from the end, as x[-1] does in LibTorch and
/// NumPy (−1 is the last entry, −n the first); any other is a ValueError.
///                                    dX = dY scattered back, repeats summed
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
/// The same with the indices as a list.
Tensor index_select(const Tensor& x, int64_t dim, const std::vector<int64_t>& index);

}  // namespace ad
