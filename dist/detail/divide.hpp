// Internal: the division of a sum by the number of ranks that turns it into a mean.
#pragma once

#include <cstdint>

namespace ad::dist::detail {

/// x[i] := x[i] / ranks, correctly rounded. For a power of two, x · (1/ranks) is the same number
/// bit for bit (1/ranks is exact, and both round the same real x · 2^−k) at a fraction of a
/// division's cost; otherwise a division, since x · (1/ranks) could round differently.
template <class T>
void divide_by_ranks(T* x, int64_t n, int ranks) {
  if ((ranks & (ranks - 1)) == 0) {
    const T inverse = T(1) / static_cast<T>(ranks);
    for (int64_t i = 0; i < n; ++i) x[i] *= inverse;
  } else {
    for (int64_t i = 0; i < n; ++i) x[i] /= static_cast<T>(ranks);
  }
}

}  // namespace ad::dist::detail
