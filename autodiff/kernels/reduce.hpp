// Internal (kernel layer): reductions over buffers. `dim` is already normalized (0 ≤ dim < rank).
#pragma once

#include <cstdint>

#include "autodiff/kernels/buffer.hpp"

namespace ad::kernels {

/// out = x summed down to out's shape, which broadcasts to x's (x's shape with some dims 1, or
/// fewer leading dims). Sums along a row are accumulated in double.
void sum_to(In x, Out out);

/// out (x's shape with dim set to 1) = the maximum of each lane along dim; a NaN wins.
void max(In x, int64_t dim, Out out);
/// out (int64, x's shape with dim set to 1) = where the first maximum of each lane along dim
/// sits; x may be of any dtype.
void argmax(In x, int64_t dim, Out out);
/// out (x's shape) = 1 where x holds the first maximum of its lane along dim, 0 elsewhere.
void argmax_mask(In x, int64_t dim, Out out);

/// out = softmax of x along dim, or log softmax when `log_form`; stable for large inputs.
void softmax(In x, int64_t dim, bool log_form, Out out);

}  // namespace ad::kernels
