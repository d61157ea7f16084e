#include "autodiff/ops/reduction.hpp"

#include <fmt/format.h>

#include "autodiff/function.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/kernels/reduce.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"

namespace ad {

using detail::buffer;
using detail::normalize_dim;
using detail::should_record;
using kernels::Operands;

namespace {

// x summed down to `shape` (checked) in a new tensor.
Tensor sum_down(const char* op, const Tensor& x, const Shape& shape) {
  Tensor out = empty(shape, x.dtype());
  kernels::launch(op, {buffer(x)}, {buffer(out)}, [](const Operands& o) { kernels::sum_to(o.in(0), o.out(0)); });
  return out;
}

// A reduction's result without dim d, unless keepdim.
Tensor drop_dim_unless(bool keepdim, const Tensor& kept, const Shape& x_shape, int64_t d) {
  return keepdim ? kept : reshape(kept, detail::dropdim_shape(x_shape, d));
}

// 1 where x holds the first maximum of its lane along d, 0 elsewhere (not recorded).
Tensor argmax_mask(const Tensor& x, int64_t d) {
  Tensor mask = empty(x.shape(), x.dtype());
  kernels::launch("argmax_mask", {buffer(x)}, {buffer(mask)},
                  [d](const Operands& o) { kernels::argmax_mask(o.in(0), d, o.out(0)); });
  return mask;
}

// softmax (or log softmax) of x along dim, not recorded; the normalized dim goes to `d`.
Tensor softmax_values(const char* op, const Tensor& x, int64_t dim, bool log_form, int64_t& d) {
  detail::check_floating(op, x);
  d = normalize_dim(op, x, dim);
  Tensor y = empty(x.shape(), x.dtype());
  kernels::launch(op, {buffer(x)}, {buffer(y)},
                  [d, log_form](const Operands& o) { kernels::softmax(o.in(0), d, log_form, o.out(0)); });
  return y;
}

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_floating("sum_to", x);
  if (x.shape() == shape) return x;
  // shape must broadcast to x's shape: right-aligned, each dim equal or 1
  if (!(detail::broadcast_shapes("sum_to", shape, x.shape()) == x.shape()))
    throw ShapeError(fmt::format("sum_to: {} cannot be summed down to {}", x.shape().str(), shape.str()));
  Tensor out = sum_down("sum_to", x, shape);
  if (!should_record({&x})) return out;
  return record_op("sum_to", "dX = broadcast_to(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, broadcast_to(c.grad(), xs)); });
}

Tensor sum(const Tensor& x) {
  detail::check_floating("sum", x);
  Tensor out = sum_down("sum", x, Shape{});
  if (!should_record({&x})) return out;
  return record_op("sum", "dX = dY broadcast to X's shape", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, broadcast_to(c.grad(), xs)); });
}

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_floating("sum", x);
  const int64_t d = normalize_dim("sum", x, dim);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor out = drop_dim_unless(keepdim, sum_down("sum", x, kept), x.shape(), d);
  if (!should_record({&x})) return out;
  return record_op("sum", "dX = dY broadcast back over dim", {x}, out, [xs = x.shape(), kept](BackwardContext& c) {
    c.add(0, broadcast_to(reshape(c.grad(), kept), xs));
  });
}

Tensor mean(const Tensor& x) {
  detail::check_floating("mean", x);
  if (x.numel() == 0) throw ShapeError(fmt::format("mean: the tensor {} is empty", x.shape().str()));
  const double inv_n = 1.0 / static_cast<double>(x.numel());
  Tensor out = sum_down("mean", x, Shape{});
  out.mul_(inv_n);
  if (!should_record({&x})) return out;
  return record_op("mean", "dX = dY / n", {x}, out, [xs = x.shape(), inv_n](BackwardContext& c) {
    c.add(0, broadcast_to(c.grad() * inv_n, xs));
  });
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_floating("mean", x);
  const int64_t d = normalize_dim("mean", x, dim);
  const int64_t n = x.shape()[static_cast<size_t>(d)];
  if (n == 0) throw ShapeError(fmt::format("mean: dim {} of {} is empty", dim, x.shape().str()));
  const double inv_n = 1.0 / static_cast<double>(n);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor out = sum_down("mean", x, kept);
  out.mul_(inv_n);
  out = drop_dim_unless(keepdim, out, x.shape(), d);
  if (!should_record({&x})) return out;
  return record_op("mean", "dX = dY / n broadcast back over dim", {x}, out,
                   [xs = x.shape(), kept, inv_n](BackwardContext& c) {
                     c.add(0, broadcast_to(reshape(c.grad(), kept) * inv_n, xs));
                   });
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_floating("max", x);
  const int64_t d = normalize_dim("max", x, dim);
  detail::check_nonempty_dim("max", x, d);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor best = empty(kept, x.dtype());
  kernels::launch("max", {buffer(x)}, {buffer(best)}, [d](const Operands& o) { kernels::max(o.in(0), d, o.out(0)); });
  Tensor out = drop_dim_unless(keepdim, best, x.shape(), d);
  if (!should_record({&x})) return out;
  // The 0/1 mask of the maxima is rebuilt from x when backward runs, not kept from forward.
  return record_op("max", "dX = dY at the first maximum of each lane, 0 elsewhere", {x}, out,
                   [sx = SavedTensor(x.detach()), d, kept](BackwardContext& c) {
                     c.add(0, reshape(c.grad(), kept) * argmax_mask(c.saved(sx), d));
                   });
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined("argmax", x);
  const int64_t d = normalize_dim("argmax", x, dim);
  detail::check_nonempty_dim("argmax", x, d);
  Tensor index = empty(detail::keepdim_shape(x.shape(), d), DType::i64);
  kernels::launch("argmax", {buffer(x)}, {buffer(index)},
                  [d](const Operands& o) { kernels::argmax(o.in(0), d, o.out(0)); });
  return drop_dim_unless(keepdim, index, x.shape(), d);
}

Tensor softmax(const Tensor& x, int64_t dim) {
  int64_t d = 0;
  Tensor y = softmax_values("softmax", x, dim, false, d);
  if (!should_record({&x})) return y;
  // The Jacobian diag(y) − y yᵀ applied to dY, lane by lane.
  return record_op("softmax", "dX = Y ⊙ (dY − Σ_dim dY ⊙ Y)", {x}, y, [d](BackwardContext& c) {
    Tensor s = c.output();
    c.add(0, s * (c.grad() - sum(c.grad() * s, d, true)));
  }, true);
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  int64_t d = 0;
  Tensor y = softmax_values("log_softmax", x, dim, true, d);
  if (!should_record({&x})) return y;
  // softmax(X) = e^Y, read from the saved output rather than recomputed from X.
  return record_op("log_softmax", "dX = dY − softmax(X) ⊙ Σ_dim dY", {x}, y, [d](BackwardContext& c) {
    c.add(0, c.grad() - exp(c.output()) * sum(c.grad(), d, true));
  }, true);
}

}  // namespace ad
