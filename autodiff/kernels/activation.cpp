#include "autodiff/kernels/activation.hpp"

#include "autodiff/kernels/elementwise.hpp"

namespace ad::kernels {

void activate(In z, Activation g, Out a) {
  visit_fusable(g, [&](auto fn) { map1(z, a, [](auto v) { return decltype(fn)::value(v); }); });
}

void bias_activate(In z, In b, Activation g, Out a) {
  visit_fusable(g, [&](auto fn) { map2(z, b, a, [](auto x, auto c) { return decltype(fn)::value(x + c); }); });
}

// A product with the slope, not a select: inf·0 stays NaN, as in the unfused rules.
void activation_backward(In grad, In a, Activation g, Out out) {
  visit_fusable(g, [&](auto fn) { map2(grad, a, out, [](auto d, auto y) { return d * decltype(fn)::slope(y); }); });
}

}  // namespace ad::kernels
