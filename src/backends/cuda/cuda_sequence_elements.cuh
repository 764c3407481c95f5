// One thread's work of each recurrent kernel (cuda_sequence_kernels.cu), as __host__ __device__
// functions: the kernels call them in grid-stride loops, and the same code can be run on the
// host to check it against the reference kernels without a GPU. (.cu files only.)
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "backends/cuda/cuda_layout_elements.cuh"  // hd_to_f32, hd_from_f32
#include "backends/cuda/cuda_sequence_activation.cuh"
#include "backends/cuda/cuda_sequence_kernels.h"

namespace krt::cuda {

// Rows of `in` one thread accumulates per column: each weight is read once per tile of rows.
constexpr int kRowTile = 8;

// Tile i: column i % cols of rows [(i / cols) * kRowTile, + kRowTile) of launch_rows_matmul.
template <class In>
__host__ __device__ __forceinline__ void rows_matmul_tile(const In* in, int64_t in_stride,
                                                          int64_t rows, int64_t depth,
                                                          const float* w, int64_t ldw, int64_t cols,
                                                          const float* bias, float* out,
                                                          int64_t ldo, int64_t i) {
  const int64_t col = i % cols, r0 = (i / cols) * kRowTile;
  const int nr = static_cast<int>(rows - r0 < kRowTile ? rows - r0 : kRowTile);
  float acc[kRowTile];
  for (int r = 0; r < kRowTile; ++r) acc[r] = 0.f;
  const In* base = in + r0 * in_stride;
  for (int64_t k = 0; k < depth; ++k) {
    const float wv = w[k * ldw + col];
    for (int r = 0; r < kRowTile; ++r)
      if (r < nr) acc[r] = fmaf(hd_to_f32(base[r * in_stride + k]), wv, acc[r]);
  }
  const float b = bias ? bias[col] : 0.f;
  for (int r = 0; r < kRowTile; ++r)
    if (r < nr) out[(r0 + r) * ldo + col] = b + acc[r];
}

// Sample b = i / units, unit j = i % units of one time step; reads and writes only its own
// entries of h and c, so the states are updated in place.
template <class Out>
__host__ __device__ __forceinline__ void cell_step_element(const CellStep& s, Out* y, int64_t i) {
  const int64_t u = s.units;
  const int64_t b = i / u, j = i - b * u;
  const float* xs = s.xw + b * s.xw_stride;
  const float* hs = s.hw + b *
                               (s.kind == CellKind::lstm     ? 4
                                : s.kind == CellKind::simple ? 1
                                                             : 3) *
                               u;
  const float h_prev = s.h[i];
  float new_h = 0.f, new_c = 0.f;
  switch (s.kind) {
    case CellKind::simple:
      new_h = seq_activation(s.act, xs[j] + hs[j]);
      break;
    case CellKind::lstm: {
      const float ig = seq_activation(s.ract, xs[j] + hs[j]);
      const float fg = seq_activation(s.ract, xs[u + j] + hs[u + j]);
      new_c = fg * s.c[i] + ig * seq_activation(s.act, xs[2 * u + j] + hs[2 * u + j]);
      const float og = seq_activation(s.ract, xs[3 * u + j] + hs[3 * u + j]);
      new_h = og * seq_activation(s.act, new_c);
      break;
    }
    case CellKind::gru_reset_after:
    case CellKind::gru_reset_before: {
      // The candidate's recurrent part: r * (h @ U_h + b_h) after, (r * h) @ U_h before.
      float cand;
      if (s.kind == CellKind::gru_reset_after) {
        const float r = seq_activation(s.ract, xs[u + j] + hs[u + j]);
        cand = r * hs[2 * u + j];
      } else {
        cand = s.cand[i];
      }
      const float z = seq_activation(s.ract, xs[j] + hs[j]);
      const float hh = seq_activation(s.act, xs[2 * u + j] + cand);
      new_h = z * h_prev + (1.f - z) * hh;
      break;
    }
  }
  // A masked sample keeps its states; its output is the previous h (or zeros).
  const bool keep = !s.mask || s.mask[b * s.mask_stride + s.t] != 0.f;
  float out;
  if (keep) {
    out = new_h;
    s.h[i] = new_h;
    if (s.kind == CellKind::lstm) s.c[i] = new_c;
  } else {
    out = s.zero_output_for_mask ? 0.f : h_prev;
  }
  if (y) y[b * s.y_stride + j] = hd_from_f32<Out>(out);
}

__host__ __device__ __forceinline__ void gru_reset_before_gate_element(const CellStep& s, float* hr,
                                                                       int64_t i) {
  const int64_t u = s.units;
  const int64_t b = i / u, j = i - b * u;
  const float* xs = s.xw + b * s.xw_stride;
  const float* hs = s.hw + b * 3 * u;
  const float r = seq_activation(s.ract, xs[u + j] + hs[u + j]);
  hr[i] = r * s.h[i];
}

}  // namespace krt::cuda
