// Internal to the ops: a tensor as a kernel's input or output buffer (autodiff/kernels), and the
// elementwise ops' common step: validate, allocate the output, run the kernel.
#pragma once

#include "autodiff/kernels/buffer.hpp"
#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/ops/detail/checks.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

inline kernels::In read(const Tensor& t) { return {t.raw_data(), t.shape(), t.dtype()}; }
inline kernels::Out write(const Tensor& t) { return {t.raw_data(), t.shape(), t.dtype()}; }

/// f(x) elementwise into a new tensor; x must be floating.
template <class F>
Tensor map(const char* op, const Tensor& x, F f) {
  check_floating(op, x);
  Tensor out = empty(x.shape(), x.dtype());
  kernels::map1(read(x), write(out), f);
  return out;
}

/// f(a, b) elementwise into a new tensor of their broadcast shape. a and b are of one floating
/// dtype, or of any one dtype when kAnyDtype (comparisons).
template <bool kAnyDtype = false, class F>
Tensor zip(const char* op, const Tensor& a, const Tensor& b, F f) {
  if constexpr (kAnyDtype) check_same_dtype(op, a, b);
  else check_binary(op, a, b);
  Tensor out = empty(a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape()), a.dtype());
  if constexpr (kAnyDtype) kernels::map2_all(read(a), read(b), write(out), f);
  else kernels::map2(read(a), read(b), write(out), f);
  return out;
}

}  // namespace ad::detail
