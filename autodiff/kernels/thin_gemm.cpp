// The thin-product kernel (autodiff/kernels/thin_gemm.hpp).
//
// All m ≤ 24 rows of C are computed at once, its columns in blocks of 16, k in chunks of
// kChunk. For one (k chunk, column block) the m × 16 block of C lives in m AVX-512 registers
// while k advances: per step one 16-wide row of B (or of the packed panel) is loaded and m
// broadcast FMAs use it, so every element of B read feeds m multiply-adds (m + 1 loads for m
// FMAs: the two load ports keep pace with the two FMA units).
//   - A's chunk is packed k-major (Ap[q][i] = A[i][k0 + q]) once per k chunk: read in place its
//     rows are k floats apart, which for a wide input (k = 12288: 48 KB) puts all m rows in one
//     L1 set, and they evict each other on every step.
//   - B (k × n) is read in place, 16 columns at a time; a partial last block is copied into a
//     zero-padded panel. While one chunk is computed the next chunk's rows (contiguous memory)
//     are prefetched, one cache line per step, so streaming B overlaps the arithmetic.
//   - Bᵀ (B is n × k): each block of 16 of B's rows is transposed into a (k chunk × 16) panel,
//     then used like the plain case; the next block's rows are prefetched while it runs.
#include "autodiff/kernels/thin_gemm.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/parallel.hpp"
#include "autodiff/kernels/simd_transpose.hpp"

namespace ad::kernels {

#if AD_HAVE_AVX512_INTRINSICS

namespace {

using v16 = float __attribute__((vector_size(64)));
// The loops over a block's R rows must be unrolled, or acc[] is an array in memory rather
// than R registers (GCC does not fully unroll them at -O2/-O3 by itself).
#if defined(__clang__)
#define AD_UNROLL_ROWS _Pragma("unroll")
#else
#define AD_UNROLL_ROWS _Pragma("GCC unroll 24")
#endif
constexpr int64_t kChunk = 256;  // rows of k per pass: 24·256 floats of A fit L1, B's chunk L2
constexpr int64_t kLine = 64;    // bytes per cache line, one prefetch per k step

// C[0:R, 0:16] = (accumulate ? C : 0) + Ap[0:kn, 0:R] · P[0:kn, 0:16], where Ap's rows are
// `as` floats apart and P's `ldp`; prefetches `pf_lines` lines from `pf` along the way.
template <int R>
[[gnu::target("avx512f")]] void block(const float* ap, int64_t as, const float* p, int64_t ldp, int64_t kn,
                                      const char* pf, int64_t pf_lines, float* c, int64_t ldc, bool accumulate) {
  v16 acc[R];
  AD_UNROLL_ROWS
  for (int r = 0; r < R; ++r) {
    if (accumulate) std::memcpy(&acc[r], c + r * ldc, sizeof(v16));
    else acc[r] = v16{};
  }
  for (int64_t q = 0; q < kn; ++q) {
    if (q < pf_lines) __builtin_prefetch(pf + q * kLine);
    v16 bv;
    std::memcpy(&bv, p + q * ldp, sizeof(v16));
    const float* aq = ap + q * as;
    AD_UNROLL_ROWS
    for (int r = 0; r < R; ++r) {
      const float x = aq[r];
      const v16 s = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};  // one vbroadcastss from memory
      acc[r] += s * bv;
    }
  }
  AD_UNROLL_ROWS
  for (int r = 0; r < R; ++r) std::memcpy(c + r * ldc, &acc[r], sizeof(v16));
}

// panel[q][t] = src[t·lds + q] for t < 16, q < kn: 16 rows of B turned into kn rows of 16.
// Whole 16 × 16 tiles go through registers (transpose16x16); the last kn mod 16 columns are
// copied one by one.
[[gnu::target("avx512f")]] void transpose16(const float* src, int64_t lds, int64_t kn, float* panel) {
  int64_t q0 = 0;
  for (; q0 + 16 <= kn; q0 += 16) {
    __m512 r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds + q0);
    transpose16x16(r);
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(panel + (q0 + i) * 16, r[i]);
  }
  for (int64_t q = q0; q < kn; ++q)
    for (int64_t t = 0; t < 16; ++t) panel[q * 16 + t] = src[t * lds + q];
}

using BlockFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, const char*, int64_t, float*, int64_t,
                         bool);

// block<R> for every R in 1 … 24, so a row chunk is all of m (m = 10 is one chunk of 10, not
// 8 + 2 reading B twice).
template <size_t... R>
constexpr std::array<BlockFn, sizeof...(R)> make_blocks(std::index_sequence<R...>) {
  return {block<static_cast<int>(R + 1)>...};
}
constexpr auto kBlocks = make_blocks(std::make_index_sequence<kThinGemmMaxRows>{});

