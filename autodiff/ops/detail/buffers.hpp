// Internal to the ops: a tensor as a kernel operand, and the elementwise ops' common step:
// validate, allocate the output, launch the kernel. Every kernel call goes through
// kernels::launch (kernels/launch.hpp), so ad::compile sees it.
#pragma once

#include "autodiff/engine/access.hpp"
#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/ops/detail/checks.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

/// The tensor's whole storage as a kernel operand (no host-access check: ops launch kernels).
inline kernels::Buffer buffer(const Tensor& t) {
  TensorImpl* i = impl_of(t);
  return {i->data(), &i->shape, i->dtype, i};
}

/// out[i] = f(x[i]) (out shaped like x; it may be x).
template <class F>
void launch_map1(const char* name, const Tensor& x, const Tensor& out, F f) {
  kernels::launch(name, {buffer(x)}, {buffer(out)},
                  [f](const kernels::Operands& o) { kernels::map1(o.in(0), o.out(0), f); });
}

/// out = f(a, b) elementwise with broadcasting (see kernels::map2 for when out may be a or b).
template <class F>
void launch_map2(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  kernels::launch(name, {buffer(a), buffer(b)}, {buffer(out)},
                  [f](const kernels::Operands& o) { kernels::map2(o.in(0), o.in(1), o.out(0), f); });
}

/// f(x) elementwise into a new tensor; x must be floating.
template <class F>
Tensor map(const char* op, const Tensor& x, F f) {
  check_floating(op, x);
  Tensor out = empty(x.shape(), x.dtype());
  launch_map1(op, x, out, f);
  return out;
}

/// f(a, b) elementwise into a new tensor of their broadcast shape. a and b are of one floating
/// dtype, or of any one dtype when kAnyDtype (comparisons).
template <bool kAnyDtype = false, class F>
Tensor zip(const char* op, const Tensor& a, const Tensor& b, F f) {
  if constexpr (kAnyDtype) check_same_dtype(op, a, b);
  else check_binary(op, a, b);
  Tensor out = empty(a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape()), a.dtype());
  if constexpr (kAnyDtype)
    kernels::launch(op, {buffer(a), buffer(b)}, {buffer(out)},
                    [f](const kernels::Operands& o) { kernels::map2_all(o.in(0), o.in(1), o.out(0), f); });
  else
    launch_map2(op, a, b, out, f);
  return out;
}

}  // namespace ad::detail
