#include "autodiff/compile/trace.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autodiff/compile/plan.hpp"
#include "autodiff/engine/access.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/grad_mode.hpp"

namespace ad::detail {

Trace::Trace(Recording&& rec) : rec_(std::move(rec)) {
  plan();
  resolve();
}

namespace {

bool is_intermediate(const BufferRecord& b) {
  return b.kind == BufferKind::internal && !b.persistent && b.first >= 0;
}

// The most bytes of intermediate (and unused) buffers alive at once in the eager call.
size_t eager_peak(const Recording& rec) {
  size_t now = 0, peak = 0;
  for (int64_t e : rec.lives) {
    const BufferRecord& b = rec.buffers[static_cast<size_t>(std::abs(e) - 1)];
    if (b.persistent) continue;
    now = e > 0 ? now + b.bytes : now - b.bytes;
    peak = std::max(peak, now);
  }
  return peak;
}

}  // namespace

void Trace::plan() {
  offsets_.assign(rec_.buffers.size(), SIZE_MAX);
  std::vector<Lifetime> lives;
  std::vector<uint32_t> ids;
  for (uint32_t b = 0; b < rec_.buffers.size(); ++b) {
    const BufferRecord& r = rec_.buffers[b];
    if (is_intermediate(r)) {
      lives.push_back({r.first, r.last, r.bytes});
      ids.push_back(b);
    } else if (r.kind == BufferKind::internal && r.persistent) {
      persistent_bytes_ += r.bytes;
      persistent_.push_back(r.storage);
      ++persistents_;
    }
  }
  std::vector<size_t> at;
  arena_bytes_ = plan_arena(lives, at);
  for (size_t i = 0; i < ids.size(); ++i) offsets_[ids[i]] = at[i];
  intermediates_ = ids.size();
  arena_ = Storage::create(arena_bytes_);
  eager_peak_ = eager_peak(rec_);
}

void* Trace::address(uint32_t buffer) const {
  const BufferRecord& b = rec_.buffers[buffer];
  switch (b.kind) {
    case BufferKind::argument:
    case BufferKind::entry_grad: return nullptr;  // patched per call
    case BufferKind::external: return b.held->data;
    case BufferKind::internal: break;
  }
  if (b.persistent) return b.held->data;
  return static_cast<char*>(arena_->data) + offsets_[buffer];
}

// A gradient assignment is replayed only when both handles were kept: one the call made and let
// die was replaced before anything could observe it.
void Trace::resolve() {
  size_t n_operands = 0;
  for (const StepRecord& s : rec_.steps) n_operands += s.operands.size();
  operands_.reserve(n_operands);  // Operands point into it: no reallocation from here on
  auto kept = [&](uint32_t s) { return s == kNone || rec_.slots[s].arg != kNone || rec_.slots[s].held; };
  for (const StepRecord& s : rec_.steps) {
    const size_t start = operands_.size();
    for (const Operand& o : s.operands) {
      const BufferKind kind = rec_.buffers[o.buffer].kind;
      if (kind == BufferKind::argument || kind == BufferKind::entry_grad)
        patches_.push_back({static_cast<uint32_t>(operands_.size()), o.buffer});
      operands_.push_back({address(o.buffer), &o.shape, o.dtype, nullptr});
    }
    const kernels::Operands ops(operands_.data() + start, s.inputs, operands_.data() + start + s.inputs,
                                s.operands.size() - s.inputs);
    const bool skip = s.kind == StepKind::set_grad && !(kept(s.leaf) && kept(s.value));
    steps_.push_back({s.kind, skip, s.kernel.get(), ops, &s});
    kernels_ += s.kind == StepKind::kernel;
    host_calls_ += s.kind == StepKind::host;
  }
  for (uint32_t i = 0; i < rec_.slots.size(); ++i) {
    if (rec_.slots[i].outside) guarded_.push_back(i);
    if (rec_.slots[i].entry != EntryGrad::any) entry_slots_.push_back(i);
  }
  for (uint32_t s : rec_.outputs) outputs_.push_back(rec_.slots[s].held ? wrap(rec_.slots[s].held) : Tensor());
}

TensorImpl* Trace::slot(uint32_t s, std::span<const Tensor* const> args) const {
  const SlotRecord& r = rec_.slots[s];
  return r.arg != kNone ? impl_of(*args[r.arg]) : r.held.get();
}

// Hooks added or removed since the recording: the hook steps no longer match what a backward
// pass would fire, and the generation never comes back.
Trace::Fit Trace::fits(std::span<const Tensor* const> args) const {
  if (rec_.hook_generation != hook_generation()) return Fit::stale;
  for (uint32_t s : guarded_)
    if (rec_.slots[s].held.unique()) return Fit::stale;
  if (args.size() != rec_.args.size() || is_grad_enabled() != rec_.grad_mode) return Fit::no;
  for (size_t i = 0; i < args.size(); ++i) {
    const ArgRecord& r = rec_.args[i];
    if (!args[i]->defined()) return Fit::no;
    const TensorImpl* t = impl_of(*args[i]);
    if (!(t->shape == r.shape) || t->dtype != r.dtype || t->requires_grad != r.requires_grad || t->grad_fn)
      return Fit::no;
    if (r.same_as != kNone && impl_of(*args[r.same_as])->storage.get() != t->storage.get()) return Fit::no;
    if (std::find(persistent_.begin(), persistent_.end(), t->storage.get()) != persistent_.end())
      throw UsageError(fmt::format(
          "compiled function: argument {} {} is one of the function's own outputs or gradients, which the replay "
          "writes; pass a clone() of it",
          i, t->shape.str()));
  }
  for (uint32_t s : guarded_)
    if (rec_.slots[s].held->requires_grad != rec_.slots[s].requires_grad) return Fit::no;
  for (uint32_t s : entry_slots_)
    if (static_cast<bool>(slot(s, args)->grad) != (rec_.slots[s].entry == EntryGrad::defined)) return Fit::no;
  return Fit::yes;
}

void Trace::patch(std::span<const Tensor* const> args) {
  for (const Patch& p : patches_) {
    const BufferRecord& b = rec_.buffers[p.buffer];
    const TensorImpl* t = b.kind == BufferKind::argument ? impl_of(*args[b.index]) : slot(b.index, args)->grad.get();
    operands_[p.operand].data = t->data();
  }
}

std::span<const Tensor> Trace::bind_outputs(std::span<const Tensor* const> args) {
  for (size_t i = 0; i < rec_.outputs.size(); ++i) {
    const SlotRecord& s = rec_.slots[rec_.outputs[i]];
    if (s.arg != kNone) outputs_[i] = *args[s.arg];
  }
  return outputs_;
}

std::span<const Tensor> Trace::replay(std::span<const Tensor* const> args) {
  patch(args);
  for (const Step& s : steps_) {
    switch (s.kind) {
      case StepKind::kernel: s.kernel->run(s.ops); break;
      case StepKind::host: s.rec->host(); break;
      case StepKind::set_grad: {
        if (s.skip) break;
        TensorImpl* leaf = slot(s.rec->leaf, args);
        TensorImpl* value = s.rec->value == kNone ? nullptr : slot(s.rec->value, args);
        if (leaf->grad.get() != value) leaf->grad = value ? Ref<TensorImpl>(value) : Ref<TensorImpl>();
        break;
      }
    }
  }
  return bind_outputs(args);
}

void Trace::add_stats(CompileStats& s) const {
  s.kernels = kernels_;
  s.host_calls = host_calls_;
  s.intermediate_buffers = intermediates_;
  s.persistent_buffers = persistents_;
  s.buffers = intermediates_ + persistents_;
  s.arena_bytes = arena_bytes_;
  s.persistent_bytes = persistent_bytes_;
  s.eager_peak_bytes = eager_peak_;
}

}  // namespace ad::detail
