/// \file
/// ad::compile: record a training step once, replay it many times.
///
/// \code{.cpp}
/// ad::optim::SGD sgd(net.parameters(), 1.2);
/// auto step = ad::compile([&](const ad::Tensor& X, const ad::Tensor& Y) {
///   ad::Tensor J = nn::binary_cross_entropy(net.forward(X), Y);
///   sgd.zero_grad();
///   J.backward();
///   sgd.step();
///   return J;
/// });
/// for (int i = 0; i < 10000; ++i) ad::Tensor J = step(X, Y);   // J.item() after the call
/// \endcode
///
/// The first call with a given signature runs the function eagerly and records every kernel it
/// launches: the forward ops, the backward rules, the engine's gradient sums, factories (the
/// seed's ones, random draws), copies. Later calls with the same signature replay those kernels
/// in the same order on buffers allocated once: no graph records, no tensors, no shape checks,
/// no heap allocation. Results are bit for bit those of the eager call (same kernels, same order).
///
/// What a replay does:
///  - Arguments are bound per call. Tensors the function reads from outside (parameters,
///  constants, optimizer state) are captured by reference: updates to their values are seen.
///  - Each leaf's grad() ends up holding what eager mode would have left there: gradients set,
///  accumulated into the gradient the leaf had at entry, or cleared by zero_grad().
///  - Host calls (ad::host_call, and so every Optimizer::step()) run again at the same point,
///  reading their host state then: Adam's step count, the learning rate a schedule has set.
///  - Random draws (rand, randn, dropout masks) are drawn afresh from this thread's generator.
///
/// What runs only at record time: everything else the function does on the host. Its C++
/// control flow and the scalars it computes are frozen into the trace. So reading a tensor's
/// values on the host while recording (item(), to_vector(), data<T>(), raw_data(), printing)
/// throws UsageError: the replay would not read them again. Keep such code outside the function,
/// or wrap it in ad::host_call. A branch on a value the trace cannot see (a captured variable
/// that changes between calls) is caught by CompileOptions::verify_every.
///
/// The returned tensors and the gradients are static buffers, as CUDA graphs' outputs: the next
/// replay overwrites them; clone() what must be kept. A returned tensor must not carry an
/// un-backpropagated graph (the replay has none): call backward() inside, or compute it under
/// NoGradGuard. Passing a returned tensor back in as an argument throws (clone() it).
///
/// The signature that selects a trace: each argument's shape, dtype and requires_grad; grad mode;
/// for every outside tensor the trace reads, its requires_grad and that something besides the
/// trace still holds it; for every leaf whose gradient the trace reads on entry, whether it was
/// defined. A mismatch records a new trace; CompileOptions::max_traces bounds the cache (least
/// recently used out). A handle replaced behind the function's back (net.W = other tensor) is
/// not visible: the trace keeps the tensor it recorded with as long as anything holds it
/// (Module::to(DType) changes the input dtype the function is called with, which re-records).
///
/// Memory plan: buffers created inside the call that do not outlive it are laid out in one arena
/// by liveness (first kernel that writes one … last that reads it; buffers whose lifetimes do not
/// overlap share bytes), so a replay's intermediate memory is at most eager mode's peak.
/// Buffers that outlive the call (outputs, gradients, what host calls touch) keep their own
/// storage. stats() reports both, and the eager peak seen while recording.
///
/// Gradient-ready hooks (autodiff/hooks.hpp, as tapegrad::dist installs): each time backward()
/// fires a leaf's hooks while recording, the trace gets a host call there, after the kernels
/// that made that gradient final and before the rest of the backward pass. A replay fires the
/// hooks the recording fired, in the same order, at the same points, with the leaf's grad()
/// holding the replayed gradient (which keeps its storage, so a hook may hold it). What a hook
/// does is host code, run again on every replay and never traced. Adding or removing any hook
/// in the process drops every trace recorded before (the next call records afresh; a call
/// during which hooks were added or removed keeps no trace and counts as eager). A call whose
/// arguments carry hooks runs eagerly. DataParallel::synchronize() is a host call too, so a
/// compiled data-parallel step replays with its all-reduces overlapped as in eager mode.
///
/// With anomaly detection on, calls run eagerly (its checks live in the recording path). A
/// compiled function called while another one records runs eagerly inside that recording.
/// Threads: one compiled function is called by one thread at a time (UsageError otherwise);
/// threads that each own one replay independently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad {

