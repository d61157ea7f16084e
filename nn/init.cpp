#include "nn/init.hpp"

#include <cmath>

#include "autodiff/autodiff.hpp"

namespace ad::nn {

const char* init_name(Init init) {
  switch (init) {
    case Init::He: return "He";
    case Init::Xavier: return "Xavier";
    case Init::Small: return "Small";
    case Init::Zeros: return "Zeros";
  }
  return "?";
}

Tensor initial_weight(int64_t n, int64_t n_prev, Init init, DType dtype) {
  if (n <= 0 || n_prev <= 0)
    throw ValueError("initial_weight: W is (" + std::to_string(n) + ", " + std::to_string(n_prev) +
                     "); both sizes must be positive");
  NoGradGuard no_grad;
  double scale = 0.0;
  switch (init) {
    case Init::He: scale = std::sqrt(2.0 / static_cast<double>(n_prev)); break;
    case Init::Xavier: scale = std::sqrt(2.0 / static_cast<double>(n_prev + n)); break;
    case Init::Small: scale = 0.01; break;
    case Init::Zeros: return zeros({n, n_prev}, dtype);
  }
  Tensor w = randn({n, n_prev}, dtype);
  w.mul_(scale);
  return w;
}

}  // namespace ad::nn
