// The tape: this thread's records in recording order. Recording order is a topological order
// (an op is recorded after the ops that made its inputs), so backward needs no sort: it walks
// the slots in reverse. A record leaves its slot when nothing references it any more, and the
// slot array is compacted when more than half of it is empty, so memory stays flat in a loop of
// forward passes that never call backward().
#include "autodiff/engine/tape.hpp"

#include <fmt/format.h>

#include "autodiff/detail/allocate.hpp"
#include "autodiff/engine/hooks.hpp"
#include "autodiff/detail/trace_hooks.hpp"

namespace ad::detail {
namespace {

// Owns this thread's tape; at thread exit the tape outlives the thread while records that other
// threads still hold remain, and is freed with the last of them.
struct TapeOwner {
  Tape* tape = new Tape();
  ~TapeOwner() {
    bool free_now = false;
    {
      SpinLock::Guard g(tape->lock);
      tape->orphaned = true;
      free_now = tape->live == 0;
    }
    if (free_now) delete tape;
  }
};

void compact(Tape& t) {
  size_t out = 0;
  for (Node* n : t.slots) {
    if (!n) continue;
    n->slot = out;
    t.slots[out++] = n;
  }
  t.slots.resize(out);
}

}  // namespace

Tape& this_thread_tape() {
  thread_local TapeOwner owner;
  return *owner.tape;
}

void Tape::push(Node* n) {
  SpinLock::Guard g(lock);
  if (walking == 0 && slots.size() >= 1024 && live * 2 < slots.size()) compact(*this);
  n->tape = this;
  n->slot = slots.size();
  n->seq = next_seq++;
  slots.push_back(n);
  ++live;
}

Node* Tape::pending_at(size_t slot) {
  SpinLock::Guard g(lock);
  if (slot >= slots.size()) return nullptr;
  Node* n = slots[slot];
  // Read under the lock: a record dying on another thread leaves its slot (under this lock)
  // before it is deleted. One with a pending gradient is reachable from the pass's roots.
  return n && n->pending ? n : nullptr;
}

Node* Tape::at(size_t slot) {
  SpinLock::Guard g(lock);
  return slot < slots.size() ? slots[slot] : nullptr;
}

// Trailing empty slots are dropped at once: in the usual loop (record a graph, let it die) the
// slot array then never grows, and backward's scan starts near the live records. Dropping them
// moves no live record, so it is safe during a walk too.
void Tape::remove(Node* n) {
  bool free_tape = false;
  {
    SpinLock::Guard g(lock);
    slots[n->slot] = nullptr;
    while (!slots.empty() && !slots.back()) slots.pop_back();
    --live;
    free_tape = orphaned && live == 0;
  }
  if (free_tape) delete this;
}

namespace {
// Records whose count reached zero while another one was being destroyed on this thread,
// linked through Node::next_dead. Plain pointers (no destructor), so a record may die at any
// point of thread or program exit.
thread_local Node* g_dead_head = nullptr;
thread_local bool g_draining = false;
}  // namespace

// Destroying a record drops its edges and saved tensors, which can drop the records before it:
// those are queued and destroyed by the outermost call, never by recursion, so a chain of a
// million ops frees without using the stack (and without allocating).
void release_last(Node* n) {
  n->next_dead = g_dead_head;
  g_dead_head = n;
  if (g_draining) return;
  g_draining = true;
  while (Node* x = g_dead_head) {
    g_dead_head = x->next_dead;
    if (x->tape) x->tape->remove(x);
    const size_t bytes = x->bytes_;
    x->~Node();
    deallocate(x, bytes);
  }
  g_draining = false;
}

// A tensor's state holds its record (grad_fn), so its lifetime is defined where the record's is.
TensorImpl::TensorImpl() {
  if (recording()) [[unlikely]]
    trace_impl_created(this);
}
TensorImpl::~TensorImpl() {
  if (recording()) [[unlikely]]
    trace_impl_destroyed(this);
}
void* TensorImpl::operator new(size_t bytes) { return allocate(bytes); }
void TensorImpl::operator delete(void* p, size_t bytes) { deallocate(p, bytes); }
void release_last(TensorImpl* t) { delete t; }

// One block: the record, then the rule at its alignment.
Node* Node::create(void* rule, const RuleOps& ops) {
  const size_t rule_at = (sizeof(Node) + ops.align - 1) / ops.align * ops.align;
  const size_t bytes = rule_at + ops.size;
  void* block = allocate(bytes);
  void* slot = static_cast<char*>(block) + rule_at;
  try {
    ops.move_to(rule, slot);
  } catch (...) {
    deallocate(block, bytes);
    throw;
  }
  return new (block) Node(ops, slot, bytes);
}

Node::~Node() { release_saved(); }

void Node::run(Tensor grad) {
  BackwardContext ctx(this, std::move(grad));
  ops_->run(rule_, ctx);
}

void Node::release_saved() {
  if (!rule_) return;
  ops_->destroy(rule_);
  rule_ = nullptr;
}

}  // namespace ad::detail

namespace ad {
size_t tape_size() {
  auto& t = detail::this_thread_tape();
  detail::SpinLock::Guard g(t.lock);
  return t.live;
}
}  // namespace ad
