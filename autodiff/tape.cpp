// The tape: this thread's records in recording order. Recording order is a topological order
// (an op is recorded after the ops that made its inputs), so backward needs no sort: it walks
// the slots in reverse. A record leaves its slot when nothing references it any more, and the
// slot array is compacted when more than half of it is empty, so memory stays flat in a loop of
// forward passes that never call backward().
#include "autodiff/detail/tape.hpp"

#include <fmt/format.h>

#include <vector>

#include "autodiff/allocator.hpp"

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

Node* Tape::at(size_t slot) {
  SpinLock::Guard g(lock);
  return slot < slots.size() ? slots[slot] : nullptr;
}

void Tape::remove(Node* n) {
  bool free_tape = false;
  {
    SpinLock::Guard g(lock);
    slots[n->slot] = nullptr;
    --live;
    free_tape = orphaned && live == 0;
  }
  if (free_tape) delete this;
}

// Destroying a record drops its edges, which can drop the records before it: done with an
// explicit work list, never by recursion, so a chain of a million ops frees without using the
// stack.
void release_last(Node* n) {
  thread_local std::vector<Node*> graveyard;
  thread_local bool draining = false;
  graveyard.push_back(n);
  if (draining) return;
  draining = true;
  while (!graveyard.empty()) {
    Node* x = graveyard.back();
    graveyard.pop_back();
    if (x->tape) x->tape->remove(x);
    delete x;
  }
  draining = false;
}

void* Node::operator new(size_t bytes) { return allocate(bytes); }
void Node::operator delete(void* p, size_t bytes) { deallocate(p, bytes); }

}  // namespace ad::detail

namespace ad {
size_t tape_size() {
  auto& t = detail::this_thread_tape();
  detail::SpinLock::Guard g(t.lock);
  return t.live;
}
}  // namespace ad
