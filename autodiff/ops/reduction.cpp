#include "autodiff/ops/reduction.hpp"

#include <fmt/format.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/dims.hpp"

namespace ad {

namespace detail {

int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim) {
  const int64_t r = x.dim();
  if (r == 0) throw ShapeError(fmt::format("{}: the tensor is 0-d, so it has no dim {}", op, dim));
  if (dim < -r || dim >= r)
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

DimSplit split_at(const Shape& s, int64_t dim) {
  DimSplit r;
  for (size_t i = 0; i < s.size(); ++i) {
    const int64_t d = s[i];
    if (static_cast<int64_t>(i) < dim) r.outer *= d;
    else if (static_cast<int64_t>(i) == dim) r.n = d;
    else r.inner *= d;
  }
  return r;
}

// Σ row[j] in double (for accuracy). The simd reduction keeps one partial sum per vector lane,
// so the order is fixed by the clone the CPU picks: same machine, same bits.
template <class T>
double sum_row_any(const T* row, int64_t n) {
  double acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += row[j];
  return acc;
}
AD_VEC_CLONES double sum_row_f32(const float* row, int64_t n) {
  double acc = 0;
  AD_SIMD_SUM(acc)
  for (int64_t j = 0; j < n; ++j) acc += static_cast<double>(row[j]);
  return acc;
}
template <class T>
double sum_row(const T* row, int64_t n) {
  if constexpr (std::is_same_v<T, float>) return sum_row_f32(row, n);
  else return sum_row_any(row, n);
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
      o[0] = static_cast<T>(sum_row(p, x.numel()));
      return;
    }
    int64_t so[Shape::kMaxRank], idx[Shape::kMaxRank] = {};
    broadcast_strides(target, xs, so);
    const int64_t inner = xs[rank - 1], io = so[rank - 1], n = x.numel();
    int64_t off = 0;
    for (int64_t base = 0; base < n; base += inner) {
      const T* row = p + base;
      if (io == 0) {
        o[off] += static_cast<T>(sum_row(row, inner));
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


// The maximum over the middle axis of every (outer, inner) lane, and the first index where it
// sits (a NaN wins, so it propagates like in every other op). Rows of `inner` contiguous
// elements are the inner loop, so reducing dim 0 of an (n, m) tensor reads memory in order.
// `best` gets outer·inner values; `where`, when not null, the indices as values of T.
template <class T>
void max_lanes(const T* p, DimSplit s, T* best, T* where) {
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* base = p + o * s.n * s.inner;
    T* b = best + o * s.inner;
    T* w = where ? where + o * s.inner : nullptr;
    for (int64_t i = 0; i < s.inner; ++i) b[i] = base[i];
    if (w)
      for (int64_t i = 0; i < s.inner; ++i) w[i] = T(0);
    for (int64_t k = 1; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        if (row[i] > b[i] || (std::isnan(row[i]) && !std::isnan(b[i]))) {
          b[i] = row[i];
          if (w) w[i] = static_cast<T>(k);
        }
      }
    }
  }
}

// softmax or log softmax over the middle axis, stable: with M the lane's maximum,
// softmax = e^{x−M} / Σ e^{x−M} and log softmax = x − M − log Σ e^{x−M}; every exponent is ≤ 0,
// so nothing overflows, and the sum is at least 1, so the log is finite.
template <class T>
void softmax_lanes(const T* p, T* out, DimSplit s, bool log_form) {
  thread_local std::vector<T> max_buf;
  thread_local std::vector<double> sum_buf;
  max_buf.resize(static_cast<size_t>(s.inner));
  sum_buf.resize(static_cast<size_t>(s.inner));
  T* mx = max_buf.data();
  double* sum = sum_buf.data();
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* base = p + o * s.n * s.inner;
    T* obase = out + o * s.n * s.inner;
    max_lanes(base, DimSplit{1, s.n, s.inner}, mx, static_cast<T*>(nullptr));
    for (int64_t i = 0; i < s.inner; ++i) sum[i] = 0.0;
    for (int64_t k = 0; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      T* orow = obase + k * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        const T e = std::exp(row[i] - mx[i]);
        sum[i] += e;
        orow[i] = e;
      }
    }
    for (int64_t i = 0; i < s.inner; ++i) sum[i] = log_form ? static_cast<double>(mx[i]) + std::log(sum[i]) : 1.0 / sum[i];
    for (int64_t k = 0; k < s.n; ++k) {
      const T* row = base + k * s.inner;
      T* orow = obase + k * s.inner;
      if (log_form)
        for (int64_t i = 0; i < s.inner; ++i) orow[i] = static_cast<T>(row[i] - sum[i]);
      else
        for (int64_t i = 0; i < s.inner; ++i) orow[i] = static_cast<T>(orow[i] * sum[i]);
    }
  }
}

