// The caching allocator. Each thread keeps free lists per size class and its own counters;
// the hot path (a cached block handed out or taken back) touches only this thread's memory and
// executes no locked instruction. memory_stats() sums the threads' counters under a lock.
#include "autodiff/allocator.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string_view>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ad {
namespace {

constexpr size_t kAlign = 64;
// Blocks above this size go straight to the system: caching them would pin too much memory.
constexpr size_t kMaxCachedBlock = size_t{1} << 30;
// A thread keeps at most this many bytes on its free lists.
constexpr size_t kMaxCachedPerThread = size_t{4} << 30;
// A thread publishes its change in bytes in use to the process-wide peak once the change
// reaches this much, so the peak is exact to within this many bytes per thread.
constexpr int64_t kPublishBytes = int64_t{256} << 10;

constexpr auto relaxed = std::memory_order_relaxed;

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

// Counters written by one thread only: a relaxed load and store (a plain add, no lock
// prefix), atomic only so that memory_stats() may read them from another thread.
struct Counters {
  std::atomic<int64_t> in_use{0}, cached{0};  // in_use < 0 when this thread freed others' blocks
  std::atomic<uint64_t> allocs{0}, system_allocs{0};
};
template <class T>
void bump(std::atomic<T>& c, T delta) {
  c.store(c.load(relaxed) + delta, relaxed);
}

struct ThreadCache;
// Live threads' caches, plus the totals of threads that have exited. Never destroyed: threads
// (and global tensors) may free blocks after static destruction has begun.
struct Registry {
  std::mutex m;
  std::vector<ThreadCache*> live;
  Counters retired;  // updated with fetch_add (several threads, rare)
  std::atomic<int64_t> published{0}, peak{0};
};
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

void publish(int64_t delta) {
  Registry& r = registry();
  const int64_t now = r.published.fetch_add(delta, relaxed) + delta;
  int64_t peak = r.peak.load(relaxed);
  while (now > peak && !r.peak.compare_exchange_weak(peak, now, relaxed)) {
  }
}

// Set once this thread's cache is destroyed (thread or program exit): blocks handled after that
// (a global tensor, a thread_local one destroyed later) go straight to the system. A plain bool
// has no destructor, so it stays readable to the very end.
thread_local bool g_cache_gone = false;

struct ThreadCache {
  std::vector<std::vector<void*>> lists;
  Counters n;
  int64_t unpublished = 0;

  ThreadCache() : lists(16 + 4 * 64) {
    std::lock_guard<std::mutex> g(registry().m);
    registry().live.push_back(this);
  }
  ~ThreadCache() {
    release_all();
    Registry& r = registry();
    publish(unpublished);
    std::lock_guard<std::mutex> g(r.m);
    r.live.erase(std::find(r.live.begin(), r.live.end(), this));
    r.retired.in_use.fetch_add(n.in_use.load(relaxed), relaxed);
    r.retired.allocs.fetch_add(n.allocs.load(relaxed), relaxed);
    r.retired.system_allocs.fetch_add(n.system_allocs.load(relaxed), relaxed);
    g_cache_gone = true;
  }
  void release_all() {
    for (auto& list : lists) {
      for (void* p : list) std::free(p);
      list.clear();
    }
    n.cached.store(0, relaxed);
  }
  void note_in_use(int64_t delta) {
    bump(n.in_use, delta);
    unpublished += delta;
    if (unpublished >= kPublishBytes || unpublished <= -kPublishBytes) {
      publish(unpublished);
      unpublished = 0;
    }
  }
};

ThreadCache& cache() {
  thread_local ThreadCache c;
  return c;
}

// Blocks from 4 MB up are placed on 2 MB boundaries, their length rounded up to a multiple of
// 2 MB, and offered to Linux's transparent huge pages (which in its default "madvise" mode
// takes only regions marked so). A product packing a block of a wide layer's weights reads
// each of its rows from another 4 KB page, every page one TLB entry and one more page walk; on
// 2 MB pages the wide network's products and the optimizer's pass over its weights run faster
// (bench/README.md). The cost: up to 1 MB more resident per such block (its last huge page is
// whole). TAPEGRAD_HUGE_PAGES=0 in the environment turns it off.
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeFrom = 2 * kHugePage;

bool huge_pages_wanted() {
  static const bool wanted = [] {
    const char* v = std::getenv("TAPEGRAD_HUGE_PAGES");
    return !(v && std::string_view(v) == "0");
  }();
  return wanted;
}

void* system_alloc(size_t rounded) {
  const bool huge = rounded >= kHugeFrom && huge_pages_wanted();
  const size_t align = huge ? kHugePage : kAlign;
  const size_t length = (rounded + align - 1) / align * align;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(align, length);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, length, MADV_HUGEPAGE);  // advice only: without THP the block is simply 4 KB pages
#endif
  return p;
}

}  // namespace