struct Buffers {
  alignas(64) float apack[kChunk * kThinGemmMaxRows];
  alignas(64) float panel[kChunk * 16];
  alignas(64) float ctile[kThinGemmMaxRows * 16];
};

}  // namespace

bool thin_gemm_available() { return avx512_enabled(); }

void thin_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool trans_b,
               float* c, int64_t ldc) {
  thread_local Buffers buf;
  const BlockFn kernel = kBlocks[static_cast<size_t>(m - 1)];  // all m rows of C at once
  const int64_t blocks = (n + 15) / 16;
  for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
    const int64_t kn = std::min(kChunk, k - k0);
    const bool accumulate = k0 > 0;
    for (int64_t q = 0; q < kn; ++q)
      for (int64_t i = 0; i < m; ++i) buf.apack[q * m + i] = a[i * lda + k0 + q];
    // B: the next k chunk's rows, contiguous, spread over this chunk's blocks.
    const char* pf = nullptr;
    int64_t pf_left = 0;
    if (!trans_b && k0 + kn < k) {
      pf = reinterpret_cast<const char*>(b + (k0 + kn) * ldb);
      pf_left = (std::min(k, k0 + kn + kChunk) - (k0 + kn)) * ldb * static_cast<int64_t>(sizeof(float)) / kLine + 1;
    }
    for (int64_t jb = 0; jb < blocks; ++jb) {
      const int64_t j0 = jb * 16, w = std::min<int64_t>(16, n - j0);
      const float* p = b + k0 * ldb + j0;
      int64_t ldp = ldb;
      if (trans_b) {  // the 16 rows j0 … j0+15 of B, columns k0 … k0+kn−1, transposed
        if (w == 16) {
          transpose16(b + j0 * ldb + k0, ldb, kn, buf.panel);
        } else {
          for (int64_t q = 0; q < kn; ++q)
            for (int64_t t = 0; t < 16; ++t) buf.panel[q * 16 + t] = t < w ? b[(j0 + t) * ldb + k0 + q] : 0.0f;
        }
        p = buf.panel, ldp = 16;
        if (j0 + 16 < n) {  // the next block's rows
          pf = reinterpret_cast<const char*>(b + (j0 + 16) * ldb + k0);
          pf_left = std::min<int64_t>(16, n - j0 - 16) * ldb * static_cast<int64_t>(sizeof(float)) / kLine + 1;
        } else {
          pf = nullptr, pf_left = 0;
        }
      } else if (w < 16) {  // a partial last block, zero-padded
        for (int64_t q = 0; q < kn; ++q) {
          std::memcpy(buf.panel + q * 16, b + (k0 + q) * ldb + j0, static_cast<size_t>(w) * sizeof(float));
          std::fill(buf.panel + q * 16 + w, buf.panel + q * 16 + 16, 0.0f);
        }
        p = buf.panel, ldp = 16;
      }
      const int64_t lines = std::min(pf_left, kn);
      float* dst = c + j0;
      if (w == 16) {
        kernel(buf.apack, m, p, ldp, kn, pf, lines, dst, ldc, accumulate);
      } else {  // through a 16-wide tile, so no store lands past C's last column
        for (int64_t r = 0; r < m; ++r) {
          std::fill(buf.ctile + r * 16, buf.ctile + r * 16 + 16, 0.0f);
          if (accumulate) std::memcpy(buf.ctile + r * 16, dst + r * ldc, static_cast<size_t>(w) * sizeof(float));
        }
        kernel(buf.apack, m, p, ldp, kn, pf, lines, buf.ctile, 16, accumulate);
        for (int64_t r = 0; r < m; ++r)
          std::memcpy(dst + r * ldc, buf.ctile + r * 16, static_cast<size_t>(w) * sizeof(float));
      }
      if (pf) pf += lines * kLine;
      pf_left -= lines;
    }
  }
}

#else  // no AVX-512 intrinsics: never available, never called

bool thin_gemm_available() { return false; }
void thin_gemm(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, bool, float*, int64_t) {}

#endif

void thin_product(int64_t m, int64_t n, int64_t k, const float* a, const float* b, bool trans_b, float* c) {
  const int64_t ldb = trans_b ? k : n;
  // C's columns split across threads, each at least ~2·10⁶ multiply-adds (a thread's start is
  // tens of µs); bounds on multiples of 16 columns, so only the last chunk has a partial block.
  const int64_t grain = std::max<int64_t>(16, (int64_t{2} << 20) / (m * k));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1) {
    thin_gemm(m, j1 - j0, k, a, k, trans_b ? b + j0 * ldb : b + j0, ldb, trans_b, c + j0, n);
  });
}

}  // namespace ad::kernels
