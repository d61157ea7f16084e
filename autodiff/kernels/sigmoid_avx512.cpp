#include "autodiff/kernels/sigmoid_avx512.hpp"

#include "autodiff/kernels/cpu.hpp"
#include "autodiff/kernels/simd_transpose.hpp"

namespace ad::kernels {

#if AD_HAVE_AVX512_INTRINSICS

namespace {

// σ(z) for 16 lanes, step for step as vm::sigmoid: e = e^−|z| from exp_parts' reduction and
// polynomial, then (z ≥ 0 ? 1 : e) / (1 + e); a NaN lane returns z.
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512 sigmoid16(__m512 z) {
  const __m512 one = _mm512_set1_ps(1.0f), shift = _mm512_set1_ps(12582912.0f);  // 1.5·2²³
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  // −|z| (the sign bit set, in integer form: AVX-512F has no float or), clamped at −104
  // (vmaxps returns its second operand, so NaN stays NaN).
  const __m512 u = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(z), sign)));
  const __m512 nf = _mm512_sub_ps(_mm512_fmadd_ps(u, _mm512_set1_ps(1.44269504088896341f), shift), shift);
  __m512 r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(0.693359375f), u);
  r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 er = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), one);
  const __m512 e = _mm512_scalef_ps(er, nf);  // er·2ⁿ, rounded once
  const __m512 num = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ), e, one);
  return _mm512_mask_div_ps(z, _mm512_cmp_ps_mask(z, z, _CMP_EQ_OQ), num, _mm512_add_ps(one, e));
}

}  // namespace

bool sigmoid_row_available() { return avx512_enabled(); }

[[gnu::target("avx512f")]] void sigmoid_row(const float* x, float shift, float* out, int64_t n) {
  const __m512 s = _mm512_set1_ps(shift);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(out + j, sigmoid16(_mm512_add_ps(_mm512_loadu_ps(x + j), s)));
  if (j < n) {  // the last few lanes, masked: nothing past the row is read or written
    const auto tail = static_cast<__mmask16>((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(out + j, tail, sigmoid16(_mm512_add_ps(_mm512_maskz_loadu_ps(tail, x + j), s)));
  }
}

#else  // no AVX-512 intrinsics: never available, never called

bool sigmoid_row_available() { return false; }
void sigmoid_row(const float*, float, float*, int64_t) {}

#endif

}  // namespace ad::kernels
