// Backward: seed the roots, walk the tape from the newest root down, run each record's rule
// once its gradient is complete, and route the gradients it produces to the records or leaves
// that made its inputs. All bookkeeping (skipping inputs that need no gradient, summing
// broadcast dims back, set-or-accumulate, the gradient's shape and dtype) happens here, once,
// so backward rules stay short.
//
// Recording order is a topological order: a record's output is only used by later records, so
// when the walk reaches slot s every gradient flowing into it has arrived. No sort, no
// recursion, no visited set: a pending gradient marks the records still to run.
#include <fmt/format.h>

#include <optional>
#include <span>

#include "autodiff/detail/trace_hooks.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/engine/anomaly_hooks.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/engine/tape.hpp"
#include "autodiff/ops.hpp"

namespace ad {
namespace detail {
namespace {

// State of the backward pass running on this thread.
struct BackwardRun {
  bool create_graph = false;
  bool retain_graph = false;
  std::vector<Tensor>* captures = nullptr;  // ad::grad(): results by capture index
  size_t pending_nodes = 0;
  const char* op = "backward";
  HookPass* hooks = nullptr;  // only when a hooked leaf is reachable
  uint64_t delivered = 0;     // inputs (< 64) the running rule has passed a gradient to
};
thread_local BackwardRun* g_run = nullptr;

// Adds g into `slot`: takes g itself when the slot is empty, adds in place when the slot's
// tensor is ours alone (no other handle or view can see the change), and otherwise makes a new
// sum. Under create_graph the sum is recorded like any op.
void accumulate(Ref<TensorImpl>& slot, const Tensor& g, bool create_graph) {
  if (!slot) {
    slot = ref_of(g);
    return;
  }
  // Uniqueness is judged before any handle to the slot is made (a handle would count).
  const bool in_place = !create_graph && slot.unique() && slot->storage.unique() && !slot->requires_grad;
  Tensor cur = wrap(slot);
  if (in_place) {
    cur.add_(g);
    return;
  }
  slot = ref_of(cur + g);
}

void deliver_to_leaf(TensorImpl* leaf, const Tensor& g, BackwardRun& run) {
  if (run.captures) {  // ad::grad() returns gradients and leaves .grad() alone
    if (leaf->capture_index >= 0) {
      Ref<TensorImpl> slot = ref_of((*run.captures)[leaf->capture_index]);
      accumulate(slot, g, run.create_graph);
      (*run.captures)[leaf->capture_index] = wrap(slot);
    }
    return;
  }
  // Only ad::grad() runs with create_graph, so a leaf's .grad never holds a graph (which would
  // reference the leaf itself: a cycle). It must not share storage with anything else either,
  // since it is accumulated in place later.
  // By reference, not a copy: a copied handle would never be unique, and every leaf's first
  // gradient of a pass would be cloned (a memcpy per parameter per step).
  Tensor detached;
  const Tensor& plain = g.requires_grad() ? (detached = g.detach()) : g;
  const bool traced = recording();
  if (traced) [[unlikely]]
    trace_grad_read(leaf);
  const TensorImpl* before = leaf->grad.get();
  if (!leaf->grad && !(ref_of(plain).unique() && impl_of(plain)->storage.unique()))
    leaf->grad = ref_of(plain.clone());
  else
    accumulate(leaf->grad, plain, false);
  if (traced && leaf->grad.get() != before) [[unlikely]]
    trace_grad_set(leaf);
}

void deliver(Edge& e, const Tensor& g, BackwardRun& run) {
  if (e.node) {
    if (!e.node->pending) ++run.pending_nodes;
    accumulate(e.node->pending, g, run.create_graph);
  } else if (e.leaf) {
    deliver_to_leaf(e.leaf.get(), g, run);
  }
}

Tensor seed_for(const Tensor& root, const Tensor& seed, const char* op) {
  if (!root.defined()) throw UsageError(fmt::format("{}: the output tensor is undefined", op));
  if (!root.requires_grad())
    throw UsageError(fmt::format(
        "{}: the tensor {} does not require grad and has no recorded graph (was it computed under NoGradGuard, "
        "detached, or from tensors without requires_grad_()?)",
        op, root.shape().str()));
  if (!seed.defined()) {
    if (root.numel() != 1)
      throw UsageError(fmt::format("{}: the output is {}, not a scalar; pass a seed of that shape (dJ/d output)", op,
                                   root.shape().str()));
    return ones_like(root);
  }
  if (!(seed.shape() == root.shape()))
    throw ShapeError(fmt::format("{}: the seed is {} but the output is {}", op, seed.shape().str(), root.shape().str()));
  if (seed.dtype() != root.dtype())
    throw DTypeError(fmt::format("{}: the seed is {} but the output is {}", op, dtype_name(seed.dtype()),
                                 dtype_name(root.dtype())));
  return seed;
}

// Checks every root and seed before any record is touched, so a bad call leaves no state
// behind. Returns the tape the roots were recorded on (null when all roots are leaves).
Tape* check_roots(std::span<const Tensor> roots, std::span<const Tensor> seeds, SmallVec<Tensor, 2>& seeded,
                  const char* op) {
  if (!seeds.empty() && seeds.size() != roots.size())
    throw UsageError(fmt::format("{}: {} outputs but {} seeds (grad_outputs); give one per output or none", op,
                                 roots.size(), seeds.size()));
  Tape* tape = nullptr;
  for (size_t i = 0; i < roots.size(); ++i) {
    seeded.push_back(seed_for(roots[i], seeds.empty() ? Tensor() : seeds[i], op));
    const Node* n = impl_of(roots[i])->grad_fn.get();
    if (!n) continue;
    if (tape && n->tape != tape)
      throw UsageError(fmt::format("{}: the outputs were recorded on different threads; backpropagate each on its own", op));
    tape = n->tape;
  }
  return tape;
}

[[noreturn]] void throw_freed(const Node& n, const char* op) {
  throw UsageError(fmt::format(
      "{}: the graph through '{}' {} was already freed by an earlier backward(); pass retain_graph=true to the "
      "first backward to backpropagate twice",
      op, n.name, n.out_shape.str()));
}

// Runs one record whose gradient is complete. It takes no handle on the record: one with a
// pending gradient is reachable from the roots, which the pass holds (a locked increment and
// decrement per record would be a tenth of the cost of a tiny op).
void run_node(Node* node, BackwardRun& run) {
  Tensor g = wrap(std::move(node->pending));
  --run.pending_nodes;
  if (run.captures && node->capture_index >= 0) (*run.captures)[node->capture_index] = g;
  if (node->freed) throw_freed(*node, run.op);
  run.delivered = 0;
  node->run(std::move(g));
  if (run.hooks) run.hooks->after_record(*node, run.delivered);
  if (!run.retain_graph) {  // free what the rule saved as soon as it has run: lower peak memory
    node->release_saved();
    node->saved_output.reset();
    node->freed = true;
  }
}

// Installs a pass on this thread and pins the tape's slots (no compaction) for its duration;
// the destructor undoes both, whether the pass ends normally or by an exception.
class WalkScope {
 public:
  WalkScope(BackwardRun& run, Tape* tape) : outer_(std::exchange(g_run, &run)), mode_(run.create_graph), tape_(tape) {
    if (tape_) {
      SpinLock::Guard g(tape_->lock);
      ++tape_->walking;
    }
  }
  ~WalkScope() {
    g_run = outer_;
    if (tape_) {
      SpinLock::Guard g(tape_->lock);
      --tape_->walking;
    }
  }
  WalkScope(const WalkScope&) = delete;
  WalkScope& operator=(const WalkScope&) = delete;

