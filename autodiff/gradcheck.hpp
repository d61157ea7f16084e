// gradcheck: backward against central finite differences, in float64.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad {

/// The outcome of a gradient check, with the worst entry found.
struct GradcheckResult {
  bool ok = true;          ///< every checked entry within tolerance
  size_t input = 0;        ///< which input held the worst entry
  int64_t index = -1;      ///< flat index of that entry (−1 for a random-projection check)
  double analytic = 0.0;   ///< what backward gave
  double numeric = 0.0;    ///< what finite differences gave
  double error = 0.0;      ///< |analytic − numeric| / (atol + rtol·|numeric|); ok when ≤ 1
  /// Same as ok, so `if (ad::gradcheck(f, xs))` reads naturally.
  explicit operator bool() const { return ok; }
  /// One line: passed or failed, and the worst entry with both values.
  std::string str() const;
};
/// Prints r.str().
std::ostream& operator<<(std::ostream& os, const GradcheckResult& r);

/// Step and tolerances of ad::gradcheck.
struct GradcheckOptions {
  double eps = 1e-6;   ///< the finite-difference step: (f(x + eps) − f(x − eps)) / 2eps
  double atol = 1e-5;  ///< absolute tolerance
  double rtol = 1e-3;  ///< relative tolerance, against |numeric|
  /// Inputs with more entries than this are checked along random directions instead.
  int64_t max_entries = 4096;
  int directions = 8;  ///< how many random directions such an input is checked along
};

/// Checks d f(inputs) / d inputs[i] for every input that requires grad. f may return a
/// non-scalar; it is then contracted with fixed random weights. Inputs are converted to float64.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace ad
