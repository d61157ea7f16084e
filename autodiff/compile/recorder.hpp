// Internal: records one call of a compiled function while it runs eagerly. Installed on the
// calling thread for the call's duration, it receives every kernel launch (kernels/launch.hpp)
// and the tensor code's hooks (detail/trace_hooks.hpp), and builds a Recording.
#pragma once

#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autodiff/compile/recording.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

/// Checks a recording step by step against an earlier one (verify mode, verify.cpp).
class StepChecker {
 public:
  virtual ~StepChecker() = default;
  /// Before kernel step `k` of `rec` runs (ops as the launch gave them).
  virtual void before_kernel(const Recording& rec, size_t k, const StepRecord& step, const kernels::Operands& ops) = 0;
  /// After it ran.
  virtual void after_kernel(size_t k, const StepRecord& step, const kernels::Operands& ops) = 0;
  /// A host call or gradient assignment `k`, before it runs.
  virtual void other(const Recording& rec, size_t k, const StepRecord& step) = 0;
};

class Recorder final : public kernels::LaunchRecorder {
 public:
  /// Installs itself on this thread; `args` are the compiled function's arguments.
  Recorder(std::span<const Tensor* const> args, StepChecker* checker = nullptr);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// The recorder installed on this thread (a trace is recording), or null.
  static Recorder* current();

  void launch(const char* name, const kernels::Operands& ops, std::unique_ptr<kernels::Kernel> kernel) override;
  void storage_created(Storage* s);
  void storage_released(Storage* s);
  void impl_created(TensorImpl* t);
  void impl_destroyed(TensorImpl* t);
  void aliased(TensorImpl* source);
  void grad_read(TensorImpl* leaf);
  void grad_set(TensorImpl* leaf);
  void host_call(const char* name, std::span<const Tensor> touches, std::function<void()> fn);
  void grad_ready(TensorImpl* leaf);
  [[noreturn]] void refuse_host_access(const TensorImpl* t, const char* what) const;

  /// Uninstalls, checks the outputs (`outputs` become the handles a replay returns) and hands
  /// the recording over.
  Recording finish(std::vector<Tensor>& outputs);

 private:
  uint32_t buffer_of(TensorImpl* owner);
  uint32_t new_buffer(BufferKind kind, const Storage* s, size_t bytes);
  uint32_t slot_of(TensorImpl* t);
  void guard_outside(TensorImpl* t);
  uint32_t argument_of(const TensorImpl* t) const;
  void touch(uint32_t buffer, bool writes, const char* name);
  uint32_t output_slot(const Tensor& out, size_t i);
  std::string describe(const TensorImpl* t) const;
  void uninstall();

  Recording rec_;
  std::unordered_map<const Storage*, uint32_t> by_storage_;
  std::unordered_map<const TensorImpl*, uint32_t> by_impl_;
  std::unordered_set<const TensorImpl*> made_;  // handles created during the call
  std::vector<const TensorImpl*> arg_impls_;
  StepChecker* checker_;
  bool installed_ = false;
};

}  // namespace ad::detail
