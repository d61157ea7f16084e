// Internal to the ops: a tensor as a kernel's input or output buffer (autodiff/kernels).
#pragma once

#include "autodiff/kernels/buffer.hpp"
#include "autodiff/tensor.hpp"

namespace ad::detail {

inline kernels::In read(const Tensor& t) { return {t.raw_data(), t.shape(), t.dtype()}; }
inline kernels::Out write(const Tensor& t) { return {t.raw_data(), t.shape(), t.dtype()}; }

}  // namespace ad::detail
