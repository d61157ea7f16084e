// Internal (kernel layer): matrix products, and the one place that picks the backend for each.
#pragma once

#include <cstdint>

namespace ad::kernels {

/// C (m × n) = op(A) · op(B), row-major. op(A) is A (m × k, rows lda apart) or, when `trans_a`,
/// the transpose of A (k × m); op(B) likewise, B (k × n) or the transpose of B (n × k). C's
/// rows are ldc apart and every element of C is written (k = 0 gives zeros). Small products go
/// to the small kernel (kernels/small_gemm.hpp); larger float32 products to the thin or the
/// packed AVX-512 kernel when the CPU has one and the shape suits it (gemm_backend), everything
/// else to BLAS; the choice depends only on the shape (and on TAPEGRAD_NO_AVX512,
/// kernels/cpu.hpp), so results are reproducible.
void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b, int64_t ldb,
          bool trans_b, float* c, int64_t ldc);
/// The same in float64: small products on the small kernel, the others by BLAS.
void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b, int64_t ldb,
          bool trans_b, double* c, int64_t ldc);

/// The backends of a product (float64 uses small and blas only).
enum class GemmBackend { small, thin, packed, blas };
/// The backend kernels::gemm runs this float32 product on (the arguments as gemm's); a float64
/// product of the same shape runs on the small kernel exactly when this says small.
GemmBackend gemm_backend(int64_t m, int64_t n, int64_t k, int64_t lda, bool trans_a, int64_t ldb, bool trans_b,
                         int64_t ldc);

}  // namespace ad::kernels
