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
///                        [x, s](ad::BackwardContext& c) { c.add(0, c.grad() * (s + x * s * (1.0 - s))); });
/// }
/// \endcode
#pragma once

#include <cstddef>
#include <initializer_list>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "autodiff/detail/small_vec.hpp"
#include "autodiff/grad_mode.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

class BackwardContext;

namespace detail {
struct Tape;

/// Where one input's gradient goes: the node that produced it, or the leaf itself.
struct Edge {
  Ref<Node> node;
  Ref<TensorImpl> leaf;
  Shape shape;                // the input's shape, for summing broadcast dims back
  DType dtype = DType::f32;   // the input's dtype: its gradient must have it too
  bool wanted() const { return node || leaf; }
};

/// One record on the tape: an op's inputs, what its backward rule saved, and the gradient
/// flowing into its output while backward runs.
class Node {
 public:
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;
  /// Runs the backward rule (the gradient of the output is in ctx.grad()).
  virtual void apply(BackwardContext& ctx) = 0;
  /// Drops what the rule saved; a later backward through this node throws.
  virtual void release_saved() = 0;

  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

  std::atomic<int32_t> refs_{0};
  const char* name = "";
  const char* math = "";
  Tape* tape = nullptr;
  size_t slot = 0;
  uint64_t seq = 0;
  SmallVec<Edge, 2> inputs;
  Ref<TensorImpl> pending;  // dJ/d(output), summed over its uses so far in this pass
  Shape out_shape;
  DType out_dtype = DType::f32;
  Ref<Storage> saved_output;  // the output's values, when the rule asked for them
  bool freed = false;
  int32_t capture_index = -1;  // set while ad::grad() collects this intermediate's gradient
  Node* next_dead = nullptr;   // links records waiting to be destroyed (see release_last)
};
void release_last(Node* n);

template <class Rule>
class RuleNode final : public Node {
 public:
  explicit RuleNode(Rule&& rule) : rule_(std::move(rule)) {}
  void apply(BackwardContext& ctx) override { (*rule_)(ctx); }
  void release_saved() override { rule_.reset(); }

 private:
  std::optional<Rule> rule_;
};

/// One input listed to record_op: a reference, so listing inputs copies no handle (each copy
/// would be two atomic operations on the hot path).
struct InputRef {
  InputRef(const Tensor& tensor) : t(&tensor) {}  // NOLINT: implicit, so `{a, b}` lists inputs
  const Tensor* t;
};

/// True when grad mode is on and any input requires a gradient.
inline bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
/// Puts `node` on this thread's tape as the producer of `output`; returns `output`.
Tensor attach(Node* node, const char* name, const char* math, const Tensor* const* inputs, size_t n_inputs,
              Tensor output, bool save_output);
}  // namespace detail

/// What a backward rule sees: the gradient of its output and a way to pass gradients on.
class BackwardContext {
 public:
  /// Made by the engine for each rule it runs: the record being backpropagated and dJ/d(output).
  BackwardContext(detail::Node* node, Tensor grad) : node_(node), grad_(std::move(grad)) {}
  /// dJ/d(output), shaped like the output.
  const Tensor& grad() const { return grad_; }
  /// Whether input `i` wants a gradient (skip computing it when not).
  bool needs(size_t i) const { return i < node_->inputs.size() && node_->inputs[i].wanted(); }
  /// The op's output (only when recorded with save_output); differentiable under create_graph.
  Tensor output() const;
  /// Shape of input `i`.
  const Shape& input_shape(size_t i) const { return node_->inputs[i].shape; }
  /// Passes dJ/d(input i) on; a gradient in the broadcast shape is summed back by the engine.
  void add(size_t i, const Tensor& g);

 private:
  detail::Node* node_;
  Tensor grad_;
};

/// Records an op: `output` was computed from `inputs`; `rule(BackwardContext&)` gives the
/// gradients. `math` states the rule for ad::explain. With `save_output` the rule may call
/// ctx.output() (saving the output's values without a reference cycle).
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
  auto* node = new detail::RuleNode<std::decay_t<Rule>>(std::forward<Rule>(rule));
  return detail::attach(node, name, math, ptrs, n, std::move(output), save_output);
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
  auto* node = new detail::RuleNode<std::decay_t<Rule>>(std::forward<Rule>(rule));
  return detail::attach(node, name, math, ptrs.data(), ptrs.size(), std::move(output), save_output);
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
