// Internal to the ops: a tensor as a kernel operand, and the launches of the elementwise loops.
// Every kernel call goes through kernels::launch (kernels/launch.hpp), so ad::compile sees it.
#pragma once

#include "autodiff/kernels/elementwise.hpp"
#include "autodiff/kernels/launch.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

/// The tensor's whole storage as a kernel operand (no host-access check: ops launch kernels).
inline kernels::Buffer buffer(const Tensor& t) {
  TensorImpl* i = t.impl();
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

}  // namespace ad::detail
