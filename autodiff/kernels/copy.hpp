// Internal (kernel layer): kernels that move elements without arithmetic. `dim` is already
// normalized (0 ≤ dim < rank) and every index already checked by the caller.
#pragma once

#include <cstdint>

#include "autodiff/kernels/buffer.hpp"

namespace ad::kernels {

/// out (c × r) = the transpose of the 2-D x (r × c).
void transpose(In x, Out out);
/// out = x repeated along its broadcast dims to out's shape.
void broadcast(In x, Out out);
/// Copies x into out at `offset` along dim (x and out agree on every other dim): concat's step.
void place(In x, int64_t dim, int64_t offset, Out out);
/// out = the entries start ≤ i < start + out.shape[dim] of x along dim.
void slice(In x, int64_t dim, int64_t start, Out out);
/// out = the entries index[0 … out.shape[dim]) of x along dim (repeats allowed; an index in
/// [−n, 0) counts from the end of the dim's n entries).
void index_select(In x, int64_t dim, const int64_t* index, Out out);
/// out = zeros, then entry j of x along dim added into entry index[j] of out (j < x.shape[dim];
/// indices as for index_select).
void index_add(In x, int64_t dim, const int64_t* index, Out out);
/// out = x, element for element (one shape and dtype; out may be x).
void copy(In x, Out out);
/// out = one-hot along dim of the int64 labels (out's shape with dim set to 1, or without it):
/// 1 at each lane's label, 0 elsewhere. Every label is in [0, out.shape[dim]).
void one_hot(In labels, int64_t dim, Out out);
/// out = x converted to out's dtype.
void convert(In x, Out out);
/// Every element of out = value (converted to out's dtype).
void fill(Out out, double value);

}  // namespace ad::kernels
