#include "autodiff/ops/elementwise.hpp"

#include <fmt/format.h>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

namespace detail {

void check_defined(const char* op, const Tensor& t) {
  if (!t.defined()) throw UsageError(fmt::format("{}: an input tensor is undefined", op));
}

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  if (a.dtype() != b.dtype())
    throw DTypeError(fmt::format("{}: dtypes differ ({} {} and {} {}); convert one with .to(DType)", op,
                                 a.shape().str(), dtype_name(a.dtype()), b.shape().str(), dtype_name(b.dtype())));
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

void broadcast_strides(const Shape& s, const Shape& out, int64_t* strides) {
  const size_t rank = out.size(), offset = rank - s.size();
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    if (i < offset) {
      strides[i] = 0;
      continue;
    }
    const int64_t d = s[i - offset];
    strides[i] = d == 1 ? 0 : stride;
    stride *= d;
  }
}

}  // namespace detail

using detail::check_binary;
using detail::map2;

Tensor add(const Tensor& a, const Tensor& b) {
  check_binary("add", a, b);
  Tensor out = map2("add", a, b, [](auto x, auto y) { return x + y; });
  return record_op("add", "dA = dZ, dB = dZ", {a, b}, out, [](BackwardContext& c) {
    c.add(0, c.grad());
    c.add(1, c.grad());
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  check_binary("sub", a, b);
  Tensor out = map2("sub", a, b, [](auto x, auto y) { return x - y; });
  return record_op("sub", "dA = dZ, dB = −dZ", {a, b}, out, [](BackwardContext& c) {
    c.add(0, c.grad());
    if (c.needs(1)) c.add(1, -c.grad());
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_binary("mul", a, b);
  Tensor out = map2("mul", a, b, [](auto x, auto y) { return x * y; });
  if (!detail::should_record({&a, &b})) return out;
  // Each operand is kept only when the other one needs its gradient.
  return record_op("mul", "dA = dZ ⊙ B, dB = dZ ⊙ A", {a, b}, out,
                   [sa = SavedTensor(b.requires_grad() ? a : Tensor()),
                    sb = SavedTensor(a.requires_grad() ? b : Tensor())](BackwardContext& c) {
                     if (c.needs(0)) c.add(0, c.grad() * c.saved(sb));
                     if (c.needs(1)) c.add(1, c.grad() * c.saved(sa));
                   });
}

// dB = −dZ ⊙ A / B² = −dZ ⊙ Z / B: the rule keeps B and the output, never A.
Tensor div(const Tensor& a, const Tensor& b) {
  check_binary("div", a, b);
  Tensor out = map2("div", a, b, [](auto x, auto y) { return x / y; });
  if (!detail::should_record({&a, &b})) return out;
  return record_op("div", "dA = dZ / B, dB = −dZ ⊙ A / B²", {a, b}, out, [sb = SavedTensor(b)](BackwardContext& c) {
    const Tensor& b = c.saved(sb);
    if (c.needs(0)) c.add(0, c.grad() / b);
    if (c.needs(1)) c.add(1, -c.grad() * c.output() / b);
  }, b.requires_grad());
}

// The gradient of min/max goes to the selected operand; on ties each gets half, as the
// subgradient that keeps min(a, a) = a differentiable with gradient 1.
static Tensor select_extreme(const char* name, const Tensor& a, const Tensor& b, bool take_max) {
  check_binary(name, a, b);
  Tensor out = take_max ? map2(name, a, b, [](auto x, auto y) { return x > y ? x : y; })
                        : map2(name, a, b, [](auto x, auto y) { return x < y ? x : y; });
  if (!detail::should_record({&a, &b})) return out;
  return record_op(name, "dA = dZ ⊙ [A selected], dB = dZ ⊙ [B selected] (ties: ½ each)", {a, b}, out,
                   [sa = SavedTensor(a), sb = SavedTensor(b), take_max](BackwardContext& c) {
                     const Tensor &a = c.saved(sa), &b = c.saved(sb);
                     Tensor wa = take_max ? map2("weight", a.detach(), b.detach(), [](auto x, auto y) {
                       return x > y ? decltype(x)(1) : x == y ? decltype(x)(0.5) : decltype(x)(0);
                     })
                                          : map2("weight", a.detach(), b.detach(), [](auto x, auto y) {
                                              return x < y ? decltype(x)(1) : x == y ? decltype(x)(0.5) : decltype(x)(0);
                                            });
                     if (c.needs(0)) c.add(0, c.grad() * wa);
                     if (c.needs(1)) c.add(1, c.grad() * (1.0 - wa));
                   });
}

Tensor minimum(const Tensor& a, const Tensor& b) { return select_extreme("minimum", a, b, false); }
Tensor maximum(const Tensor& a, const Tensor& b) { return select_extreme("maximum", a, b, true); }

// One pass over the output: the mask is read in its own dtype (no converted copy) and every
// operand through its broadcast strides, the last dim being the inner loop. Both sides are
// loaded before choosing, so the choice compiles to a select: a random mask would otherwise
// mispredict every other branch.
static Tensor where_kernel(const Tensor& mask, const Tensor& a, const Tensor& b, const Shape& shape) {
  Tensor out = empty(shape, a.dtype());
  const int64_t n = out.numel();
  if (n == 0) return out;
  // Operands that all match the result (always so for a 0-d result) are walked as one flat row.
  const bool flat = mask.shape() == shape && a.shape() == shape && b.shape() == shape;
  const size_t rank = shape.size();
  int64_t sm[Shape::kMaxRank], sa[Shape::kMaxRank], sb[Shape::kMaxRank], idx[Shape::kMaxRank] = {};
  if (!flat) {
    detail::broadcast_strides(mask.shape(), shape, sm);
    detail::broadcast_strides(a.shape(), shape, sa);
    detail::broadcast_strides(b.shape(), shape, sb);
  }
  detail::dispatch(mask.dtype(), [&](auto mtag) {
    detail::dispatch(a.dtype(), [&](auto tag) {
      using M = decltype(mtag);
      using T = decltype(tag);
      const M* m = static_cast<const M*>(mask.raw_data());
      const T* x = static_cast<const T*>(a.raw_data());
      const T* y = static_cast<const T*>(b.raw_data());
      T* o = static_cast<T*>(out.raw_data());
      if (flat) {
        for (int64_t j = 0; j < n; ++j) {
          const T xv = x[j], yv = y[j];
          o[j] = m[j] != M(0) ? xv : yv;
        }
        return;
      }
      const int64_t inner = shape[rank - 1], im = sm[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
      int64_t om = 0, oa = 0, ob = 0;
      for (int64_t base = 0; base < n; base += inner) {
        for (int64_t j = 0; j < inner; ++j) {
          const T xv = x[oa + j * ia], yv = y[ob + j * ib];
          o[base + j] = m[om + j * im] != M(0) ? xv : yv;
        }
        for (size_t d = rank - 1; d-- > 0;) {  // advance the outer counter
          om += sm[d], oa += sa[d], ob += sb[d];
          if (++idx[d] < shape[d]) break;
          om -= sm[d] * shape[d], oa -= sa[d] * shape[d], ob -= sb[d] * shape[d];
          idx[d] = 0;
        }
      }
    });
  });
  return out;
}

// The rule routes dZ with where itself, so it stays differentiable in dZ (create_graph).
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_binary("where", a, b);
  detail::check_defined("where", mask);
  const Shape ab = a.shape() == b.shape() ? a.shape() : detail::broadcast_shapes("where", a.shape(), b.shape());
  const Shape shape = mask.shape() == ab ? ab : detail::broadcast_shapes("where", mask.shape(), ab);
  Tensor m = mask.detach();
  Tensor out = where_kernel(m, a, b, shape);
  if (!detail::should_record({&a, &b})) return out;
  return record_op("where", "dA = dZ ⊙ mask, dB = dZ ⊙ (1 − mask)", {a, b}, out, [sm = SavedTensor(m)](BackwardContext& c) {
    const Tensor& m = c.saved(sm);
    Tensor zero = zeros({}, c.grad().dtype());
    if (c.needs(0)) c.add(0, where(m, c.grad(), zero));
    if (c.needs(1)) c.add(1, where(m, zero, c.grad()));
  });
}

Tensor affine(const Tensor& x, double scale, double shift) {
  detail::check_defined("affine", x);
  Tensor out = detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T s = static_cast<T>(scale), h = static_cast<T>(shift);
    return detail::map1(x, [s, h](T v) { return s * v + h; });
  });
  return record_op("affine", "dX = a·dY", {x}, out, [scale](BackwardContext& c) {
    c.add(0, scale == 1.0 ? c.grad() : c.grad() * scale);
  });
}

Tensor scalar_div(double s, const Tensor& x) {
  detail::check_defined("scalar_div", x);
  Tensor out = detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return detail::map1(x, [v = static_cast<T>(s)](T e) { return v / e; });
  });
  return record_op("scalar_div", "dX = −s·dY / X²", {x}, out,
                   [sx = SavedTensor(x), s](BackwardContext& c) {
                     const Tensor& x = c.saved(sx);
                     c.add(0, c.grad() * (-s) / (x * x));
                   });
}

