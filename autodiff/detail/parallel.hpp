// Internal: a long elementwise loop split across threads. For the memory-bound loops over big
// buffers (an optimizer step over a 4096×4096 weight streams 200 MB) two cores stream about
// twice the bytes of one; short loops stay on the calling thread, where a thread's start
// (tens of µs) would cost more than it saves. The same split serves the thin matrix products
// (ops/thin_gemm.cpp), whose threads each take a range of the product's columns.
#pragma once

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad::detail {

/// The grain of a memory-bound elementwise loop: half a million elements (2 MB of float32,
/// ~0.15 ms) per thread, so loops under a million elements run on the calling thread.
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 19;

/// f(begin, end) over [0, n) in contiguous chunks of at least `grain` (n / grain chunks, at
/// most get_num_threads()) whose bounds are multiples of 16 elements (whole cache lines, so no
/// two threads write one line); the calling thread takes the first chunk, and with one chunk
/// the whole loop. f must not throw; chunks must be independent.
template <class F>
void parallel_for(int64_t n, int64_t grain, F f) {
  const int64_t threads = std::min<int64_t>(get_num_threads(), n / std::max<int64_t>(grain, 1));
  if (threads < 2) return f(int64_t{0}, n);
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
