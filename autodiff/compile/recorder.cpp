#include "autodiff/compile/recorder.hpp"

#include <fmt/format.h>

#include "autodiff/compile.hpp"
#include "autodiff/detail/trace_hooks.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/engine/node.hpp"

namespace ad::detail {

namespace {

// Uninstalls the recorder while a host call runs (its kernels are not traced, and it may read
// values), and puts it back afterwards, also when the call throws.
class Suspend {
 public:
  Suspend() : saved_(std::exchange(kernels::t_launch_recorder, nullptr)) {}
  ~Suspend() { kernels::t_launch_recorder = saved_; }
  Suspend(const Suspend&) = delete;
  Suspend& operator=(const Suspend&) = delete;

 private:
  kernels::LaunchRecorder* saved_;
};

}  // namespace

Recorder::Recorder(std::span<const Tensor* const> args, StepChecker* checker) : checker_(checker) {
  rec_.grad_mode = is_grad_enabled();
  rec_.hook_generation = hook_generation();
  for (size_t i = 0; i < args.size(); ++i) {
    const Tensor& a = *args[i];
    if (!a.defined()) throw UsageError(fmt::format("compiled function: argument {} is undefined", i));
    TensorImpl* t = impl_of(a);
    if (t->grad_fn)
      throw UsageError(fmt::format(
          "compiled function: argument {} {} is the output of '{}' with a recorded graph; a replay cannot "
          "backpropagate into the caller's graph (pass a leaf, or detach() it)",
          i, a.shape().str(), a.op_name()));
    ArgRecord r{t->shape, t->dtype, t->requires_grad, kNone};
    auto it = by_storage_.find(t->storage.get());
    if (it != by_storage_.end())
      r.same_as = rec_.buffers[it->second].index;
    else
      by_storage_[t->storage.get()] = new_buffer(BufferKind::argument, t->storage.get(), t->storage->bytes);
    if (r.same_as == kNone) rec_.buffers.back().index = static_cast<uint32_t>(i);
    rec_.args.push_back(r);
    arg_impls_.push_back(t);
  }
  AD_ASSERT(kernels::t_launch_recorder == nullptr);
  kernels::t_launch_recorder = this;
  installed_ = true;
}

Recorder::~Recorder() { uninstall(); }

void Recorder::uninstall() {
  if (installed_) kernels::t_launch_recorder = nullptr;
  installed_ = false;
}

Recorder* Recorder::current() { return static_cast<Recorder*>(kernels::t_launch_recorder); }

uint32_t Recorder::new_buffer(BufferKind kind, const Storage* s, size_t bytes) {
  BufferRecord b;
  b.kind = kind;
  b.storage = s;
  b.bytes = bytes;
  rec_.buffers.push_back(std::move(b));
  return static_cast<uint32_t>(rec_.buffers.size() - 1);
}

uint32_t Recorder::argument_of(const TensorImpl* t) const {
  for (size_t i = 0; i < arg_impls_.size(); ++i)
    if (arg_impls_[i] == t) return static_cast<uint32_t>(i);
  return kNone;
}

// A storage not seen before existed before the call: an outside tensor's, held from now on.
uint32_t Recorder::buffer_of(TensorImpl* owner) {
  Storage* s = owner->storage.get();
  auto it = by_storage_.find(s);
  uint32_t id = 0;
  if (it != by_storage_.end()) {
    id = it->second;
  } else {
    id = new_buffer(BufferKind::external, s, s->bytes);
    rec_.buffers[id].held = owner->storage;
    by_storage_[s] = id;
  }
  if (rec_.buffers[id].kind == BufferKind::external) guard_outside(owner);
  return id;
}

// An outside handle the trace reads through: the replay checks it is still held elsewhere and
// still wants (or not) its gradient. Its graph, if any, belongs to the caller.
void Recorder::guard_outside(TensorImpl* t) {
  if (made_.count(t) || argument_of(t) != kNone || by_impl_.count(t)) return;
  if (t->grad_fn)
    throw UsageError(fmt::format(
        "compiled function: reads {} computed outside the function with a recorded graph; a replay cannot "
        "backpropagate into it (detach() it before the call, or compute it inside)",
        describe(t)));
  slot_of(t);
}

uint32_t Recorder::slot_of(TensorImpl* t) {
  auto it = by_impl_.find(t);
  if (it != by_impl_.end()) return it->second;
  SlotRecord s;
  s.impl = t;
  s.arg = argument_of(t);
  if (s.arg == kNone && !made_.count(t)) {
    s.outside = true;
    s.held = Ref<TensorImpl>(t);
    s.requires_grad = t->requires_grad;
  }
  rec_.slots.push_back(std::move(s));
  const auto id = static_cast<uint32_t>(rec_.slots.size() - 1);
  by_impl_[t] = id;
  return id;
}

void Recorder::touch(uint32_t buffer, bool writes, const char* name) {
  BufferRecord& b = rec_.buffers[buffer];
  const auto k = static_cast<int64_t>(rec_.steps.size());
  if (b.first < 0) b.first = k;
  b.last = k;
  if (writes) b.writer = name;
}

void Recorder::launch(const char* name, const kernels::Operands& ops, std::unique_ptr<kernels::Kernel> kernel) {
  StepRecord step;
  step.kind = StepKind::kernel;
  step.name = name;
  step.inputs = static_cast<uint32_t>(ops.inputs());
  auto add = [&](const kernels::Buffer& b) {
    auto* owner = static_cast<TensorImpl*>(const_cast<void*>(b.owner));
    step.operands.push_back({buffer_of(owner), *b.shape, b.dtype});
  };
  for (size_t i = 0; i < ops.inputs(); ++i) add(ops.input_buffer(i));
  for (size_t i = 0; i < ops.outputs(); ++i) add(ops.output_buffer(i));
  const size_t k = rec_.steps.size();
  if (checker_) checker_->before_kernel(rec_, k, step, ops);
  kernel->run(ops);
  if (checker_) checker_->after_kernel(k, step, ops);
  for (size_t i = 0; i < step.operands.size(); ++i) touch(step.operands[i].buffer, i >= step.inputs, name);
  step.kernel = std::move(kernel);
  rec_.steps.push_back(std::move(step));
}

void Recorder::storage_created(Storage* s) {
  const uint32_t id = new_buffer(BufferKind::internal, s, s->bytes);
  by_storage_[s] = id;  // replaces a dead storage's entry at the same address
  rec_.lives.push_back(static_cast<int64_t>(id) + 1);
}

void Recorder::storage_released(Storage* s) {
  auto it = by_storage_.find(s);
  if (it == by_storage_.end()) return;
  BufferRecord& b = rec_.buffers[it->second];
  if (b.kind == BufferKind::internal) {
    b.released = true;
    rec_.lives.push_back(-(static_cast<int64_t>(it->second) + 1));
  }
  by_storage_.erase(it);
}

void Recorder::impl_created(TensorImpl* t) { made_.insert(t); }

void Recorder::impl_destroyed(TensorImpl* t) {
  made_.erase(t);
  auto it = by_impl_.find(t);
  if (it == by_impl_.end()) return;
  rec_.slots[it->second].alive = false;
  rec_.slots[it->second].impl = nullptr;
  by_impl_.erase(it);
}

void Recorder::aliased(TensorImpl* source) {
  if (!made_.count(source) && argument_of(source) == kNone) buffer_of(source);
}

// Only a leaf's first gradient event decides what the trace needs at entry: a read of a defined
// gradient binds that gradient's buffer per call; a read of none requires none at entry.
void Recorder::grad_read(TensorImpl* leaf) {
  SlotRecord* s = &rec_.slots[slot_of(leaf)];
  if (s->grad_seen) return;
  s->grad_seen = true;
  if (!leaf->grad) {
    s->entry = EntryGrad::undefined;
    return;
  }
  s->entry = EntryGrad::defined;
  const Storage* g = leaf->grad->storage.get();
  auto it = by_storage_.find(g);
  uint32_t id = 0;
  if (it == by_storage_.end()) {
    id = new_buffer(BufferKind::entry_grad, g, g->bytes);
    by_storage_[g] = id;
  } else {
    id = it->second;  // already read through another handle: bind it per call from now on
    if (rec_.buffers[id].kind == BufferKind::external) {
      rec_.buffers[id].kind = BufferKind::entry_grad;
      rec_.buffers[id].held.reset();
    }
  }
  const uint32_t slot = by_impl_.at(leaf);
  rec_.buffers[id].index = slot;
  rec_.slots[slot].entry_buffer = id;
}

void Recorder::grad_set(TensorImpl* leaf) {
  const uint32_t slot = slot_of(leaf);
  rec_.slots[slot].grad_seen = true;
  StepRecord step;
  step.kind = StepKind::set_grad;
  step.name = leaf->grad ? "set_grad" : "clear_grad";
  step.leaf = slot;
  if (leaf->grad) {
    step.value = slot_of(leaf->grad.get());
    step.touched.push_back(buffer_of(leaf->grad.get()));
  }
  if (checker_) checker_->other(rec_, rec_.steps.size(), step);
  rec_.steps.push_back(std::move(step));
}

void Recorder::host_call(const char* name, std::span<const Tensor> touches, std::function<void()> fn) {
  StepRecord step;
  step.kind = StepKind::host;
  step.name = name;
  for (const Tensor& t : touches) {
    if (!t.defined()) continue;
    TensorImpl* impl = impl_of(t);
    auto it = by_storage_.find(impl->storage.get());
    if (argument_of(impl) != kNone || (it != by_storage_.end() && rec_.buffers[it->second].kind == BufferKind::argument))
      throw UsageError(fmt::format(
          "host_call '{}': touches {}; a replay passes other tensors as arguments, which the recorded call "
          "cannot see (pass the values it needs through tensors from outside the function)",
          name, describe(impl)));
    step.touched.push_back(buffer_of(impl));
    if (impl->grad_fn) continue;
    grad_read(impl);
    if (impl->grad) step.touched.push_back(buffer_of(impl->grad.get()));
  }
  const size_t k = rec_.steps.size();
  for (uint32_t b : step.touched) {
    BufferRecord& rb = rec_.buffers[b];
    if (rb.kind != BufferKind::internal) continue;
    rb.persistent = true;  // the call may hold handles to it: it keeps its storage
    if (!rb.held) rb.held = Ref<Storage>(const_cast<Storage*>(rb.storage));
  }
  for (uint32_t b : step.touched) touch(b, true, name);
  if (checker_) checker_->other(rec_, k, step);
  {
    Suspend off;
    fn();
  }
  step.host = std::move(fn);
  rec_.steps.push_back(std::move(step));
}

// The hooks run as a host call on the leaf, so its gradient keeps its storage (a hook may hold
// it, as data-parallel training does until synchronize()). The step holds the leaf only through
// the trace's guard, so letting the leaf go still makes the trace stale. A replay could not
// fire the hooks of an argument (or of a leaf sharing an argument's storage, or made in the
// call: its hooks were added during it): they just fire, and the trace is not kept.
void Recorder::grad_ready(TensorImpl* leaf) {
  auto it = by_storage_.find(leaf->storage.get());
  const bool argument = it != by_storage_.end() && rec_.buffers[it->second].kind == BufferKind::argument;
  if (argument || argument_of(leaf) != kNone || made_.count(leaf)) {
    rec_.replayable = false;
    Suspend off;
    run_hooks(leaf);
    return;
  }
  const Tensor t = wrap(Ref<TensorImpl>(leaf));
  host_call("gradient-ready hooks", std::span<const Tensor>(&t, 1), [leaf] {
    if (leaf->hooks) run_hooks(leaf);
  });
  // The hooks have seen this gradient: its assignment is replayed even if the call drops it later.
  TensorImpl* grad = leaf->grad.get();
  if (grad && made_.count(grad)) {
    SlotRecord& s = rec_.slots[slot_of(grad)];
    if (!s.held) s.held = Ref<TensorImpl>(grad);
  }
}

// A replay returns handles the trace holds: a view of an output made in the call (its buffer
// keeps its storage), or the very argument or outside tensor the function returned.
uint32_t Recorder::output_slot(const Tensor& out, size_t i) {
  if (!out.defined()) throw UsageError(fmt::format("compiled function: output {} is undefined", i));
  TensorImpl* t = impl_of(out);
  if (t->grad_fn && !t->grad_fn->freed)
    throw UsageError(fmt::format(
        "compiled function: output {} {} carries a recorded graph that was not backpropagated ('{}'); a replay "
        "records no graph (call backward() inside the function, compute the output under NoGradGuard, or return "
        "it detach()ed)",
        i, out.shape().str(), t->grad_fn->name));
  if (argument_of(t) != kNone) return slot_of(t);
  auto it = by_storage_.find(t->storage.get());
  const BufferKind kind = it == by_storage_.end() ? BufferKind::external : rec_.buffers[it->second].kind;
  if (kind == BufferKind::argument || kind == BufferKind::entry_grad)
    throw UsageError(fmt::format("compiled function: output {} is {}, which changes from call to call; return a "
                                 "clone() of it",
                                 i, kind == BufferKind::argument ? describe(t) : "a gradient from before the call"));
  if (kind == BufferKind::external) return slot_of(t);
  BufferRecord& b = rec_.buffers[it->second];
  b.persistent = true;
  b.held = t->storage;
  auto view = Ref<TensorImpl>::adopt(new TensorImpl());
  view->dtype = t->dtype;
  view->shape = t->shape;
  view->storage = t->storage;
  SlotRecord s;
  s.held = std::move(view);
  rec_.slots.push_back(std::move(s));
  return static_cast<uint32_t>(rec_.slots.size() - 1);
}

// Handles made in the call and still alive are kept (a gradient set to one, a leaf made inside);
// a gradient value that died was replaced before anything could see it.
Recording Recorder::finish(std::vector<Tensor>& outputs) {
  uninstall();
  if (hook_generation() != rec_.hook_generation) rec_.replayable = false;
  for (size_t i = 0; i < outputs.size(); ++i) rec_.outputs.push_back(output_slot(outputs[i], i));
  for (SlotRecord& s : rec_.slots) {
    if (s.outside || s.arg != kNone || !s.alive || s.held) continue;
    s.held = Ref<TensorImpl>(s.impl);
  }
  for (const StepRecord& step : rec_.steps) {
    if (step.kind != StepKind::set_grad || step.value == kNone || !rec_.slots[step.value].held) continue;
    BufferRecord& b = rec_.buffers[step.touched[0]];
    if (b.kind != BufferKind::internal) continue;
    b.persistent = true;
    b.held = rec_.slots[step.value].held->storage;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const SlotRecord& s = rec_.slots[rec_.outputs[i]];
    if (s.arg == kNone) outputs[i] = wrap(s.held);
  }
  return std::move(rec_);
}

std::string Recorder::describe(const TensorImpl* t) const {
  const std::string shape = t->shape.str();
  const uint32_t arg = argument_of(t);
  if (arg != kNone) return fmt::format("argument {} {}", arg, shape);
  if (t->grad_fn) return fmt::format("the output of '{}' {}", t->grad_fn->name, shape);
  auto it = by_storage_.find(t->storage.get());
  if (it != by_storage_.end()) {
    const BufferRecord& b = rec_.buffers[it->second];
    if (b.kind == BufferKind::argument) return fmt::format("a view of argument {} {}", b.index, shape);
    if (b.kind == BufferKind::internal && b.writer) return fmt::format("the output of '{}' {}", b.writer, shape);
  }
  if (made_.count(t)) return fmt::format("a tensor {} made inside the function", shape);
  return fmt::format("a tensor {} from outside the function", shape);
}

void Recorder::refuse_host_access(const TensorImpl* t, const char* what) const {
  throw UsageError(fmt::format(
      "{}: reads the values of {} on the host while ad::compile records the function; a replay runs the "
      "recorded kernels only and would not read them again (read the returned tensors after the call, pass values "
      "in as tensors, or wrap host code in ad::host_call)",
      what, describe(t)));
}

}  // namespace ad::detail

namespace ad {

bool is_recording() { return detail::recording(); }

namespace detail {

void record_host_call(const char* name, std::span<const Tensor> touches, std::function<void()> fn) {
  Recorder::current()->host_call(name, touches, std::move(fn));
}

void trace_storage_created(Storage* s) { Recorder::current()->storage_created(s); }
void trace_storage_released(Storage* s) { Recorder::current()->storage_released(s); }
void trace_impl_created(TensorImpl* t) { Recorder::current()->impl_created(t); }
void trace_impl_destroyed(TensorImpl* t) { Recorder::current()->impl_destroyed(t); }
void trace_aliased(TensorImpl* source) { Recorder::current()->aliased(source); }
void trace_grad_read(TensorImpl* leaf) { Recorder::current()->grad_read(leaf); }
void trace_grad_set(TensorImpl* leaf) { Recorder::current()->grad_set(leaf); }
void trace_grad_ready(TensorImpl* leaf) { Recorder::current()->grad_ready(leaf); }
void trace_refuse_host_access(const TensorImpl* t, const char* what) {
  Recorder::current()->refuse_host_access(t, what);
}

}  // namespace detail
}  // namespace ad
