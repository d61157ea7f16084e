// Linear: the dense layer Z[l] = W[l] · A[l-1] + b[l].
#pragma once

#include <cstdint>
#include <string>

#include "nn/init.hpp"
#include "nn/module.hpp"

namespace ad::nn {

/// The dense layer l: W[l] (n[l], n[l-1]) and b[l] (n[l], 1), numbered by its network so its
/// parameters are named W1, b1, W2, b2, …
class Linear : public Module {
 public:
  /// W is (n, n_prev) from `init`, b is (n, 1) of zeros; both require grad.
  Linear(int64_t n_prev, int64_t n, Init init = Init::Xavier, DType dtype = DType::f32);

  /// W · A_prev + b for A_prev of shape (n_prev, m); b broadcasts over the m columns.
  /// Throws ShapeError in the notation ("layer 2: W2 is (1, 4) but A1 has 3 rows; …"). Final,
  /// so that Sequential may fuse it with the activation after it.
  Tensor forward(const Tensor& A_prev) final;
  /// g(W · A_prev + b) as one recorded op (ad::linear: the bias-add fused into the activation's
  /// pass) for a fusable g: the same values as forward() followed by g, one record instead of
  /// three. Sequential uses it where a Linear is followed by a fusable activation.
  Tensor forward_act(const Tensor& A_prev, Activation g);
  std::string name() const override { return "Linear"; }
  void visit_parameters(const ParameterVisitor& visit) override;
  void number_layers(int& layer) override { layer_ = ++layer; }

  /// Redraws W from `init` and zeroes b, in place (the handles stay the same).
  void reset_parameters(Init init);
  /// l, this layer's number in its network (1 when standalone).
  int layer() const { return layer_; }
  /// n[l-1], the rows of A[l-1].
  int64_t in_features() const { return W.size(1); }
  /// n[l], the units of this layer.
  int64_t out_features() const { return W.size(0); }

  Tensor W;  ///< W[l]: (n[l], n[l-1])
  Tensor b;  ///< b[l]: (n[l], 1)

 private:
  int layer_ = 1;
};

}  // namespace ad::nn
