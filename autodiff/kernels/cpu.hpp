// Internal (kernel layer): whether the hand-written AVX-512 kernels may run. Everything they do
// has a portable path (BLAS), which a CPU without AVX-512 takes; TAPEGRAD_NO_AVX512=1 in the
// environment, or force_no_avx512 in a test, sends an AVX-512 CPU down the same path.
#pragma once

namespace ad::kernels {

/// Whether the AVX-512 kernels may run: the CPU has AVX-512F, TAPEGRAD_NO_AVX512 was unset,
/// empty or "0" when first asked, and force_no_avx512(true) is not in effect.
bool avx512_enabled();

/// Runs every kernel as on a CPU without AVX-512 (true), or as the CPU and the environment
/// allow (false). For tests of the portable path; not while another thread computes.
void force_no_avx512(bool on);

}  // namespace ad::kernels
