// Internal: a long elementwise loop split across threads. For the memory-bound loops over big
// buffers (an optimizer step over a 4096×4096 weight streams 200 MB) two cores stream about
// twice the bytes of one; short loops stay on the calling thread, where a thread's start
// (tens of µs) would cost more than it saves.
#pragma once

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::detail {

/// Loops over fewer elements than this run on the calling thread (4 MB of float32: ~0.3 ms).
inline constexpr int64_t kParallelMin = int64_t{1} << 20;

/// f(begin, end) over [0, n) in up to get_num_threads() contiguous chunks whose bounds are
/// multiples of 16 elements (whole cache lines, so no two threads write one line); the calling
/// thread takes the first chunk. f must not throw; chunks must be independent.
template <class F>
void parallel_for(int64_t n, F f) {
  const int64_t threads = std::min<int64_t>(get_num_threads(), n / (kParallelMin / 2));
  if (n < kParallelMin || threads < 2) return f(int64_t{0}, n);
  const int64_t chunk = (n / threads + 15) / 16 * 16;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads - 1));
  int64_t begin = chunk;
  for (; begin < n && static_cast<int64_t>(workers.size()) < threads - 1; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    try {
      workers.emplace_back([f, begin, end] { f(begin, end); });
    } catch (const std::system_error&) {  // no thread to be had: do the rest here
      break;
    }
  }
  f(int64_t{0}, std::min(n, chunk));
  if (begin < n) f(begin, n);
  for (std::thread& w : workers) w.join();
}

}  // namespace ad::detail
