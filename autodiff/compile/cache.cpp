#include "autodiff/compile/cache.hpp"

#include <fmt/format.h>

#include "autodiff/anomaly.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/compile/recorder.hpp"
#include "autodiff/detail/trace_hooks.hpp"

namespace ad::detail {
namespace {

// One thread at a time per compiled function: its buffers are not shared.
class Busy {
 public:
  explicit Busy(std::atomic<bool>& flag) : flag_(flag) {
    if (flag_.exchange(true, std::memory_order_acquire))
      throw UsageError(
          "compiled function: called while a call of it is running (from another thread, or from inside itself); "
          "each thread needs its own compiled function");
  }
  ~Busy() { flag_.store(false, std::memory_order_release); }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  std::atomic<bool>& flag_;
};

// A trace fires the hooks of the leaves it holds; an argument changes from call to call, and so
// would the hooks a replay has to fire for it.
bool hooked_argument(std::span<const Tensor* const> args) {
  if (!any_hooks()) return false;
  for (const Tensor* a : args)
    if (a->defined() && impl_of(*a)->hooks) return true;
  return false;
}

}  // namespace

TraceCache::TraceCache(CompileOptions options) : options_(options) {
  if (options_.max_traces < 1) throw ValueError("compile: CompileOptions::max_traces must be at least 1");
  if (options_.verify_every < 0)
    throw ValueError(fmt::format("compile: CompileOptions::verify_every = {} must be ≥ 0", options_.verify_every));
}

// Most recently used first; a stale trace (an outside tensor it reads was let go) can never fit
// again and is dropped on sight.
Trace* TraceCache::find(std::span<const Tensor* const> args) {
  for (size_t i = 0; i < traces_.size();) {
    const Trace::Fit fit = traces_[i]->fits(args);
    if (fit == Trace::Fit::stale) {
      traces_.erase(traces_.begin() + static_cast<std::ptrdiff_t>(i));
      ++counts_.evictions;
      continue;
    }
    if (fit == Trace::Fit::yes) {
      std::rotate(traces_.begin(), traces_.begin() + static_cast<std::ptrdiff_t>(i),
                  traces_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return traces_.front().get();
    }
    ++i;
  }
  return nullptr;
}

std::span<const Tensor> TraceCache::call(std::span<const Tensor* const> args, CompileBody body) {
  Busy busy(busy_);
  if (recording() || is_anomaly_enabled() || hooked_argument(args)) return run_eagerly(args, body);
  Trace* trace = find(args);
  if (!trace) return record(args, body);
  if (options_.verify_every > 0 && ++calls_since_verify_ >= options_.verify_every) {
    calls_since_verify_ = 0;
    return verify(*trace, args, body);
  }
  ++counts_.replays;
  return trace->replay(args);
}

std::span<const Tensor> TraceCache::run_eagerly(std::span<const Tensor* const> args, CompileBody body) {
  outputs_.clear();
  ++counts_.eager_calls;
  body.run(body.self, args, outputs_);
  return outputs_;
}

std::span<const Tensor> TraceCache::record(std::span<const Tensor* const> args, CompileBody body) {
  outputs_.clear();
  Recording rec;
  {
    Recorder recorder(args);
    body.run(body.self, args, outputs_);
    rec = recorder.finish(outputs_);
  }
  if (!rec.replayable) {  // hooks changed during the call: its firings describe no later call
    ++counts_.eager_calls;
    return outputs_;
  }
  traces_.insert(traces_.begin(), std::make_unique<Trace>(std::move(rec)));
  if (traces_.size() > options_.max_traces) {
    traces_.pop_back();
    ++counts_.evictions;
  }
  ++counts_.records;
  return traces_.front()->bind_outputs(args);
}

// A mismatch leaves the eager call's effects in place (it ran to the point of divergence, as an
// uncompiled call would have) and drops the trace, which no longer describes the function.
std::span<const Tensor> TraceCache::verify(const Trace& trace, std::span<const Tensor* const> args, CompileBody body) {
  ++counts_.verifies;
  outputs_.clear();
  try {
    record_and_compare(trace, args, body, outputs_);
  } catch (const TraceMismatchError&) {
    traces_.erase(traces_.begin());
    ++counts_.evictions;
    throw;
  }
  return outputs_;
}

CompileStats TraceCache::stats() const {
  CompileStats s = counts_;
  s.traces = traces_.size();
  if (const Trace* t = last()) t->add_stats(s);
  return s;
}

void TraceCache::clear() {
  Busy busy(busy_);
  counts_.evictions += traces_.size();
  traces_.clear();
}

}  // namespace ad::detail

namespace ad {

CompiledFunction::CompiledFunction(CompileOptions options)
    : cache_(std::make_unique<detail::TraceCache>(options)) {}
CompiledFunction::~CompiledFunction() = default;
CompiledFunction::CompiledFunction(CompiledFunction&&) noexcept = default;
CompiledFunction& CompiledFunction::operator=(CompiledFunction&&) noexcept = default;

CompileStats CompiledFunction::stats() const { return cache_->stats(); }
void CompiledFunction::clear() { cache_->clear(); }

std::span<const Tensor> CompiledFunction::call(std::span<const Tensor* const> args, detail::CompileBody body) {
  return cache_->call(args, body);
}

}  // namespace ad
