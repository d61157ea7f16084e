#include "autodiff/kernels/cpu.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace ad::kernels {
namespace {

std::atomic<bool> forced_off{false};

bool cpu_allows_avx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const char* off = std::getenv("TAPEGRAD_NO_AVX512");
  if (off && *off && std::strcmp(off, "0") != 0) return false;
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

}  // namespace

bool avx512_enabled() {
  static const bool allowed = cpu_allows_avx512();
  return allowed && !forced_off.load(std::memory_order_relaxed);
}

void force_no_avx512(bool on) { forced_off.store(on, std::memory_order_relaxed); }

}  // namespace ad::kernels
