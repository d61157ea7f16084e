// save/load of modules and optimizer state on top of the safetensors reader and writer.
#include "nn/serialize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "autodiff/autodiff.hpp"

namespace ad::nn {

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;

std::string dtype_tag(DType d) { return d == DType::f32 ? "F32" : "F64"; }

// The module's name for every optimizer parameter (matched by identity, not by value).
std::vector<std::string> optimizer_param_names(Module& module, const optim::Optimizer& opt, const char* who) {
  const Named named = module.named_parameters();
  std::vector<std::string> out;
  for (size_t i = 0; i < opt.params().size(); ++i) {
    const Tensor& p = opt.params()[i];
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& n) { return n.second.is_same(p); });
    if (it == named.end())
      throw UsageError(fmt::format("{}: {} parameter {} {} is not a parameter of the module (was the optimizer made "
                                   "before Module::to()?)",
                                   who, opt.name(), i, p.shape().str()));
    out.push_back(it->first);
  }
  return out;
}

Named optimizer_entries(Module& module, const optim::Optimizer& opt, const char* who) {
  const auto names = optimizer_param_names(module, opt, who);
  Named out;
  for (const auto& e : opt.state())
    out.emplace_back(fmt::format("{}.{}.{}", opt.name(), e.slot, names[e.param]), e.value);
  return out;
}

// Checks that `file` holds `want[i].second`'s dtype and shape under every name.
void check_all(const std::string& path, const SafetensorsFile& file, const Named& want, const std::string& what) {
  for (const auto& [name, t] : want) {
    const Tensor got = file.find(name);
    if (!got.defined()) {
      std::string have;
      for (const auto& [n, x] : file.tensors) have += (have.empty() ? "" : ", ") + n;
      throw ValueError(fmt::format("load '{}': no tensor '{}' for the {} (the file has: {})", path, name, what,
                                   have.empty() ? "nothing" : have));
    }
    if (got.dtype() != t.dtype())
      throw ValueError(fmt::format("load '{}': tensor '{}' is {} in the file but the {} has {} ({})", path, name,
                                   dtype_tag(got.dtype()), what, dtype_tag(t.dtype()), dtype_name(t.dtype())));
    if (!(got.shape() == t.shape()))
      throw ValueError(fmt::format("load '{}': tensor '{}' is {} in the file but {} in the {}", path, name,
                                   got.shape().str(), t.shape().str(), what));
  }
}

void copy_all(const SafetensorsFile& file, Named& want) {
  NoGradGuard no_grad;
  for (auto& [name, t] : want) t.copy_(file.find(name));
}

int64_t parse_steps(const std::string& path, const std::string& key, const std::string& text) {
  int64_t t = -1;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
  if (ec != std::errc() || p != text.data() + text.size() || t < 0)
    throw ValueError(fmt::format("load '{}': metadata '{}' = '{}' is not a step count", path, key, text));
  return t;
}

}  // namespace

void save(Module& module, const std::string& path) { write_safetensors(path, module.named_parameters()); }

void load(Module& module, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  Named params = module.named_parameters();
  check_all(path, file, params, "module");
  copy_all(file, params);
}

void save(Module& module, const optim::Optimizer& optimizer, const std::string& path) {
  Named all = module.named_parameters();
  const Named state = optimizer_entries(module, optimizer, "save");
  all.insert(all.end(), state.begin(), state.end());
  const std::map<std::string, std::string> meta{{optimizer.name() + ".steps", std::to_string(optimizer.steps())},
                                                {optimizer.name() + ".lr", fmt::format("{}", optimizer.learning_rate())}};
  write_safetensors(path, all, meta);
}

void load(Module& module, optim::Optimizer& optimizer, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  Named params = module.named_parameters();
  Named state = optimizer_entries(module, optimizer, "load");
  check_all(path, file, params, "module");
  check_all(path, file, state, optimizer.name() + " state");
  const std::string key = optimizer.name() + ".steps";
  auto it = file.metadata.find(key);
  if (it == file.metadata.end())
    throw ValueError(fmt::format("load '{}': no metadata '{}' (was it saved with a {} optimizer?)", path, key,
                                 optimizer.name()));
  const int64_t steps = parse_steps(path, key, it->second);
  copy_all(file, params);
  copy_all(file, state);
  optimizer.set_steps(steps);
  auto lr = file.metadata.find(optimizer.name() + ".lr");
  if (lr != file.metadata.end()) optimizer.set_learning_rate(std::strtod(lr->second.c_str(), nullptr));
}

}  // namespace ad::nn
