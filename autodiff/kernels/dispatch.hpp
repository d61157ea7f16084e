// Internal (kernel layer): from a run-time DType to the element type a loop is compiled for.
#pragma once

#include <cstdint>

#include "autodiff/error.hpp"
#include "autodiff/shape.hpp"

namespace ad::kernels {

/// Calls f(T{}) with T = float or double by dtype: for kernels that compute. The ops check that
/// their inputs are floating before calling one.
template <class F>
decltype(auto) dispatch(DType d, F&& f) {
  AD_ASSERT(is_floating(d));
  if (d == DType::f32) return f(float{});
  return f(double{});
}

/// Calls f(T{}) with T = float, double or int64_t by dtype: for kernels that only move, compare
/// or convert elements.
template <class F>
decltype(auto) dispatch_all(DType d, F&& f) {
  if (d == DType::f32) return f(float{});
  if (d == DType::f64) return f(double{});
  return f(int64_t{});
}

}  // namespace ad::kernels
