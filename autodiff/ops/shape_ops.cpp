#include "autodiff/ops/shape_ops.hpp"

#include <fmt/format.h>

#include <cstring>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

Tensor transpose(const Tensor& x) {
  detail::check_defined("transpose", x);
  if (x.dim() != 2) throw ShapeError(fmt::format("transpose: needs a 2-D tensor, got {}", x.shape().str()));
  const int64_t r = x.shape()[0], c = x.shape()[1];
  Tensor out = empty({c, r}, x.dtype());
  detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    constexpr int64_t kBlock = 32;  // blocked so both sides stay in cache
    for (int64_t i0 = 0; i0 < r; i0 += kBlock)
      for (int64_t j0 = 0; j0 < c; j0 += kBlock)
        for (int64_t i = i0; i < std::min(r, i0 + kBlock); ++i)
          for (int64_t j = j0; j < std::min(c, j0 + kBlock); ++j) o[j * r + i] = p[i * c + j];
  });
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
  out.impl()->shape = target;
  return record_op("reshape", "dX = reshape(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, reshape(c.grad(), xs)); });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("broadcast_to", x);
  if (x.shape() == shape) return x;
  if (!(detail::broadcast_shapes("broadcast_to", x.shape(), shape) == shape))
    throw ShapeError(fmt::format("broadcast_to: {} cannot be broadcast to {}", x.shape().str(), shape.str()));
  Tensor out = detail::map2("broadcast_to", x, zeros(shape, x.dtype()), [](auto a, auto) { return a; });
  return record_op("broadcast_to", "dX = sum_to(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, sum_to(c.grad(), xs)); });
}

}  // namespace ad
