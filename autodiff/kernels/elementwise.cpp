#include "autodiff/kernels/elementwise.hpp"

namespace ad::kernels {
namespace {

// Counts rather than stops at the first miss, so the loop vectorizes; labels are short rows.
AD_VEC_CLONES int64_t count_not_zero_or_one_f32(const float* x, int64_t n) {
  int64_t misses = 0;
  AD_SIMD_SUM(misses)
  for (int64_t i = 0; i < n; ++i) misses += (x[i] != 0.0f && x[i] != 1.0f) ? 1 : 0;
  return misses;
}

}  // namespace

bool all_zero_or_one(In x) {
  const int64_t n = x.shape.numel();
  return dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    if constexpr (std::is_same_v<T, float>) return count_not_zero_or_one_f32(p, n) == 0;
    for (int64_t i = 0; i < n; ++i)
      if (p[i] != T{0} && p[i] != T{1}) return false;
    return true;
  });
}

// One pass over the output, every operand read through its broadcast strides. Both sides are
// loaded before choosing, so the choice compiles to a select: a random mask would otherwise
// mispredict every other branch.
void where(In mask, In a, In b, Out out) {
  const int64_t n = out.shape.numel();
  if (n == 0) return;
  dispatch_all(mask.dtype, [&](auto mtag) {
    dispatch(a.dtype, [&](auto tag) {
      using M = decltype(mtag);
      using T = decltype(tag);
      const M* m = mask.as<M>();
      const T* x = a.as<T>();
      const T* y = b.as<T>();
      T* o = out.as<T>();
      if (mask.shape == out.shape && a.shape == out.shape && b.shape == out.shape) {
        for (int64_t j = 0; j < n; ++j) {
          const T xv = x[j], yv = y[j];
          o[j] = m[j] != M(0) ? xv : yv;
        }
        return;
      }
      const BroadcastRows<3> rows(out.shape, {&mask.shape, &a.shape, &b.shape});
      const int64_t len = rows.row_length();
      const int64_t sm = rows.walks(0), sa = rows.walks(1), sb = rows.walks(2);
      rows.for_each_row([&](int64_t start, const std::array<int64_t, 3>& at) {
        for (int64_t j = 0; j < len; ++j) {
          const T xv = x[at[1] + j * sa], yv = y[at[2] + j * sb];
          o[start + j] = m[at[0] + j * sm] != M(0) ? xv : yv;
        }
      });
    });
  });
}

}  // namespace ad::kernels
