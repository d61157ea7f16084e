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
  bool ok = true;
  size_t input = 0;        ///< which input held the worst entry
  int64_t index = -1;      ///< flat index of that entry (−1 for a random-projection check)
  double analytic = 0.0;   ///< what backward gave
  double numeric = 0.0;    ///< what finite differences gave
  double error = 0.0;      ///< |analytic − numeric| / (atol + rtol·|numeric|); ok when ≤ 1
  explicit operator bool() const { return ok; }
  std::string str() const;
};
std::ostream& operator<<(std::ostream& os, const GradcheckResult& r);

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  /// Inputs with more entries than this are checked along random directions instead.
  int64_t max_entries = 4096;
  int directions = 8;
};

/// Checks d f(inputs) / d inputs[i] for every input that requires grad. f may return a
/// non-scalar; it is then contracted with fixed random weights. Inputs are converted to float64.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace ad
