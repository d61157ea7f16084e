#include "nn/activations.hpp"

#include <fmt/format.h>

namespace ad::nn {

std::string ActivationLayer::name() const {
  if (g_ == Activation::LeakyReLU) return fmt::format("leaky_relu({:g})", slope_);
  return activation_name(g_);
}

Dropout::Dropout(double keep_prob) : keep_prob_(keep_prob) {
  if (!(keep_prob > 0.0 && keep_prob <= 1.0))
    throw ValueError(fmt::format("Dropout: keep_prob is {}; it must be in (0, 1]", keep_prob));
}

std::string Dropout::name() const { return fmt::format("dropout(keep {:g})", keep_prob_); }

Tensor Dropout::forward(const Tensor& a) {
  if (!is_training() || keep_prob_ == 1.0) return a;
  // D = [U < keep_prob] / keep_prob, a constant: the gradient flows through the kept units only.
  Tensor mask = lt(rand(a.shape(), a.dtype()), keep_prob_);
  mask.mul_(1.0 / keep_prob_);
  return a * mask;
}

}  // namespace ad::nn