// The (outer, inner) lanes of x reduced over dim d: the maximum, or the argmax as values.
Tensor max_kernel(const Tensor& x, int64_t d, bool want_index) {
  const DimSplit s = split_at(x.shape(), d);
  Tensor out = empty(keepdim_shape(x.shape(), d), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    if (!want_index) {
      max_lanes(p, s, o, static_cast<T*>(nullptr));
      return;
    }
    std::vector<T> best(static_cast<size_t>(s.outer * s.inner));
    max_lanes(p, s, best.data(), o);
  });
  return out;
}

// 1 where x holds the (first) maximum of its lane over dim d, 0 elsewhere.
Tensor argmax_mask(const Tensor& x, int64_t d) {
  const DimSplit s = split_at(x.shape(), d);
  Tensor idx = max_kernel(x, d, true);
  Tensor mask = empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* w = static_cast<const T*>(idx.raw_data());
    T* m = static_cast<T*>(mask.raw_data());
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t k = 0; k < s.n; ++k)
        for (int64_t i = 0; i < s.inner; ++i)
          m[(o * s.n + k) * s.inner + i] = T(static_cast<int64_t>(w[o * s.inner + i]) == k);
  });
  return mask;
}

Tensor softmax_kernel(const Tensor& x, int64_t d, bool log_form) {
  Tensor out = empty(x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    softmax_lanes(static_cast<const T*>(x.raw_data()), static_cast<T*>(out.raw_data()), split_at(x.shape(), d),
                  log_form);
  });
  return out;
}

// Throws unless dim d of x has at least one entry (a maximum needs one).
void check_nonempty_dim(const char* op, const Tensor& x, int64_t d) {
  if (x.shape()[static_cast<size_t>(d)] == 0)
    throw ShapeError(fmt::format("{}: dim {} of {} is empty; there is no maximum", op, d, x.shape().str()));
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

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined("max", x);
  const int64_t d = normalize_dim("max", x, dim);
  detail::check_nonempty_dim("max", x, d);
  const Shape kept = detail::keepdim_shape(x.shape(), d);
  Tensor out = detail::max_kernel(x, d, false);
  if (!keepdim) out = reshape(out, detail::dropdim_shape(x.shape(), d));
  // The 0/1 mask of the maxima is rebuilt from x when backward runs, not kept from forward.
  return record_op("max", "dX = dY at the first maximum of each lane, 0 elsewhere", {x}, out,
                   [sx = SavedTensor(x.detach()), d, kept](BackwardContext& c) {
                     c.add(0, reshape(c.grad(), kept) * detail::argmax_mask(c.saved(sx), d));
                   });
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_defined("argmax", x);
  const int64_t d = normalize_dim("argmax", x, dim);
  detail::check_nonempty_dim("argmax", x, d);
  Tensor out = detail::max_kernel(x, d, true);
  return keepdim ? out : reshape(out, detail::dropdim_shape(x.shape(), d));
}

Tensor softmax(const Tensor& x, int64_t dim) {
  detail::check_defined("softmax", x);
  const int64_t d = normalize_dim("softmax", x, dim);
  Tensor y = detail::softmax_kernel(x, d, false);
  // The Jacobian diag(y) − y yᵀ applied to dY, lane by lane.
  return record_op("softmax", "dX = Y ⊙ (dY − Σ_dim dY ⊙ Y)", {x}, y, [d](BackwardContext& c) {
    Tensor s = c.output();
    c.add(0, s * (c.grad() - sum(c.grad() * s, d, true)));
  }, true);
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  detail::check_defined("log_softmax", x);
  const int64_t d = normalize_dim("log_softmax", x, dim);
  Tensor y = detail::softmax_kernel(x, d, true);
  // softmax(X) = e^Y, read from the saved output rather than recomputed from X.
  return record_op("log_softmax", "dX = dY − softmax(X) ⊙ Σ_dim dY", {x}, y, [d](BackwardContext& c) {
    c.add(0, c.grad() - exp(c.output()) * sum(c.grad(), d, true));
  }, true);
}

}  // namespace ad
