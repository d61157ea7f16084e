// Backward: seed the roots, walk the tape from the newest root down, run each record's rule
// once its gradient is complete, and route the gradients it produces to the records or leaves
// that made its inputs. All bookkeeping (skipping inputs that need no gradient, summing
// broadcast dims back, set-or-accumulate) happens here, once, so backward rules stay short.
#include <fmt/format.h>

#include "autodiff/detail/tape.hpp"
#include "autodiff/ops.hpp"

namespace ad {
namespace detail {
namespace {

// State of the backward pass running on this thread.
struct BackwardRun {
  bool create_graph = false;
  std::vector<Tensor>* captures = nullptr;  // ad::grad(): results by capture index
  size_t pending_nodes = 0;
};
thread_local BackwardRun* g_run = nullptr;

// Adds g into `slot`: takes g itself when the slot is empty, adds in place when the slot's
// tensor is ours alone (no other handle or view can see the change), and otherwise makes a new
// sum. Under create_graph the sum is recorded like any op.
void accumulate(Ref<TensorImpl>& slot, const Tensor& g, bool create_graph) {
  if (!slot) {
    slot = g.ref();
    return;
  }
  Tensor cur(slot);
  if (!create_graph && slot.unique() && cur.impl()->storage.unique() && !cur.requires_grad()) {
    add_(cur, g);
    return;
  }
  slot = (cur + g).ref();
}

void deliver_to_leaf(TensorImpl* leaf, const Tensor& g, BackwardRun& run) {
  if (run.captures) {
    if (leaf->capture_index >= 0) {
      Ref<TensorImpl> slot = (*run.captures)[leaf->capture_index].ref();
      accumulate(slot, g, run.create_graph);
      (*run.captures)[leaf->capture_index] = Tensor(slot);
    }
    return;
  }
  // A leaf's .grad must not share storage with anything else: it is accumulated in place later.
  if (!leaf->grad && !run.create_graph && !(g.ref().unique() && g.impl()->storage.unique())) {
    leaf->grad = g.detach().clone().ref();
    return;
  }
  accumulate(leaf->grad, run.create_graph ? g : g.detach(), run.create_graph);
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

// Clears gradients left pending by a pass that threw, so the next pass starts clean.
void clear_pending(Tape& tape, size_t top) {
  for (size_t s = top + 1; s-- > 0;)
    if (Node* n = tape.at(s)) n->pending.reset();
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, bool retain_graph,
                  bool create_graph, std::vector<Tensor>* captures, const char* op) {
  BackwardRun run;
  run.create_graph = create_graph;
  run.captures = captures;
  BackwardRun* outer = std::exchange(g_run, &run);
  EnableGradGuard mode(create_graph);
  Tape* tape = nullptr;
  size_t top = 0;
  struct Restore {
    BackwardRun* outer;
    Tape** tape;
    ~Restore() {
      g_run = outer;
      if (*tape) {
        SpinLock::Guard g((*tape)->lock);
        --(*tape)->walking;
      }
    }
  } restore{outer, &tape};

  std::vector<Tensor> seeded;
  for (size_t i = 0; i < roots.size(); ++i) seeded.push_back(seed_for(roots[i], i < seeds.size() ? seeds[i] : Tensor(), op));
  for (size_t i = 0; i < roots.size(); ++i) {
    TensorImpl* r = roots[i].impl();
    if (!r->grad_fn) {
      Edge e;
      e.leaf = roots[i].ref();
      deliver(e, seeded[i], run);
      continue;
    }
    Node* n = r->grad_fn.get();
    if (tape && n->tape != tape)
      throw UsageError(fmt::format("{}: the outputs were recorded on different threads; backpropagate each on its own", op));
    if (!tape) {
      tape = n->tape;
      SpinLock::Guard g(tape->lock);
      ++tape->walking;
    }
    top = std::max(top, n->slot);
    Edge e;
    e.node = r->grad_fn;
    deliver(e, seeded[i], run);
  }
  if (!tape) return;
  try {
    for (size_t s = top + 1; s-- > 0 && run.pending_nodes > 0;) {
      Node* raw = tape->at(s);
      if (!raw || !raw->pending) continue;
      Ref<Node> node(raw);  // keep it alive while its rule runs
      Tensor g(std::move(node->pending));
      node->pending.reset();
      --run.pending_nodes;
      if (captures && node->capture_index >= 0) (*captures)[node->capture_index] = g;
      if (node->freed)
        throw UsageError(fmt::format(
            "{}: the graph through '{}' {} was already freed by an earlier backward(); pass retain_graph=true to the "
            "first backward to backpropagate twice",
            op, node->name, node->out_shape.str()));
      BackwardContext ctx(node.get(), g);
      node->apply(ctx);
      if (!retain_graph) {
        node->release_saved();
        node->saved_output.reset();
        node->freed = true;
      }
    }
  } catch (...) {
    clear_pending(*tape, top);
    throw;
  }
}

Tensor attach(Node* raw, const char* name, const char* math, const Tensor* const* inputs, size_t n_inputs,
              Tensor output, bool save_output) {
  Ref<Node> node(raw);
  AD_ASSERT(output.defined() && !output.impl()->grad_fn);
  node->name = name;
  node->math = math;
  for (size_t i = 0; i < n_inputs; ++i) {
    Edge e;
    const Tensor& in = *inputs[i];
    if (in.defined()) {
      e.shape = in.shape();
      if (in.requires_grad()) {
        if (in.impl()->grad_fn)
          e.node = in.impl()->grad_fn;
        else
          e.leaf = in.ref();
      }
    }
    node->inputs.push_back(std::move(e));
  }
  node->out_shape = output.shape();
  node->out_dtype = output.dtype();
  if (save_output) node->saved_output = output.impl()->storage;
  this_thread_tape().push(node.get());
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

}  // namespace detail

Tensor BackwardContext::output() const {
  if (!node_->saved_output)
    throw UsageError(fmt::format("{}: its backward rule asks for the output, but the op was recorded without save_output",
                                 node_->name));
  detail::Ref<detail::TensorImpl> impl(new detail::TensorImpl());
  impl->dtype = node_->out_dtype;
  impl->shape = node_->out_shape;
  impl->storage = node_->saved_output;
  if (is_grad_enabled()) {  // create_graph: the output is differentiable through this record
    impl->grad_fn = detail::Ref<detail::Node>(node_);
    impl->requires_grad = true;
  }
  return Tensor(std::move(impl));
}

void BackwardContext::add(size_t i, const Tensor& g) {
  if (!needs(i) || !g.defined()) return;
  detail::Edge& e = node_->inputs[i];
  if (g.dtype() != node_->out_dtype && g.dtype() != grad_.dtype())
    throw DTypeError(fmt::format("{}: the gradient for input {} is {}, expected {}", node_->name, i,
                                 dtype_name(g.dtype()), dtype_name(grad_.dtype())));
  Tensor shaped = g.shape() == e.shape ? g : sum_to(g, e.shape);
  detail::deliver(e, shaped, *detail::g_run);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  detail::run_backward({*this}, {seed}, retain_graph, false, nullptr, "backward");
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, bool create_graph) {
  std::vector<Tensor> results(inputs.size());
  struct Marks {
    const std::vector<Tensor>& inputs;
    ~Marks() {
      for (const Tensor& t : inputs) {
        if (!t.defined()) continue;
        t.impl()->capture_index = -1;
        if (t.impl()->grad_fn) t.impl()->grad_fn->capture_index = -1;
      }
    }
  } marks{inputs};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad())
      throw UsageError(fmt::format("grad: input {} does not require grad, so it has no gradient", i));
    if (t.impl()->grad_fn)
      t.impl()->grad_fn->capture_index = static_cast<int32_t>(i);
    else
      t.impl()->capture_index = static_cast<int32_t>(i);
  }
  detail::run_backward(outputs, grad_outputs, retain_graph || create_graph, create_graph, &results, "grad");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!results[i].defined()) results[i] = zeros_like(inputs[i]);
  return results;
}

}  // namespace ad
