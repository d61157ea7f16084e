// OpenBLAS chooses its kernels when it is loaded. On a virtual CPU it does not recognize (one
// that reports itself as a generic "Intel Xeon Processor") it falls back on its SSE3
// "Prescott" kernels, which run matrix products 4–5× slower than the AVX-512 or AVX2 ones the
// CPU actually has. The choice cannot be changed after loading; only the environment variable
// OPENBLAS_CORETYPE, read at load time, overrides it.
#pragma once

namespace ex {

/// When OpenBLAS fell back on Prescott kernels on a CPU with AVX-512 (or AVX2) and
/// OPENBLAS_CORETYPE is unset, runs this program again (same arguments) with
/// OPENBLAS_CORETYPE=SkylakeX (or Haswell). Call first thing in main. Does nothing otherwise.
void ensure_fast_blas(char** argv);

/// The OpenBLAS kernel family in use ("SkylakeX", "Haswell", "Prescott", …; "unknown" when the
/// BLAS is not OpenBLAS).
const char* blas_core_name();

}  // namespace ex
