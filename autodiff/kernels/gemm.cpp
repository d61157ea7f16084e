#include "autodiff/kernels/gemm.hpp"

#include <cblas.h>

#include <algorithm>

#include "autodiff/kernels/packed_gemm.hpp"
#include "autodiff/kernels/small_gemm.hpp"
#include "autodiff/kernels/thin_gemm.hpp"

namespace ad::kernels {
namespace {

// The backend of each product, by the bake-offs in bench/README.md ("Matrix-product backends",
// "Small products"): the hand-written kernels only where they beat OpenBLAS and oneDNN, alone or
// inside a training step.
//
// Products of at most kSmallGemmMaxWork multiply-adds, and up to kSmallGemmMaxSkinnyWork when a
// dimension is at most kSmallGemmSkinnyDim (a 2-4-1 network's layers at a batch of thousands), go
// to the small kernel in both dtypes: there BLAS's dispatch, locking and packing cost more than
// the arithmetic.
constexpr int64_t kSmallGemmMaxWork = int64_t{1} << 14;
constexpr int64_t kSmallGemmMaxSkinnyWork = int64_t{1} << 16;
constexpr int64_t kSmallGemmSkinnyDim = 4;
//
// A product with at most kThinGemmMaxRows rows in C and at least this much work goes to the thin
// kernel: below it OpenBLAS's small-matrix path is as fast, and the thread split does not pay.
constexpr int64_t kThinGemmMinWork = int64_t{1} << 20;

// Every other float32 product from this many multiply-adds up goes to the packed kernel. It is
// where OpenBLAS would start splitting a product across its own threads: after a threaded call
// its workers keep spinning for a long while and take CPU from ours, which makes the large
// products, a tie in isolation, slower on OpenBLAS inside a training step.
constexpr int64_t kPackedGemmMinWork = int64_t{1} << 18;
// Except a C narrower than one of the kernel's 16-wide panels (a batch of a few samples): that
// wastes most of each register tile, and OpenBLAS is several times faster even threaded.
constexpr int64_t kPackedGemmMinColumns = 16;

template <class T>
void fill_zero(int64_t m, int64_t n, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = T(0);
}

CBLAS_TRANSPOSE blas_op(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

bool small_product(int64_t m, int64_t n, int64_t k) {
  const int64_t work = m * n * k;
  return work <= kSmallGemmMaxWork ||
         (work <= kSmallGemmMaxSkinnyWork && std::min({m, n, k}) <= kSmallGemmSkinnyDim);
}

}  // namespace

GemmBackend gemm_backend(int64_t m, int64_t n, int64_t k, int64_t lda, bool trans_a, int64_t ldb, bool trans_b,
                         int64_t ldc) {
  if (small_product(m, n, k)) return GemmBackend::small;
  const int64_t work = m * n * k;
  if (!trans_a && m <= kThinGemmMaxRows && work >= kThinGemmMinWork && lda == k && ldc == n &&
      ldb == (trans_b ? k : n) && thin_gemm_available())
    return GemmBackend::thin;
  if (work >= kPackedGemmMinWork && n >= kPackedGemmMinColumns && packed_gemm_available()) return GemmBackend::packed;
  return GemmBackend::blas;
}

void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b, int64_t ldb,
          bool trans_b, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) return fill_zero(m, n, c, ldc);
  switch (gemm_backend(m, n, k, lda, trans_a, ldb, trans_b, ldc)) {
    case GemmBackend::small: return small_gemm(m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc);
    case GemmBackend::thin: return thin_product(m, n, k, a, b, trans_b, c);
    case GemmBackend::packed: return packed_gemm(m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc);
    case GemmBackend::blas: break;
  }
  cblas_sgemm(CblasRowMajor, blas_op(trans_a), blas_op(trans_b), static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), 1.0f, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), 0.0f, c,
              static_cast<blasint>(ldc));
}

void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b, int64_t ldb,
          bool trans_b, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) return fill_zero(m, n, c, ldc);
  if (small_product(m, n, k)) return small_gemm(m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc);
  cblas_dgemm(CblasRowMajor, blas_op(trans_a), blas_op(trans_b), static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), 1.0, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), 0.0, c,
              static_cast<blasint>(ldc));
}

}  // namespace ad::kernels
