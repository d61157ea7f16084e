#include "dist/detail/agreement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "dist/detail/worker.hpp"

namespace ad::dist::detail {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string item(const std::vector<std::string>& lines, size_t i) {
  return i < lines.size() ? lines[i] : fmt::format("nothing more ({} in all)", lines.size());
}

}  // namespace

void require_same(Worker& worker, const std::vector<std::string>& lines, const std::string& what,
                  const std::string& advice) {
  std::string mine;
  for (const std::string& line : lines) mine += line + '\n';
  std::vector<std::string> all;
  worker.run([&](Communicator& c) { all = c.all_gather(mine); });
  if (std::all_of(all.begin(), all.end(), [&](const std::string& s) { return s == all[0]; })) return;
  std::vector<std::vector<std::string>> per_rank;
  size_t longest = 0;
  for (const std::string& text : all) per_rank.push_back(split_lines(text)), longest = std::max(longest, per_rank.back().size());
  for (size_t i = 0; i < longest; ++i)
    for (size_t r = 1; r < per_rank.size(); ++r)
      if (item(per_rank[r], i) != item(per_rank[0], i))
        throw MismatchError(fmt::format("{}: rank 0 has {}, but rank {} has {}. {}", what, item(per_rank[0], i), r,
                                        item(per_rank[r], i), advice));
}

}  // namespace ad::dist::detail
