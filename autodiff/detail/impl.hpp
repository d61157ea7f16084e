// What a Tensor handle points at: storage, shape, dtype and its place in the recorded graph.
// Not part of the API: installed only because tensor.hpp's inline accessors read this layout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "autodiff/detail/ref.hpp"
#include "autodiff/shape.hpp"

namespace ad::detail {

class Node;
void release_last(Node* n);
struct LeafHooks;

/// A refcounted block of element memory; the header lives at the front of its own block.
struct Storage {
  std::atomic<int32_t> refs_{0};
  /// In-place changes of the values so far (Tensor::version()). Shared by every tensor on this
  /// storage, as LibTorch's version counter is shared by views. Relaxed: changing values that
  /// another thread reads is a data race on the values already.
  std::atomic<uint32_t> version{0};
  size_t bytes = 0;
  void* data = nullptr;
  /// A new storage of `bytes` bytes from the caching allocator (contents uninitialized).
  static Ref<Storage> create(size_t bytes);
};
void release_last(Storage* s);
/// Counts one in-place change of the values in `s`.
inline void bump_version(Storage& s) {
  s.version.store(s.version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

struct TensorImpl {
  std::atomic<int32_t> refs_{0};
  DType dtype = DType::f32;
  bool requires_grad = false;
  int32_t capture_index = -1;  // set while ad::grad() collects this leaf's gradient
  Shape shape;
  Ref<Storage> storage;
  Ref<Node> grad_fn;        // the recorded op that produced this tensor; null for leaves
  Ref<TensorImpl> grad;     // accumulated gradient (leaves only)
  std::unique_ptr<LeafHooks> hooks;  // gradient-ready hooks (leaves only; usually none)

  TensorImpl();
  ~TensorImpl();  // both out of line: Node is complete only there
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);
  void* data() const { return storage->data; }
};
void release_last(TensorImpl* t);

}  // namespace ad::detail
