// Internal (kernel layer): products too small for BLAS to pay for itself. A tiny product through
// OpenBLAS costs its dispatch, a lock and the packing of both operands into tiles built for large
// products, which for a few thousand multiply-adds is several times the arithmetic. This kernel
// reads the operands in place and writes C once.
#pragma once

#include <cstdint>

namespace ad::kernels {

/// C (m × n) = op(A) · op(B), with the arguments and layout of kernels::gemm (k ≥ 1), on the
/// calling thread. Every element of C is its k products summed in an order fixed by the shape
/// and transposes alone, not by the vector width, so a result is reproducible.
void small_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b,
                int64_t ldb, bool trans_b, float* c, int64_t ldc);
/// The same in float64.
void small_gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b,
                int64_t ldb, bool trans_b, double* c, int64_t ldc);

}  // namespace ad::kernels
