#include "autodiff/kernels/vec_math_avx512.hpp"

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

// ln p for 16 lanes of positive normal floats or NaN, step for step as vm::log_normal: p =
// 2ᵉ·m with m in [1, 2), moved to [√½, √2) (m/2, e + 1), then with f = m − 1 and z = f²,
// ln p = e·ln 2 + f − z/2 + f·z·P(f); a NaN lane returns p.
[[gnu::target("avx512f"), gnu::always_inline]] inline __m512 log16(__m512 p) {
  const __m512 m0 = _mm512_getmant_ps(p, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
  const __m512 e0 = _mm512_getexp_ps(p);
  const __mmask16 big = _mm512_cmp_ps_mask(m0, _mm512_set1_ps(1.41421356f), _CMP_GT_OQ);
  const __m512 m = _mm512_mask_mul_ps(m0, big, m0, _mm512_set1_ps(0.5f));
  const __m512 e = _mm512_mask_add_ps(e0, big, e0, _mm512_set1_ps(1.0f));
  const __m512 f = _mm512_add_ps(m, _mm512_set1_ps(-1.0f));
  const __m512 z = _mm512_mul_ps(f, f);
  __m512 q = _mm512_fmadd_ps(f, _mm512_set1_ps(7.0376836292e-2f), _mm512_set1_ps(-1.1514610310e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(1.1676998740e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(-1.2420140846e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(1.4249322787e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(-1.6668057665e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(2.0000714765e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(-2.4999993993e-1f));
  q = _mm512_fmadd_ps(q, f, _mm512_set1_ps(3.3333331174e-1f));
  __m512 y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), _mm512_mul_ps(_mm512_mul_ps(f, z), q));
  y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
  const __m512 r = _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(p, p, _CMP_EQ_OQ), p, r);
}

// ln of the probability each label picks, added to two double sums (the low and the high 8
// lanes); idle lanes add +0. Returns the lanes whose label is neither 0 nor 1 (NaN included).
[[gnu::target("avx512f"), gnu::always_inline]] inline __mmask16 add_log_picked(__m512 a, __m512 y, __mmask16 lanes,
                                                                             __m512 lo, __m512 hi, __m512d sums[2]) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __mmask16 zero_label = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_EQ_OQ);
  const __m512 c = _mm512_max_ps(lo, _mm512_min_ps(hi, a));  // a > hi ? hi : a, then below lo: lo
  const __m512 p = _mm512_mask_sub_ps(c, zero_label, one, c);
  const __m512 l = _mm512_maskz_mov_ps(lanes, log16(p));
  sums[0] = _mm512_add_pd(sums[0], _mm512_cvtps_pd(_mm512_castps512_ps256(l)));
  const __m512 upper = _mm512_shuffle_f32x4(l, l, 0xee);  // lanes 8–15 moved down
  sums[1] = _mm512_add_pd(sums[1], _mm512_cvtps_pd(_mm512_castps512_ps256(upper)));
  return _mm512_kandn(zero_label, _mm512_mask_cmp_ps_mask(lanes, y, one, _CMP_NEQ_UQ));
}

}  // namespace

bool vec_math_avx512_available() { return avx512_enabled(); }

[[gnu::target("avx512f")]] void sigmoid_row(const float* x, float shift, float* out, int64_t n) {
  const __m512 s = _mm512_set1_ps(shift);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(out + j, sigmoid16(_mm512_add_ps(_mm512_loadu_ps(x + j), s)));
  if (j < n) {  // the last few lanes, masked: nothing past the row is read or written
    const auto tail = static_cast<__mmask16>((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(out + j, tail, sigmoid16(_mm512_add_ps(_mm512_maskz_loadu_ps(tail, x + j), s)));
  }
}

[[gnu::target("avx512f")]] bool log_picked_sum(const float* a, const float* y, int64_t n, float lo, float hi,
                                                double& sum) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  __m512d sums[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
  __mmask16 other_labels = 0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    other_labels |= add_log_picked(_mm512_loadu_ps(a + j), _mm512_loadu_ps(y + j), 0xffff, vlo, vhi, sums);
  if (j < n) {
    const auto tail = static_cast<__mmask16>((1u << (n - j)) - 1);
    other_labels |= add_log_picked(_mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), tail, a + j),
                                   _mm512_maskz_loadu_ps(tail, y + j), tail, vlo, vhi, sums);
  }
  // Stored and added in order: GCC 12's _mm512_reduce_add_pd reads an undefined vector it warns about.
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, _mm512_add_pd(sums[0], sums[1]));
  sum = 0;
  for (const double v : lanes) sum += v;
  return other_labels == 0;
}

#else  // no AVX-512 intrinsics: never available, never called

bool vec_math_avx512_available() { return false; }
void sigmoid_row(const float*, float, float*, int64_t) {}
bool log_picked_sum(const float*, const float*, int64_t, float, float, double&) { return false; }

#endif

}  // namespace ad::kernels
