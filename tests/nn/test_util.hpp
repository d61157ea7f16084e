// Helpers shared by the nn tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <autodiff/autodiff.hpp>

namespace nn_test {

/// Every entry of `got` within `tol` of `want`, with the index in the failure message.
inline void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "entry " << i;
}

/// Runs f, expecting an exception of type E whose message contains every piece of `parts`.
template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception thrown; expected one mentioning '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

/// A float64 leaf that requires grad.
inline ad::Tensor leaf64(const std::vector<double>& v, const ad::Shape& s) {
  return ad::tensor(v, s, ad::DType::f64).requires_grad_();
}

}  // namespace nn_test
