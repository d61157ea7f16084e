// Internal (kernel layer): what a kernel is handed. Kernels work on raw buffers the caller owns:
// a Tensor (an op) or a planned buffer alike; they allocate no tensor and record nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "autodiff/shape.hpp"

namespace ad::kernels {

/// An input: `shape`'s elements of `dtype`, contiguous and row-major.
struct In {
  const void* data;
  const Shape& shape;
  DType dtype;
  template <class T>
  const T* as() const {
    return static_cast<const T*>(data);
  }
};

/// An output, written by the kernel: the same description for memory the caller has allocated.
struct Out {
  void* data;
  const Shape& shape;
  DType dtype;
  template <class T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

/// A shape seen as (outer, n, inner) around `dim`: element (o, k, i) sits at (o·n + k)·inner + i.
struct DimSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
inline DimSplit split_at(const Shape& s, int64_t dim) {
  DimSplit r;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto d = static_cast<int64_t>(i);
    if (d < dim) r.outer *= s[i];
    else if (d == dim) r.n = s[i];
    else r.inner *= s[i];
  }
  return r;
}

}  // namespace ad::kernels
