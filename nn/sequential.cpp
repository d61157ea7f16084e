#include "nn/sequential.hpp"

#include <fmt/format.h>

#include <optional>

#include "nn/activations.hpp"

namespace ad::nn {

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  if (!module) throw UsageError("Sequential::add: the module is null");
  if (module.get() == this) throw UsageError("Sequential::add: a Sequential cannot contain itself");
  layers_.push_back(std::move(module));
  int layer = 0;
  number_layers(layer);  // W1, b1, … over every dense layer, nested containers included
  return *this;
}

// A Linear followed by a layer whose activation is fusable runs as one fused op
// (Linear::forward_act): the same values, one record instead of three and one pass fewer.
// Both modules' forward() are final, so what they report is what they compute.
Tensor Sequential::forward(const Tensor& x) {
  Tensor a = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Module& layer = *layers_[i];
    auto* linear = dynamic_cast<Linear*>(&layer);
    const std::optional<Activation> next = i + 1 < layers_.size() ? layers_[i + 1]->activation() : std::nullopt;
    if (linear && next && is_fusable(*next)) {
      a = linear->forward_act(a, *next);
      ++i;
      continue;
    }
    a = layer.forward(a);
  }
  return a;
}

std::shared_ptr<Module> make_activation(Activation a) { return std::make_shared<ActivationLayer>(a); }

Init default_init(Activation hidden) {
  return hidden == Activation::ReLU || hidden == Activation::LeakyReLU ? Init::He : Init::Xavier;
}

Sequential mlp(const std::vector<int64_t>& layer_dims, Activation hidden, Activation output) {
  return mlp(layer_dims, hidden, output, default_init(hidden));
}

Sequential mlp(const std::vector<int64_t>& layer_dims, Activation hidden, Activation output, Init init,
               DType dtype) {
  if (layer_dims.size() < 2)
    throw ValueError(fmt::format("mlp: layer_dims has {} entries; it needs n[0] and at least one layer, [n0, …, nL]",
                                 layer_dims.size()));
  for (size_t l = 0; l < layer_dims.size(); ++l)
    if (layer_dims[l] <= 0) throw ValueError(fmt::format("mlp: n[{}] = {}; every layer size must be positive", l, layer_dims[l]));
  Sequential net;
  const size_t L = layer_dims.size() - 1;
  for (size_t l = 1; l <= L; ++l) {
    net.add(Linear(layer_dims[l - 1], layer_dims[l], init, dtype));
    net.add(make_activation(l < L ? hidden : output));
  }
  return net;
}

}  // namespace ad::nn
