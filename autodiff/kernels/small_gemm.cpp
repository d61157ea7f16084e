// The small-product kernel (autodiff/kernels/small_gemm.hpp). Two forms, by how op(B) is laid out:
//   - op(B) = B (k × n, rows contiguous): C[i, :] = Σ_p A(i, p)·B[p, :] is vectorized along
//     the rows, blocks of C's row summed in registers (the forward W·A and the backward Wᵀ·dZ,
//     where k is a layer's width and n the batch).
//   - op(B) = Bᵀ with A not transposed: C[i, j] is the dot product of A's row i with B's row j,
//     both contiguous (the weight gradient dZ·Aᵀ, where k is the batch), in blocks of a few.
//   - Aᵀ·Bᵀ, which no op of the library asks for, is a plain loop.
#include "autodiff/kernels/small_gemm.hpp"

#include <cstring>

#include "autodiff/kernels/lanes.hpp"
#include "autodiff/kernels/simd.hpp"

namespace ad::kernels {
namespace {

// C[i, j] = Σ_p A(i, p)·B[p, j] for the columns j of [j0, n), where A(i, p) = ai[p·as_p], summed
// in place in row i of C (it stays in L1) one row of B at a time: plain loops that vectorize.
template <class T>
inline void row_in_place(int64_t j0, int64_t n, int64_t k, const T* ai, int64_t as_p, const T* b, int64_t ldb, T* ci) {
  const T a0 = ai[0];
  AD_SIMD
  for (int64_t j = j0; j < n; ++j) ci[j] = a0 * b[j];
  for (int64_t p = 1; p < k; ++p) {
    const T ap = ai[p * as_p];
    const T* bp = b + p * ldb;
    AD_SIMD
    for (int64_t j = j0; j < n; ++j) ci[j] += ap * bp[j];
  }
}

// The same for 2·kLanes columns from j0, their sums kept in registers while p runs (the in-place
// form stores and reloads C for every row of B). Both forms add the products in the order p = 0,
// 1, …, so the result does not depend on which ran.
template <class T>
constexpr int64_t kCols = 2 * kLanes<T>;
template <class T>
[[gnu::always_inline]] inline void row_block(int64_t j0, int64_t k, const T* ai, int64_t as_p, const T* b,
                                             int64_t ldb, T* ci) {
  Lanes<T> s0, s1, b0, b1;
  load(b0, b + j0);
  load(b1, b + j0 + kLanes<T>);
  s0 = ai[0] * b0;
  s1 = ai[0] * b1;
  for (int64_t p = 1; p < k; ++p) {
    const T ap = ai[p * as_p];
    load(b0, b + p * ldb + j0);
    load(b1, b + p * ldb + j0 + kLanes<T>);
    s0 += ap * b0;
    s1 += ap * b1;
  }
  std::memcpy(ci + j0, &s0, sizeof s0);
  std::memcpy(ci + j0 + kLanes<T>, &s1, sizeof s1);
}

// C[i, :] = Σ_p A(i, p)·B[p, :] where A(i, p) = a[i·as_i + p·as_p].
template <class T>
AD_VEC_CLONES void rows_times_b(int64_t m, int64_t n, int64_t k, const T* a, int64_t as_i, int64_t as_p, const T* b,
                                int64_t ldb, T* c, int64_t ldc) {
  const int64_t blocked = n / kCols<T> * kCols<T>;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j0 = 0; j0 < blocked; j0 += kCols<T>) row_block(j0, k, a + i * as_i, as_p, b, ldb, c + i * ldc);
    row_in_place(blocked, n, k, a + i * as_i, as_p, b, ldb, c + i * ldc);
  }
}

// C[i0 + r, j0 + q] = A[i0 + r, :] · B[j0 + q, :] for r < R, q < Q: R·Q dot products side by
// side, whose independent sums hide the latency of each one's chain of additions, each A and B
// vector loaded once for the block. Each dot keeps kLanes partial sums over the whole blocks of
// kLanes terms (lane l taking p ≡ l), folds them pairwise, then adds the remaining terms in
// order: the same order whatever the block, so C does not depend on how it was cut.
template <int R, int Q, class T>
[[gnu::always_inline]] inline void dots(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t k, T* c,
                                        int64_t ldc) {
  constexpr int64_t L = kLanes<T>;
  const int64_t whole = k / L * L;
  T sum[R][Q] = {};
  if (whole > 0) {
    Lanes<T> acc[R][Q] = {};
    for (int64_t p = 0; p < whole; p += L) {
      Lanes<T> av[R];
      for (int r = 0; r < R; ++r) load(av[r], a + r * lda + p);
      for (int q = 0; q < Q; ++q) {
        Lanes<T> bv;
        load(bv, b + q * ldb + p);
        for (int r = 0; r < R; ++r) acc[r][q] += av[r] * bv;
      }
    }
    for (int r = 0; r < R; ++r)
      for (int q = 0; q < Q; ++q) sum[r][q] = fold<T>(acc[r][q]);
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) {
      for (int64_t p = whole; p < k; ++p) sum[r][q] += a[r * lda + p] * b[q * ldb + p];
      c[r * ldc + q] = sum[r][q];
    }
}

// The columns [0, n) of R rows of C, Q at a time (Q ≤ 4).
template <int R, int Q, class T>
[[gnu::always_inline]] inline void dot_rows(int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                                            T* c, int64_t ldc) {
  int64_t j = 0;
  for (; j + Q <= n; j += Q) dots<R, Q>(a, lda, b + j * ldb, ldb, k, c + j, ldc);
  switch (n - j) {
    case 3: dots<R, 3>(a, lda, b + j * ldb, ldb, k, c + j, ldc); break;
    case 2: dots<R, 2>(a, lda, b + j * ldb, ldb, k, c + j, ldc); break;
    case 1: dots<R, 1>(a, lda, b + j * ldb, ldb, k, c + j, ldc); break;
    default: break;
  }
}

// C[i, j] = A[i, :] · B[j, :]: blocks of 4 × 2 dot products (2 × 4 and 1 × 4 for the last
// rows), 8 chains of partial sums in 8 of the 32 AVX-512 registers (16 of AVX2's, which split
// each 64-byte vector in two).
template <class T>
AD_VEC_CLONES void rows_dot_rows(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                                 T* c, int64_t ldc) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) dot_rows<4, 2>(n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
  if (m - i >= 2) {
    dot_rows<2, 4>(n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    i += 2;
  }
  if (i < m) dot_rows<1, 4>(n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
}

// C[i, j] = Σ_p A[p, i]·B[j, p].
template <class T>
void both_transposed(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                     int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T s = a[i] * b[j * ldb];
      for (int64_t p = 1; p < k; ++p) s += a[p * lda + i] * b[j * ldb + p];
      c[i * ldc + j] = s;
    }
}

template <class T>
void product(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, bool trans_a, const T* b, int64_t ldb,
             bool trans_b, T* c, int64_t ldc) {
  if (!trans_b) {
    if (trans_a) return rows_times_b(m, n, k, a, int64_t{1}, lda, b, ldb, c, ldc);
    return rows_times_b(m, n, k, a, lda, int64_t{1}, b, ldb, c, ldc);
  }
  if (!trans_a) return rows_dot_rows(m, n, k, a, lda, b, ldb, c, ldc);
  both_transposed(m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace

void small_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool trans_a, const float* b,
                int64_t ldb, bool trans_b, float* c, int64_t ldc) {
  product(m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc);
}

void small_gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b,
                int64_t ldb, bool trans_b, double* c, int64_t ldc) {
  product(m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc);
}

}  // namespace ad::kernels
