// Activation modules g[l] (elementwise, or over the class dim 0 for Softmax) and Dropout.
#pragma once

#include <string>

#include "nn/module.hpp"

namespace ad::nn {

/// σ(Z) = 1/(1+e^−Z): binary outputs.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& z) override { return sigmoid(z); }
  std::string name() const override { return "sigmoid"; }
};

/// max(Z, 0): hidden layers of deep networks.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& z) override { return relu(z); }
  std::string name() const override { return "relu"; }
};

/// tanh(Z): zero-centred hidden layers of shallow networks.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& z) override { return tanh(z); }
  std::string name() const override { return "tanh"; }
};

/// Z for Z > 0, slope·Z otherwise.
class LeakyReLU : public Module {
 public:
  /// The slope for Z ≤ 0.
  explicit LeakyReLU(double slope = 0.01) : slope_(slope) {}
  Tensor forward(const Tensor& z) override { return leaky_relu(z, slope_); }
  std::string name() const override;
  /// The slope for Z ≤ 0.
  double slope() const { return slope_; }

 private:
  double slope_;
};

/// softmax over the classes (dim 0): every column of A[L] sums to 1.
class Softmax : public Module {
 public:
  Tensor forward(const Tensor& z) override { return softmax(z, 0); }
  std::string name() const override { return "softmax"; }
};

/// A[l] = Z[l]: logits for the fused costs.
class Identity : public Module {
 public:
  Tensor forward(const Tensor& z) override { return z; }
  std::string name() const override { return "identity"; }
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
