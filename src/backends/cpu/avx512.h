// Our own AVX-512 kernels are compiled per function for AVX-512 (KRT_AVX512) and chosen at run
// time by a CPU check, so the build never assumes the machine it runs on (no -march=native).
// Include it in the .cpp files that define such kernels only.
#pragma once

#include <immintrin.h>

#define KRT_AVX512 __attribute__((target("avx512f,fma")))
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's shuffle and max intrinsics pass an undefined vector as their unused merge source.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
