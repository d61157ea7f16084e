// Internal: the loops behind the elementwise ops. map1/map2 dispatch on dtype and apply a
// generic lambda per element; map2 follows NumPy broadcasting with fast paths for equal shapes,
// a scalar operand, and the row/column broadcasts of a bias.
//
// The float32 loops are compiled three times (AD_VEC_CLONES: AVX-512, AVX2+FMA, and the
// portable x86-64 baseline) and the loader picks the best one for the CPU it runs on, so a
// default build still uses the wide vectors. A build with TAPEGRAD_ARCH set compiles for that
// one target instead. Float64 loops stay single (they serve gradchecks, not training speed).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <type_traits>

#include "autodiff/tensor.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(TAPEGRAD_NO_CLONES)
#define AD_VEC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AD_VEC_CLONES
#endif
// `#pragma omp simd` for GCC (honoured under -fopenmp-simd); clang vectorizes these loops on its
// own and would warn about every one it cannot (a loop calling powf).
#if defined(__GNUC__) && !defined(__clang__)
#define AD_PRAGMA(x) _Pragma(#x)
#else
#define AD_PRAGMA(x)
#endif
#define AD_SIMD AD_PRAGMA(omp simd)
#define AD_SIMD_SUM(acc) AD_PRAGMA(omp simd reduction(+ : acc))

namespace ad::detail {

/// Calls f(T{}) with T = float or double by dtype.
template <class F>
decltype(auto) dispatch(DType d, F&& f) {
  if (d == DType::f32) return f(float{});
  return f(double{});
}

/// Throws ShapeError/DTypeError unless the two tensors can meet in a binary op.
void check_binary(const char* op, const Tensor& a, const Tensor& b);
/// The NumPy broadcast of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
/// Row-major strides of `s` as seen from `out` (0 where `s` broadcasts), right-aligned.
void broadcast_strides(const Shape& s, const Shape& out, int64_t* strides);
/// Throws UsageError when writing `t` in place would corrupt a recorded graph (a recorded
/// output, or a leaf that requires grad while recording); otherwise counts the change in its
/// version. Called by copy_, fill_, add_, mul_, … after their other checks, just before writing.
void begin_in_place(const char* op, const Tensor& t);
/// Throws unless `t` is defined.
void check_defined(const char* op, const Tensor& t);

// ---- the inner loops: contiguous rows, operands either a row or one broadcast value --------
// Each lambda type is local to its op's translation unit, so every instantiation (and its
// clones and resolver) is too.

template <class T, class F>
void loop1_any(const T* x, T* o, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}
// AD_SIMD: the output is always a fresh tensor, so no aliasing check is needed, and the loop
// vectorizes at -O2 too (RelWithDebInfo).
template <class F>
AD_VEC_CLONES void loop1_f32(const float* x, float* o, int64_t n, F f) {
AD_SIMD
  for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}
/// o[i] = f(x[i]) for i < n.
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
/// o[i] = f(x[i] or x[0], y[i] or y[0]) for 0 < i < n (n ≥ 1).
template <Arg A, Arg B, class T, class F>
void loop2(const T* x, const T* y, T* o, int64_t n, F f) {
  if constexpr (std::is_same_v<T, float>) loop2_f32<A, B>(x, y, o, n, f);
  else loop2_any<A, B>(x, y, o, n, f);
}

// ---- sums of f over two operands' elements, accumulated in double ----------------------------

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
/// Σ f(x[i], y[i]) for i < n in double. For float32, f runs in float (vectorized, so it should
/// call the vm:: functions, not libm) and only the running sum is double.
template <class T, class F>
double sum2(const T* x, const T* y, int64_t n, F f) {
  if constexpr (std::is_same_v<T, float>) return sum2_f32(x, y, n, f);
  else return sum2_any(x, y, n, f);
}

/// out[i] = f(x[i]) for every element.
template <class F>
Tensor map1(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    loop1(static_cast<const T*>(x.raw_data()), static_cast<T*>(out.raw_data()), x.numel(), f);
  });
  return out;
}

/// out = f(a, b) elementwise with broadcasting (a and b already checked), into `out` shaped as
/// their broadcast; `out` may be `a` or `b` itself when that one has the broadcast shape (each
/// element is read before it is written), but must not otherwise overlap them.
template <class F>
void map2_into(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const Shape& out_shape = out.shape();
  const int64_t n = out.numel();
  if (n == 0) return;
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(a.raw_data());
    const T* y = static_cast<const T*>(b.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    if (a.shape() == b.shape()) return loop2<Arg::kRow, Arg::kRow>(x, y, o, n, f);
    if (b.numel() == 1) return loop2<Arg::kRow, Arg::kOne>(x, y, o, n, f);
    if (a.numel() == 1) return loop2<Arg::kOne, Arg::kRow>(x, y, o, n, f);
    // General case: the last dim is the inner loop, every outer dim walks a counter.
    const size_t rank = out_shape.size();
    int64_t sa[Shape::kMaxRank], sb[Shape::kMaxRank], idx[Shape::kMaxRank] = {};
    broadcast_strides(a.shape(), out_shape, sa);
    broadcast_strides(b.shape(), out_shape, sb);
    const int64_t inner = out_shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
    int64_t oa = 0, ob = 0;
    for (int64_t base = 0; base < n; base += inner) {
      if (ia == 1 && ib == 1) loop2<Arg::kRow, Arg::kRow>(x + oa, y + ob, o + base, inner, f);
      else if (ia == 1) loop2<Arg::kRow, Arg::kOne>(x + oa, y + ob, o + base, inner, f);
      else if (ib == 1) loop2<Arg::kOne, Arg::kRow>(x + oa, y + ob, o + base, inner, f);
      else loop2<Arg::kOne, Arg::kOne>(x + oa, y + ob, o + base, inner, f);
      for (size_t d = rank - 1; d-- > 0;) {  // advance the outer counter
        oa += sa[d];
        ob += sb[d];
        if (++idx[d] < out_shape[d]) break;
        oa -= sa[d] * out_shape[d];
        ob -= sb[d] * out_shape[d];
        idx[d] = 0;
      }
    }
  });
}

/// out = f(a, b) elementwise with broadcasting (a and b already checked), in a new tensor.
template <class F>
Tensor map2(const char* op, const Tensor& a, const Tensor& b, F f) {
  Tensor out = empty(a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape()), a.dtype());
  map2_into(a, b, out, f);
  return out;
}

}  // namespace ad::detail
