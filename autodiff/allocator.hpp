// The caching allocator behind every tensor's storage: 64-byte aligned blocks in size classes,
// kept on a per-thread free list when released, so a training loop of fixed shapes stops
// calling the system allocator after its first step.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ad {

/// What the caching allocator holds, summed over all threads (tensor storage, tensor handles'
/// state and tape records all come from it).
struct MemoryStats {
  size_t bytes_in_use = 0;     ///< bytes handed out to live blocks (rounded to the size class)
  size_t bytes_cached = 0;     ///< bytes kept on free lists for reuse
  size_t peak_bytes_in_use = 0;  ///< highest bytes_in_use seen, exact to within 256 KiB per thread
  uint64_t system_allocs = 0;  ///< calls that reached the system allocator
  uint64_t allocs = 0;         ///< all storage allocations, cached or not
};

/// A snapshot of the allocator's counters.
MemoryStats memory_stats();
/// Returns this thread's cached blocks to the system.
void empty_cache();

}  // namespace ad
