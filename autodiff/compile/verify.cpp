// Verify mode: the call runs eagerly and records afresh, and every step is compared with the
// cached trace as it happens. Kernels are compared by what they compute: before the eager
// kernel runs, the trace's kernel runs on the same inputs into scratch copies of the outputs
// (with this thread's generator saved and restored, so random draws agree and the eager stream
// is left as it was); the two results must agree bit for bit. That catches a changed branch
// (another kernel or other operands) and a changed scalar frozen into a kernel alike, and names
// the first step where they part.
#include <fmt/format.h>

#include <cstring>
#include <random>

#include "autodiff/detail/allocate.hpp"
#include "autodiff/compile/cache.hpp"
#include "autodiff/compile/recorder.hpp"
#include "autodiff/detail/random.hpp"
#include "autodiff/kernels/dispatch.hpp"

namespace ad::detail {
namespace {

std::string describe_step(const StepRecord& s) {
  if (s.kind != StepKind::kernel) return fmt::format("'{}'", s.name);
  const Operand& out = s.operands.back();
  return fmt::format("'{}' {} {}", s.name, out.shape.str(), dtype_name(out.dtype));
}

struct Scratch {
  void* data = nullptr;
  size_t bytes = 0;
  Scratch(const void* from, size_t n) : data(allocate(n)), bytes(n) { std::memcpy(data, from, n); }
  ~Scratch() { deallocate(data, bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

double element(const void* p, DType d, size_t i) {
  return kernels::dispatch(d, [&](auto tag) { return static_cast<double>(static_cast<const decltype(tag)*>(p)[i]); });
}

class Comparer final : public StepChecker {
 public:
  explicit Comparer(const Trace& trace) : ref_(trace.recording()) {}

  void before_kernel(const Recording& rec, size_t k, const StepRecord& step, const kernels::Operands& ops) override {
    const StepRecord& r = expect(rec, k, step);
    scratch_.clear();
    std::vector<kernels::Buffer> in(ops.inputs()), out(ops.outputs());
    for (size_t j = 0; j < ops.outputs(); ++j) {
      const kernels::Buffer& b = ops.output_buffer(j);
      scratch_.push_back(std::make_unique<Scratch>(b.data, bytes_of(step.operands[step.inputs + j])));
      out[j] = {scratch_.back()->data, b.shape, b.dtype, nullptr};
    }
    for (size_t i = 0; i < ops.inputs(); ++i) {  // an input that is also an output reads its scratch copy
      in[i] = ops.input_buffer(i);
      for (size_t j = 0; j < ops.outputs(); ++j)
        if (step.operands[i].buffer == step.operands[step.inputs + j].buffer) in[i].data = out[j].data;
    }
    const std::mt19937_64 saved = generator();
    r.kernel->run(kernels::Operands(in.data(), in.size(), out.data(), out.size()));
    generator() = saved;
  }

  void after_kernel(size_t k, const StepRecord& step, const kernels::Operands& ops) override {
    for (size_t j = 0; j < ops.outputs(); ++j) {
      const Operand& o = step.operands[step.inputs + j];
      const void* eager = ops.output_buffer(j).data;
      const void* traced = scratch_[j]->data;
      if (std::memcmp(eager, traced, scratch_[j]->bytes) == 0) continue;
      const size_t size = dtype_size(o.dtype);
      size_t i = 0;
      while (std::memcmp(static_cast<const char*>(eager) + i * size, static_cast<const char*>(traced) + i * size, size) == 0) ++i;
      fail(k, step, fmt::format("its values differ at element {}: eager {}, trace {} (a scalar the function computes "
                                "on the host, or a tensor it reads, changed between calls)",
                                i, element(eager, o.dtype, i), element(traced, o.dtype, i)));
    }
  }

  void other(const Recording& rec, size_t k, const StepRecord& step) override {
    const StepRecord& r = expect(rec, k, step);
    if (r.leaf != step.leaf || r.value != step.value) fail(k, step, "it assigns a gradient to another tensor");
  }

  // The eager run has ended: it must not have stopped short of the trace.
  void finish(const Recording& rec) {
    if (rec.steps.size() < ref_.steps.size())
      throw TraceMismatchError(fmt::format(
          "compiled function (verify): the eager run ended after {} steps, but the trace goes on with {} at step #{}; "
          "the function takes another path than when it was recorded (the trace is dropped)",
          rec.steps.size(), describe_step(ref_.steps[rec.steps.size()]), rec.steps.size() + 1));
    if (rec.outputs.size() != ref_.outputs.size())
      throw TraceMismatchError(fmt::format("compiled function (verify): the eager run returned {} outputs, the trace {}",
                                           rec.outputs.size(), ref_.outputs.size()));
  }

 private:
  static size_t bytes_of(const Operand& o) { return static_cast<size_t>(o.shape.numel()) * dtype_size(o.dtype); }

  [[noreturn]] void fail(size_t k, const StepRecord& step, const std::string& why) const {
    throw TraceMismatchError(fmt::format(
        "compiled function (verify): step #{} {} of the eager run differs from the trace: {}. The function does "
        "something a replay cannot see (the call stops here, as an eager call that throws; the trace is dropped)",
        k + 1, describe_step(step), why));
  }

  // The trace's step k, which must be the same kind of step on the same operands.
  const StepRecord& expect(const Recording& rec, size_t k, const StepRecord& step) const {
    if (k >= ref_.steps.size()) fail(k, step, fmt::format("the trace ended after {} steps", ref_.steps.size()));
    const StepRecord& r = ref_.steps[k];
    if (r.kind != step.kind || std::string_view(r.name) != step.name)
      fail(k, step, fmt::format("the trace has {} here", describe_step(r)));
    if (r.operands.size() != step.operands.size() || r.inputs != step.inputs || r.touched != step.touched)
      fail(k, step, "its operands are other buffers than the trace's");
    for (size_t i = 0; i < r.operands.size(); ++i) {
      const Operand &a = r.operands[i], &b = step.operands[i];
      if (!(a.shape == b.shape) || a.dtype != b.dtype)
        fail(k, step, fmt::format("operand {} is {} {} in the trace", i, a.shape.str(), dtype_name(a.dtype)));
      if (a.buffer != b.buffer || !same_buffer(ref_.buffers[a.buffer], rec.buffers[b.buffer]))
        fail(k, step, fmt::format("operand {} is another buffer than the trace's", i));
    }
    return r;
  }

  // Buffers are numbered in the order the call meets them, so equal numbers mean equal roles;
  // an outside buffer must also be the very same storage.
  static bool same_buffer(const BufferRecord& a, const BufferRecord& b) {
    return a.kind == b.kind && a.index == b.index && (a.kind != BufferKind::external || a.storage == b.storage);
  }

  const Recording& ref_;
  std::vector<std::unique_ptr<Scratch>> scratch_;
};

}  // namespace

void record_and_compare(const Trace& trace, std::span<const Tensor* const> args, CompileBody body,
                        std::vector<Tensor>& outputs) {
  Comparer comparer(trace);
  Recorder recorder(args, &comparer);
  body.run(body.self, args, outputs);
  Recording fresh = recorder.finish(outputs);
  comparer.finish(fresh);
}

}  // namespace ad::detail
