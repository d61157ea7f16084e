// Internal: float32 products with few rows, C (m × n) = A (m × k) · B or A · Bᵀ with m ≤ 24,
// the shape of a narrow layer's forward product with a wide input (W1·X) and of its weight
// gradient (dZ1·Xᵀ). OpenBLAS runs these far below its square-product speed whatever its
// thread count: it splits them over their few rows, and packs the whole of the wide operand
// into panels built for square tiles (bench/README, the bake-off).
#pragma once

#include <cstdint>

namespace ad::kernels {

/// The most rows of C the kernel keeps in registers at once (and the largest m it takes).
inline constexpr int64_t kThinGemmMaxRows = 24;

/// Whether thin_gemm runs here: avx512_enabled() (kernels/cpu.hpp).
bool thin_gemm_available();

/// C (m × n) = A (m × k) · B, with B (k × n) or, when `trans_b`, B (n × k) and its transpose
/// taken; row-major with leading dimensions lda, ldb, ldc. On the calling thread. Requires
/// 1 ≤ m ≤ kThinGemmMaxRows, n, k ≥ 1 and thin_gemm_available(). Results differ from BLAS only
/// in summation order (and not at all when k ≤ 256).
void thin_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool trans_b,
               float* c, int64_t ldc);

/// The same for contiguous operands (lda = k, ldc = n, ldb = n or k), C's columns split across
/// up to get_num_threads() threads when the product is big enough to pay for them.
void thin_product(int64_t m, int64_t n, int64_t k, const float* a, const float* b, bool trans_b, float* c);

}  // namespace ad::kernels
