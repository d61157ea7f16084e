// Internal: the AVX-512 intrinsics header, and a 16 × 16 float transpose in registers, shared
// by the product kernels that turn operands around while packing them (thin_gemm.cpp,
// packed_gemm.cpp). AD_HAVE_AVX512_INTRINSICS says whether they can be compiled here (x86-64
// with GCC or Clang); whether the CPU runs them is checked at run time by their callers.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AD_HAVE_AVX512_INTRINSICS 1
#if defined(__clang__)
#include <immintrin.h>
#else
// GCC 12's own avx512fintrin.h initializes its "undefined" vectors from themselves, which
// -Wmaybe-uninitialized reports at every use; the header is not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
#else
#define AD_HAVE_AVX512_INTRINSICS 0
#endif

#if AD_HAVE_AVX512_INTRINSICS
namespace ad::kernels {

/// r[i] (16 rows of 16 floats) becomes its transpose, r[j][i] = old r[i][j]: the usual
/// unpack / shuffle network, 64 instructions for the tile.
[[gnu::target("avx512f"), gnu::always_inline]] inline void transpose16x16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4)
    for (int j = 0; j < 2; ++j) {
      const __m512d x = _mm512_castps_pd(t[i + j]), y = _mm512_castps_pd(t[i + j + 2]);
      r[i + 2 * j] = _mm512_castpd_ps(_mm512_unpacklo_pd(x, y));
      r[i + 2 * j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(x, y));
    }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

}  // namespace ad::kernels
#endif