namespace detail {

void* allocate(size_t bytes) {
  size_t rounded = 0;
  const size_t cls = size_class(bytes, &rounded);
  const auto signed_rounded = static_cast<int64_t>(rounded);
  if (g_cache_gone) {  // thread exit: no cache, count in the retired totals
    void* p = system_alloc(rounded);
    Registry& r = registry();
    r.retired.in_use.fetch_add(signed_rounded, relaxed);
    r.retired.allocs.fetch_add(1, relaxed);
    r.retired.system_allocs.fetch_add(1, relaxed);
    return p;
  }
  ThreadCache& c = cache();
  auto& list = c.lists[cls];
  void* p = nullptr;
  if (rounded <= kMaxCachedBlock && !list.empty()) {
    p = list.back();
    list.pop_back();
    bump(c.n.cached, -signed_rounded);
  } else {
    p = system_alloc(rounded);
    bump<uint64_t>(c.n.system_allocs, 1);
  }
  bump<uint64_t>(c.n.allocs, 1);
  c.note_in_use(signed_rounded);
  return p;
}

void deallocate(void* p, size_t bytes) {
  if (!p) return;
  size_t rounded = 0;
  const size_t cls = size_class(bytes, &rounded);
  const auto signed_rounded = static_cast<int64_t>(rounded);
  if (g_cache_gone) {
    std::free(p);
    registry().retired.in_use.fetch_sub(signed_rounded, relaxed);
    return;
  }
  ThreadCache& c = cache();
  c.note_in_use(-signed_rounded);
  if (rounded > kMaxCachedBlock || c.n.cached.load(relaxed) + signed_rounded > int64_t{kMaxCachedPerThread}) {
    std::free(p);
    return;
  }
  c.lists[cls].push_back(p);
  bump(c.n.cached, signed_rounded);
}

}  // namespace detail

MemoryStats memory_stats() {
  Registry& r = registry();
  int64_t in_use = r.retired.in_use.load(relaxed), cached = 0;
  uint64_t allocs = r.retired.allocs.load(relaxed), system_allocs = r.retired.system_allocs.load(relaxed);
  {
    std::lock_guard<std::mutex> g(r.m);
    for (const ThreadCache* c : r.live) {
      in_use += c->n.in_use.load(relaxed);
      cached += c->n.cached.load(relaxed);
      allocs += c->n.allocs.load(relaxed);
      system_allocs += c->n.system_allocs.load(relaxed);
    }
  }
  MemoryStats s;
  s.bytes_in_use = static_cast<size_t>(std::max<int64_t>(in_use, 0));
  s.bytes_cached = static_cast<size_t>(cached);
  s.peak_bytes_in_use = std::max(static_cast<size_t>(std::max<int64_t>(r.peak.load(relaxed), 0)), s.bytes_in_use);
  s.system_allocs = system_allocs;
  s.allocs = allocs;
  return s;
}

void empty_cache() {
  if (!g_cache_gone) cache().release_all();
}

}  // namespace ad
