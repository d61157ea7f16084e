#include "autodiff/ops/reduction.hpp"

#include <fmt/format.h>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

namespace detail {

int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim) {
  const int64_t r = x.dim();
  if (dim < -r || dim >= r || r == 0)
    throw ShapeError(fmt::format("{}: dim {} is out of range for {} (valid: {} to {})", op, dim, x.shape().str(),
                                 -r, r - 1));
  return dim < 0 ? dim + r : dim;
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

// Sums x down to `target` (x's shape with some dims 1, or fewer leading dims), not recorded.
// The last dim is the inner loop: summed into one value when it is reduced (in double, for
// accuracy), added elementwise into the output row when it is kept.
Tensor sum_to_kernel(const Tensor& x, const Shape& target) {
  Tensor out = zeros(target, x.dtype());
  if (x.numel() == 0) return out;
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    const Shape& xs = x.shape();
    const size_t rank = xs.size();
    if (rank == 0 || out.numel() == 1) {
      double acc = 0;
      for (int64_t i = 0, n = x.numel(); i < n; ++i) acc += p[i];
      o[0] = static_cast<T>(acc);
      return;
    }
    int64_t so[Shape::kMaxRank], idx[Shape::kMaxRank] = {};
    broadcast_strides(target, xs, so);
    const int64_t inner = xs[rank - 1], io = so[rank - 1], n = x.numel();
    int64_t off = 0;
    for (int64_t base = 0; base < n; base += inner) {
      const T* row = p + base;
      if (io == 0) {
        double acc = 0;
        for (int64_t j = 0; j < inner; ++j) acc += row[j];
        o[off] += static_cast<T>(acc);
      } else {
        T* orow = o + off;
        for (int64_t j = 0; j < inner; ++j) orow[j] += row[j];
      }
      for (size_t d = rank - 1; d-- > 0;) {
        off += so[d];
        if (++idx[d] < xs[d]) break;
        off -= so[d] * xs[d];
        idx[d] = 0;
      }
    }
  });
  return out;
}

}  // namespace detail

using detail::normalize_dim;

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("sum_to", x);
  if (x.shape() == shape) return x;
  // shape must broadcast to x's shape: right-aligned, each dim equal or 1
  if (!(detail::broadcast_shapes("sum_to", shape, x.shape()) == x.shape()))
    throw ShapeError(fmt::format("sum_to: {} cannot be summed down to {}", x.shape().str(), shape.str()));
  Tensor out = detail::sum_to_kernel(x, shape);
  return record_op("sum_to", "dX = broadcast_to(dY, X's shape)", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, broadcast_to(c.grad(), xs)); });
}

Tensor sum(const Tensor& x) {
  detail::check_defined("sum", x);
  Tensor out = detail::sum_to_kernel(x, Shape{});
  return record_op("sum", "dX = dY broadcast to X's shape", {x}, out,
                   [xs = x.shape()](BackwardContext& c) { c.add(0, broadcast_to(c.grad(), xs)); });
}

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined("sum", x);
  const int64_t d = normalize_dim("sum", x, dim);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor out = detail::sum_to_kernel(x, kept);
  if (!keepdim) out = reshape(out, detail::dropdim_shape(x.shape(), d));
  return record_op("sum", "dX = dY broadcast back over dim", {x}, out, [xs = x.shape(), kept](BackwardContext& c) {
    c.add(0, broadcast_to(reshape(c.grad(), kept), xs));
  });
}

Tensor mean(const Tensor& x) {
  detail::check_defined("mean", x);
  if (x.numel() == 0) throw ShapeError(fmt::format("mean: the tensor {} is empty", x.shape().str()));
  const double inv_n = 1.0 / static_cast<double>(x.numel());
  Tensor out = detail::sum_to_kernel(x, Shape{});
  mul_(out, inv_n);
  return record_op("mean", "dX = dY / n", {x}, out, [xs = x.shape(), inv_n](BackwardContext& c) {
    c.add(0, broadcast_to(c.grad() * inv_n, xs));
  });
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined("mean", x);
  const int64_t d = normalize_dim("mean", x, dim);
  const int64_t n = x.shape()[static_cast<size_t>(d)];
  if (n == 0) throw ShapeError(fmt::format("mean: dim {} of {} is empty", dim, x.shape().str()));
  const double inv_n = 1.0 / static_cast<double>(n);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor out = detail::sum_to_kernel(x, kept);
  mul_(out, inv_n);
  if (!keepdim) out = reshape(out, detail::dropdim_shape(x.shape(), d));
  return record_op("mean", "dX = dY / n broadcast back over dim", {x}, out,
                   [xs = x.shape(), kept, inv_n](BackwardContext& c) {
                     c.add(0, broadcast_to(reshape(c.grad(), kept) * inv_n, xs));
                   });
}

}  // namespace ad
