// Internal: what one recorded call of a compiled function consists of. The recorder
// (recorder.hpp) fills it while the function runs eagerly; the trace (trace.hpp) plans and
// replays it.
//
// Buffers are storages, by logical identity: one made during the call is "internal" and gets an
// id when created (the caching allocator reuses addresses, so an address is not an identity);
// one that existed before is an argument's, a leaf's gradient at entry (bound per call, like an
// argument) or "external" (held by reference). Slots are tensor handles the replay itself
// touches: leaves whose gradient it sets, the values it sets them to, outside tensors it guards.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autodiff/detail/impl.hpp"
#include "autodiff/kernels/launch.hpp"

namespace ad::detail {

inline constexpr uint32_t kNone = UINT32_MAX;

enum class BufferKind : uint8_t { argument, entry_grad, external, internal };

struct BufferRecord {
  BufferKind kind = BufferKind::internal;
  size_t bytes = 0;
  const Storage* storage = nullptr;  // identity while recording
  Ref<Storage> held;                 // externals from first use; persistent internals
  uint32_t index = 0;                // argument: its position; entry_grad: the leaf's slot
  const char* writer = nullptr;      // the last kernel that wrote it
  int64_t first = -1, last = -1;     // the first and last step that touch it
  bool persistent = false;           // internal and outlives the call (planned outside the arena)
  bool released = false;             // internal: its storage died during the recording
};

enum class EntryGrad : uint8_t { any, undefined, defined };

struct SlotRecord {
  TensorImpl* impl = nullptr;  // identity while recording
  Ref<TensorImpl> held;        // outside tensors from first use; the call's own at the end if alive
  uint32_t arg = kNone;        // an argument's handle, bound per call
  bool outside = false;        // existed before the call: guarded
  bool requires_grad = false;  // outside: as recorded
  bool alive = true;           // made by the call: not destroyed yet
  bool grad_seen = false;      // a gradient event has happened (only the first decides entry)
  EntryGrad entry = EntryGrad::any;
  uint32_t entry_buffer = kNone;  // entry == defined: the gradient's buffer
};

struct Operand {
  uint32_t buffer = 0;
  Shape shape;
  DType dtype = DType::f32;
};

enum class StepKind : uint8_t { kernel, host, set_grad };

struct StepRecord {
  StepKind kind = StepKind::kernel;
  const char* name = "";
  std::unique_ptr<kernels::Kernel> kernel;
  std::vector<Operand> operands;  // inputs, then outputs
  uint32_t inputs = 0;
  std::function<void()> host;
  std::vector<uint32_t> touched;  // host: buffers read or written
  uint32_t leaf = kNone, value = kNone;  // set_grad: slots; value kNone clears the gradient
};

struct ArgRecord {
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  uint32_t same_as = kNone;  // an earlier argument with the same storage
};

struct Recording {
  std::vector<ArgRecord> args;
  std::vector<BufferRecord> buffers;
  std::vector<SlotRecord> slots;
  std::vector<StepRecord> steps;
  std::vector<uint32_t> outputs;  // slots
  // Internal buffers' lives in the eager call: +(id + 1) made, −(id + 1) released, in order.
  std::vector<int64_t> lives;
  bool grad_mode = true;
  uint64_t hook_generation = 0;  // of gradient-ready hooks, when the call began
  bool replayable = true;        // false: hooks were added or removed during the call
};

}  // namespace ad::detail
