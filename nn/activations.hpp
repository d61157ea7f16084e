// Activation layers g[l] (elementwise, or over the class dim 0 for Softmax) and Dropout.
#pragma once

#include <optional>
#include <string>

#include "nn/module.hpp"

namespace ad::nn {

/// A layer applying one activation function g, A = g(Z) (ad::activate). forward() is final:
/// what activation() reports is what Sequential fuses, so it must be what forward() computes.
/// make_activation(g) builds one for any g; the classes below name the common ones.
class ActivationLayer : public Module {
 public:
  /// `slope` is LeakyReLU's slope for Z < 0 (unused by the others).
  explicit ActivationLayer(Activation g, double slope = 0.01) : g_(g), slope_(slope) {}
  /// A = g(Z) (ad::activate).
  Tensor forward(const Tensor& z) final { return activate(z, g_, slope_); }
  /// g.
  std::optional<Activation> activation() const final { return g_; }
  /// activation_name(g), with the slope for LeakyReLU: "leaky_relu(0.01)".
  std::string name() const override;

 protected:
  Activation g_;   ///< the activation
  double slope_;   ///< LeakyReLU's slope for Z < 0
};

/// The layer of one fixed activation g; the names below are what a network is built from.
template <Activation G>
class Activate : public ActivationLayer {
 public:
  /// The layer of G.
  Activate() : ActivationLayer(G) {}
};

/// σ(Z) = 1/(1+e^−Z): binary outputs.
using Sigmoid = Activate<Activation::Sigmoid>;
/// max(Z, 0): hidden layers of deep networks.
using ReLU = Activate<Activation::ReLU>;
/// tanh Z: zero-centred hidden layers.
using Tanh = Activate<Activation::Tanh>;
/// softmax over the classes (dim 0): every column of A[L] sums to 1.
using Softmax = Activate<Activation::Softmax>;
/// A[l] = Z[l]: logits for the fused costs.
using Identity = Activate<Activation::Identity>;

/// Z for Z > 0, slope·Z otherwise.
class LeakyReLU : public ActivationLayer {
 public:
  /// With `slope` for Z < 0.
  explicit LeakyReLU(double slope = 0.01) : ActivationLayer(Activation::LeakyReLU, slope) {}
  /// The slope for Z < 0.
  double slope() const { return slope_; }
};

/// Inverted dropout: in train() keeps each entry with probability keep_prob and divides the
/// kept ones by keep_prob (so the expected activation is unchanged and eval() needs no
/// rescaling); in eval() it is the identity. Masks come from this thread's generator.
class Dropout : public Module {
 public:
  /// keep_prob in (0, 1] (else ValueError); 1 keeps everything.
  explicit Dropout(double keep_prob = 0.5);
  Tensor forward(const Tensor& a) override;
  std::string name() const override;
  /// The probability of keeping an entry in train().
  double keep_prob() const { return keep_prob_; }

 private:
  double keep_prob_;
};

}  // namespace ad::nn
