// Internal: two float32 loops of a sigmoid layer trained on binary cross-entropy, written with
// AVX-512 intrinsics: the fused bias + sigmoid, and the cross-entropy's sum of logs. Each
// computes what the portable code computes (vm::sigmoid and vm::log_normal, kernels/vec_math.hpp),
// operation for operation as the AVX-512 build of the portable loop contracts them, so each
// element gets the same bits; they are faster because single instructions do what the portable
// code needs several for: vmaxps and vminps clamp, vscalefps multiplies by 2ⁿ with the one
// rounding the portable code gets from two multiplies and an exponent built in integer
// registers, and vgetexpps and vgetmantps split a float into exponent and mantissa.
#pragma once

#include <cstdint>

namespace ad::kernels {

/// Whether the loops below run here: avx512_enabled() (kernels/cpu.hpp).
bool vec_math_avx512_available();

/// out[j] = σ(x[j] + shift) for j < n (out may be x). Requires vec_math_avx512_available().
void sigmoid_row(const float* x, float shift, float* out, int64_t n);

/// Σ_j ln p_j in double into `sum`, where p_j = 1 − c_j if y[j] is 0 and c_j if it is 1, c_j =
/// a[j] clamped to [lo, hi] (a NaN stays NaN): binary cross-entropy's sum when every label is 0
/// or 1. Returns false, with `sum` meaningless, when some label is neither. Each term has the
/// portable loop's bits; the sum's order differs from the portable loop's in the last bits of a
/// double. Requires vec_math_avx512_available().
bool log_picked_sum(const float* a, const float* y, int64_t n, float lo, float hi, double& sum);

}  // namespace ad::kernels
