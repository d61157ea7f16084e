// Counts allocations in the benchmark binary, summed over all threads: heap allocations (every
// global operator new, which alloc_count.cpp replaces, and every block the caching allocator
// takes from the system), and the storage blocks the caching allocator hands out from its
// free lists without reaching the system.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace bench {

/// Heap allocations so far: operator new calls plus the caching allocator's system allocations.
uint64_t heap_allocations();
/// Storage blocks the caching allocator has handed out so far, cached or not.
uint64_t storage_blocks();

/// Times `step` after one untimed call (a compiled step records then; an eager one fills the
/// allocator's caches) and reports the timed steps' allocations per step as the counters
/// heap_allocs and storage_blocks.
template <class Step>
void time_steps(benchmark::State& state, Step&& step) {
  step();
  const uint64_t heap = heap_allocations(), blocks = storage_blocks();
  for (auto _ : state) step();
  const double n = static_cast<double>(state.iterations());
  state.counters["heap_allocs"] = static_cast<double>(heap_allocations() - heap) / n;
  state.counters["storage_blocks"] = static_cast<double>(storage_blocks() - blocks) / n;
}

}  // namespace bench
