#include "autodiff/kernels/activation.hpp"

#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/kernels/vec_math_avx512.hpp"

namespace ad::kernels {

void activate(In z, Activation g, Out a) {
  visit_fusable(g, [&](auto fn) { map1(z, a, [](auto v) { return decltype(fn)::value(v); }); });
}

namespace {

// A layer's shape, z (n, m) plus a column b (n, 1), row by row through the AVX-512 sigmoid
// (the same bits as the portable loop, in fewer instructions); false where it does not apply.
bool bias_sigmoid_rows(In z, In b, Out a) {
  if (z.dtype != DType::f32 || z.shape.size() != 2 || !(a.shape == z.shape) || !vec_math_avx512_available()) return false;
  const int64_t n = z.shape[0], m = z.shape[1];
  if (b.shape.size() != 2 || b.shape[0] != n || b.shape[1] != 1) return false;
  for (int64_t i = 0; i < n; ++i) sigmoid_row(z.as<float>() + i * m, b.as<float>()[i], a.as<float>() + i * m, m);
  return true;
}

}  // namespace

void bias_activate(In z, In b, Activation g, Out a) {
  if (g == Activation::Sigmoid && bias_sigmoid_rows(z, b, a)) return;
  visit_fusable(g, [&](auto fn) { map2(z, b, a, [](auto x, auto c) { return decltype(fn)::value(x + c); }); });
}

// A product with the slope, not a select: inf·0 stays NaN, as in the unfused rules.
void activation_backward(In grad, In a, Activation g, Out out) {
  visit_fusable(g, [&](auto fn) { map2(grad, a, out, [](auto d, auto y) { return d * decltype(fn)::slope(y); }); });
}

}  // namespace ad::kernels