/// How a compiled function records and checks its traces.
struct CompileOptions {
  /// Traces kept (one per signature seen), least recently used evicted first; at least 1.
  size_t max_traces = 8;
  /// Every N-th call that would replay instead runs eagerly, recording afresh, and compares
  /// kernel by kernel with the cached trace (names, operands, shapes, and each kernel's output
  /// values on the same inputs); the first difference throws TraceMismatchError. 0: never.
  int64_t verify_every = 0;
};

/// A verify call (CompileOptions::verify_every) found the eager run differing from the trace.
class TraceMismatchError : public Error {
 public:
  using Error::Error;
};

/// What a compiled function has done, and the memory of its most recently used trace.
struct CompileStats {
  uint64_t records = 0;     ///< calls that ran eagerly and recorded a trace
  uint64_t replays = 0;     ///< calls that replayed a trace
  uint64_t verifies = 0;    ///< verify calls (eager runs compared with the trace)
  uint64_t eager_calls = 0;  ///< calls that ran eagerly and kept no trace (anomaly mode, nested, hooks changed)
  uint64_t evictions = 0;   ///< traces dropped (cache bound, or an outside tensor released)
  size_t traces = 0;        ///< traces cached now
  // The most recently used trace (zeros before the first call):
  size_t kernels = 0;               ///< kernel launches replayed per call
  size_t host_calls = 0;            ///< host calls replayed per call
  size_t buffers = 0;               ///< buffers made by the function: intermediates + persistent
  size_t intermediate_buffers = 0;  ///< buffers that live inside one call (in the arena)
  size_t persistent_buffers = 0;    ///< buffers that outlive a call (outputs, gradients)
  size_t arena_bytes = 0;           ///< the replay's intermediate memory (one block)
  size_t persistent_bytes = 0;      ///< bytes of the persistent buffers
  size_t eager_peak_bytes = 0;      ///< the most intermediate bytes alive at once in the eager call
};

class CompiledFunction;
namespace detail {
class TraceCache;
/// The function body as the cache calls it (when recording or running eagerly): arguments in,
/// outputs appended. A plain pointer pair, so building one per call costs nothing.
struct CompileBody {
  void* self;
  void (*run)(void* self, std::span<const Tensor* const> args, std::vector<Tensor>& outputs);
};
}  // namespace detail

/// The non-template part of a compiled function: the trace cache, replay and statistics.
class CompiledFunction {
 public:
  /// An empty trace cache with these options (CompileOptions::max_traces ≥ 1, else ValueError).
  explicit CompiledFunction(CompileOptions options = {});
  /// Frees the traces and their buffers.
  ~CompiledFunction();
  /// Takes over the traces (the moved-from function has none and records on its next call).
  CompiledFunction(CompiledFunction&&) noexcept;
  /// Takes over the traces, dropping this one's own.
  CompiledFunction& operator=(CompiledFunction&&) noexcept;
  CompiledFunction(const CompiledFunction&) = delete;
  CompiledFunction& operator=(const CompiledFunction&) = delete;

  /// Counters and the memory figures of the most recently used trace.
  CompileStats stats() const;
  /// Drops every trace: the next call records again.
  void clear();

 protected:
  /// Runs `body` or replays; returns the outputs, valid until the next call.
  std::span<const Tensor> call(std::span<const Tensor* const> args, detail::CompileBody body);

