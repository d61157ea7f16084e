#include "autodiff/ops/unary.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/detail/kernels.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace ad {

using detail::check_defined;
using detail::map1;

Tensor exp(const Tensor& x) {
  check_defined("exp", x);
  Tensor y = map1(x, [](auto v) { return std::exp(v); });
  return record_op("exp", "dX = dY ⊙ eˣ", {x}, y, [](BackwardContext& c) { c.add(0, c.grad() * c.output()); }, true);
}

Tensor log(const Tensor& x) {
  check_defined("log", x);
  Tensor y = map1(x, [](auto v) { return std::log(v); });
  return record_op("log", "dX = dY / x", {x}, y, [x](BackwardContext& c) { c.add(0, c.grad() / x); });
}

Tensor tanh(const Tensor& x) {
  check_defined("tanh", x);
  Tensor y = map1(x, [](auto v) { return std::tanh(v); });
  return record_op("tanh", "dX = dY ⊙ (1 − tanh²x)", {x}, y, [](BackwardContext& c) {
    Tensor t = c.output();
    c.add(0, c.grad() * (1.0 - t * t));
  }, true);
}

// σ(x) = 1/(1+e⁻ˣ) for x ≥ 0 and eˣ/(1+eˣ) for x < 0: neither form overflows.
Tensor sigmoid(const Tensor& x) {
  check_defined("sigmoid", x);
  Tensor y = map1(x, [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
  return record_op("sigmoid", "dX = dY ⊙ σ(x)(1 − σ(x))", {x}, y, [](BackwardContext& c) {
    Tensor s = c.output();
    c.add(0, c.grad() * (s * (1.0 - s)));
  }, true);
}

Tensor relu(const Tensor& x) {
  check_defined("relu", x);
  Tensor y = map1(x, [](auto v) { return v > decltype(v)(0) ? v : decltype(v)(0); });
  return record_op("relu", "dX = dY ⊙ [x > 0]", {x}, y, [](BackwardContext& c) {
    c.add(0, c.grad() * gt(c.output().detach(), 0.0));
  }, true);
}

}  // namespace ad
