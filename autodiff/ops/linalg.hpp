// Matrix products, by BLAS.
#pragma once

#include "autodiff/tensor.hpp"

namespace ad {

/// A · B for 2-D A (n, k) and B (k, m).   dA = dC · Bᵀ, dB = Aᵀ · dC
Tensor matmul(const Tensor& a, const Tensor& b);
/// op(A) · op(B) where op transposes when its flag is set, without materializing a transpose
/// (BLAS flags). matmul's backward is written with it, so it too is differentiable.
Tensor gemm(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);

}  // namespace ad
