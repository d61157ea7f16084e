// Internal (kernel layer): elementwise loops. f is a generic lambda applied per element: map1
// and map2 run it over one or two operands (map2 with NumPy broadcasting), sum2 sums it.
//
// The float32 loops carry AD_VEC_CLONES (kernels/simd.hpp). Each lambda type is local to its
// op's translation unit, so every instantiation, with its clones and their resolver, is too.
#pragma once

#include <cstdint>
#include <type_traits>

#include "autodiff/kernels/broadcast.hpp"
#include "autodiff/kernels/buffer.hpp"
#include "autodiff/kernels/dispatch.hpp"
#include "autodiff/kernels/simd.hpp"

namespace ad::kernels {

// ---- the inner loops: contiguous rows, operands either a row or one repeated value ----------

template <class T, class F>
void loop1_any(const T* x, T* o, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}
template <class F>
AD_VEC_CLONES void loop1_f32(const float* x, float* o, int64_t n, F f) {
AD_SIMD
  for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}
/// o[i] = f(x[i]) for i < n; o may be x.
template <class T, class F>
void loop1(const T* x, T* o, int64_t n, F f) {
  if constexpr (std::is_same_v<T, float>) loop1_f32(x, o, n, f);
  else loop1_any(x, o, n, f);
}

// Operand kinds of a binary row: kRow walks the row, kOne repeats element 0.
enum class Arg { kRow, kOne };

template <Arg A, Arg B, class T, class F>
void loop2_any(const T* x, const T* y, T* o, int64_t n, F f) {
  const T x0 = x[0], y0 = y[0];
  for (int64_t i = 0; i < n; ++i) o[i] = f(A == Arg::kRow ? x[i] : x0, B == Arg::kRow ? y[i] : y0);
}
template <Arg A, Arg B, class F>
AD_VEC_CLONES void loop2_f32(const float* x, const float* y, float* o, int64_t n, F f) {
  const float x0 = x[0], y0 = y[0];
AD_SIMD
  for (int64_t i = 0; i < n; ++i) o[i] = f(A == Arg::kRow ? x[i] : x0, B == Arg::kRow ? y[i] : y0);
}
/// o[i] = f(x[i] or x[0], y[i] or y[0]) for i < n (n ≥ 1).
template <Arg A, Arg B, class T, class F>
void loop2(const T* x, const T* y, T* o, int64_t n, F f) {
  if constexpr (std::is_same_v<T, float>) loop2_f32<A, B>(x, y, o, n, f);
  else loop2_any<A, B>(x, y, o, n, f);
}

template <class T, class F>
double sum2_any(const T* x, const T* y, int64_t n, F f) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(f(x[i], y[i]));
  return acc;
}
template <class F>
AD_VEC_CLONES double sum2_f32(const float* x, const float* y, int64_t n, F f) {
  double acc = 0.0;
AD_SIMD_SUM(acc)
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(f(x[i], y[i]));
  return acc;
}

// ---- entry points on buffers -------------------------------------------------------------------

/// out[i] = f(x[i]) for every element (out shaped like x; it may be x itself).
template <class F>
void map1(In x, Out out, F f) {
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    loop1(x.as<T>(), out.as<T>(), x.shape.numel(), f);
  });
}

// map2 for one element type: the equal-shape and one-value cases run as one row, the rest row by
// row through the broadcast walk.
template <class T, class F>
void map2_typed(In a, In b, Out out, F f) {
  const int64_t n = out.shape.numel();
  if (n == 0) return;
  const T* x = a.as<T>();
  const T* y = b.as<T>();
  T* o = out.as<T>();
  if (a.shape == b.shape) return loop2<Arg::kRow, Arg::kRow>(x, y, o, n, f);
  if (b.shape.numel() == 1) return loop2<Arg::kRow, Arg::kOne>(x, y, o, n, f);
  if (a.shape.numel() == 1) return loop2<Arg::kOne, Arg::kRow>(x, y, o, n, f);
  const BroadcastRows<2> rows(out.shape, {&a.shape, &b.shape});
  const int64_t len = rows.row_length();
  const bool wa = rows.walks(0), wb = rows.walks(1);
  rows.for_each_row([&](int64_t start, const std::array<int64_t, 2>& at) {
    if (wa && wb) loop2<Arg::kRow, Arg::kRow>(x + at[0], y + at[1], o + start, len, f);
    else if (wa) loop2<Arg::kRow, Arg::kOne>(x + at[0], y + at[1], o + start, len, f);
    else if (wb) loop2<Arg::kOne, Arg::kRow>(x + at[0], y + at[1], o + start, len, f);
    else loop2<Arg::kOne, Arg::kOne>(x + at[0], y + at[1], o + start, len, f);
  });
}

/// out = f(a, b) elementwise, a and b (floating, of one dtype) broadcast to out's shape (their
/// broadcast). out may be a or b itself when that one has out's shape (each element is read
/// before it is written), but must not otherwise overlap them.
template <class F>
void map2(In a, In b, Out out, F f) {
  dispatch(a.dtype, [&](auto tag) { map2_typed<decltype(tag)>(a, b, out, f); });
}

/// The same for any dtype, int64 included: for comparisons.
template <class F>
void map2_all(In a, In b, Out out, F f) {
  dispatch_all(a.dtype, [&](auto tag) { map2_typed<decltype(tag)>(a, b, out, f); });
}

/// Σ f(a[i], b[i]) over the elements of two buffers of one shape, accumulated in double. For
/// float32, f runs in float (vectorized, so it should call the vm:: functions, not libm).
template <class F>
double sum2(In a, In b, F f) {
  return dispatch(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) return sum2_f32(a.as<T>(), b.as<T>(), a.shape.numel(), f);
    else return sum2_any(a.as<T>(), b.as<T>(), a.shape.numel(), f);
  });
}

/// Whether every element of x is exactly 0 or 1 (NaN is neither), as labels of two classes are.
bool all_zero_or_one(In x);

/// out = mask ? a : b elementwise, all three broadcast to out's shape; the mask is read in its
/// own dtype (nonzero: true).
void where(In mask, In a, In b, Out out);

}  // namespace ad::kernels
