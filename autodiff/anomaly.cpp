// Anomaly detection: the switch, the scans, and messages that point at the op to fix.
#include "autodiff/anomaly.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <string>

#include "autodiff/engine/access.hpp"
#include "autodiff/engine/anomaly_hooks.hpp"
#include "autodiff/engine/node.hpp"

namespace ad {
namespace detail {
std::atomic<int> g_anomaly_users{0};
}  // namespace detail

namespace {

std::atomic<bool> g_global{false};
thread_local int t_mode = -1;  // -1: follow the global switch; else this thread's guard

// The last few ops seen on this thread, oldest first when read back: the "where" of a message.
struct History {
  static constexpr size_t kSize = 6;
  struct Entry {
    const char* name = "";
    uint64_t seq = 0;
  };
  std::array<Entry, kSize> ring{};
  size_t count = 0;

  void note(const char* name, uint64_t seq) {
    if (count > 0) {
      const Entry& last = ring[(count - 1) % kSize];
      if (last.seq == seq && last.name == name) return;  // one backward rule adds several inputs
    }
    ring[count++ % kSize] = {name, seq};
  }
  // The entries before the newest one (which is the op being reported).
  std::string before_last() const {
    std::string out;
    const size_t n = count > 0 ? count - 1 : 0;
    for (size_t k = n > kSize - 1 ? n - (kSize - 1) : 0; k < n; ++k)
      out += fmt::format("{}#{} {}", out.empty() ? "" : ", ", ring[k % kSize].seq, ring[k % kSize].name);
    return out.empty() ? "none" : out;
  }
};
thread_local History t_forward, t_backward;

struct BadValue {
  int64_t index = -1;  // row-major; -1 when every value is finite
  double value = 0.0;
};

template <class T>
BadValue scan(const T* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return {i, static_cast<double>(p[i])};
  return {};
}

BadValue first_nonfinite(const Tensor& t) {
  if (t.numel() == 0) return {};
  return t.dtype() == DType::f32 ? scan(static_cast<const float*>(detail::impl_of(t)->data()), t.numel())
                                 : scan(static_cast<const double*>(detail::impl_of(t)->data()), t.numel());
}

// "NaN at [1, 2]": the value and its multi-index in `shape`.
std::string describe(const BadValue& b, const Shape& shape) {
  std::string idx;
  int64_t rest = b.index;
  for (size_t d = shape.size(); d-- > 0;) {
    idx = fmt::format("{}{}", rest % shape[d], idx.empty() ? "" : ", " + idx);
    rest /= shape[d];
  }
  const char* what = std::isnan(b.value) ? "NaN" : b.value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{} at [{}]", what, idx);
}

std::string origin(const detail::Node* producer, bool leaf) {
  if (producer) return fmt::format("from op #{} '{}'", producer->seq, producer->name);
  return leaf ? "a leaf that requires grad" : "a constant (no grad)";
}

std::string describe_inputs(const Tensor* const* inputs, size_t n, bool& any_bad) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& in = *inputs[i];
    out += fmt::format("\n  input {}: ", i);
    if (!in.defined()) {
      out += "undefined";
      continue;
    }
    out += fmt::format("{} {}, {}", in.shape().str(), dtype_name(in.dtype()),
                       origin(detail::impl_of(in)->grad_fn.get(), in.requires_grad()));
    const BadValue b = first_nonfinite(in);
    if (b.index < 0) continue;
    out += fmt::format(" — already holds {}", describe(b, in.shape()));
    any_bad = true;
  }
  return out;
}

}  // namespace

void set_detect_anomaly(bool enabled) {
  if (g_global.exchange(enabled) != enabled) detail::g_anomaly_users.fetch_add(enabled ? 1 : -1);
}

bool is_anomaly_enabled() { return t_mode >= 0 ? t_mode == 1 : g_global.load(std::memory_order_relaxed); }

DetectAnomalyGuard::DetectAnomalyGuard(bool enabled) : prev_(t_mode), counted_(enabled) {
  t_mode = enabled ? 1 : 0;
  if (counted_) detail::g_anomaly_users.fetch_add(1);
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
  t_mode = prev_;
  if (counted_) detail::g_anomaly_users.fetch_sub(1);
}

namespace detail {

void anomaly_check_output(const Node& node, const Tensor* const* inputs, size_t n_inputs, const Tensor& output) {
  if (!is_anomaly_enabled()) return;
  t_forward.note(node.name, node.seq);
  const BadValue b = first_nonfinite(output);
  if (b.index < 0) return;
  bool inherited = false;
  const std::string ins = describe_inputs(inputs, n_inputs, inherited);
  throw AnomalyError(fmt::format(
      "anomaly: '{}' (op #{} on this thread's tape) produced {} in its output {} {} during forward;{}\n  ops recorded "
      "just before it: {}{}",
      node.name, node.seq, describe(b, output.shape()), output.shape().str(), dtype_name(output.dtype()), ins,
      t_forward.before_last(),
      inherited ? "\n  (the input's NaN/Inf came from outside the checked graph: check your data or leaves)" : ""));
}

void anomaly_check_grad(const Node& node, size_t i, const Tensor& grad, const Tensor& grad_out) {
  if (!is_anomaly_enabled()) return;
  t_backward.note(node.name, node.seq);
  const BadValue b = first_nonfinite(grad);
  if (b.index < 0) return;
  std::string inputs;
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const Edge& e = node.inputs[k];
    inputs += fmt::format("\n  input {}: {} {}, {}", k, e.shape.str(), dtype_name(e.dtype),
                          origin(e.node.get(), static_cast<bool>(e.leaf)));
  }
  const BadValue in = first_nonfinite(grad_out);
  throw AnomalyError(fmt::format(
      "anomaly: the backward rule of '{}' (op #{} on this thread's tape, rule: {}) gave input {} a gradient {} with {}; "
      "the gradient flowing into its output {} was {};{}\n  backward rules run just before it: {}",
      node.name, node.seq, node.math, i, grad.shape().str(), describe(b, grad.shape()), node.out_shape.str(),
      in.index < 0 ? "finite" : "already " + describe(in, grad_out.shape()), inputs, t_backward.before_last()));
}

}  // namespace detail
}  // namespace ad
