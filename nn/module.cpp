#include "nn/module.hpp"

namespace ad::nn {

void Module::visit_parameters(const ParameterVisitor& visit) {
  for (const auto& child : children()) child->visit_parameters(visit);
}

void Module::number_layers(int& layer) {
  for (const auto& child : children()) child->number_layers(layer);
}

std::vector<Tensor> Module::parameters() {
  std::vector<Tensor> out;
  visit_parameters([&](const std::string&, Tensor& p) { out.push_back(p); });
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() {
  std::vector<std::pair<std::string, Tensor>> out;
  visit_parameters([&](const std::string& name, Tensor& p) { out.emplace_back(name, p); });
  return out;
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  visit_parameters([&](const std::string&, Tensor& p) { n += p.numel(); });
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& child : children()) child->train(on);
}

void Module::zero_grad() {
  visit_parameters([](const std::string&, Tensor& p) { p.zero_grad(); });
}

Module& Module::to(DType dtype) {
  NoGradGuard no_grad;  // the converted copies are new leaves, not recorded conversions
  visit_parameters([dtype](const std::string&, Tensor& p) {
    if (p.dtype() == dtype) return;
    const bool trainable = p.requires_grad();
    p = p.detach().to(dtype);
    p.requires_grad_(trainable);
  });
  return *this;
}

}  // namespace ad::nn
