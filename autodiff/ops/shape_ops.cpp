#include "autodiff/ops/shape_ops.hpp"

#include <fmt/format.h>

#include <cstring>

#include "autodiff/function.hpp"
#include "autodiff/kernels/copy.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"

namespace ad {
namespace {

using detail::buffer;
using detail::should_record;
using kernels::Operands;

// g padded with `before` and `after` zeros along dim d: the gradient of a slice, written with
// concat so that it is itself differentiable (concat's gradient is a slice again).
Tensor pad_dim(const Tensor& g, int64_t d, int64_t before, int64_t after) {
  if (before == 0 && after == 0) return g;
  std::vector<Tensor> parts;
  Shape s = g.shape();
  if (before > 0) {
    s[static_cast<size_t>(d)] = before;
    parts.push_back(zeros(s, g.dtype()));
  }
  parts.push_back(g);
  if (after > 0) {
    s[static_cast<size_t>(d)] = after;
    parts.push_back(zeros(s, g.dtype()));
  }
  return concat(parts, d);
}

// The inverse of index_select: g's entries along dim d added into a zero tensor whose dim d
// has size n, at positions `index` (int64, checked; repeats add up). Its own gradient is
// index_select again. The index is an operand of the kernel, so a replay reads it afresh.
Tensor index_scatter(const Tensor& g, int64_t d, const Tensor& index, int64_t n) {
  Shape shape = g.shape();
  shape[static_cast<size_t>(d)] = n;
  Tensor out = empty(shape, g.dtype());
  kernels::launch("index_scatter", {buffer(g), buffer(index)}, {buffer(out)}, [d](const Operands& o) {
    kernels::index_add(o.in(0), d, o.in(1).as<int64_t>(), o.out(0));
  });
  if (!should_record({&g})) return out;
  return record_op("index_scatter", "dG = index_select(dX, dim, index)", {g}, out,
                   [d, index](BackwardContext& c) { c.add(0, index_select(c.grad(), d, index)); });
}

// The indices of a host list as an int64 tensor (a trace keeps its own copy of them).
Tensor index_tensor(const std::vector<int64_t>& index) {
  Tensor t = empty({static_cast<int64_t>(index.size())}, DType::i64);
  kernels::launch("index", {}, {buffer(t)}, [index](const Operands& o) {
    if (!index.empty()) std::memcpy(o.out(0).data, index.data(), index.size() * sizeof(int64_t));
  });
  return t;
}

}  // namespace

Tensor transpose(const Tensor& x) {
  detail::check_defined("transpose", x);
  if (x.dim() != 2) throw ShapeError(fmt::format("transpose: needs a 2-D tensor, got {}", x.shape().str()));
  const int64_t r = x.shape()[0], c = x.shape()[1];
  Tensor out = empty({c, r}, x.dtype());
  kernels::launch("transpose", {buffer(x)}, {buffer(out)}, [](const Operands& o) { kernels::transpose(o.in(0), o.out(0)); });
  if (!should_record({&x})) return out;
  return record_op("transpose", "dX = dYᵀ", {x}, out, [](BackwardContext& ctx) { ctx.add(0, transpose(ctx.grad())); });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_defined("reshape", x);
  Shape target = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && infer < 0) {
      infer = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw ShapeError(fmt::format("reshape: {} to {}: dims must be ≥ 0, with at most one −1", x.shape().str(), shape.str()));
    } else {
      known *= target[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      throw ShapeError(fmt::format("reshape: cannot infer the −1 dim of {} for {} elements", shape.str(), x.numel()));
    target[static_cast<size_t>(infer)] = x.numel() / known;
  }
  if (target.numel() != x.numel())
    throw ShapeError(fmt::format("reshape: {} ({} elements) to {} ({} elements)", x.shape().str(), x.numel(),
                                 shape.str(), target.numel()));
  Tensor out = x.detach();
  out.impl()->shape = target;  // a view: the same storage in another shape
  if (!should_record({&x})) return out;
  return record_op("reshape", "dX = reshape(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, reshape(c.grad(), xs)); });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("broadcast_to", x);
  if (x.shape() == shape) return x;
  if (!(detail::broadcast_shapes("broadcast_to", x.shape(), shape) == shape))
    throw ShapeError(fmt::format("broadcast_to: {} cannot be broadcast to {}", x.shape().str(), shape.str()));
  Tensor out = empty(shape, x.dtype());
  kernels::launch("broadcast_to", {buffer(x)}, {buffer(out)},
                  [](const Operands& o) { kernels::broadcast(o.in(0), o.out(0)); });
  if (!should_record({&x})) return out;
  return record_op("broadcast_to", "dX = sum_to(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, sum_to(c.grad(), xs)); });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) throw ValueError("concat: the list of tensors is empty");
  for (const Tensor& t : xs) detail::check_defined("concat", t);
  const Tensor& first = xs[0];
  const int64_t d = detail::normalize_dim("concat", first, dim);
  std::vector<int64_t> offsets = {0};  // where each input starts along dim d
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    if (t.dtype() != first.dtype())
      throw DTypeError(fmt::format("concat: tensor {} is {} but tensor 0 is {}", i, dtype_name(t.dtype()),
                                   dtype_name(first.dtype())));
    bool fits = t.dim() == first.dim();
    for (int64_t j = 0; fits && j < t.dim(); ++j) fits = j == d || t.size(j) == first.size(j);
    if (!fits)
      throw ShapeError(fmt::format("concat: tensor {} is {} but tensor 0 is {}; all dims but dim {} must agree", i,
                                   t.shape().str(), first.shape().str(), dim));
    offsets.push_back(offsets.back() + t.size(d));
  }
  Shape shape = first.shape();
  shape[static_cast<size_t>(d)] = offsets.back();
  Tensor out = empty(shape, first.dtype());
  for (size_t i = 0; i < xs.size(); ++i)
    kernels::launch("concat", {buffer(xs[i])}, {buffer(out)},
                    [d, at = offsets[i]](const Operands& o) { kernels::place(o.in(0), d, at, o.out(0)); });
  if (!should_record(xs)) return out;
  return record_op("concat", "dXᵢ = dY[offᵢ : offᵢ₊₁] along dim", xs, out,
                   [d, offsets = std::move(offsets)](BackwardContext& c) {
                     for (size_t i = 0; i + 1 < offsets.size(); ++i)
                       if (c.needs(i)) c.add(i, slice(c.grad(), d, offsets[i], offsets[i + 1]));
                   });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  detail::check_defined("slice", x);
  const int64_t d = detail::normalize_dim("slice", x, dim);
  const int64_t n = x.size(d);
  const int64_t lo = start < 0 ? start + n : start, hi = end < 0 ? end + n : end;
  if (lo < 0 || hi > n || lo > hi)
    throw ValueError(fmt::format("slice: [{}, {}) is out of range for dim {} of {} (size {})", start, end, dim,
                                 x.shape().str(), n));
  Shape shape = x.shape();
  shape[static_cast<size_t>(d)] = hi - lo;
  Tensor out = empty(shape, x.dtype());
  kernels::launch("slice", {buffer(x)}, {buffer(out)}, [d, lo](const Operands& o) { kernels::slice(o.in(0), d, lo, o.out(0)); });
  if (!should_record({&x})) return out;
  return record_op("slice", "dX = dY in the slice, 0 elsewhere", {x}, out,
                   [d, lo, after = n - hi](BackwardContext& c) { c.add(0, pad_dim(c.grad(), d, lo, after)); });
}

// The indices are checked where they are read, in the kernel: a replayed trace reads and checks
// them again, so an index tensor that changes between calls is seen.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  detail::check_defined("index_select", x);
  detail::check_defined("index_select", index);
  if (index.dtype() != DType::i64)
    throw DTypeError(fmt::format("index_select: the index {} is {}; indices are int64 (made with DType::i64, or "
                                 "argmax's result)",
                                 index.shape().str(), dtype_name(index.dtype())));
  if (index.dim() != 1)
    throw ShapeError(fmt::format("index_select: the index is {}; it must be 1-D", index.shape().str()));
  const int64_t d = detail::normalize_dim("index_select", x, dim);
  const int64_t n = x.size(d);
  Shape shape = x.shape();
  shape[static_cast<size_t>(d)] = index.numel();
  Tensor out = empty(shape, x.dtype());
  kernels::launch("index_select", {buffer(x), buffer(index)}, {buffer(out)},
                  [d, n, dim, xs = x.shape()](const Operands& o) {
                    const int64_t* p = o.in(1).as<int64_t>();
                    for (int64_t j = 0, k = o.in(1).shape.numel(); j < k; ++j)
                      if (p[j] < -n || p[j] >= n)
                        throw ValueError(fmt::format(
                            "index_select: index {} (position {}) is out of range for dim {} of {} (size {}): "
                            "indices lie in [{}, {}), negative ones counting from the end",
                            p[j], j, dim, xs.str(), n, -n, n));
                    kernels::index_select(o.in(0), d, p, o.out(0));
                  });
  if (!should_record({&x})) return out;
  return record_op("index_select", "dX = dY scattered back to the indexed entries, repeats summed", {x}, out,
                   [d, n, index = index.detach()](BackwardContext& c) { c.add(0, index_scatter(c.grad(), d, index, n)); });
}

Tensor index_select(const Tensor& x, int64_t dim, const std::vector<int64_t>& index) {
  detail::check_defined("index_select", x);
  return index_select(x, dim, index_tensor(index));
}

// ---- the copying members of Tensor -------------------------------------------------------------

Tensor Tensor::T() const { return transpose(*this); }

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  kernels::launch("to", {buffer(*this)}, {buffer(out)}, [](const Operands& o) { kernels::convert(o.in(0), o.out(0)); });
  // Only floating tensors carry gradients: a conversion to or from int64 is not recorded.
  if (!is_floating(target) || !should_record({this})) return out;
  const DType source = dtype();
  return record_op("to", "dX = dY converted back to X's dtype", {*this}, out,
                   [source](BackwardContext& c) { c.add(0, c.grad().to(source)); });
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  kernels::launch("clone", {buffer(*this)}, {buffer(out)}, [](const Operands& o) { kernels::copy(o.in(0), o.out(0)); });
  if (!should_record({this})) return out;
  return record_op("clone", "dX = dY", {*this}, out, [](BackwardContext& c) { c.add(0, c.grad()); });
}

}  // namespace ad
