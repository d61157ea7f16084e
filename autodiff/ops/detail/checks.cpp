#include "autodiff/ops/detail/checks.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autodiff/engine/access.hpp"

namespace ad::detail {

void check_defined(const char* op, const Tensor& t) {
  if (!t.defined()) throw UsageError(fmt::format("{}: an input tensor is undefined", op));
}

void check_floating(const char* op, const Tensor& t) {
  check_defined(op, t);
  if (!is_floating(t.dtype()))
    throw DTypeError(fmt::format("{}: the tensor {} is {}, which holds indices; this op computes in float32 or "
                                 "float64 (convert with .to(DType::f32))",
                                 op, t.shape().str(), dtype_name(t.dtype())));
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  if (a.dtype() != b.dtype())
    throw DTypeError(fmt::format("{}: dtypes differ ({} {} and {} {}); convert one with .to(DType)", op,
                                 a.shape().str(), dtype_name(a.dtype()), b.shape().str(), dtype_name(b.dtype())));
}

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  check_same_dtype(op, a, b);
  check_floating(op, a);
}

// A loss that silently broadcast its targets over the samples would train on the wrong labels,
// so the pair must match exactly.
void check_pair(const char* op, const char* what, const Tensor& a, const Tensor& b) {
  check_floating(op, a);
  check_floating(op, b);
  if (!(a.shape() == b.shape()))
    throw ShapeError(fmt::format("{}: {} {} and targets {} must have the same shape", op, what, a.shape().str(),
                                 b.shape().str()));
  if (a.dtype() != b.dtype())
    throw DTypeError(fmt::format("{}: {} are {} but targets are {}", op, what, dtype_name(a.dtype()),
                                 dtype_name(b.dtype())));
  if (a.numel() == 0) throw ShapeError(fmt::format("{}: the {} {} are empty", op, what, a.shape().str()));
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError(fmt::format("{}: shapes {} and {} do not broadcast (dim {}: {} vs {})", op, a.str(), b.str(),
                                   i, da, db));
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

void check_broadcasts_to(const char* op, const char* what, const Shape& from, const char* to_what, const Shape& to) {
  if (from == to || broadcast_shapes(op, from, to) == to) return;
  throw ShapeError(fmt::format("{}: {} {} does not broadcast to {} {} (the result must keep {}'s shape)", op, what,
                               from.str(), to_what, to.str(), to_what));
}

int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim) {
  const int64_t r = x.dim();
  if (r == 0) throw ShapeError(fmt::format("{}: the tensor is 0-d, so it has no dim {}", op, dim));
  if (dim < -r || dim >= r)
    throw ShapeError(fmt::format("{}: dim {} is out of range for {} (valid: {} to {})", op, dim, x.shape().str(),
                                 -r, r - 1));
  return dim < 0 ? dim + r : dim;
}

void check_nonempty_dim(const char* op, const Tensor& x, int64_t d) {
  if (x.shape()[static_cast<size_t>(d)] == 0)
    throw ShapeError(fmt::format("{}: dim {} of {} is empty; there is no maximum", op, d, x.shape().str()));
}

Shape keepdim_shape(const Shape& s, int64_t dim) {
  Shape k = s;
  k[static_cast<size_t>(dim)] = 1;
  return k;
}

Shape dropdim_shape(const Shape& s, int64_t dim) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (static_cast<int64_t>(i) != dim) out.push_back(s[i]);
  return out;
}

// In-place writes are not recorded. On a leaf that requires grad they must happen outside
// recording (an optimizer step); on a recorded op's output they would silently make the
// recorded gradient wrong (its rule may have saved these values), so they are refused.
void check_in_place(const char* op, const Tensor& t) {
  if (!t.defined()) return;
  if (t.requires_grad() && !t.is_leaf())
    throw UsageError(fmt::format("{}: the tensor {} is the output of '{}' and part of a recorded graph; changing it in "
                                 "place would make its gradient wrong (detach() it first)",
                                 op, t.shape().str(), t.op_name()));
  if (t.requires_grad() && is_grad_enabled())
    throw UsageError(fmt::format("{}: the leaf {} requires grad and cannot be changed in place while recording; do it "
                                 "under ad::NoGradGuard (as an optimizer step does)",
                                 op, t.shape().str()));
  bump_version(*impl_of(t)->storage);
}

}  // namespace ad::detail