 private:
  friend std::string explain(const CompiledFunction& f);
  friend std::string to_dot(const CompiledFunction& f);
  std::unique_ptr<detail::TraceCache> cache_;
};

/// A compiled `F`: call it like F. F takes tensors (by value or const&) and returns a Tensor,
/// a std::vector<Tensor> or nothing.
template <class F>
class Compiled : public CompiledFunction {
 public:
  /// Wraps `fn`; nothing is recorded until the first call.
  Compiled(F fn, CompileOptions options) : CompiledFunction(options), fn_(std::move(fn)) {}

  /// Calls fn(args...): records on a new signature, replays otherwise. Returns what fn returns;
  /// the tensors are the trace's static outputs, overwritten by the next call.
  template <class... Args>
  auto operator()(const Args&... args) {
    static_assert((std::is_same_v<Args, Tensor> && ...), "a compiled function takes ad::Tensor arguments");
    using R = std::invoke_result_t<F&, const Args&...>;
    static_assert(std::is_same_v<R, Tensor> || std::is_same_v<R, std::vector<Tensor>> || std::is_void_v<R>,
                  "a compiled function returns an ad::Tensor, a std::vector<ad::Tensor> or nothing");
    const Tensor* const list[sizeof...(Args) + 1] = {&args..., nullptr};
    const std::span<const Tensor> out =
        call({list, sizeof...(Args)}, detail::CompileBody{this, &Compiled::run_body<R, Args...>});
    if constexpr (std::is_same_v<R, Tensor>) return out[0];
    else if constexpr (!std::is_void_v<R>) return std::vector<Tensor>(out.begin(), out.end());
  }

 private:
  template <class R, class... Args>
  static void run_body(void* self, std::span<const Tensor* const> a, std::vector<Tensor>& outputs) {
    static_cast<Compiled*>(self)->invoke<R>(a, outputs, std::index_sequence_for<Args...>());
  }
  template <class R, size_t... I>
  void invoke(std::span<const Tensor* const> a, std::vector<Tensor>& outputs, std::index_sequence<I...>) {
    if constexpr (std::is_void_v<R>) fn_(*a[I]...);
    else if constexpr (std::is_same_v<R, Tensor>) outputs.push_back(fn_(*a[I]...));
    else for (Tensor& t : fn_(*a[I]...)) outputs.push_back(std::move(t));
  }

  F fn_;
};

/// Compiles `fn` (see the top of this header). The result is callable like fn.
template <class F>
Compiled<std::decay_t<F>> compile(F&& fn, CompileOptions options = {}) {
  return Compiled<std::decay_t<F>>(std::forward<F>(fn), options);
}

/// Runs fn() now; when called while ad::compile records, every replay calls fn() again at this
/// point. `touches` lists the tensors fn reads or writes on the host (a leaf's gradient counts
/// with the leaf): their buffers keep their storage, so handles fn captured stay valid. fn may
/// read values on the host (item(), data<T>()); it must not capture the compiled function's
/// arguments, which change from call to call (listing one in `touches` throws UsageError).
template <class F>
void host_call(const char* name, std::span<const Tensor> touches, F&& fn);

/// Whether ad::compile records on this thread right now (false inside a host call).
bool is_recording();

namespace detail {
void record_host_call(const char* name, std::span<const Tensor> touches, std::function<void()> fn);
}  // namespace detail

template <class F>
void host_call(const char* name, std::span<const Tensor> touches, F&& fn) {
  if (!is_recording()) {
    fn();
    return;
  }
  detail::record_host_call(name, touches, std::function<void()>(std::forward<F>(fn)));
}

/// The most recently used trace of `f`: its kernels in replay order, each with its operands
/// (arguments, outside tensors, arena buffers with their offsets) and the memory plan.
std::string explain(const CompiledFunction& f);
/// The same trace as Graphviz DOT: kernels as boxes, buffers as ellipses.
std::string to_dot(const CompiledFunction& f);

}  // namespace ad
