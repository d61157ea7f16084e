// Internal (kernel layer): how the vectorized loops are compiled.
//
// AD_VEC_CLONES compiles a float32 loop three times (AVX-512, AVX2+FMA and the portable x86-64
// baseline) and the loader picks the best one for the CPU it runs on, so a default build still
// uses the wide vectors. A build with TAPEGRAD_ARCH set compiles for that one target instead
// (cmake/arch.cmake). Float64 loops stay single: they serve gradchecks, not training speed.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(TAPEGRAD_NO_CLONES)
#define AD_VEC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AD_VEC_CLONES
#endif
// `#pragma omp simd` for GCC (honoured under -fopenmp-simd): no aliasing check, and the loops
// vectorize at -O2 too. Clang vectorizes these loops on its own and would warn about every one
// it cannot (a loop calling powf).
#if defined(__GNUC__) && !defined(__clang__)
#define AD_PRAGMA(x) _Pragma(#x)
#else
#define AD_PRAGMA(x)
#endif
#define AD_SIMD AD_PRAGMA(omp simd)
#define AD_SIMD_SUM(acc) AD_PRAGMA(omp simd reduction(+ : acc))
