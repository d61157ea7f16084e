#include "autodiff/compile/plan.hpp"

#include <algorithm>
#include <numeric>

namespace ad::detail {
namespace {

constexpr size_t kAlign = 64;
size_t rounded(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

bool overlap(const Lifetime& a, const Lifetime& b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

size_t plan_arena(std::span<const Lifetime> buffers, std::vector<size_t>& offsets) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });
  offsets.assign(buffers.size(), 0);
  std::vector<size_t> placed;  // indices into buffers, kept sorted by offset
  size_t total = 0;
  for (size_t i : order) {
    const size_t need = rounded(buffers[i].bytes);
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, at = 0;
    for (size_t j : placed) {  // gaps between the placed buffers that live at the same time
      if (!overlap(buffers[i], buffers[j])) continue;
      if (offsets[j] >= at + need && offsets[j] - at < best_gap) {
        best = at;
        best_gap = offsets[j] - at;
      }
      at = std::max(at, offsets[j] + rounded(buffers[j].bytes));
    }
    offsets[i] = best != SIZE_MAX ? best : at;
    total = std::max(total, offsets[i] + need);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), i,
                                   [&](size_t a, size_t b) { return offsets[a] < offsets[b]; }),
                  i);
  }
  return total;
}

}  // namespace ad::detail
