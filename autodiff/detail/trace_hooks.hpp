// Internal: where the tensor code tells a recording ad::compile trace what kernels alone do not
// show (autodiff/compile/recorder.hpp): storages and handles made, a leaf's gradient read or
// replaced, a tensor's values read on the host. Each hook is one thread-local load and a branch
// when nothing records.
#pragma once

#include "autodiff/detail/impl.hpp"
#include "autodiff/kernels/launch.hpp"

namespace ad::detail {

/// Whether a trace records on this thread (and no host call is running).
inline bool recording() { return kernels::t_launch_recorder != nullptr; }

void trace_storage_created(Storage* s);
void trace_storage_released(Storage* s);
void trace_impl_created(TensorImpl* t);
void trace_impl_destroyed(TensorImpl* t);
/// `source`'s storage is now also reached through another handle (detach, reshape).
void trace_aliased(TensorImpl* source);
/// A leaf's gradient is about to be read (accumulated into, or handed out by grad()).
void trace_grad_read(TensorImpl* leaf);
/// A leaf's gradient handle now is leaf->grad (null: cleared).
void trace_grad_set(TensorImpl* leaf);
/// `leaf`'s gradient-ready hooks fire: recorded as a host step that fires them on every replay.
void trace_grad_ready(TensorImpl* leaf);
/// Throws UsageError: `what` reads or writes t's values on the host while a trace records.
[[noreturn]] void trace_refuse_host_access(const TensorImpl* t, const char* what);

/// Throws unless host access to t's values is allowed now (no trace records on this thread).
inline void check_host_access(const TensorImpl* t, const char* what) {
  if (recording()) [[unlikely]]
    trace_refuse_host_access(t, what);
}

}  // namespace ad::detail
