#include "autodiff/ops/elementwise.hpp"

#include <cmath>
#include <cstring>

#include "autodiff/function.hpp"
#include "autodiff/kernels/copy.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"
#include "autodiff/ops/detail/fusion.hpp"

namespace ad {

using detail::buffer;
using detail::launch_map1;
using detail::launch_map2;
using detail::should_record;
using detail::zip;
using kernels::Operands;


Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = zip("add", a, b, [](auto x, auto y) { return x + y; });
  if (!should_record({&a, &b})) return out;
  return record_op("add", "dA = dZ, dB = dZ", {a, b}, out, [](BackwardContext& c) {
    c.add(0, c.grad());
    c.add(1, c.grad());
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = zip("sub", a, b, [](auto x, auto y) { return x - y; });
  if (!should_record({&a, &b})) return out;
  return record_op("sub", "dA = dZ, dB = −dZ", {a, b}, out, [](BackwardContext& c) {
    c.add(0, c.grad());
    if (c.needs(1)) c.add(1, -c.grad());
  });
}

// Each operand is kept only when the other one needs its gradient.
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = zip("mul", a, b, [](auto x, auto y) { return x * y; });
  if (!should_record({&a, &b})) return out;
  return record_op("mul", "dA = dZ ⊙ B, dB = dZ ⊙ A", {a, b}, out,
                   [sa = SavedTensor(b.requires_grad() ? a : Tensor()),
                    sb = SavedTensor(a.requires_grad() ? b : Tensor())](BackwardContext& c) {
                     if (c.needs(0)) c.add(0, c.grad() * c.saved(sb));
                     if (c.needs(1)) c.add(1, c.grad() * c.saved(sa));
                   });
}

// dB = −dZ ⊙ A / B² = −dZ ⊙ Z / B: the rule keeps B and the output, never A.
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = zip("div", a, b, [](auto x, auto y) { return x / y; });
  if (!should_record({&a, &b})) return out;
  return record_op("div", "dA = dZ / B, dB = −dZ ⊙ A / B²", {a, b}, out, [sb = SavedTensor(b)](BackwardContext& c) {
    const Tensor& b = c.saved(sb);
    if (c.needs(0)) c.add(0, c.grad() / b);
    if (c.needs(1)) c.add(1, -c.grad() * c.output() / b);
  }, b.requires_grad());
}

namespace {

// The gradient of min/max goes to the selected operand; on ties each gets half, as the
// subgradient that keeps min(a, a) = a differentiable with gradient 1.
template <class Pick, class Weight>
Tensor select_extreme(const char* name, const Tensor& a, const Tensor& b, Pick pick, Weight weight) {
  Tensor out = zip(name, a, b, pick);
  if (!should_record({&a, &b})) return out;
  return record_op(name, "dA = dZ ⊙ [A selected], dB = dZ ⊙ [B selected] (ties: ½ each)", {a, b}, out,
                   [sa = SavedTensor(a.detach()), sb = SavedTensor(b.detach()), name, weight](BackwardContext& c) {
                     Tensor wa = zip(name, c.saved(sa), c.saved(sb), weight);
                     if (c.needs(0)) c.add(0, c.grad() * wa);
                     if (c.needs(1)) c.add(1, c.grad() * (1.0 - wa));
                   });
}

}  // namespace

