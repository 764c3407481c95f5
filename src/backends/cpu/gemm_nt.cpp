#include "backends/cpu/gemm_nt.h"

#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/parallel.h"

#include "backends/cpu/avx512.h"

namespace krt::cpu {

namespace {

// Four vectors' sums as one 128-bit lane each of the result: lane l holds the partial sums of
// v[l]; adding lanes pairwise leaves lane l = 4 partial sums of v[l].
KRT_AVX512 inline __m512 lanes_of_four(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab =
      _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  const __m512 cd =
      _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
}

// C rows [0, MR) x columns [j, j + 4) from accumulators acc[r][q] (A row r, W row j + q): the
// result's 128-bit lane r holds C[r][j..j+4).
template <int MR>
KRT_AVX512 inline void store_tile(__m512 (&acc)[4][4], float* c, int64_t n, int cols) {
  __m512 p[4];
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) p[q] = lanes_of_four(acc[0][q], acc[1][q], acc[2][q], acc[3][q]);
  // p[q] lane r = 4 partials of C[r][j+q]; transpose-add within lanes.
  const __m512 u01 = _mm512_add_ps(_mm512_unpacklo_ps(p[0], p[1]), _mm512_unpackhi_ps(p[0], p[1]));
  const __m512 u23 = _mm512_add_ps(_mm512_unpacklo_ps(p[2], p[3]), _mm512_unpackhi_ps(p[2], p[3]));
  // u01 lane r = [C0a, C1a, C0b, C1b] (partials a + b = C[r][j], C[r][j+1]), same for u23.
  const __m512 sums =
      _mm512_add_ps(_mm512_shuffle_ps(u01, u23, 0x44), _mm512_shuffle_ps(u01, u23, 0xEE));
  alignas(64) float out[16];
  _mm512_store_ps(out, sums);
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < cols; ++q) c[r * n + q] = out[r * 4 + q];
}

// C rows [0, MR) x columns [j0, j1) of A @ W^T.
// `prefetch`: the first pass over a block of W also fetches the next 4 rows of W into L1.
template <int MR>
KRT_AVX512 void tile_rows(int64_t k, int64_t n, int64_t j0, int64_t j1, const float* a,
                          const float* w, float* c, bool prefetch) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (k % 16)) - 1);
  const int64_t body = k - k % 16;
  for (int64_t j = j0; j < j1; j += 4) {
    const int cols = static_cast<int>(std::min<int64_t>(4, j1 - j));
    const float* wr[4];
    for (int q = 0; q < 4; ++q) wr[q] = w + std::min<int64_t>(j + q, j1 - 1) * k;
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) acc[r][q] = _mm512_setzero_ps();
    for (int64_t p = 0; p < body; p += 16) {
      __m512 wv[4];
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) wv[q] = _mm512_loadu_ps(wr[q] + p);
      if (prefetch)
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q)
          _mm_prefetch(reinterpret_cast<const char*>(wr[q] + 4 * k + p), _MM_HINT_T0);
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_loadu_ps(a + r * k + p);
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) acc[r][q] = _mm512_fmadd_ps(av, wv[q], acc[r][q]);
      }
    }
    if (tail) {
      __m512 wv[4];
      for (int q = 0; q < 4; ++q) wv[q] = _mm512_maskz_loadu_ps(tail, wr[q] + body);
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_maskz_loadu_ps(tail, a + r * k + body);
        for (int q = 0; q < 4; ++q) acc[r][q] = _mm512_fmadd_ps(av, wv[q], acc[r][q]);
      }
    }
    store_tile<MR>(acc, c + j, n, cols);
  }
}

}  // namespace

void gemm_nt_avx512(int64_t m, int64_t k, int64_t n, const float* a, const float* w, float* c) {
  // Columns (rows of W) split over threads in blocks of 4; every thread's block of W stays in
  // L1 while all rows of A (a few KB each) pass over it.
  constexpr int64_t kBlock = 4;  // W rows per L1 block: 4 * k floats
  parallel_for((n + 3) / 4,
               [&](int64_t b0, int64_t b1) {
                 const int64_t jend = std::min(n, b1 * 4);
                 for (int64_t j0 = b0 * 4; j0 < jend; j0 += kBlock) {
                   const int64_t j1 = std::min(jend, j0 + kBlock);
                   for (int64_t r = 0; r < m; r += 4) {
                     const float* ar = a + r * k;
                     float* cr = c + r * n;
                     switch (std::min<int64_t>(4, m - r)) {
                       case 1:
                         tile_rows<1>(k, n, j0, j1, ar, w, cr, r == 0);
                         break;
                       case 2:
                         tile_rows<2>(k, n, j0, j1, ar, w, cr, r == 0);
                         break;
                       case 3:
                         tile_rows<3>(k, n, j0, j1, ar, w, cr, r == 0);
                         break;
                       default:
                         tile_rows<4>(k, n, j0, j1, ar, w, cr, r == 0);
                         break;
                     }
                   }
                 }
               },
               16);
}

}  // namespace krt::cpu
