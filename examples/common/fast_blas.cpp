#include "common/fast_blas.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// Declared weak so that a non-OpenBLAS CBLAS still links (the check is then skipped).
extern "C" char* openblas_get_corename(void) __attribute__((weak));

namespace ex {

const char* blas_core_name() { return openblas_get_corename ? openblas_get_corename() : "unknown"; }

void ensure_fast_blas(char** argv) {
  if (!openblas_get_corename || std::getenv("OPENBLAS_CORETYPE")) return;
  const char* core = openblas_get_corename();
  if (!core || (std::strcmp(core, "Prescott") != 0 && std::strcmp(core, "prescott") != 0)) return;
  __builtin_cpu_init();
  const char* better = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    better = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    better = "Haswell";
  if (!better) return;
  std::printf("(OpenBLAS did not recognize this CPU and chose its SSE3 kernels; running again with "
              "OPENBLAS_CORETYPE=%s)\n",
              better);
  std::fflush(stdout);
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on with the slow kernels
}

}  // namespace ex
