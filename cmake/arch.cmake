# tapegrad_arch(target): code generation for the vectorized kernels.
#
# TAPEGRAD_ARCH empty (the default): a portable x86-64 build whose float32 kernels are compiled
# for AVX-512, AVX2+FMA and the baseline and picked at load time (target_clones in
# autodiff/detail/kernels.hpp). Set it (e.g. native, x86-64-v3, x86-64-v4) to compile the whole
# library for that CPU with -march= instead, one version of every loop.
#
# -fno-trapping-math lets GCC if-convert the branch-free math (the special cases computed beside
# the polynomial and picked by a select), which it otherwise refuses because a speculated
# float operation could raise an exception flag nobody reads here. It changes no result and
# keeps NaN/inf semantics (unlike -ffast-math, which would break anomaly detection).
# -fno-math-errno lets sqrt be one instruction (nothing here reads errno). -fopenmp-simd
# honours `#pragma omp simd` (no aliasing check, reductions) without the OpenMP runtime.
set(TAPEGRAD_ARCH "" CACHE STRING "Target CPU for -march= (empty: portable, run-time dispatch)")

function(tapegrad_arch target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -fno-trapping-math -fno-math-errno -fopenmp-simd)
  endif()
  if(TAPEGRAD_ARCH)
    target_compile_options(${target} PRIVATE -march=${TAPEGRAD_ARCH})
    target_compile_definitions(${target} PRIVATE TAPEGRAD_NO_CLONES)
  endif()
endfunction()
