// Internal: dim bookkeeping shared by the reductions, shape ops and losses.
#pragma once

#include <cstdint>

#include "autodiff/tensor.hpp"

namespace ad::detail {

/// `dim` in [0, rank) (negative counts from the end); throws ShapeError naming `op` otherwise.
int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim);
/// `s` with dim `dim` set to 1.
Shape keepdim_shape(const Shape& s, int64_t dim);
/// `s` without dim `dim`.
Shape dropdim_shape(const Shape& s, int64_t dim);

/// A shape seen as (outer, n, inner) around `dim`: element (o, k, i) sits at (o·n + k)·inner + i.
struct DimSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
DimSplit split_at(const Shape& s, int64_t dim);

}  // namespace ad::detail
