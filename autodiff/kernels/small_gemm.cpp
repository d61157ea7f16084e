// The small-product kernel (autodiff/kernels/small_gemm.hpp). Two forms, by how op(B) is laid out:
//   - op(B) = B (k × n, rows contiguous): C[i, :] = Σ_p A(i, p)·B[p, :] is vectorized along
//     the rows, blocks of C's row summed in registers (the forward W·A and the backward Wᵀ·dZ,
//     where k is a layer's width and n the batch).
//   - op(B) = Bᵀ with A not transposed: C[i, j] is the dot product of A's row i with B's row j,
//     both contiguous (the weight gradient dZ·Aᵀ, where k is the batch), four at a time.
//   - Aᵀ·Bᵀ, which no op of the library asks for, is a plain loop.
#include "autodiff/kernels/small_gemm.hpp"

#include <cstring>

#include "autodiff/kernels/simd.hpp"

namespace ad::kernels {
namespace {

// Sums are kept in 64-byte GCC vectors of kLanes<T> elements (16 floats, 8 doubles): whichever
// width the loader picked (kernels/simd.hpp), the compiler splits them into its registers, and a
// fixed count of partial sums keeps the order of the additions the same on every one (the AVX2
// and AVX-512 builds fuse each multiply-add, the baseline build rounds twice). Vectors wider than
// the widest registers would be lowered element by element.
constexpr int64_t kVectorBytes = 64;
template <class T>
constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(T));
template <class T>
struct LanesOf;
template <>
struct LanesOf<float> {
  typedef float type __attribute__((vector_size(kVectorBytes)));
};
template <>
struct LanesOf<double> {
  typedef double type __attribute__((vector_size(kVectorBytes)));
};
template <class T>
using Lanes = typename LanesOf<T>::type;

// kLanes<T> elements from p, any alignment (the vector is filled in place: no vector crosses a call).
template <class T>
[[gnu::always_inline]] inline void load(Lanes<T>& v, const T* p) {
  std::memcpy(&v, p, sizeof v);
}

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

// C[i, j0 + r] = A[i, :] · B[j0 + r, :] for r < R: R dot products side by side, whose
// independent sums hide the latency of each one's chain of additions. Each keeps kLanes partial
// sums over the whole blocks of kLanes terms (lane l taking p ≡ l), folds them pairwise, then
// adds the remaining terms in order.
template <int R, class T>
[[gnu::always_inline]] inline void dots(const T* x, const T* b, int64_t ldb, int64_t k, T* c) {
  const int64_t whole = k / kLanes<T> * kLanes<T>;
  T sum[R] = {};
  if (whole > 0) {
    Lanes<T> acc[R] = {};
    for (int64_t p = 0; p < whole; p += kLanes<T>) {
      Lanes<T> xv, bv;
      load(xv, x + p);
      for (int r = 0; r < R; ++r) {
        load(bv, b + r * ldb + p);
        acc[r] += xv * bv;
      }
    }
    for (int r = 0; r < R; ++r) {
      T h[kLanes<T>];
      std::memcpy(h, &acc[r], sizeof h);
      for (int64_t w = kLanes<T> / 2; w > 0; w /= 2)
        for (int64_t l = 0; l < w; ++l) h[l] += h[l + w];
      sum[r] = h[0];
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int64_t p = whole; p < k; ++p) sum[r] += x[p] * b[r * ldb + p];
    c[r] = sum[r];
  }
}

// C[i, j] = A[i, :] · B[j, :], four of B's rows at a time.
template <class T>
AD_VEC_CLONES void rows_dot_rows(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                                 T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    const T* ai = a + i * lda;
    T* ci = c + i * ldc;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) dots<4>(ai, b + j * ldb, ldb, k, ci + j);
    switch (n - j) {
      case 3: dots<3>(ai, b + j * ldb, ldb, k, ci + j); break;
      case 2: dots<2>(ai, b + j * ldb, ldb, k, ci + j); break;
      case 1: dots<1>(ai, b + j * ldb, ldb, k, ci + j); break;
      default: break;
    }
  }
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
