/// \file
/// Recording an op on the tape. Every built-in op and every user-defined op goes through
/// record_op(): compute the output with no recording, then hand record_op the inputs, the output
/// and a backward rule. The engine does the rest (skipping inputs that need no gradient, summing
/// broadcast dims back, accumulating).
///
/// \code{.cpp}
/// ad::Tensor swish(const ad::Tensor& x) {
///   ad::Tensor s = ad::sigmoid(x.detach());
///   ad::Tensor y = x.detach() * s;
///   return ad::record_op("swish", "dX = dY ⊙ (s + x·s(1−s))", {x}, y,
///                        [sx = ad::SavedTensor(x), s](ad::BackwardContext& c) {
///                          const ad::Tensor& x = c.saved(sx);  // throws if x changed in place since
///                          c.add(0, c.grad() * (s + x * s * (1.0 - s)));
///                        });
/// }
/// \endcode
///
/// A rule that reads a tensor the user can still change (an input, or a detach() of one) keeps
/// it as a SavedTensor and reads it through c.saved(): changing it in place between the forward
/// pass and backward() (an optimizer step, copy_, fill_ under NoGradGuard) then throws
/// UsageError instead of giving a gradient computed from the new values, as LibTorch does. The
/// op's own output, read through c.output(), is checked the same way.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/grad_mode.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

class BackwardContext;

namespace detail {
class Node;

// How the engine moves a backward rule of type R into the record it makes, runs it and destroys
// it: record_op's type erasure, so the record's layout stays inside the library.
struct RuleOps {
  size_t size, align;
  void (*move_to)(void* from, void* to);
  void (*run)(void* rule, BackwardContext& ctx);
  void (*destroy)(void* rule);
};
template <class R>
inline constexpr RuleOps rule_ops{
    sizeof(R), alignof(R), [](void* from, void* to) { ::new (to) R(std::move(*static_cast<R*>(from))); },
    [](void* rule, BackwardContext& ctx) { (*static_cast<R*>(rule))(ctx); },
    [](void* rule) { static_cast<R*>(rule)->~R(); }};

// Puts a record of `output` on this thread's tape, with `rule` moved into it; returns `output`.
Tensor record(const char* name, const char* math, const Tensor* const* inputs, size_t n_inputs, Tensor output,
              bool save_output, void* rule, const RuleOps& ops);

// One input listed to record_op: a reference, so listing inputs copies no handle.
struct InputRef {
  InputRef(const Tensor& tensor) : t(&tensor) {}  // NOLINT: implicit, so `{a, b}` lists inputs
  const Tensor* t;
};

template <class Rule>
Tensor record_rule(const char* name, const char* math, const Tensor* const* inputs, size_t n, Tensor output,
                   Rule&& rule, bool save_output) {
  using R = std::decay_t<Rule>;
  if constexpr (std::is_lvalue_reference_v<Rule>) {
    R copy(rule);
    return record(name, math, inputs, n, std::move(output), save_output, &copy, rule_ops<R>);
  } else {
    return record(name, math, inputs, n, std::move(output), save_output, &rule, rule_ops<R>);
  }
}
}  // namespace detail

/// A tensor kept for a backward rule, with the version its values had when it was saved
/// (Tensor::version()). Read it with BackwardContext::saved().
class SavedTensor {
 public:
  SavedTensor() = default;
  /// Keeps `t` (an undefined `t` keeps nothing).
  explicit SavedTensor(Tensor t) : t_(std::move(t)), version_(t_.defined() ? t_.version() : 0) {}
  /// Whether a tensor is kept.
  bool defined() const { return t_.defined(); }

 private:
  friend class BackwardContext;
  Tensor t_;
  uint32_t version_ = 0;
};

/// What a backward rule sees: the gradient of its output and a way to pass gradients on.
class BackwardContext {
 public:
  /// dJ/d(output), shaped like the output.
  const Tensor& grad() const { return grad_; }
  /// Whether input `i` wants a gradient (skip computing it when not).
  bool needs(size_t i) const;
  /// The op's output (only when recorded with save_output); differentiable under create_graph.
  /// Throws UsageError when its values were changed in place since it was recorded.
  Tensor output() const;
  /// The saved tensor; throws UsageError naming it and the op when its values were changed in
  /// place since it was saved (the gradient would be computed from the new values).
  const Tensor& saved(const SavedTensor& s) const;
  /// Shape of input `i`.
  const Shape& input_shape(size_t i) const;
  /// Passes dJ/d(input i) on; a gradient in the broadcast shape is summed back by the engine.
  void add(size_t i, const Tensor& g);

 private:
  friend class detail::Node;
  BackwardContext(detail::Node* node, Tensor grad) : node_(node), grad_(std::move(grad)) {}
  detail::Node* node_;
  Tensor grad_;
};

/// Records an op: `output` was computed from `inputs`; `rule(BackwardContext&)` gives the
/// gradients. `math` states the rule for ad::explain. With `save_output` the rule may call
/// ctx.output() (saving the output's values without a reference cycle). Nothing is recorded,
/// and the rule is dropped, when grad mode is off or no input requires a gradient.
template <class Rule>
Tensor record_op(const char* name, const char* math, std::initializer_list<detail::InputRef> inputs, Tensor output,
                 Rule&& rule, bool save_output = false) {
  if (!is_grad_enabled()) return output;
  const Tensor* ptrs[8];
  size_t n = 0;
  bool any = false;
  for (detail::InputRef in : inputs) {
    if (n == 8) throw UsageError("record_op: at most 8 inputs in a braced list; pass a std::vector");
    ptrs[n++] = in.t;
    any = any || (in.t->defined() && in.t->requires_grad());
  }
  if (!any) return output;
  return detail::record_rule(name, math, ptrs, n, std::move(output), std::forward<Rule>(rule), save_output);
}

/// The same for a run-time list of inputs (concat).
template <class Rule>
Tensor record_op(const char* name, const char* math, const std::vector<Tensor>& inputs, Tensor output, Rule&& rule,
                 bool save_output = false) {
  if (!is_grad_enabled()) return output;
  std::vector<const Tensor*> ptrs;
  bool any = false;
  for (const Tensor& t : inputs) {
    ptrs.push_back(&t);
    any = any || (t.defined() && t.requires_grad());
  }
  if (!any) return output;
  return detail::record_rule(name, math, ptrs.data(), ptrs.size(), std::move(output), std::forward<Rule>(rule),
                             save_output);
}

/// Gradients of `outputs` with respect to `inputs` (leaves or intermediates), returned rather
/// than accumulated into .grad(). `grad_outputs` seeds non-scalar outputs (empty: ones for
/// scalars). An input the outputs do not depend on gets zeros. With `create_graph` the result is
/// itself recorded, so it can be differentiated again (the graph is then retained).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false);

/// Number of live records on this thread's tape (for tests and leak hunting).
size_t tape_size();

}  // namespace ad
