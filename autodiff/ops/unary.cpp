#include "autodiff/ops/unary.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/function.hpp"
#include "autodiff/kernels/vec_math.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/ops/detail/buffers.hpp"
#include "autodiff/ops/detail/checks.hpp"

namespace ad {

using detail::should_record;

using detail::map;


Tensor exp(const Tensor& x) {
  Tensor y = map("exp", x, [](auto v) { return kernels::vm::exp(v); });
  if (!should_record({&x})) return y;
  return record_op("exp", "dX = dY ⊙ eˣ", {x}, y, [](BackwardContext& c) { c.add(0, c.grad() * c.output()); }, true);
}

Tensor log(const Tensor& x) {
  Tensor y = map("log", x, [](auto v) { return kernels::vm::log(v); });
  if (!should_record({&x})) return y;
  return record_op("log", "dX = dY / x", {x}, y,
                   [sx = SavedTensor(x)](BackwardContext& c) { c.add(0, c.grad() / c.saved(sx)); });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = map("sqrt", x, [](auto v) { return std::sqrt(v); });
  if (!should_record({&x})) return y;
  return record_op("sqrt", "dX = dY / (2√x)", {x}, y, [](BackwardContext& c) {
    c.add(0, c.grad() / (2.0 * c.output()));
  }, true);
}

// sign(x) is a constant as far as any derivative is concerned, so it is built from the
// values alone (detached): the rule stays differentiable in dY.
Tensor abs(const Tensor& x) {
  Tensor y = map("abs", x, [](auto v) { return std::abs(v); });
  if (!should_record({&x})) return y;
  return record_op("abs", "dX = dY ⊙ sign(x)", {x}, y,
                   [sx = SavedTensor(x.detach())](BackwardContext& c) { c.add(0, c.grad() * sign(c.saved(sx))); });
}

Tensor pow(const Tensor& x, double p) {
  Tensor y = p == 2.0 ? map("pow", x, [](auto v) { return v * v; })
                      : map("pow", x, [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); });
  if (!should_record({&x})) return y;
  return record_op("pow", "dX = dY ⊙ p·xᵖ⁻¹", {x}, y, [sx = SavedTensor(x), p](BackwardContext& c) {
    if (p == 0.0) return;  // a constant: no gradient
    c.add(0, p == 1.0 ? c.grad() : c.grad() * (p * pow(c.saved(sx), p - 1.0)));
  });
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor y = map("leaky_relu", x, [slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : static_cast<T>(slope) * v;
  });
  if (!should_record({&x})) return y;
  return record_op("leaky_relu", "dX = dY ⊙ (x > 0 ? 1 : slope)", {x}, y,
                   [sx = SavedTensor(x.detach()), slope](BackwardContext& c) {
                     Tensor factor = map("leaky_relu", c.saved(sx), [slope](auto v) {
                       using T = decltype(v);
                       return v > T(0) ? T(1) : static_cast<T>(slope);
                     });
                     c.add(0, c.grad() * factor);
                   });
}

// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): the exponent is never positive, so nothing
// overflows, and log1p keeps the small tail exact.
Tensor softplus(const Tensor& x) {
  Tensor y = map("softplus", x, [](auto v) { return kernels::vm::softplus(v); });
  if (!should_record({&x})) return y;
  return record_op("softplus", "dX = dY ⊙ σ(x)", {x}, y,
                   [sx = SavedTensor(x)](BackwardContext& c) { c.add(0, c.grad() * sigmoid(c.saved(sx))); });
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  detail::check_floating("clamp", x);
  if (!(lo <= hi))
    throw ValueError(fmt::format("clamp: the bounds of {} are lo = {} > hi = {}; need lo ≤ hi", x.shape().str(), lo, hi));
  Tensor y = map("clamp", x, [lo, hi](auto v) {
    using T = decltype(v);
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    return v < l ? l : v > h ? h : v;
  });
  if (!should_record({&x})) return y;
  return record_op("clamp", "dX = dY ⊙ [lo ≤ x ≤ hi]", {x}, y, [sx = SavedTensor(x.detach()), lo, hi](BackwardContext& c) {
    Tensor inside = map("clamp", c.saved(sx), [lo, hi](auto v) {
      using T = decltype(v);
      return T(v >= static_cast<T>(lo)) * T(v <= static_cast<T>(hi));
    });
    c.add(0, c.grad() * inside);
  });
}

// Recorded (with a zero gradient) rather than left out of the graph, so that sign(x) inside a
// larger expression still lets backward() reach x, as in PyTorch.
Tensor sign(const Tensor& x) {
  Tensor y = map("sign", x, [](auto v) {
    using T = decltype(v);
    return v > T(0) ? T(1) : v < T(0) ? T(-1) : v;  // 0 stays 0, NaN stays NaN
  });
  if (!should_record({&x})) return y;
  return record_op("sign", "dX = 0", {x}, y, [](BackwardContext& c) { c.add(0, zeros_like(c.grad())); });
}

}  // namespace ad
