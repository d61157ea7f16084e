// Internal: a recorded call made replayable. Building one plans the memory (intermediates in
// one arena by liveness, persistent buffers keep their storage) and resolves every kernel
// operand to an address once; a replay patches the arguments' addresses in and runs the steps.
#pragma once

#include <span>
#include <vector>

#include "autodiff/compile.hpp"
#include "autodiff/compile/recording.hpp"

namespace ad::detail {

class Trace {
 public:
  explicit Trace(Recording&& rec);
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  enum class Fit { yes, no, stale };
  /// Whether a call with `args` may replay this trace. `stale`: an outside tensor it reads is
  /// held by nothing but the trace, or gradient-ready hooks were added or removed since it was
  /// recorded, so no later call can match either. Throws UsageError for an
  /// argument that is one of the trace's own outputs.
  Fit fits(std::span<const Tensor* const> args) const;
  /// Replays the recorded call; returns its outputs (valid until the next replay).
  std::span<const Tensor> replay(std::span<const Tensor* const> args);
  /// The outputs of the recording call itself.
  std::span<const Tensor> bind_outputs(std::span<const Tensor* const> args);

  const Recording& recording() const { return rec_; }
  /// The arena offset of intermediate buffer `b` (SIZE_MAX for the others).
  size_t offset(uint32_t b) const { return offsets_[b]; }
  void add_stats(CompileStats& s) const;

 private:
  struct Step {
    StepKind kind;
    bool skip;  // a gradient assignment nothing could observe (its handle died in the call)
    const kernels::Kernel* kernel;
    kernels::Operands ops;
    const StepRecord* rec;
  };
  struct Patch {
    uint32_t operand;  // into operands_
    uint32_t buffer;   // an argument's or a gradient-at-entry's
  };

  void plan();
  void resolve();
  void* address(uint32_t buffer) const;
  TensorImpl* slot(uint32_t s, std::span<const Tensor* const> args) const;
  void patch(std::span<const Tensor* const> args);

  Recording rec_;
  Ref<Storage> arena_;
  std::vector<size_t> offsets_;  // per buffer
  std::vector<kernels::Buffer> operands_;
  std::vector<Step> steps_;
  std::vector<Patch> patches_;
  std::vector<uint32_t> guarded_;     // outside slots
  std::vector<uint32_t> entry_slots_;  // slots whose gradient at entry is checked
  std::vector<const Storage*> persistent_;
  std::vector<Tensor> outputs_;
  size_t arena_bytes_ = 0, persistent_bytes_ = 0, eager_peak_ = 0;
  size_t intermediates_ = 0, persistents_ = 0, kernels_ = 0, host_calls_ = 0;
};

}  // namespace ad::detail
