// Internal (not installed): the engine's side of gradient-ready hooks (autodiff/hooks.hpp). A backward pass
// builds a HookPass only when some leaf in the process has hooks, so a pass without hooks costs
// one relaxed atomic load and a null test per record.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "autodiff/engine/node.hpp"
#include "autodiff/hooks.hpp"

namespace ad::detail {

struct Tape;

/// The hooks of one leaf, and its count in the pass running now.
struct LeafHooks {
  std::vector<std::pair<uint64_t, GradReadyHook>> hooks;  // id 0: removed while firing
  int64_t remaining = 0;  // edges into the leaf whose records have not run yet in this pass
  bool counted = false;   // already listed by this pass's count
  bool firing = false;
};

/// Number of leaves with at least one hook, in the whole process.
extern std::atomic<int64_t> g_hooked_leaves;
inline bool any_hooks() { return g_hooked_leaves.load(std::memory_order_relaxed) != 0; }

/// Changes whenever a hook is added or removed anywhere in the process. A compiled trace fires
/// the hooks it saw fire while recording; it is stale once this differs from its recording's.
extern std::atomic<uint64_t> g_hook_generation;
inline uint64_t hook_generation() { return g_hook_generation.load(std::memory_order_relaxed); }

/// Calls `leaf`'s hooks now, in registration order (its gradient is final). A backward pass
/// reaches them through the count below; a compiled trace's replay calls this directly.
void run_hooks(TensorImpl* leaf);

/// One backward pass's bookkeeping: counts the edges into hooked leaves from the records the
/// pass can reach (every slot up to `top` reachable from `roots`), then fires each leaf's hooks
/// when its count reaches zero. Destroying it resets the counts, also after an exception.
class HookPass {
 public:
  HookPass(Tape* tape, size_t top, std::span<const Edge> roots);
  ~HookPass();
  HookPass(const HookPass&) = delete;
  HookPass& operator=(const HookPass&) = delete;

  /// Whether any hooked leaf is reachable (otherwise the pass can drop this object).
  bool empty() const { return leaves_.empty(); }
  /// After the seed of a root edge was delivered.
  void after_edge(const Edge& e);
  /// Within a rule, before its gradient for input `i` is delivered: a rule passes a hooked
  /// leaf's gradient once (UsageError otherwise), since the leaf may be final right after.
  void before_delivery(const Node& n, size_t i, uint64_t delivered) const;
  /// Within a rule, after input `i`'s gradient was delivered: marks it in `delivered` and fires
  /// the leaf when that was its last edge.
  void after_delivery(const Edge& e, size_t i, uint64_t& delivered);
  /// After a record's rule has run: its edges it passed no gradient to (not in `delivered`)
  /// count as done too.
  void after_record(const Node& n, uint64_t delivered);
  /// At the end of a pass that did not throw: fires the leaves still waiting.
  void finish();

 private:
  void count(const Edge& e);
  std::vector<TensorImpl*> leaves_;  // hooked leaves the pass reaches, in the order found
};

}  // namespace ad::detail
