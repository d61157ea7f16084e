// save/load of modules and optimizer state on top of the safetensors reader and writer. A load
// checks the whole file against the module (and the optimizer) and reads every value it needs
// before it writes anything, so a failed load leaves both as they were.
#include "nn/serialize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "autodiff/autodiff.hpp"
#include "nn/detail/safetensors.hpp"

namespace ad::nn {

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;
using detail::SafetensorsIndex;

std::string dtype_tag(DType d) { return d == DType::f32 ? "F32" : d == DType::f64 ? "F64" : "I64"; }

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

// At most the first ten names, for messages about files of a million entries.
std::string some_names(const SafetensorsIndex& file) {
  std::string out;
  size_t shown = 0;
  for (const auto& e : file.entries()) {
    if (shown++ == 10) return out + fmt::format(", … ({} tensors in all)", file.entries().size());
    out += (out.empty() ? "" : ", ") + e.name;
  }
  return out.empty() ? "nothing" : out;
}

// Checks that `file` holds `want[i].second`'s dtype and shape under every name.
void check_all(const std::string& path, const SafetensorsIndex& file, const Named& want, const std::string& what) {
  for (const auto& [name, t] : want) {
    const detail::SafetensorsEntry* got = file.find(name);
    if (!got)
      throw ValueError(fmt::format("load '{}': no tensor '{}' for the {} (the file has: {})", path, name, what,
                                   some_names(file)));
    if (got->dtype != t.dtype())
      throw ValueError(fmt::format("load '{}': tensor '{}' is {} in the file but the {} has {} ({})", path, name,
                                   dtype_tag(got->dtype), what, dtype_tag(t.dtype()), dtype_name(t.dtype())));
    if (!(got->shape == t.shape()))
      throw ValueError(fmt::format("load '{}': tensor '{}' is {} in the file but {} in the {}", path, name,
                                   got->shape.str(), t.shape().str(), what));
  }
}

// An optimizer's state in a checkpoint: "<optimizer>.<slot>.<parameter>", where the metadata
// holds "<optimizer>.steps" and <parameter> is one of the module's. A plain load skips these.
bool is_optimizer_state(const SafetensorsIndex& file, const std::string& name, const Named& params) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || !file.metadata().count(name.substr(0, dot) + ".steps")) return false;
  const size_t slot_end = name.find('.', dot + 1);
  if (slot_end == std::string::npos) return false;
  const std::string param = name.substr(slot_end + 1);
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == param; });
}

// Every tensor of the file is one the load expects (or, for a plain load, optimizer state).
void check_no_strangers(const std::string& path, const SafetensorsIndex& file, const Named& params,
                        const Named& state, bool skip_optimizer_state) {
  size_t strangers = 0;
  const std::string* first = nullptr;
  auto expected = [](const Named& n, const std::string& name) {
    return std::any_of(n.begin(), n.end(), [&](const auto& p) { return p.first == name; });
  };
  for (const auto& e : file.entries()) {
    if (expected(params, e.name) || expected(state, e.name)) continue;
    if (skip_optimizer_state && is_optimizer_state(file, e.name, params)) continue;
    if (strangers++ == 0) first = &e.name;
  }
  if (strangers == 0) return;
  std::string names;
  for (const auto& [n, t] : params) names += (names.empty() ? "" : ", ") + n;
  throw ValueError(fmt::format("load '{}': the file has {} tensor{} the {} does not have, the first '{}' (it has: {})",
                               path, strangers, strangers == 1 ? "" : "s",
                               state.empty() ? "module" : "module and optimizer", *first, names));
}

// Every value the load writes, read into new tensors first: a read that fails changes nothing.
std::vector<Tensor> read_all(const SafetensorsIndex& file, const Named& want) {
  std::vector<Tensor> values;
  for (const auto& [name, t] : want) values.push_back(file.read(*file.find(name)));
  return values;
}

void copy_all(Named& dst, const std::vector<Tensor>& values) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < dst.size(); ++i) dst[i].second.copy_(values[i]);
}

const std::string& metadata(const std::string& path, const SafetensorsIndex& file, const std::string& key,
                            const std::string& kind) {
  auto it = file.metadata().find(key);
  if (it == file.metadata().end())
    throw ValueError(fmt::format("load '{}': no metadata '{}' (was it saved with a {} optimizer?)", path, key, kind));
  return it->second;
}

int64_t parse_steps(const std::string& path, const std::string& key, const std::string& text) {
  int64_t t = -1;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
  if (ec != std::errc() || p != text.data() + text.size() || t < 0)
    throw ValueError(fmt::format("load '{}': metadata '{}' = '{}' is not a step count", path, key, text));
  return t;
}

double parse_learning_rate(const std::string& path, const std::string& key, const std::string& text) {
  double lr = std::nan("");
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), lr);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(lr) || lr < 0)
    throw ValueError(fmt::format("load '{}': metadata '{}' = '{}' is not a learning rate (a finite number ≥ 0)", path,
                                 key, text));
  return lr;
}

}  // namespace

void save(Module& module, const std::string& path) { write_safetensors(path, module.named_parameters()); }

void load(Module& module, const std::string& path) {
  detail::with_memory_errors(fmt::format("load '{}'", path), "load it", [&] {
    const SafetensorsIndex file(path);
    Named params = module.named_parameters();
    check_all(path, file, params, "module");
    check_no_strangers(path, file, params, {}, true);
    copy_all(params, read_all(file, params));
  });
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
  detail::with_memory_errors(fmt::format("load '{}'", path), "load it", [&] {
    const SafetensorsIndex file(path);
    Named params = module.named_parameters();
    Named state = optimizer_entries(module, optimizer, "load");
    check_all(path, file, params, "module");
    check_all(path, file, state, optimizer.name() + " state");
    check_no_strangers(path, file, params, state, false);
    const std::string steps_key = optimizer.name() + ".steps", lr_key = optimizer.name() + ".lr";
    const int64_t steps = parse_steps(path, steps_key, metadata(path, file, steps_key, optimizer.name()));
    const double lr = file.metadata().count(lr_key) ? parse_learning_rate(path, lr_key, file.metadata().at(lr_key))
                                                     : optimizer.learning_rate();
    const std::vector<Tensor> param_values = read_all(file, params), state_values = read_all(file, state);
    copy_all(params, param_values);
    copy_all(state, state_values);
    optimizer.set_steps(steps);
    optimizer.set_learning_rate(lr);
  });
}

}  // namespace ad::nn
