#include "autodiff/ops/unary.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/detail/vec_math.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

using detail::check_defined;
using detail::map1;

Tensor exp(const Tensor& x) {
  check_defined("exp", x);
  Tensor y = map1(x, [](auto v) { return detail::vm::exp(v); });
  return record_op("exp", "dX = dY ⊙ eˣ", {x}, y, [](BackwardContext& c) { c.add(0, c.grad() * c.output()); }, true);
}

Tensor log(const Tensor& x) {
  check_defined("log", x);
  Tensor y = map1(x, [](auto v) { return detail::vm::log(v); });
  return record_op("log", "dX = dY / x", {x}, y,
                   [sx = SavedTensor(x)](BackwardContext& c) { c.add(0, c.grad() / c.saved(sx)); });
}

Tensor tanh(const Tensor& x) {
  check_defined("tanh", x);
  Tensor y = map1(x, [](auto v) { return detail::vm::tanh(v); });
  return record_op("tanh", "dX = dY ⊙ (1 − tanh²x)", {x}, y, [](BackwardContext& c) {
    c.add(0, act_backward(c.grad(), c.output(), Act::tanh));
  }, true);
}

// σ(x) = 1/(1+e⁻ˣ) for x ≥ 0 and eˣ/(1+eˣ) for x < 0: neither form overflows.
Tensor sigmoid(const Tensor& x) {
  check_defined("sigmoid", x);
  Tensor y = map1(x, [](auto v) { return detail::vm::sigmoid(v); });
  return record_op("sigmoid", "dX = dY ⊙ σ(x)(1 − σ(x))", {x}, y, [](BackwardContext& c) {
    c.add(0, act_backward(c.grad(), c.output(), Act::sigmoid));
  }, true);
}

Tensor relu(const Tensor& x) {
  check_defined("relu", x);
  Tensor y = map1(x, [](auto v) { return v > decltype(v)(0) ? v : decltype(v)(0); });
  return record_op("relu", "dX = dY ⊙ [x > 0]", {x}, y, [](BackwardContext& c) {
    c.add(0, act_backward(c.grad(), c.output(), Act::relu));
  }, true);
}

Tensor sqrt(const Tensor& x) {
  check_defined("sqrt", x);
  Tensor y = map1(x, [](auto v) { return std::sqrt(v); });
  return record_op("sqrt", "dX = dY / (2√x)", {x}, y, [](BackwardContext& c) {
    c.add(0, c.grad() / (2.0 * c.output()));
  }, true);
}

// sign(x) is a constant as far as any derivative is concerned, so it is built from the
// values alone (detached): the rule stays differentiable in dY.
Tensor abs(const Tensor& x) {
  check_defined("abs", x);
  Tensor y = map1(x, [](auto v) { return std::abs(v); });
  return record_op("abs", "dX = dY ⊙ sign(x)", {x}, y,
                   [sx = SavedTensor(x.detach())](BackwardContext& c) { c.add(0, c.grad() * sign(c.saved(sx))); });
}

Tensor pow(const Tensor& x, double p) {
  check_defined("pow", x);
  Tensor y = detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (p == 2.0) return map1(x, [](T v) { return v * v; });
    return map1(x, [e = static_cast<T>(p)](T v) { return std::pow(v, e); });
  });
  return record_op("pow", "dX = dY ⊙ p·xᵖ⁻¹", {x}, y, [sx = SavedTensor(x), p](BackwardContext& c) {
    if (p == 0.0) return;  // a constant: no gradient
    c.add(0, p == 1.0 ? c.grad() : c.grad() * (p * pow(c.saved(sx), p - 1.0)));
  });
}

Tensor leaky_relu(const Tensor& x, double slope) {
  check_defined("leaky_relu", x);
  Tensor y = detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map1(x, [a = static_cast<T>(slope)](T v) { return v > T(0) ? v : a * v; });
  });
  return record_op("leaky_relu", "dX = dY ⊙ (x > 0 ? 1 : slope)", {x}, y,
                   [sx = SavedTensor(x.detach()), slope](BackwardContext& c) {
                     const Tensor& xv = c.saved(sx);
                     Tensor factor = detail::dispatch(xv.dtype(), [&](auto tag) {
                       using T = decltype(tag);
                       return map1(xv, [a = static_cast<T>(slope)](T v) { return v > T(0) ? T(1) : a; });
                     });
                     c.add(0, c.grad() * factor);
                   });
}

// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): the exponent is never positive, so nothing
// overflows, and log1p keeps the small tail exact.
Tensor softplus(const Tensor& x) {
  check_defined("softplus", x);
  Tensor y = map1(x, [](auto v) { return detail::vm::softplus(v); });
  return record_op("softplus", "dX = dY ⊙ σ(x)", {x}, y,
                   [sx = SavedTensor(x)](BackwardContext& c) { c.add(0, c.grad() * sigmoid(c.saved(sx))); });
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  check_defined("clamp", x);
  if (!(lo <= hi))
    throw ValueError(fmt::format("clamp: the bounds of {} are lo = {} > hi = {}; need lo ≤ hi", x.shape().str(), lo, hi));
  auto inside = [lo, hi](const Tensor& t) {
    return detail::dispatch(t.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return map1(t, [l = static_cast<T>(lo), h = static_cast<T>(hi)](T v) { return T(v >= l) * T(v <= h); });
    });
  };
  Tensor y = detail::dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map1(x, [l = static_cast<T>(lo), h = static_cast<T>(hi)](T v) { return v < l ? l : v > h ? h : v; });
  });
  return record_op("clamp", "dX = dY ⊙ [lo ≤ x ≤ hi]", {x}, y,
                   [sx = SavedTensor(x.detach()), inside](BackwardContext& c) { c.add(0, c.grad() * inside(c.saved(sx))); });
}

// Recorded (with a zero gradient) rather than left out of the graph, so that sign(x) inside a
// larger expression still lets backward() reach x, as in PyTorch.
Tensor sign(const Tensor& x) {
  check_defined("sign", x);
  Tensor y = map1(x, [](auto v) {
    using T = decltype(v);
    return v > T(0) ? T(1) : v < T(0) ? T(-1) : v;  // 0 stays 0, NaN stays NaN
  });
  return record_op("sign", "dX = 0", {x}, y, [](BackwardContext& c) { c.add(0, zeros_like(c.grad())); });
}

}  // namespace ad
