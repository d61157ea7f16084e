// Internal to the ops: argument checks, broadcast shapes, dims, the in-place guard and the
// recording guard, each defined once. Every check throws an ad::Error subclass naming the op.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "autodiff/grad_mode.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

/// Throws UsageError unless `t` is defined.
void check_defined(const char* op, const Tensor& t);
/// Throws unless `t` is defined and floating: the check of every op that computes (int64
/// tensors hold indices and labels).
void check_floating(const char* op, const Tensor& t);
/// Throws unless both tensors are defined and of one dtype (any dtype: comparisons).
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
/// check_same_dtype, and the dtype floating: the check of every binary op that computes.
void check_binary(const char* op, const Tensor& a, const Tensor& b);
/// Throws unless `a` and `b` are defined, of one shape and dtype and not empty: a pair that must
/// match exactly (a loss's prediction and target). `what` names a in the message ("logits").
void check_pair(const char* op, const char* what, const Tensor& a, const Tensor& b);
/// The NumPy broadcast of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
/// Throws ShapeError unless `from` broadcasts to `to` without growing it (an in-place source
/// into its destination, a bias over Z); `what` and `to_what` name the two in the message.
void check_broadcasts_to(const char* op, const char* what, const Shape& from, const char* to_what, const Shape& to);

/// `dim` in [0, rank) (negative counts from the end); throws ShapeError naming `op` otherwise.
int64_t normalize_dim(const char* op, const Tensor& x, int64_t dim);
/// Throws ShapeError when dim `d` of `x` has no entries (a maximum needs one).
void check_nonempty_dim(const char* op, const Tensor& x, int64_t d);
/// `s` with dim `dim` set to 1.
Shape keepdim_shape(const Shape& s, int64_t dim);
/// `s` without dim `dim`.
Shape dropdim_shape(const Shape& s, int64_t dim);

/// Throws UsageError when writing `t` in place would corrupt a recorded graph (a recorded
/// output, or a leaf that requires grad while recording); otherwise counts the change in its
/// version (Tensor::version()), so a rule that saved the old values can tell. Every in-place op
/// calls it before writing.
void check_in_place(const char* op, const Tensor& t);

/// Whether an op on these inputs is recorded: grad mode is on and one of them requires grad.
/// Every op asks it before building its rule's captures.
inline bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
/// The same for a run-time list of inputs (concat).
inline bool should_record(const std::vector<Tensor>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

}  // namespace ad::detail
