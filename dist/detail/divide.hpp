// Internal: the division of a sum by the number of ranks that turns it into a mean.
#pragma once

#include <cstdint>

namespace ad::dist::detail {

/// x[i] := x[i] / ranks, correctly rounded. For a power of two, 1/ranks is exact, so x · (1/ranks)
/// rounds the same real x · 2^−k as the division and a multiply serves; otherwise it could round
/// differently, so a division.
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
