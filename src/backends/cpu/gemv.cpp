// The kernels are compiled for AVX-512 through function attributes (the rest of the library
// stays baseline x86-64) and only called after cpu_has_avx512() said yes.
#include "backends/cpu/gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/parallel.h"

#include "backends/cpu/avx512.h"

namespace krt::cpu {

namespace {

__mmask16 mask_of(int64_t cols) {
  return cols >= 16 ? static_cast<__mmask16>(0xFFFF)
                    : static_cast<__mmask16>((1u << std::max<int64_t>(cols, 0)) - 1);
}

// Y rows [0, M) x columns [j0, j1) (multiples of 16 but for the end) = X @ W + bias: W streamed
// row by row, four rows at a time, Y's slice kept in L1 between them.
template <int M>
KRT_AVX512 void gemv_slice(int64_t k, int64_t n, int64_t j0, int64_t j1, const float* x,
                           const float* w, const float* bias, bool relu, float* y) {
  for (int r = 0; r < M; ++r)
    for (int64_t j = j0; j < j1; j += 16) {
      const __mmask16 m = mask_of(j1 - j);
      _mm512_mask_storeu_ps(y + r * n + j, m,
                            bias ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_set1_ps(0.f));
    }
  int64_t p = 0;
  for (; p + 4 <= k; p += 4) {
    __m512 xb[M][4];
#pragma GCC unroll 4
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) xb[r][q] = _mm512_set1_ps(x[r * k + p + q]);
    const float* w0 = w + p * n;
    int64_t j = j0;
    for (; j + 16 <= j1; j += 16) {
      const __m512 v0 = _mm512_loadu_ps(w0 + j), v1 = _mm512_loadu_ps(w0 + n + j),
                   v2 = _mm512_loadu_ps(w0 + 2 * n + j), v3 = _mm512_loadu_ps(w0 + 3 * n + j);
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) {
        __m512 acc = _mm512_loadu_ps(y + r * n + j);
        acc = _mm512_fmadd_ps(xb[r][0], v0, acc);
        acc = _mm512_fmadd_ps(xb[r][1], v1, acc);
        acc = _mm512_fmadd_ps(xb[r][2], v2, acc);
        acc = _mm512_fmadd_ps(xb[r][3], v3, acc);
        _mm512_storeu_ps(y + r * n + j, acc);
      }
    }
    if (j < j1) {
      const __mmask16 m = mask_of(j1 - j);
      const __m512 v0 = _mm512_maskz_loadu_ps(m, w0 + j), v1 = _mm512_maskz_loadu_ps(m, w0 + n + j),
                   v2 = _mm512_maskz_loadu_ps(m, w0 + 2 * n + j),
                   v3 = _mm512_maskz_loadu_ps(m, w0 + 3 * n + j);
      for (int r = 0; r < M; ++r) {
        __m512 acc = _mm512_maskz_loadu_ps(m, y + r * n + j);
        acc = _mm512_fmadd_ps(xb[r][0], v0, acc);
        acc = _mm512_fmadd_ps(xb[r][1], v1, acc);
        acc = _mm512_fmadd_ps(xb[r][2], v2, acc);
        acc = _mm512_fmadd_ps(xb[r][3], v3, acc);
        _mm512_mask_storeu_ps(y + r * n + j, m, acc);
      }
    }
  }
  for (; p < k; ++p) {
    const float* w0 = w + p * n;
    for (int64_t j = j0; j < j1; j += 16) {
      const __mmask16 m = mask_of(j1 - j);
      const __m512 v = _mm512_maskz_loadu_ps(m, w0 + j);
      for (int r = 0; r < M; ++r) {
        __m512 acc = _mm512_maskz_loadu_ps(m, y + r * n + j);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(x[r * k + p]), v, acc);
        _mm512_mask_storeu_ps(y + r * n + j, m, acc);
      }
    }
  }
  if (relu)
    for (int r = 0; r < M; ++r)
      for (int64_t j = j0; j < j1; j += 16) {
        const __mmask16 m = mask_of(j1 - j);
        _mm512_mask_storeu_ps(
            y + r * n + j, m,
            _mm512_max_ps(_mm512_maskz_loadu_ps(m, y + r * n + j), _mm512_set1_ps(0.f)));
      }
}

}  // namespace

bool own_kernels_enabled() {
  static const bool yes = [] {
    const char* env = std::getenv("KERASRT_CPU_KERNELS");
    return !(env && std::strcmp(env, "onednn") == 0);
  }();
  return yes;
}

bool cpu_has_avx512() {
  static const bool yes = [] {
    if (!own_kernels_enabled()) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}

void gemv_rows(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
               bool relu, float* y) {
  for (int64_t r0 = 0; r0 < m; r0 += 4) {
    const int rows = static_cast<int>(std::min<int64_t>(4, m - r0));
    const float* xr = x + r0 * k;
    float* yr = y + r0 * n;
    const int64_t vectors = (n + 15) / 16;
    parallel_for(
        vectors,
        [&](int64_t v0, int64_t v1) {
          const int64_t j0 = v0 * 16, j1 = std::min(n, v1 * 16);
          switch (rows) {
            case 1:
              gemv_slice<1>(k, n, j0, j1, xr, w, bias, relu, yr);
              break;
            case 2:
              gemv_slice<2>(k, n, j0, j1, xr, w, bias, relu, yr);
              break;
            case 3:
              gemv_slice<3>(k, n, j0, j1, xr, w, bias, relu, yr);
              break;
            default:
              gemv_slice<4>(k, n, j0, j1, xr, w, bias, relu, yr);
              break;
          }
        },
        64);
  }
}

}  // namespace krt::cpu
