// Internal (not installed): a record on the tape. Only the engine (engine.cpp, tape.cpp) and the
// tools that read the graph (graph.cpp, anomaly.cpp) see its fields.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "autodiff/detail/impl.hpp"
#include "autodiff/detail/small_vec.hpp"
#include "autodiff/function.hpp"

namespace ad::detail {

struct Tape;

/// Where one input's gradient goes: the node that produced it, or the leaf itself.
struct Edge {
  Ref<Node> node;
  Ref<TensorImpl> leaf;
  Shape shape;               // the input's shape, for summing broadcast dims back
  DType dtype = DType::f32;  // the input's dtype: its gradient must have it too
  bool wanted() const { return node || leaf; }
};

/// One record on the tape: an op's inputs, its backward rule (type-erased, stored right after
/// the record in the same block) and the gradient flowing into its output while backward runs.
class Node {
 public:
  /// A new record holding `rule` (moved in), from the caching allocator; owned by a Ref.
  static Node* create(void* rule, const RuleOps& ops);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Runs the backward rule with `grad` = dJ/d(output).
  void run(Tensor grad);
  /// Drops what the rule saved; a later backward through this record throws.
  void release_saved();

  std::atomic<int32_t> refs_{0};
  const char* name = "";
  const char* math = "";
  Tape* tape = nullptr;
  size_t slot = 0;
  uint64_t seq = 0;
  SmallVec<Edge, 2> inputs;
  Ref<TensorImpl> pending;  // dJ/d(output), summed over its uses so far in this pass
  Shape out_shape;
  DType out_dtype = DType::f32;
  Ref<Storage> saved_output;  // the output's values, when the rule asked for them
  uint32_t saved_output_version = 0;  // saved_output's version when recorded
  bool freed = false;
  int32_t capture_index = -1;  // set while ad::grad() collects this intermediate's gradient
  Node* next_dead = nullptr;   // links records waiting to be destroyed (see release_last)

 private:
  Node(const RuleOps& ops, void* rule, size_t bytes) : ops_(&ops), rule_(rule), bytes_(bytes) {}
  ~Node();
  friend void release_last(Node* n);

  const RuleOps* ops_;
  void* rule_;    // null once released
  size_t bytes_;  // the block's size, for giving it back
};
void release_last(Node* n);

}  // namespace ad::detail