Tensor minimum(const Tensor& a, const Tensor& b) {
  return select_extreme("minimum", a, b, [](auto x, auto y) { return x < y ? x : y; }, [](auto x, auto y) {
    using T = decltype(x);
    return x < y ? T(1) : x == y ? T(0.5) : T(0);
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return select_extreme("maximum", a, b, [](auto x, auto y) { return x > y ? x : y; }, [](auto x, auto y) {
    using T = decltype(x);
    return x > y ? T(1) : x == y ? T(0.5) : T(0);
  });
}

// The rule routes dZ with where itself, so it stays differentiable in dZ (create_graph).
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  detail::check_binary("where", a, b);
  detail::check_defined("where", mask);
  const Shape ab = a.shape() == b.shape() ? a.shape() : detail::broadcast_shapes("where", a.shape(), b.shape());
  const Shape shape = mask.shape() == ab ? ab : detail::broadcast_shapes("where", mask.shape(), ab);
  Tensor out = empty(shape, a.dtype());
  kernels::launch("where", {buffer(mask), buffer(a), buffer(b)}, {buffer(out)},
                  [](const Operands& o) { kernels::where(o.in(0), o.in(1), o.in(2), o.out(0)); });
  if (!should_record({&a, &b})) return out;
  return record_op("where", "dA = dZ ⊙ mask, dB = dZ ⊙ (1 − mask)", {a, b}, out,
                   [sm = SavedTensor(mask.detach())](BackwardContext& c) {
    const Tensor& m = c.saved(sm);
    Tensor zero = zeros({}, c.grad().dtype());
    if (c.needs(0)) c.add(0, where(m, c.grad(), zero));
    if (c.needs(1)) c.add(1, where(m, zero, c.grad()));
  });
}

Tensor affine(const Tensor& x, double scale, double shift) {
  Tensor out = detail::map("affine", x, [scale, shift](auto v) {
    using T = decltype(v);
    return static_cast<T>(scale) * v + static_cast<T>(shift);
  });
  if (!should_record({&x})) return out;
  return record_op("affine", "dX = a·dY", {x}, out, [scale](BackwardContext& c) {
    c.add(0, scale == 1.0 ? c.grad() : c.grad() * scale);
  });
}

Tensor scalar_div(double s, const Tensor& x) {
  Tensor out = detail::map("scalar_div", x, [s](auto v) { return static_cast<decltype(v)>(s) / v; });
  if (!should_record({&x})) return out;
  return record_op("scalar_div", "dX = −s·dY / X²", {x}, out,
                   [sx = SavedTensor(x), s](BackwardContext& c) {
                     const Tensor& x = c.saved(sx);
                     c.add(0, c.grad() * (-s) / (x * x));
                   });
}

namespace {

// a against the scalar s by `cmp` (the tensor form). An int64 tensor meets a fractional or
// huge s in float64, so the relation is the mathematical one, not one with s truncated.
template <class Cmp>
Tensor compare_scalar(const char* op, const Tensor& a, double s, Cmp cmp) {
  detail::check_defined(op, a);
  const bool exact = is_floating(a.dtype()) || (s == std::floor(s) && std::fabs(s) < 0x1p63);
  if (!exact) return cmp(a.to(DType::f64), full({}, s, DType::f64)).to(DType::i64);
  return cmp(a, full({}, s, a.dtype()));
}

}  // namespace

#define AD_COMPARISON(name, expr)                                                                        \
  Tensor name(const Tensor& a, const Tensor& b) {                                                        \
    return zip<true>(#name, a, b, [](auto x, auto y) { return decltype(x)(expr); });                     \
  }                                                                                                      \
  Tensor name(const Tensor& a, double s) {                                                               \
    return compare_scalar(#name, a, s, [](const Tensor& x, const Tensor& y) { return name(x, y); });     \
  }
AD_COMPARISON(gt, x > y)
AD_COMPARISON(lt, x < y)
AD_COMPARISON(ge, x >= y)
AD_COMPARISON(le, x <= y)
AD_COMPARISON(eq, x == y)
AD_COMPARISON(ne, x != y)
#undef AD_COMPARISON

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return affine(x, -1.0, 0.0); }
Tensor operator+(const Tensor& x, double s) { return affine(x, 1.0, s); }
Tensor operator+(double s, const Tensor& x) { return affine(x, 1.0, s); }
Tensor operator-(const Tensor& x, double s) { return affine(x, 1.0, -s); }
Tensor operator-(double s, const Tensor& x) { return affine(x, -1.0, s); }
Tensor operator*(const Tensor& x, double s) { return affine(x, s, 0.0); }
Tensor operator*(double s, const Tensor& x) { return affine(x, s, 0.0); }
Tensor operator/(const Tensor& x, double s) { return affine(x, 1.0 / s, 0.0); }
Tensor operator/(double s, const Tensor& x) { return scalar_div(s, x); }

// ---- in place, not recorded: the same kernels, writing into *this ------------------------------

namespace {

// Checks an in-place binary op (both defined, one dtype, src broadcasting to *this's shape,
// *this not part of a recorded graph), then counts the change in *this's version.
void begin_in_place_binary(const char* op, const Tensor& dst, const Tensor& src) {
  detail::check_binary(op, dst, src);
  detail::check_broadcasts_to(op, "the source", src.shape(), "the destination", dst.shape());
  detail::begin_in_place(op, dst);
}

}  // namespace

Tensor& Tensor::add_(const Tensor& src, double alpha) {
  begin_in_place_binary("add_", *this, src);
  if (alpha == 1.0)
    launch_map2("add_", *this, src, *this, [](auto x, auto y) { return x + y; });
  else
    launch_map2("add_", *this, src, *this, [alpha](auto x, auto y) { return x + static_cast<decltype(x)>(alpha) * y; });
  return *this;
}

Tensor& Tensor::sub_(const Tensor& src, double alpha) {
  begin_in_place_binary("sub_", *this, src);
  if (alpha == 1.0)
    launch_map2("sub_", *this, src, *this, [](auto x, auto y) { return x - y; });
  else
    launch_map2("sub_", *this, src, *this, [alpha](auto x, auto y) { return x - static_cast<decltype(x)>(alpha) * y; });
  return *this;
}

Tensor& Tensor::mul_(const Tensor& src) {
  begin_in_place_binary("mul_", *this, src);
  launch_map2("mul_", *this, src, *this, [](auto x, auto y) { return x * y; });
  return *this;
}

Tensor& Tensor::div_(const Tensor& src) {
  begin_in_place_binary("div_", *this, src);
  launch_map2("div_", *this, src, *this, [](auto x, auto y) { return x / y; });
  return *this;
}

Tensor& Tensor::add_(double s) {
  detail::check_floating("add_", *this);
  detail::begin_in_place("add_", *this);
  launch_map1("add_", *this, *this, [s](auto v) { return v + static_cast<decltype(v)>(s); });
  return *this;
}

Tensor& Tensor::mul_(double s) {
  detail::check_floating("mul_", *this);
  detail::begin_in_place("mul_", *this);
  launch_map1("mul_", *this, *this, [s](auto v) { return v * static_cast<decltype(v)>(s); });
  return *this;
}

Tensor& Tensor::div_(double s) {
  detail::check_floating("div_", *this);
  detail::begin_in_place("div_", *this);
  launch_map1("div_", *this, *this, [s](auto v) { return v / static_cast<decltype(v)>(s); });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_same_dtype("copy_", *this, src);
  if (src.shape() == shape()) {
    detail::begin_in_place("copy_", *this);
    kernels::launch("copy_", {buffer(src)}, {buffer(*this)}, [](const Operands& o) { kernels::copy(o.in(0), o.out(0)); });
    return *this;
  }
  detail::check_broadcasts_to("copy_", "the source", src.shape(), "the destination", shape());
  detail::begin_in_place("copy_", *this);
  kernels::launch("copy_", {buffer(src)}, {buffer(*this)}, [](const Operands& o) { kernels::broadcast(o.in(0), o.out(0)); });
  return *this;
}

Tensor& Tensor::fill_(double value) {
  detail::check_defined("fill_", *this);
  detail::begin_in_place("fill_", *this);
  kernels::launch("fill_", {}, {buffer(*this)}, [value](const Operands& o) { kernels::fill(o.out(0), value); });
  return *this;
}

Tensor& Tensor::zero_() {
  detail::check_defined("zero_", *this);
  detail::begin_in_place("zero_", *this);
  kernels::launch("zero_", {}, {buffer(*this)}, [](const Operands& o) { kernels::fill(o.out(0), 0.0); });
  return *this;
}

}  // namespace ad
