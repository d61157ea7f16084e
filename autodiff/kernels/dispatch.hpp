// Internal (kernel layer): from a run-time DType to the element type a loop is compiled for.
#pragma once

#include "autodiff/shape.hpp"

namespace ad::kernels {

/// Calls f(T{}) with T = float or double by dtype.
template <class F>
decltype(auto) dispatch(DType d, F&& f) {
  if (d == DType::f32) return f(float{});
  return f(double{});
}

}  // namespace ad::kernels
