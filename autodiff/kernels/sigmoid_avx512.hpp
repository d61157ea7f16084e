// Internal: the float32 sigmoid of a fused bias + sigmoid layer, z + b through σ, written with
// AVX-512 intrinsics. It computes what vm::sigmoid computes (kernels/vec_math.hpp), operation
// for operation as the AVX-512 build of the portable loop contracts them, so the two give the
// same bits; it is faster because two instructions do what the portable code needs six for:
// vmaxps clamps, and vscalefps multiplies by 2ⁿ with the one rounding the portable code gets
// from two multiplies and the exponent built in integer registers.
#pragma once

#include <cstdint>

namespace ad::kernels {

/// Whether sigmoid_row runs here: avx512_enabled() (kernels/cpu.hpp).
bool sigmoid_row_available();

/// out[j] = σ(x[j] + shift) for j < n (out may be x). Requires sigmoid_row_available().
void sigmoid_row(const float* x, float shift, float* out, int64_t n);

}  // namespace ad::kernels
