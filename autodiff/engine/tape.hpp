// Internal (not installed): the per-thread tape of records (see tape.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "autodiff/engine/node.hpp"

namespace ad::detail {

/// A tiny lock: the tape is touched by other threads only when a record made here dies there.
class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  void unlock() { flag_.clear(std::memory_order_release); }
  struct Guard {
    explicit Guard(SpinLock& l) : l_(l) { l_.lock(); }
    ~Guard() { l_.unlock(); }
    SpinLock& l_;
  };

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

struct Tape {
  SpinLock lock;
  std::vector<Node*> slots;  // records in recording order; null where one has died
  size_t live = 0;
  uint64_t next_seq = 0;
  int walking = 0;  // backward passes in progress: slots must not move
  bool orphaned = false;

  void push(Node* n);
  /// The record in `slot` if it has a gradient pending in the current pass, else null.
  Node* pending_at(size_t slot);
  /// The record in `slot` (null where one has died).
  Node* at(size_t slot);
  void remove(Node* n);
};

Tape& this_thread_tape();

}  // namespace ad::detail
