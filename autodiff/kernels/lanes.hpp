// Internal (kernel layer): sums kept in 64-byte GCC vectors of kLanes<T> elements (16 floats,
// 8 doubles). Whichever width the loader picked (kernels/simd.hpp), the compiler splits them
// into its registers, and a fixed count of partial sums keeps the order of the additions the
// same on every one (the AVX2 and AVX-512 builds fuse each multiply-add, the baseline build
// rounds twice). Vectors wider than the widest registers would be lowered element by element.
#pragma once

#include <cstdint>
#include <cstring>

namespace ad::kernels {

constexpr int kVectorBytes = 64;
template <class T>
constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(T));
template <class T, int Bytes>
struct VectorOf {
  typedef T type __attribute__((vector_size(Bytes)));
};
template <class T>
using Lanes = typename VectorOf<T, kVectorBytes>::type;

/// kLanes<T> elements from p, any alignment (the vector is filled in place: no vector crosses a call).
template <class T>
[[gnu::always_inline]] inline void load(Lanes<T>& v, const T* p) {
  std::memcpy(&v, p, sizeof v);
}

/// The lanes of v added pairwise, lane l with lane l + w for w = half the lanes, a quarter, …:
/// each step adds the upper half of the vector to the lower one.
template <class T, int Bytes = kVectorBytes>
[[gnu::always_inline]] inline T fold(typename VectorOf<T, Bytes>::type v) {
  if constexpr (Bytes == static_cast<int>(sizeof(T))) {
    return v[0];
  } else {
    typename VectorOf<T, Bytes / 2>::type lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return fold<T, Bytes / 2>(lo + hi);
  }
}

}  // namespace ad::kernels
