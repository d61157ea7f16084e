// Internal: the division of a sum by the number of ranks that turns it into a mean.
#pragma once

#include <cstdint>

namespace ad::dist::detail {

/// Calls f(divide), where divide(x) is x / ranks correctly rounded, chosen once so that the
/// loop inside f stays a plain loop. When ranks = 2^k, 1/ranks is exact and x · 2^−k is the
/// same real number as x / ranks, so the product rounds to the same value; for other counts
/// 1/ranks is itself rounded, so the product may not, and divide() divides.
template <class T, class F>
void with_division_by_ranks(int ranks, F&& f) {
  if ((ranks & (ranks - 1)) == 0) {
    const T inverse = T(1) / static_cast<T>(ranks);
    f([inverse](T x) { return x * inverse; });
  } else {
    const T divisor = static_cast<T>(ranks);
    f([divisor](T x) { return x / divisor; });
  }
}

/// x[i] := x[i] / ranks, correctly rounded.
template <class T>
void divide_by_ranks(T* x, int64_t n, int ranks) {
  with_division_by_ranks<T>(ranks, [&](auto divide) {
    for (int64_t i = 0; i < n; ++i) x[i] = divide(x[i]);
  });
}

}  // namespace ad::dist::detail
