// Internal (kernel layer): the one door every kernel call goes through. An op hands launch()
// its operands and the kernel as a closure; launch() runs it and, while ad::compile records on
// this thread, also hands the closure and the operands to the recorder, which replays the same
// closure on planned buffers later. A kernel called any other way is invisible to a trace, so
// ops never call one directly (the compile tests replay every op of the table bit for bit).
//
// A kernel closure sees its buffers only through Operands, and captures everything else by
// value (scalars, flags, index lists): it runs again long after the op has returned.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>

#include "autodiff/kernels/buffer.hpp"

namespace ad::kernels {

/// One operand of a launch: a whole contiguous buffer. `owner` names it for a recorder (the
/// tensor it belongs to); kernels never read it.
struct Buffer {
  void* data = nullptr;
  const Shape* shape = nullptr;
  DType dtype = DType::f32;
  const void* owner = nullptr;
};

/// The buffers a kernel closure reads (inputs) and writes (outputs), in launch order.
class Operands {
 public:
  Operands(const Buffer* in, size_t n_in, const Buffer* out, size_t n_out)
      : in_(in), out_(out), n_in_(n_in), n_out_(n_out) {}
  In in(size_t i) const { return {in_[i].data, *in_[i].shape, in_[i].dtype}; }
  Out out(size_t i) const { return {out_[i].data, *out_[i].shape, out_[i].dtype}; }
  size_t inputs() const { return n_in_; }
  size_t outputs() const { return n_out_; }
  const Buffer& input_buffer(size_t i) const { return in_[i]; }
  const Buffer& output_buffer(size_t i) const { return out_[i]; }

 private:
  const Buffer* in_;
  const Buffer* out_;
  size_t n_in_, n_out_;
};

/// A kernel closure kept for replay.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(const Operands& ops) const = 0;
};

/// Receives every launch on this thread while a trace records, and runs it.
class LaunchRecorder {
 public:
  virtual ~LaunchRecorder() = default;
  /// Runs `kernel` on `ops` (the launch's effect) and keeps it for replay.
  virtual void launch(const char* name, const Operands& ops, std::unique_ptr<Kernel> kernel) = 0;
};

/// The recorder of this thread, or null (the usual case: one load and a branch per launch).
inline thread_local LaunchRecorder* t_launch_recorder = nullptr;

namespace detail {
template <class K>
class KernelOf final : public Kernel {
 public:
  explicit KernelOf(K k) : k_(std::move(k)) {}
  void run(const Operands& ops) const override { k_(ops); }

 private:
  K k_;
};
}  // namespace detail

/// Runs kernel(Operands{in, out}), through the recorder when one is recording on this thread.
template <class K>
void launch(const char* name, std::initializer_list<Buffer> in, std::initializer_list<Buffer> out, K kernel) {
  const Operands ops(in.begin(), in.size(), out.begin(), out.size());
  if (LaunchRecorder* r = t_launch_recorder) [[unlikely]]
    return r->launch(name, ops, std::make_unique<detail::KernelOf<K>>(std::move(kernel)));
  kernel(ops);
}

}  // namespace ad::kernels
