// Internal: checking that every rank passed the same thing, before values are exchanged.
#pragma once

#include <string>
#include <vector>

namespace ad::dist::detail {

class Worker;

/// Gathers every rank's `lines` (a description of what it passed, one item per line) and, when
/// some rank differs from rank 0, throws MismatchError on every rank with the same message:
/// `what`, then the first differing item on rank 0 and on the lowest such rank, then `advice`.
void require_same(Worker& worker, const std::vector<std::string>& lines, const std::string& what,
                  const std::string& advice);

}  // namespace ad::dist::detail
