// Internal: branch-free float32 exp, log and the functions built on them, written so that
// GCC vectorizes a loop calling them (no libm call, no branch, no float→int conversion): every
// special case is computed alongside and picked by a select. glibc's vector libm (libmvec) is
// only used under -ffast-math, which would break the NaN checks of anomaly detection.
//
// Accuracy (checked against double libm over a sweep of the float range in
// tests/autodiff/vec_math_test.cpp): exp, log ≤ 2 ulp; tanh, sigmoid, softplus ≤ 3 ulp. ±inf, NaN, overflow, underflow into the
// subnormals and log of 0, negatives and subnormals behave like libm.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ad::kernels::vm {

/// x·2ⁿ for n in [−152, 128], in two normal-range factors so that subnormal results are rounded
/// once and overflow gives inf.
inline float scale_pow2(float x, int32_t n) {
  const int32_t n1 = n >> 1, n2 = n - n1;  // both in [−76, 64]
  const float s1 = std::bit_cast<float>(static_cast<uint32_t>(n1 + 127) << 23);
  const float s2 = std::bit_cast<float>(static_cast<uint32_t>(n2 + 127) << 23);
  return x * s1 * s2;
}

// eˣ = 2ⁿ·eʳ with n = round(x/ln 2) and r = x − n·ln 2 ∈ [−ln2/2, ln2/2] (ln 2 split in a part
// exact in n·ln2_hi and a correction, Cody–Waite); eʳ = 1 + r + r²·P(r), P Cephes' minimax fit.
// n is rounded by adding 1.5·2²³ (the integer lands in the low mantissa bits), so no float→int
// conversion happens (undefined for NaN). x must be in [−104, 89] (the callers clamp it).
struct ExpParts {
  float er;   // eʳ
  int32_t n;  // the power of 2
};
inline ExpParts exp_parts(float x) {
  constexpr float kShift = 12582912.0f;  // 1.5·2²³
  const float t = x * 1.44269504088896341f + kShift;
  const int32_t n = static_cast<int32_t>(std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kShift));
  const float nf = t - kShift;
  const float r = (x - nf * 0.693359375f) - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return {(p * r * r + r) + 1.0f, n};
}

// x is clamped to [−104, 89] first: e⁻¹⁰⁴ rounds to 0 and e⁸⁹ overflows, so the clamp changes
// no result; NaN passes the clamp and is returned as is.
inline float exp(float x) {
  float xc = x > 89.0f ? 89.0f : x;
  xc = xc < -104.0f ? -104.0f : xc;
  const ExpParts e = exp_parts(xc);
  const float y = scale_pow2(e.er, e.n);
  return x != x ? x : y;
}

// eˣ for x ≤ 0 (sigmoid and softplus call it with −|x|), with less work around the same parts,
// since sigmoid is on every sigmoid layer's path: no upper clamp; no NaN check (NaN in gives
// NaN or garbage, and the callers return their NaN input themselves); n ≥ −150, so 2ⁿ⁺⁶⁴ is a
// normal float and eʳ·2ⁿ⁺⁶⁴ exact, and the one rounding is the multiply by 2⁻⁶⁴.
inline float exp_nonpos(float x) {
  const ExpParts e = exp_parts(x < -104.0f ? -104.0f : x);
  const float up = std::bit_cast<float>(static_cast<uint32_t>(e.n + 64 + 127) << 23);
  return e.er * up * 0x1p-64f;
}

/// −|x|, by setting the sign bit (one instruction where a compare and a select were three).
inline float neg_abs(float x) { return std::bit_cast<float>(std::bit_cast<uint32_t>(x) | 0x80000000u); }

// ln x = e·ln 2 + ln(1 + f) for x = 2ᵉ·(1 + f) with 1 + f ∈ [√½, √2); ln(1 + f) = f − f²/2 +
// f³·P(f), P Cephes' minimax fit. Here x is positive and normal once scaled: x = xs·2⁻ᵃ with a
// the exponent adjustment (23 for a subnormal scaled by 2²³, else 0).
inline float log_core(float xs, int32_t adjust) {
  const uint32_t bits = std::bit_cast<uint32_t>(xs);
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xff) - 127 - adjust;
  float m = std::bit_cast<float>((bits & 0x7fffffu) | 0x3f800000u);  // [1, 2)
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e += big ? 1 : 0;
  const float f = m - 1.0f, z = f * f, ef = static_cast<float>(e);
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = f * z * p + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  return (f + y) + ef * 0.693359375f;
}

// Subnormal x is scaled by 2²³ first. x < 0 and NaN give NaN, 0 gives −inf, +inf gives +inf.
inline float log(float x) {
  const bool sub = x < 1.17549435e-38f;  // FLT_MIN: subnormal, zero or negative
  const float r = log_core(sub ? x * 8388608.0f : x, sub ? 23 : 0);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float special = x == 0.0f ? -kInf : x == kInf ? kInf : std::numeric_limits<float>::quiet_NaN();
  return x != x ? x : (x > 0.0f && x < kInf) ? r : special;
}

/// ln x, the same bits as log(x), for x in [FLT_MIN, FLT_MAX] or NaN, such as a probability the
/// losses keep away from 0 and 1: without log's cases of subnormals, 0, negatives and inf.
inline float log_normal(float x) {
  const float r = log_core(x, 0);
  return x != x ? x : r;
}

// ln(1 + u) for u ≥ 0: with w = 1 + u rounded, ln(w)·u/(w − 1) cancels the rounding of w
// (Goldberg); w = 1 means u is below half an ulp of 1, where ln(1 + u) = u.
inline float log1p_nonneg(float u) {
  const float w = 1.0f + u;
  const float d = w - 1.0f;
  const float q = vm::log(w) * u / (d == 0.0f ? 1.0f : d);
  return d == 0.0f ? u : q;
}

/// σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0 and eˣ/(1 + eˣ) for x < 0, both from e = e^−|x| ≤ 1: neither
/// form overflows. One division of the chosen numerator, so each form is rounded once.
inline float sigmoid(float x) {
  const float e = vm::exp_nonpos(neg_abs(x));
  const float s = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
  return x != x ? x : s;
}

// tanh x, odd, so computed on |x| with x's sign bit put back (which keeps tanh(−0) = −0): for
// |x| < 0.625 the odd polynomial |x| + |x|³·P(x²) (Cephes), where 1 − 2/(e²ˣ + 1) would cancel;
// above, 1 − 2/(e^{2|x|} + 1) (e^{2|x|} = inf gives 1). NaN fails |x| < 0.625 and stays NaN.
inline float tanh(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = ax + ax * z * p;
  const float big = 1.0f - 2.0f / (vm::exp(2.0f * ax) + 1.0f);
  const float r = ax < 0.625f ? small : big;
  return std::bit_cast<float>(std::bit_cast<uint32_t>(r) | (std::bit_cast<uint32_t>(x) & 0x80000000u));
}

/// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): the exponent is never positive.
inline float softplus(float x) {
  const float pos = x > 0.0f ? x : 0.0f;
  const float y = pos + log1p_nonneg(vm::exp_nonpos(neg_abs(x)));
  return x != x ? x : y;
}

// Float64 keeps libm: it serves gradchecks, where the last bits matter more than speed.
inline double exp(double x) { return std::exp(x); }
inline double log(double x) { return std::log(x); }
inline double log_normal(double x) { return std::log(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
inline double softplus(double x) { return (x > 0.0 ? x : 0.0) + std::log1p(std::exp(-std::abs(x))); }

}  // namespace ad::kernels::vm
