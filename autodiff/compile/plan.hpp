// Internal: the memory plan of a trace's intermediate buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ad::detail {

/// A buffer's life in a trace: the first and the last step that touch it (inclusive).
struct Lifetime {
  int64_t first = 0, last = 0;
  size_t bytes = 0;
};

/// Offsets in one arena such that buffers whose lifetimes overlap never overlap in memory;
/// every offset is a multiple of 64. Greedy by size (TFLite's arena planner): the largest
/// buffer first, each into the smallest gap left by the already placed buffers that live at the
/// same time as it. Returns the arena's size.
size_t plan_arena(std::span<const Lifetime> buffers, std::vector<size_t>& offsets);

}  // namespace ad::detail
