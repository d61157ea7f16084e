// Gradient-ready hooks: your code runs inside backward() as soon as a leaf's gradient for the
// pass is final, while the rest of the pass goes on. Data-parallel training uses them to start
// averaging a layer's gradients across processes before backward has reached the first layer.
//
//   ad::HookHandle h = ad::on_grad_ready(W, [](const ad::Tensor& leaf) {
//     send_somewhere(leaf.grad());   // final for this pass: backward() will not change it again
//   });
//
// When a hook fires, exactly: backward() first counts, for every leaf that has hooks, the edges
// into it from the records the pass can reach (one per input slot, so x·x counts twice). The
// walk then runs records from the newest down. When a rule passes a gradient to a hooked leaf
// (BackwardContext::add), that edge is done as soon as the gradient has been added to .grad();
// the edges a rule passes nothing to are done when the rule returns. A leaf fires its hooks
// when its last edge is done: inside the rule, right after that add() — so a layer's weights
// can be on their way while the same rule still computes the gradient of its input — or when
// the rule returns. A leaf that is itself an output of the pass counts its seed as one edge. If
// a reachable record never receives a gradient (a rule that passes none on), the leaves still
// waiting on it fire at the end of the pass, in the order the count found them. So a hook fires
// at most once per pass, after every contribution of that pass has been added to .grad(); for
// that, a rule passes a hooked leaf's gradient with one add() call (a second one throws
// UsageError; every built-in rule passes each input's gradient once).
//
// Inside a function compiled by ad::compile, every replay fires the hooks the recording fired,
// at the same points (autodiff/compile.hpp); adding or removing a hook makes the next call record.

#pragma once

#include <cstdint>
#include <functional>

#include "autodiff/tensor.hpp"

namespace ad {

/// A gradient-ready hook: called with the leaf whose .grad() is final for the current pass.
using GradReadyHook = std::function<void(const Tensor& leaf)>;

/// Owns one registered hook and removes it when destroyed, or earlier by remove(). Movable.
class HookHandle {
 public:
  /// A handle that owns no hook.
  HookHandle() = default;
  /// The handle of hook `id` on `leaf` (made by on_grad_ready).
  HookHandle(Tensor leaf, uint64_t id) : leaf_(std::move(leaf)), id_(id) {}
  /// Takes over other's hook; other then owns none.
  HookHandle(HookHandle&& other) noexcept;
  /// Removes this handle's hook, then takes over other's.
  HookHandle& operator=(HookHandle&& other) noexcept;
  HookHandle(const HookHandle&) = delete;
  HookHandle& operator=(const HookHandle&) = delete;
  ~HookHandle() { remove(); }

  /// Unregisters the hook (a no-op when it is already gone). Safe inside the hook itself.
  void remove();
  /// False once removed (or for a default-constructed handle).
  bool active() const { return id_ != 0; }

 private:
  Tensor leaf_;
  uint64_t id_ = 0;
};

/// Registers `hook` on `leaf`, a tensor made by the user that requires grad (UsageError
/// otherwise). In every backward() that reaches the leaf, `hook(leaf)` is called once, on the
/// thread running backward, when leaf.grad() holds its final value for that pass (see the top
/// of this header for the exact point). Hooks of one leaf run in registration order. ad::grad()
/// fires no hooks: it leaves .grad() alone. An exception from a hook ends the backward pass like
/// one from a backward rule. Register and remove hooks while no backward pass runs on the leaf
/// (a hook may remove itself).
[[nodiscard]] HookHandle on_grad_ready(const Tensor& leaf, GradReadyHook hook);

}  // namespace ad
