// Internal to nn: raw loops over float32 / float64 data, for code that runs without recording
// (optimizer steps, data gathering, metrics, serialization).
#pragma once

#include "autodiff/tensor.hpp"

namespace ad::nn::detail {

/// Calls f(T{}) with T = float or double by dtype.
template <class F>
decltype(auto) with_dtype(DType d, F&& f) {
  if (d == DType::f32) return f(float{});
  return f(double{});
}

/// The tensor's elements as T* (the caller has dispatched on its dtype).
template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

}  // namespace ad::nn::detail
