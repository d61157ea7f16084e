#include "nn/summary.hpp"

#include <fmt/format.h>

#include <ostream>
#include <vector>

namespace ad::nn {

namespace {

// The leaves of the module tree, in forward order.
void flatten(const Module& m, std::vector<const Module*>& out) {
  auto kids = m.children();
  if (kids.empty()) out.push_back(&m);
  for (const auto& k : kids) flatten(*k, out);
}

struct Row {
  const Linear* layer;
  std::string activation;
};

std::vector<Row> rows_of(const Module& model, std::string& leading) {
  std::vector<const Module*> leaves;
  flatten(model, leaves);
  std::vector<Row> rows;
  for (const Module* m : leaves) {
    if (const auto* lin = dynamic_cast<const Linear*>(m)) {
      rows.push_back({lin, ""});
    } else {
      std::string& act = rows.empty() ? leading : rows.back().activation;
      act += (act.empty() ? "" : ", ") + m->name();
    }
  }
  return rows;
}

}  // namespace

std::string summary(const Module& model, int64_t n0) {
  std::string leading;
  const std::vector<Row> rows = rows_of(model, leading);
  std::string s = fmt::format("{:<6} {:<22} {:<16} {:<16} {:<18} {:>10}\n", "layer", "W[l]: (n[l], n[l-1])",
                              "b[l]: (n[l], 1)", "A[l]: (n[l], m)", "g[l]", "parameters");
  s += fmt::format("{:<6} {:<22} {:<16} {:<16} {:<18} {:>10}\n", "0", "", "", fmt::format("X = A0: ({}, m)", n0),
                   leading, "");
  int64_t n_prev = n0, total = 0;
  for (const Row& r : rows) {
    const Linear& lin = *r.layer;
    const int l = lin.layer();
    if (lin.in_features() != n_prev)
      throw ShapeError(fmt::format("summary: layer {}: W{} is {} but A{} has {} rows; expected n[{}] = {}", l, l,
                                   lin.W.shape().str(), l - 1, n_prev, l - 1, lin.in_features()));
    const int64_t n = lin.out_features(), count = lin.W.numel() + lin.b.numel();
    s += fmt::format("{:<6} {:<22} {:<16} {:<16} {:<18} {:>10}\n", l, fmt::format("W{}: ({}, {})", l, n, n_prev),
                     fmt::format("b{}: ({}, 1)", l, n), fmt::format("A{}: ({}, m)", l, n), r.activation, count);
    total += count;
    n_prev = n;
  }
  s += fmt::format("L = {} layers, total parameters: {}\n", rows.size(), total);
  return s;
}

std::ostream& operator<<(std::ostream& os, const Sequential& model) {
  std::string leading;
  const std::vector<Row> rows = rows_of(model, leading);
  return os << summary(model, rows.empty() ? 0 : rows.front().layer->in_features());
}

}  // namespace ad::nn
