// Internal: the loops behind the elementwise ops. map1/map2 dispatch on dtype and apply a
// generic lambda per element; map2 follows NumPy broadcasting with fast paths for equal shapes,
// a scalar operand, and the row/column broadcasts of a bias.
#pragma once

#include <fmt/format.h>

#include <cstdint>

#include "autodiff/tensor.hpp"

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
/// Throws unless `t` is defined.
void check_defined(const char* op, const Tensor& t);

/// out[i] = f(x[i]) for every element.
template <class F>
Tensor map1(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xs = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = f(xs[i]);
  });
  return out;
}

/// out = f(a, b) elementwise with broadcasting (a and b already checked).
template <class F>
Tensor map2(const char* op, const Tensor& a, const Tensor& b, F f) {
  const Shape out_shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(out_shape, a.dtype());
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(a.raw_data());
    const T* y = static_cast<const T*>(b.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    const int64_t n = out.numel();
    if (a.shape() == b.shape()) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
      return;
    }
    if (b.numel() == 1) {
      const T yv = y[0];
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
      return;
    }
    if (a.numel() == 1) {
      const T xv = x[0];
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
      return;
    }
    // General case: the last dim is the inner loop, every outer dim walks a counter.
    const size_t rank = out_shape.size();
    int64_t sa[Shape::kMaxRank], sb[Shape::kMaxRank], idx[Shape::kMaxRank] = {};
    broadcast_strides(a.shape(), out_shape, sa);
    broadcast_strides(b.shape(), out_shape, sb);
    const int64_t inner = out_shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
    int64_t oa = 0, ob = 0;
    for (int64_t base = 0; base < n; base += inner) {
      T* orow = o + base;
      const T* xa = x + oa;
      const T* yb = y + ob;
      if (ia == 1 && ib == 1) {
        for (int64_t j = 0; j < inner; ++j) orow[j] = f(xa[j], yb[j]);
      } else if (ia == 1) {
        const T yv = yb[0];
        for (int64_t j = 0; j < inner; ++j) orow[j] = f(xa[j], yv);
      } else if (ib == 1) {
        const T xv = xa[0];
        for (int64_t j = 0; j < inner; ++j) orow[j] = f(xv, yb[j]);
      } else {
        for (int64_t j = 0; j < inner; ++j) orow[j] = f(xa[0], yb[0]);
      }
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
  return out;
}

}  // namespace ad::detail
