// Internal (not installed): the library's own access to a Tensor's state, which the public
// class keeps private.
#pragma once

#include <utility>

#include "autodiff/detail/impl.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

struct TensorAccess {
  static TensorImpl* impl(const Tensor& t) { return t.impl(); }
  static const Ref<TensorImpl>& ref(const Tensor& t) { return t.impl_; }
  static Tensor wrap(Ref<TensorImpl> impl) { return Tensor(std::move(impl)); }
};

/// The state behind a defined tensor (throws UsageError for an undefined one).
inline TensorImpl* impl_of(const Tensor& t) { return TensorAccess::impl(t); }
/// The handle's reference itself (null for an undefined tensor).
inline const Ref<TensorImpl>& ref_of(const Tensor& t) { return TensorAccess::ref(t); }
/// A tensor handle on `impl`.
inline Tensor wrap(Ref<TensorImpl> impl) { return TensorAccess::wrap(std::move(impl)); }

}  // namespace ad::detail
