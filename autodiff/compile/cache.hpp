// Internal: a compiled function's traces, one per signature seen, most recently used first.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "autodiff/compile.hpp"
#include "autodiff/compile/trace.hpp"

namespace ad::detail {

class TraceCache {
 public:
  explicit TraceCache(CompileOptions options);
  /// Replays the trace that fits `args`, or runs `body` (recording a new trace, or verifying).
  std::span<const Tensor> call(std::span<const Tensor* const> args, CompileBody body);
  CompileStats stats() const;
  void clear();
  /// The most recently used trace, or null.
  const Trace* last() const { return traces_.empty() ? nullptr : traces_.front().get(); }

 private:
  std::span<const Tensor> run_eagerly(std::span<const Tensor* const> args, CompileBody body);
  std::span<const Tensor> record(std::span<const Tensor* const> args, CompileBody body);
  std::span<const Tensor> verify(const Trace& trace, std::span<const Tensor* const> args, CompileBody body);
  Trace* find(std::span<const Tensor* const> args);

  CompileOptions options_;
  std::vector<std::unique_ptr<Trace>> traces_;
  CompileStats counts_;
  int64_t calls_since_verify_ = 0;
  std::vector<Tensor> outputs_;  // of calls that ran the body
  std::atomic<bool> busy_{false};
};

/// Runs `body` under a recorder that checks every step against `trace` (verify.cpp); throws
/// TraceMismatchError at the first difference.
void record_and_compare(const Trace& trace, std::span<const Tensor* const> args, CompileBody body,
                        std::vector<Tensor>& outputs);

}  // namespace ad::detail
