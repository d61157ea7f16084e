// Sequential: layers applied in order, A[l] = layer(A[l-1]); and mlp(), the L-layer network from
// its layer sizes [n0, n1, …, nL].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"

namespace ad::nn {

/// Layers numbered l = 1, 2, … over every Linear inside, nested Sequentials included (fill a
/// nested Sequential before adding it: its numbers are fixed when the outer one grows).
class Sequential : public Module {
 public:
  Sequential() = default;

  /// Appends a module (moved in) and returns *this, so calls chain:
  /// net.add(Linear(2, 4)).add(Tanh()).add(Linear(4, 1)).add(Sigmoid()).
  template <class M, class = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  Sequential& add(M&& module) {
    return add(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  /// Appends a shared module (a module added to two networks shares its parameters).
  Sequential& add(std::shared_ptr<Module> module);

  /// Runs every layer in order on X = A[0].
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }
  std::vector<std::shared_ptr<Module>> children() const override { return layers_; }

  /// The number of modules added (layers and activations alike).
  size_t size() const { return layers_.size(); }
  /// The i-th module (0-based), as added.
  Module& operator[](size_t i) const { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

/// A layer computing activation `a` (LeakyReLU with slope 0.01).
std::shared_ptr<Module> make_activation(Activation a);
/// He for ReLU-family hidden layers, Xavier otherwise (the usual pairing).
Init default_init(Activation hidden);

/// The L-layer network: Linear(n[l-1], n[l]) then `hidden` for l < L, `output` after the
/// last layer. layer_dims = {n0, n1, …, nL} with L ≥ 1.
Sequential mlp(const std::vector<int64_t>& layer_dims, Activation hidden, Activation output);
/// The same with an explicit initializer for every layer.
Sequential mlp(const std::vector<int64_t>& layer_dims, Activation hidden, Activation output, Init init,
               DType dtype = DType::f32);

}  // namespace ad::nn
