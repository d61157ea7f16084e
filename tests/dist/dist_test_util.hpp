// Helpers of the multi-rank tests. Each test binary runs under mpirun (1, 2 and 4 ranks): every
// rank runs every test, in the same order, so their collectives match. Assertions that would
// leave a test early on one rank only come after the test's last collective.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <dist/dist.hpp>
#include <fmt/format.h>
#include <nn/nn.hpp>
#include <string>
#include <vector>

namespace dist_test {

/// This process's rank and the number of ranks, from the test's dist::Context.
inline int rank() { return ad::dist::Context::current().rank(); }
inline int ranks() { return ad::dist::Context::current().size(); }

/// A network's recipe for the equivalence runs.
struct Recipe {
  std::vector<int64_t> dims;
  ad::nn::Activation hidden, output;
  bool adam;  // Adam at lr 1e-3; otherwise plain gradient descent at lr 0.5
  ad::DType dtype;
  int64_t m, batch;  // data set and global batch
  int steps = 20;
};

/// max over parameters of max_i |a_i − b_i| / max_i |b_i|: the difference relative to each
/// tensor's largest entry (entries near zero would make an entry-wise ratio meaningless).
inline double max_relative_difference(const std::vector<ad::Tensor>& a, const std::vector<ad::Tensor>& b) {
  double worst = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    const std::vector<double> x = a[p].to_vector(), y = b[p].to_vector();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::fabs(x[i] - y[i])), scale = std::max(scale, std::fabs(y[i]));
    worst = std::max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

/// max over parameters of ‖a − b‖₂ / ‖b‖₂. Unlike max_relative_difference it does not hang on
/// one entry: Adam divides each gradient by its own running size, so an entry whose gradient
/// cancels almost to nothing can move by a float32 rounding's worth of a whole step when the
/// sum is taken in another order (over ranks instead of in one product), as it also moves away
/// from a float64 run in one process.
inline double max_normwise_difference(const std::vector<ad::Tensor>& a, const std::vector<ad::Tensor>& b) {
  double worst = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    const std::vector<double> x = a[p].to_vector(), y = b[p].to_vector();
    double diff = 0, norm = 0;
    for (size_t i = 0; i < x.size(); ++i) diff += (x[i] - y[i]) * (x[i] - y[i]), norm += y[i] * y[i];
    worst = std::max(worst, norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff));
  }
  return worst;
}

/// Bit-for-bit equality of two parameter lists.
inline bool identical(const std::vector<ad::Tensor>& a, const std::vector<ad::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t p = 0; p < a.size(); ++p)
    if (a[p].to_vector() != b[p].to_vector()) return false;
  return true;
}

/// Copies of the parameters' values.
inline std::vector<ad::Tensor> snapshot(ad::nn::Module& net) {
  std::vector<ad::Tensor> out;
  for (const ad::Tensor& p : net.parameters()) out.push_back(p.detach().clone());
  return out;
}

/// The mismatch (or any) error's message on every rank, for tests that expect the same text.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

/// Runs f, expecting an exception of type E whose message contains `part`.
template <class E, class F>
void expect_error(F&& f, const std::string& part) {
  const std::string msg = message_of<E>(std::forward<F>(f));
  EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
}

}  // namespace dist_test
