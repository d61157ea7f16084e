// Internal (kernel layer): a long loop split across the library's worker threads. Memory-bound
// loops over big buffers (an optimizer step over a wide layer's weights) go about twice as fast
// on two cores as on one; the product kernels give each thread a range of C's rows or columns.
// Short loops stay on the calling thread.
//
// The workers are started on first use and then kept, because starting a thread costs about as
// much as a mid-sized product. Between loops a worker watches for the next one for a moment,
// then blocks, so an idle program takes no CPU (kernels/parallel.cpp).
#pragma once

#include <algorithm>
#include <cstdint>


namespace ad::kernels {

/// Threads used by the parallel loops and by BLAS (ad::set_num_threads sets it).
int get_num_threads();
/// Sets the thread count of the parallel loops and of BLAS; n ≥ 1 (checked by the caller).
void set_num_threads(int n);

/// The grain of a memory-bound elementwise loop: half a million elements (2 MB of float32) per
/// thread, enough to pay for waking a worker, so loops under a million elements run on the
/// calling thread.
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 19;

/// Runs task(context, i) for i = 0 … count − 1 and returns when all have finished: the calling
/// thread runs some (at least i = 0), the library's workers the others. When the workers are
/// in use (another thread's loop, or a loop nested in a task) or none can be started, all run
/// on the calling thread, one after another. task must not throw.
void run_tasks(int64_t count, void (*task)(void* context, int64_t i), void* context);

/// f(begin, end) over [0, n) in contiguous chunks of at least `grain` (n / grain chunks, at
/// most get_num_threads()) whose bounds are multiples of `align` (by default 16 elements: whole
/// cache lines of float32, so no two threads write one line); with one chunk, f(0, n) on the
/// calling thread. f is called once per chunk, so at most get_num_threads() times. f must not
/// throw; chunks must be independent.
template <class F>
void parallel_for(int64_t n, int64_t grain, F f, int64_t align = 16) {
  const int64_t threads = std::min<int64_t>(get_num_threads(), n / std::max<int64_t>(grain, 1));
  if (threads < 2) return f(int64_t{0}, n);
  const int64_t chunk = ((n + threads - 1) / threads + align - 1) / align * align;
  const int64_t chunks = (n + chunk - 1) / chunk;
  struct Loop {
    F& f;
    int64_t n, chunk;
  } loop{f, n, chunk};
  run_tasks(chunks, [](void* context, int64_t i) {
    const Loop& l = *static_cast<const Loop*>(context);
    l.f(i * l.chunk, std::min(l.n, (i + 1) * l.chunk));
  }, &loop);
}

}  // namespace ad::kernels
