// summary(): a network's layers as a table in the notation (W[l]: (n[l], n[l-1]), …).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "nn/module.hpp"
#include "nn/sequential.hpp"

namespace ad::nn {

/// One row per dense layer l: W[l]: (n[l], n[l-1]), b[l]: (n[l], 1), A[l]: (n[l], m), the
/// activation g[l] (and dropout) that follows, its parameter count; then the total. Throws
/// ShapeError (in the forward pass's words) when consecutive layers do not fit n0.
std::string summary(const Module& model, int64_t n0);

/// summary(model, n[0] of its first Linear layer).
std::ostream& operator<<(std::ostream& os, const Sequential& model);

}  // namespace ad::nn
