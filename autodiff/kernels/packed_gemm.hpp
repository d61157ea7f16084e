// Internal: float32 products, C (m × n) = op(A) · op(B), by packing blocks of the operands and
// running a 28 × 16 AVX-512 register kernel over them (the GotoBLAS / BLIS scheme), built for
// the skinny shapes of a network's layers: no zero-fill pass over C (the first k block writes
// it), both transposes handled while packing, C split evenly across threads. kernels::gemm
// (gemm.cpp) says which products it takes, and bench/README.md why.
#pragma once

#include <cstdint>

namespace ad::kernels {

/// Whether packed_gemm runs here: avx512_enabled() (kernels/cpu.hpp).
bool packed_gemm_available();

/// C (m × n) = op(A) · op(B), row-major, with op(A) = A (m × k, rows lda apart) or, when
/// `trans_a`, the transpose of A (k × m); op(B) likewise, B (k × n) or its transpose (n × k).
/// C's rows (or columns) are split across up to get_num_threads() threads. Requires m, n, k ≥ 1
/// and packed_gemm_available(). Results differ from BLAS only in summation order, and do not
/// depend on the thread count.
void packed_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b,
                 int64_t ldb, bool trans_b, float* c, int64_t ldc);

}  // namespace ad::kernels