 private:
  BackwardRun* outer_;
  EnableGradGuard mode_;  // rules record only under create_graph
  Tape* tape_;
};

// Drops gradients left pending by a pass that threw, so no stale gradient leaks into the next
// pass and no pending tensor keeps a graph alive.
void clear_pending(Tape& tape, size_t top) {
  for (size_t s = top + 1; s-- > 0;)
    if (Node* n = tape.pending_at(s)) n->pending.reset();
}

// Gradient-ready hooks need the count of edges into each hooked leaf before the walk; that
// count is made only when some leaf in the process has hooks (ad::grad() fires none).
void run_backward(std::span<const Tensor> roots, std::span<const Tensor> seeds, BackwardRun& run) {
  SmallVec<Tensor, 2> seeded;
  Tape* tape = check_roots(roots, seeds, seeded, run.op);
  WalkScope scope(run, tape);
  SmallVec<Edge, 2> root_edges;  // hold the roots' records for the whole pass
  size_t top = 0;
  for (const Tensor& root : roots) {
    Edge e;
    if (impl_of(root)->grad_fn) {
      e.node = impl_of(root)->grad_fn;
      top = std::max(top, e.node->slot);  // stable: the tape is pinned
    } else {
      e.leaf = ref_of(root);
    }
    root_edges.push_back(std::move(e));
  }
  try {
    std::optional<HookPass> hooks;
    if (!run.captures && any_hooks() && !hooks.emplace(tape, top, std::span<const Edge>(&root_edges[0], root_edges.size())).empty()) run.hooks = &*hooks;
    for (size_t i = 0; i < roots.size(); ++i) {
      deliver(root_edges[i], seeded[i], run);
      if (run.hooks) run.hooks->after_edge(root_edges[i]);
    }
    for (size_t s = top + 1; tape && s-- > 0 && run.pending_nodes > 0;)
      if (Node* n = tape->pending_at(s)) run_node(n, run);
    if (run.hooks) run.hooks->finish();
  } catch (...) {
    if (tape) clear_pending(*tape, top);
    throw;
  }
}

}  // namespace

Tensor record(const char* name, const char* math, const Tensor* const* inputs, size_t n_inputs, Tensor output,
              bool save_output, void* rule, const RuleOps& ops) {
  Ref<Node> node = Ref<Node>::adopt(Node::create(rule, ops));  // owns the record even if this throws
  AD_ASSERT(output.defined() && !impl_of(output)->grad_fn);
  if (!is_floating(output.dtype()))
    throw DTypeError(fmt::format("{}: the output {} is {}; only float32 and float64 outputs carry gradients", name,
                                 output.shape().str(), dtype_name(output.dtype())));
  node->name = name;
  node->math = math;
  Tape& tape = this_thread_tape();
  for (size_t i = 0; i < n_inputs; ++i) {
    Edge e;
    const Tensor& in = *inputs[i];
    if (in.defined()) {
      e.shape = in.shape();
      e.dtype = in.dtype();
      if (in.requires_grad()) {
        if (!impl_of(in)->grad_fn)
          e.leaf = ref_of(in);
        else if (impl_of(in)->grad_fn->tape == &tape)
          e.node = impl_of(in)->grad_fn;
        else  // the walk visits one tape: a graph spanning two would be walked out of order
          throw UsageError(fmt::format(
              "{}: input {} {} was recorded on another thread; each thread records its own graph (detach() it, or "
              "compute it on this thread)",
              name, i, in.shape().str()));
      }
    }
    node->inputs.push_back(std::move(e));
  }
  node->out_shape = output.shape();
  node->out_dtype = output.dtype();
  if (save_output) {
    node->saved_output = impl_of(output)->storage;
    node->saved_output_version = node->saved_output->version.load(std::memory_order_relaxed);
  }
  tape.push(node.get());
  const Node& rec = *node;
  impl_of(output)->grad_fn = std::move(node);
  impl_of(output)->requires_grad = true;
  if (anomaly_maybe_on()) anomaly_check_output(rec, inputs, n_inputs, output);  // throwing frees the record
  return output;
}

}  // namespace detail

bool BackwardContext::needs(size_t i) const { return i < node_->inputs.size() && node_->inputs[i].wanted(); }

const Shape& BackwardContext::input_shape(size_t i) const { return node_->inputs[i].shape; }

namespace {
// True when `from` sums down to `to` (right-aligned, each dim of `to` equal or 1).
bool sums_down_to(const Shape& from, const Shape& to) {
  if (to.size() > from.size()) return false;
  const size_t off = from.size() - to.size();
  for (size_t i = 0; i < to.size(); ++i)
    if (to[i] != 1 && to[i] != from[i + off]) return false;
  return true;
}
}  // namespace

// The gradient post-condition, checked once here for every op: dtype and shape of the input.
void BackwardContext::add(size_t i, const Tensor& g) {
  if (!needs(i) || !g.defined()) return;
  if (detail::anomaly_maybe_on()) detail::anomaly_check_grad(*node_, i, g, grad_);
  detail::Edge& e = node_->inputs[i];
  if (g.dtype() != e.dtype)
    throw DTypeError(fmt::format("{}: its backward rule gave input {} a {} gradient, but the input is {}", node_->name,
                                 i, dtype_name(g.dtype()), dtype_name(e.dtype)));
  const bool same_shape = g.shape() == e.shape;
  if (!same_shape && !sums_down_to(g.shape(), e.shape))
    throw ShapeError(fmt::format("{}: its backward rule gave input {} a gradient of shape {}, but the input is {}",
                                 node_->name, i, g.shape().str(), e.shape.str()));
  detail::BackwardRun& run = *detail::g_run;
  if (run.hooks) run.hooks->before_delivery(*node_, i, run.delivered);
  if (same_shape)  // g itself, not a copy: a leaf may take it only while no other handle sees it
    detail::deliver(e, g, run);
  else
    detail::deliver(e, sum_to(g, e.shape), run);
  if (run.hooks) run.hooks->after_delivery(e, i, run.delivered);
}

const char* Tensor::op_name() const {
  const detail::TensorImpl* t = detail::impl_of(*this);
  return t->grad_fn ? t->grad_fn->name : "leaf";
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  detail::BackwardRun run;
  run.retain_graph = retain_graph;
  detail::run_backward({this, 1}, seed.defined() ? std::span<const Tensor>(&seed, 1) : std::span<const Tensor>(), run);
}

namespace {
// Marks ad::grad()'s inputs so the walk collects their gradients; unmarks them on scope exit.
// `alias[i] = j` when input i is the same tensor (or record) as an earlier input j.
class CaptureMarks {
 public:
  CaptureMarks(const std::vector<Tensor>& inputs, std::vector<size_t>& alias) : inputs_(inputs) {
    alias.assign(inputs.size(), SIZE_MAX);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      if (!t.defined() || !t.requires_grad())
        throw UsageError(fmt::format("grad: input {} {} does not require grad, so it has no gradient", i,
                                     t.defined() ? t.shape().str() : "(undefined)"));
      int32_t& mark = detail::impl_of(t)->grad_fn ? detail::impl_of(t)->grad_fn->capture_index : detail::impl_of(t)->capture_index;
      if (mark >= 0)
        alias[i] = static_cast<size_t>(mark);
      else
        mark = static_cast<int32_t>(i);
    }
  }
  ~CaptureMarks() {
    for (const Tensor& t : inputs_) {
      if (!t.defined()) continue;
      detail::impl_of(t)->capture_index = -1;
      if (detail::impl_of(t)->grad_fn) detail::impl_of(t)->grad_fn->capture_index = -1;
    }
  }
  CaptureMarks(const CaptureMarks&) = delete;
  CaptureMarks& operator=(const CaptureMarks&) = delete;

 private:
  const std::vector<Tensor>& inputs_;
};
}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, bool create_graph) {
  if (outputs.empty()) throw UsageError("grad: no outputs to differentiate");
  std::vector<Tensor> results(inputs.size());
  std::vector<size_t> alias;
  CaptureMarks marks(inputs, alias);
  detail::BackwardRun run;
  run.create_graph = create_graph;
  run.retain_graph = retain_graph || create_graph;  // a graph of gradients refers to the first graph
  run.captures = &results;
  run.op = "grad";
  detail::run_backward(outputs, grad_outputs, run);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (alias[i] != SIZE_MAX) results[i] = results[alias[i]];
    if (!results[i].defined()) results[i] = zeros_like(inputs[i]);  // not reached from the outputs
  }
  return results;
}

}  // namespace ad
