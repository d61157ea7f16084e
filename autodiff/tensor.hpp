// ad::Tensor: a cheap handle to shared, contiguous, row-major storage of float32 or float64,
// plus the factories that make tensors.
//
// Threads: handles may be copied and destroyed on any thread. Each thread records on its own
// tape, so one graph is recorded by one thread (an op whose input was recorded on another
// thread throws UsageError: detach() it first); a recorded graph may be backpropagated from any
// thread, one pass at a time. Two threads must not backpropagate into the same leaf at once.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "autodiff/detail/impl.hpp"
#include "autodiff/error.hpp"
#include "autodiff/shape.hpp"

namespace ad {

namespace detail {
struct TensorAccess;
}

/// A handle to a tensor: copies share the values, the gradient and the place in the recorded graph
/// (like torch::Tensor). A tensor that requires a gradient has its ops recorded on this thread's
/// tape; backward() from a scalar result then leaves dJ/d(leaf) in each leaf's grad().
class Tensor {
 public:
  /// An undefined handle (defined() is false); most calls on it throw UsageError.
  Tensor() = default;

  /// False for a default-constructed handle.
  bool defined() const { return static_cast<bool>(impl_); }
  /// The dims, e.g. (n[l], m).
  const Shape& shape() const { return impl()->shape; }
  /// The number of dims (0 for a scalar).
  int64_t dim() const { return static_cast<int64_t>(impl()->shape.size()); }
  /// The number of elements.
  int64_t numel() const { return impl()->shape.numel(); }
  /// float32, float64 or int64.
  DType dtype() const { return impl()->dtype; }
  /// Size of dim `d` (negative counts from the end).
  int64_t size(int64_t d) const;

  /// The single value of a one-element tensor, as double.
  double item() const;
  /// All values in row-major order, as double.
  std::vector<double> to_vector() const;
  /// A copy converted to `dtype` (the same tensor when it already has it). Differentiable
  /// between the floating dtypes; a conversion to or from int64 is not recorded.
  Tensor to(DType dtype) const;
  /// A differentiable copy with its own storage.
  Tensor clone() const;
  /// Overwrites the values in place from `src` (same shape, or broadcastable to it). Not recorded.
  Tensor& copy_(const Tensor& src);
  /// Fills every element with `value` in place. Not recorded.
  Tensor& fill_(double value);
  /// Sets every element to 0 in place. Not recorded.
  Tensor& zero_();
  /// this += alpha·src in place (src broadcast to this shape), as torch's add_. Not recorded.
  Tensor& add_(const Tensor& src, double alpha = 1.0);
  /// this += s in place. Not recorded.
  Tensor& add_(double s);
  /// this −= alpha·src in place (src broadcast to this shape). Not recorded.
  Tensor& sub_(const Tensor& src, double alpha = 1.0);
  /// this ⊙= src in place (src broadcast to this shape). Not recorded.
  Tensor& mul_(const Tensor& src);
  /// this ·= s in place. Not recorded.
  Tensor& mul_(double s);
  /// this /= src in place (src broadcast to this shape). Not recorded.
  Tensor& div_(const Tensor& src);
  /// this /= s in place. Not recorded.
  Tensor& div_(double s);
  /// The same storage, cut from the graph: requires no gradient.
  Tensor detach() const;
  /// The transpose of a 2-D tensor (see ad::transpose).
  Tensor T() const;
  /// How many times the values were changed in place (copy_, fill_, add_, mul_, an optimizer
  /// step, a load), counted per storage: a detach() shares its tensor's count. A backward rule
  /// that saved this tensor compares it (see SavedTensor). Writes through data<T>() are not
  /// counted.
  uint32_t version() const { return impl()->storage->version.load(std::memory_order_relaxed); }

  /// Marks a leaf as needing its gradient (or not); returns *this. Only floating tensors can.
  Tensor& requires_grad_(bool enable = true);
  /// Whether ops on this tensor are recorded: a leaf marked by requires_grad_(), or the output of
  /// a recorded op.
  bool requires_grad() const { return impl()->requires_grad; }
  /// A leaf is a tensor the user made, not the output of a recorded op.
  bool is_leaf() const { return !impl()->grad_fn; }
  /// The accumulated gradient of a leaf; undefined until a backward pass reaches it.
  Tensor grad() const;
  /// Replaces the accumulated gradient (undefined clears it).
  void set_grad(const Tensor& g);
  /// Clears the accumulated gradient.
  void zero_grad();
  /// Backpropagates from this tensor. A non-scalar needs a `seed` of its shape (dJ/dthis).
  /// The recorded graph is freed afterwards unless `retain_graph`.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;
  /// Name of the op that produced this tensor ("leaf" for leaves).
  const char* op_name() const;

  /// Raw typed element access for users' own kernels (T = float, double or int64_t); throws
  /// DTypeError when T is not the dtype.
  template <class T>
  T* data();
  /// The same, read-only.
  template <class T>
  const T* data() const;
  /// The elements' memory, untyped (data<T>() with its dtype check).
  void* raw_data() const;
  /// Whether both handles refer to the same tensor (not merely equal values), as torch's is_same.
  bool is_same(const Tensor& other) const { return impl_.get() == other.impl_.get(); }

 private:
  friend struct detail::TensorAccess;
  friend Tensor reshape(const Tensor& x, const Shape& shape);  // a view sharing the storage
  explicit Tensor(detail::Ref<detail::TensorImpl> impl) : impl_(std::move(impl)) {}
  detail::TensorImpl* impl() const {
    if (!impl_) throw_undefined();
    return impl_.get();
  }
  [[noreturn]] static void throw_undefined();
  detail::Ref<detail::TensorImpl> impl_;
};

/// Prints shape, dtype and values (like PyTorch's repr, abbreviated for big tensors).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories -------------------------------------------------------------------------
/// A tensor of `shape` from row-major `values`; throws ShapeError when the counts differ.
Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype = DType::f32);
/// A 0-d tensor.
Tensor scalar(double value, DType dtype = DType::f32);
/// All zeros.
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
/// All ones.
Tensor ones(const Shape& shape, DType dtype = DType::f32);
/// Every element `value`.
Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
/// Standard normal samples from this thread's generator.
Tensor randn(const Shape& shape, DType dtype = DType::f32);
/// Uniform samples in [0, 1) from this thread's generator.
Tensor rand(const Shape& shape, DType dtype = DType::f32);
/// An uninitialized tensor (for kernels that write every element).
Tensor empty(const Shape& shape, DType dtype = DType::f32);
/// Zeros of t's shape and dtype.
Tensor zeros_like(const Tensor& t);
/// Ones of t's shape and dtype.
Tensor ones_like(const Tensor& t);
/// Seeds this thread's generator: the same seed gives the same randn()/rand() draws.
void manual_seed(uint64_t seed);
/// A uniform 64-bit draw from this thread's generator (for shuffles and dropout masks).
uint64_t random_u64();

/// Threads used by BLAS and the library's parallel loops (n ≥ 1, else ValueError).
void set_num_threads(int n);
/// The thread count in use (by default OPENBLAS_NUM_THREADS, else the machine's cores).
int get_num_threads();

/// \cond
// data<T>() exists for the three element types (defined in tensor.cpp).
/// \cond
extern template float* Tensor::data<float>();
extern template double* Tensor::data<double>();
extern template int64_t* Tensor::data<int64_t>();
extern template const float* Tensor::data<float>() const;
extern template const double* Tensor::data<double>() const;
extern template const int64_t* Tensor::data<int64_t>() const;
/// \endcond

}  // namespace ad
