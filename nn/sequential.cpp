#include "nn/sequential.hpp"

#include <fmt/format.h>

#include <optional>
#include <typeinfo>

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

namespace {
// The fused activation for a module of exactly one of the built-in activation types (a user's
// subclass may override forward, so it is never fused).
std::optional<Act> fusable(const Module& m) {
  const std::type_info& t = typeid(m);
  if (t == typeid(Sigmoid)) return Act::sigmoid;
  if (t == typeid(ReLU)) return Act::relu;
  if (t == typeid(Tanh)) return Act::tanh;
  return std::nullopt;
}
}  // namespace

// A Linear followed by a built-in activation runs as one fused op (Linear::forward_act): the
// same values, one record instead of three and one pass fewer.
Tensor Sequential::forward(const Tensor& x) {
  Tensor a = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Module& layer = *layers_[i];
    if (i + 1 < layers_.size() && typeid(layer) == typeid(Linear)) {
      if (const std::optional<Act> act = fusable(*layers_[i + 1])) {
        a = static_cast<Linear&>(layer).forward_act(a, *act);
        ++i;
        continue;
      }
    }
    a = layer.forward(a);
  }
  return a;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Sigmoid: return "sigmoid";
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::LeakyReLU: return "leaky_relu";
    case Activation::Softmax: return "softmax";
    case Activation::Identity: return "identity";
  }
  return "?";
}

std::shared_ptr<Module> make_activation(Activation a) {
  switch (a) {
    case Activation::Sigmoid: return std::make_shared<Sigmoid>();
    case Activation::ReLU: return std::make_shared<ReLU>();
    case Activation::Tanh: return std::make_shared<Tanh>();
    case Activation::LeakyReLU: return std::make_shared<LeakyReLU>();
    case Activation::Softmax: return std::make_shared<Softmax>();
    case Activation::Identity: return std::make_shared<Identity>();
  }
  throw ValueError("make_activation: unknown Activation value");
}

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
