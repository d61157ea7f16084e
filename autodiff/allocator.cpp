#include "autodiff/allocator.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

namespace ad {
namespace {

constexpr size_t kAlign = 64;
// Blocks above this size go straight to the system: caching them would pin too much memory.
constexpr size_t kMaxCachedBlock = size_t{1} << 30;
// A thread keeps at most this many bytes on its free lists.
constexpr size_t kMaxCachedPerThread = size_t{4} << 30;

std::atomic<size_t> g_in_use{0}, g_cached{0}, g_peak{0};
std::atomic<uint64_t> g_system_allocs{0}, g_allocs{0};

// Size classes: multiples of 64 bytes up to 1 KiB, then four classes per power of two, so a
// rounded block wastes at most a quarter of its size.
size_t size_class(size_t bytes, size_t* rounded) {
  if (bytes <= 1024) {
    size_t units = bytes == 0 ? 1 : (bytes + kAlign - 1) / kAlign;
    *rounded = units * kAlign;
    return units - 1;  // classes 0..15
  }
  size_t p = 63 - static_cast<size_t>(__builtin_clzll(bytes - 1));  // 2^p < bytes <= 2^(p+1)
  size_t quarter = size_t{1} << (p - 1);
  size_t steps = (bytes - (size_t{1} << p) + quarter - 1) / quarter;  // 1..4
  *rounded = (size_t{1} << p) + steps * quarter;
  return 16 + (p - 10) * 4 + (steps - 1);
}

struct ThreadCache {
  std::vector<std::vector<void*>> lists;
  size_t cached = 0;
  ThreadCache() : lists(16 + 4 * 64) {}
  ~ThreadCache() { release_all(); }
  void release_all() {
    for (auto& list : lists) {
      for (void* p : list) std::free(p);
      list.clear();
    }
    g_cached -= cached;
    cached = 0;
  }
};

ThreadCache& cache() {
  thread_local ThreadCache c;
  return c;
}

void note_in_use(size_t rounded) {
  size_t now = g_in_use.fetch_add(rounded, std::memory_order_relaxed) + rounded;
  size_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

namespace detail {

void* allocate(size_t bytes) {
  size_t rounded = 0;
  size_t cls = size_class(bytes, &rounded);
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  note_in_use(rounded);
  if (rounded <= kMaxCachedBlock) {
    auto& c = cache();
    auto& list = c.lists[cls];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      c.cached -= rounded;
      g_cached.fetch_sub(rounded, std::memory_order_relaxed);
      return p;
    }
  }
  g_system_allocs.fetch_add(1, std::memory_order_relaxed);
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) {
    g_in_use.fetch_sub(rounded, std::memory_order_relaxed);
    throw std::bad_alloc();
  }
  return p;
}

void deallocate(void* p, size_t bytes) {
  if (!p) return;
  size_t rounded = 0;
  size_t cls = size_class(bytes, &rounded);
  g_in_use.fetch_sub(rounded, std::memory_order_relaxed);
  auto& c = cache();
  if (rounded > kMaxCachedBlock || c.cached + rounded > kMaxCachedPerThread) {
    std::free(p);
    return;
  }
  c.lists[cls].push_back(p);
  c.cached += rounded;
  g_cached.fetch_add(rounded, std::memory_order_relaxed);
}

}  // namespace detail

MemoryStats memory_stats() {
  MemoryStats s;
  s.bytes_in_use = g_in_use.load();
  s.bytes_cached = g_cached.load();
  s.peak_bytes_in_use = g_peak.load();
  s.system_allocs = g_system_allocs.load();
  s.allocs = g_allocs.load();
  return s;
}

void empty_cache() { cache().release_all(); }

}  // namespace ad
