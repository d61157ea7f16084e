// Internal (kernel layer): C's rows handed out in units to the threads of a product as they come
// for them, so that a thread on a slowed core takes fewer.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace ad::kernels {

/// Rows [i0, i0 + rows) of C; none when rows is 0.
struct RowUnit {
  int64_t i0 = 0, rows = 0;
};

/// Units of max_rows while plenty remain, then smaller ones, each about 1 / (2 · threads) of the
/// rows left (whole panels of `panel` rows, at least one), so that the threads finish close
/// together instead of one idling while the other computes a last whole unit. The units are the
/// same whichever thread claims them, and no result depends on them: each element of C is summed
/// by one thread in one order.
class RowUnits {
 public:
  RowUnits(int64_t m, int64_t max_rows, int64_t panel, int64_t threads)
      : m_(m), max_rows_(max_rows), panel_(panel), threads_(threads) {}

  /// The next unit, or an empty one when every row is taken.
  RowUnit claim() {
    int64_t i0 = next_.load(std::memory_order_relaxed);
    for (;;) {
      if (i0 >= m_) return {};
      const int64_t rest = m_ - i0, share = (rest + 2 * threads_ - 1) / (2 * threads_);
      const int64_t rows = std::min(rest, std::clamp((share + panel_ - 1) / panel_ * panel_, panel_, max_rows_));
      if (next_.compare_exchange_weak(i0, i0 + rows, std::memory_order_relaxed)) return {i0, rows};
    }
  }

 private:
  std::atomic<int64_t> next_{0};
  const int64_t m_, max_rows_, panel_, threads_;
};

}  // namespace ad::kernels
