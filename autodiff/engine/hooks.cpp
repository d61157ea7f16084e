// Gradient-ready hooks: registration, and the per-pass count that decides when they fire.
#include "autodiff/hooks.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autodiff/detail/trace_hooks.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/engine/tape.hpp"

namespace ad {
namespace detail {

std::atomic<int64_t> g_hooked_leaves{0};

std::atomic<uint64_t> g_next_hook_id{1};

std::atomic<uint64_t> g_hook_generation{0};

namespace {

// Drops the leaf's hook list once its last hook is gone.
void release_if_empty(TensorImpl* leaf) {
  if (!leaf->hooks->hooks.empty()) return;
  leaf->hooks.reset();
  g_hooked_leaves.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

void run_hooks(TensorImpl* leaf) {
  const Tensor t = wrap(Ref<TensorImpl>(leaf));
  struct Done {  // also when a hook throws: drop the hooks removed while firing
    TensorImpl* leaf;
    ~Done() {
      leaf->hooks->firing = false;
      std::erase_if(leaf->hooks->hooks, [](const auto& entry) { return entry.first == 0; });
      release_if_empty(leaf);
    }
  } done{leaf};
  leaf->hooks->firing = true;
  for (size_t i = 0; i < leaf->hooks->hooks.size(); ++i)
    if (leaf->hooks->hooks[i].first != 0) leaf->hooks->hooks[i].second(t);
}

namespace {
// While ad::compile records, the firing becomes a step of the trace (which runs the hooks now
// and again at this point of every replay).
void fire(TensorImpl* leaf) {
  if (recording()) [[unlikely]]
    trace_grad_ready(leaf);
  else
    run_hooks(leaf);
}
}  // namespace

HookPass::HookPass(Tape* tape, size_t top, std::span<const Edge> roots) {
  // Recording order is topological: walking the slots down from the newest root, a record is
  // reachable exactly when a reachable record (or a root) has an edge to it.
  std::vector<uint8_t> reach(tape ? top + 1 : 0, 0);
  for (const Edge& e : roots) {
    if (e.node) reach[e.node->slot] = 1;
    count(e);
  }
  for (size_t s = reach.size(); s-- > 0;) {
    if (!reach[s]) continue;
    const Node* n = tape->at(s);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Edge& e = n->inputs[i];
      if (e.node) reach[e.node->slot] = 1;
      count(e);
    }
  }
}

// A leaf whose hooks were all removed during the pass has no list any more.
HookPass::~HookPass() {
  for (TensorImpl* leaf : leaves_)
    if (leaf->hooks) leaf->hooks->remaining = 0, leaf->hooks->counted = false;
}

void HookPass::count(const Edge& e) {
  if (!e.leaf || !e.leaf->hooks) return;
  LeafHooks& h = *e.leaf->hooks;
  if (!h.counted) {
    h.counted = true;
    leaves_.push_back(e.leaf.get());
  }
  ++h.remaining;
}

void HookPass::after_edge(const Edge& e) {
  if (!e.leaf || !e.leaf->hooks || !e.leaf->hooks->counted) return;
  if (--e.leaf->hooks->remaining == 0) fire(e.leaf.get());
}

namespace {
// Inputs from 64 on are not tracked one by one: they count as done when the rule returns.
bool tracked(size_t i) { return i < 64; }
}  // namespace

void HookPass::before_delivery(const Node& n, size_t i, uint64_t delivered) const {
  const Edge& e = n.inputs[i];
  if (!tracked(i) || !(delivered >> i & 1) || !e.leaf || !e.leaf->hooks || !e.leaf->hooks->counted) return;
  throw UsageError(fmt::format("{}: its backward rule passed input {}'s gradient twice; with gradient-ready hooks on "
                               "that leaf, a rule passes each input's gradient once (sum it first)",
                               n.name, i));
}

void HookPass::after_delivery(const Edge& e, size_t i, uint64_t& delivered) {
  if (!tracked(i)) return;
  delivered |= uint64_t{1} << i;
  after_edge(e);
}

void HookPass::after_record(const Node& n, uint64_t delivered) {
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (!tracked(i) || !(delivered >> i & 1)) after_edge(n.inputs[i]);
}

void HookPass::finish() {
  for (TensorImpl* leaf : leaves_)
    if (leaf->hooks && leaf->hooks->counted && leaf->hooks->remaining > 0) {
      leaf->hooks->remaining = 0;
      fire(leaf);
    }
}

}  // namespace detail

HookHandle on_grad_ready(const Tensor& leaf, GradReadyHook hook) {
  if (!leaf.defined()) throw UsageError("on_grad_ready: the tensor is undefined");
  if (!leaf.is_leaf())
    throw UsageError(fmt::format("on_grad_ready: the tensor {} is the output of '{}'; hooks go on leaves (the tensors "
                                 "it was computed from)",
                                 leaf.shape().str(), leaf.op_name()));
  if (!leaf.requires_grad())
    throw UsageError(fmt::format("on_grad_ready: the leaf {} does not require grad, so backward() never reaches it "
                                 "(call requires_grad_() first)",
                                 leaf.shape().str()));
  if (!hook) throw UsageError("on_grad_ready: the hook is empty");
  detail::TensorImpl* impl = detail::impl_of(leaf);
  if (!impl->hooks) {
    impl->hooks = std::make_unique<detail::LeafHooks>();
    detail::g_hooked_leaves.fetch_add(1, std::memory_order_relaxed);
  }
  const uint64_t id = detail::g_next_hook_id.fetch_add(1, std::memory_order_relaxed);
  impl->hooks->hooks.emplace_back(id, std::move(hook));
  detail::g_hook_generation.fetch_add(1, std::memory_order_relaxed);
  return HookHandle(leaf, id);
}

HookHandle::HookHandle(HookHandle&& other) noexcept
    : leaf_(std::move(other.leaf_)), id_(std::exchange(other.id_, 0)) {}

HookHandle& HookHandle::operator=(HookHandle&& other) noexcept {
  if (this != &other) {
    remove();
    leaf_ = std::move(other.leaf_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void HookHandle::remove() {
  if (id_ == 0) return;
  detail::TensorImpl* impl = detail::impl_of(leaf_);
  const uint64_t id = std::exchange(id_, 0);
  if (!impl->hooks) return;
  auto& list = impl->hooks->hooks;
  auto it = std::find_if(list.begin(), list.end(), [&](const auto& entry) { return entry.first == id; });
  if (it == list.end()) return;
  detail::g_hook_generation.fetch_add(1, std::memory_order_relaxed);
  if (impl->hooks->firing) {
    it->first = 0;  // erased when the firing loop ends
  } else {
    list.erase(it);
    detail::release_if_empty(impl);
  }
  leaf_ = Tensor();
}

}  // namespace ad
