#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_sequence_activation.cuh"
#include "backends/cuda/cuda_sequence_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;
// Rows of `in` one thread accumulates per column: each weight is read once per tile of rows.
constexpr int kRowTile = 8;

#define KRT_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// One thread per (tile of kRowTile rows, column); neighbouring threads take neighbouring
// columns, so the weight reads are coalesced and the input reads are broadcasts.
template <class In>
__global__ void rows_matmul_kernel(const In* in, int64_t in_stride, int64_t rows, int64_t depth, const float* w,
                                   int64_t ldw, int64_t cols, const float* bias, float* out, int64_t ldo) {
  const int64_t tiles = (rows + kRowTile - 1) / kRowTile;
  KRT_GRID_STRIDE_LOOP(i, tiles * cols) {
    const int64_t col = i % cols, r0 = (i / cols) * kRowTile;
    const int nr = static_cast<int>(rows - r0 < kRowTile ? rows - r0 : kRowTile);
    float acc[kRowTile];
#pragma unroll
    for (int r = 0; r < kRowTile; ++r) acc[r] = 0.f;
    const In* base = in + r0 * in_stride;
    for (int64_t k = 0; k < depth; ++k) {
      const float wv = w[k * ldw + col];
#pragma unroll
      for (int r = 0; r < kRowTile; ++r)
        if (r < nr) acc[r] = fmaf(to_f32(base[r * in_stride + k]), wv, acc[r]);
    }
    const float b = bias ? bias[col] : 0.f;
#pragma unroll
    for (int r = 0; r < kRowTile; ++r)
      if (r < nr) out[(r0 + r) * ldo + col] = b + acc[r];
  }
}

template <class Out>
__global__ void cell_step_kernel(CellStep s, Out* y) {
  const int64_t u = s.units;
  KRT_GRID_STRIDE_LOOP(i, s.batch * u) {
    const int64_t b = i / u, j = i - b * u;
    const float* xs = s.xw + b * s.xw_stride;
    const float* hs = s.hw + b * (s.kind == CellKind::lstm ? 4 : s.kind == CellKind::simple ? 1 : 3) * u;
    const float h_prev = s.h[i];
    float new_h = 0.f, new_c = 0.f;
    switch (s.kind) {
      case CellKind::simple: new_h = seq_activation(s.act, xs[j] + hs[j]); break;
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
    if (y) y[b * s.y_stride + j] = from_f32<Out>(out);
  }
}

__global__ void gru_reset_before_gate_kernel(CellStep s, float* hr) {
  const int64_t u = s.units;
  KRT_GRID_STRIDE_LOOP(i, s.batch * u) {
    const int64_t b = i / u, j = i - b * u;
    const float* xs = s.xw + b * s.xw_stride;
    const float* hs = s.hw + b * 3 * u;
    const float r = seq_activation(s.ract, xs[u + j] + hs[u + j]);
    hr[i] = r * s.h[i];
  }
}

}  // namespace

void launch_rows_matmul(const void* in, DType in_dtype, int64_t in_offset, int64_t in_stride, int64_t rows,
                        int64_t depth, const float* w, int64_t ldw, int64_t cols, const float* bias, float* out,
                        int64_t ldo, cudaStream_t stream) {
  const int64_t n = (rows + kRowTile - 1) / kRowTile * cols;
  if (n <= 0) return;
  const bool ok = dispatch_float(in_dtype, [&](auto tag) {
    using In = decltype(tag);
    rows_matmul_kernel<In><<<grid_for(n, kBlock), kBlock, 0, stream>>>(static_cast<const In*>(in) + in_offset,
                                                                        in_stride, rows, depth, w, ldw, cols, bias,
                                                                        out, ldo);
    check_launch("rows_matmul_kernel");
  });
  if (!ok) fail(ErrorCode::internal, "CUDA rows_matmul: unsupported dtype ", dtype_name(in_dtype));
}

void launch_cell_step(const CellStep& step, DType y_dtype, cudaStream_t stream) {
  const int64_t n = step.batch * step.units;
  if (n <= 0) return;
  const bool ok = dispatch_float(y_dtype, [&](auto tag) {
    using Out = decltype(tag);
    cell_step_kernel<Out><<<grid_for(n, kBlock), kBlock, 0, stream>>>(step, static_cast<Out*>(step.y));
    check_launch("cell_step_kernel");
  });
  if (!ok) fail(ErrorCode::internal, "CUDA recurrent cell: unsupported dtype ", dtype_name(y_dtype));
}

void launch_gru_reset_before_gate(const CellStep& step, float* hr, cudaStream_t stream) {
  const int64_t n = step.batch * step.units;
  if (n <= 0) return;
  gru_reset_before_gate_kernel<<<grid_for(n, kBlock), kBlock, 0, stream>>>(step, hr);
  check_launch("gru_reset_before_gate_kernel");
}

}  // namespace krt::cuda