#define AD_COMPARISON(name, expr)                                                   \
  Tensor name(const Tensor& a, const Tensor& b) {                                   \
    check_binary(#name, a, b);                                                      \
    return map2(#name, a, b, [](auto x, auto y) { return decltype(x)(expr); });     \
  }
AD_COMPARISON(gt, x > y)
AD_COMPARISON(lt, x < y)
AD_COMPARISON(ge, x >= y)
AD_COMPARISON(le, x <= y)
AD_COMPARISON(eq, x == y)
#undef AD_COMPARISON

Tensor gt(const Tensor& a, double s) { return gt(a, full({}, s, a.dtype())); }
Tensor lt(const Tensor& a, double s) { return lt(a, full({}, s, a.dtype())); }

Tensor& add_(Tensor& dst, const Tensor& src) {
  check_binary("add_", dst, src);
  if (!(src.shape() == dst.shape()) && !(detail::broadcast_shapes("add_", src.shape(), dst.shape()) == dst.shape()))
    throw ShapeError(fmt::format("add_: the source {} does not broadcast to the destination {}", src.shape().str(),
                                 dst.shape().str()));
  detail::begin_in_place("add_", dst);
  Tensor s = src.shape() == dst.shape() ? src : broadcast_to(src.detach(), dst.shape());
  detail::dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst.raw_data());
    const T* p = static_cast<const T*>(s.raw_data());
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] += p[i];
  });
  return dst;
}

Tensor& add_scaled_(Tensor& dst, const Tensor& src, double alpha) {
  check_binary("add_scaled_", dst, src);
  if (!(src.shape() == dst.shape()))
    throw ShapeError(fmt::format("add_scaled_: source {} and destination {} differ", src.shape().str(), dst.shape().str()));
  detail::begin_in_place("add_scaled_", dst);
  detail::dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst.raw_data());
    const T* p = static_cast<const T*>(src.raw_data());
    const T a = static_cast<T>(alpha);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] += a * p[i];
  });
  return dst;
}

Tensor& mul_(Tensor& dst, double s) {
  detail::check_defined("mul_", dst);
  detail::begin_in_place("mul_", dst);
  detail::dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst.raw_data());
    const T v = static_cast<T>(s);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] *= v;
  });
  return dst;
}

}  // namespace ad
