// Launch functions of the recurrent layers' kernels (cuda_sequence_kernels.cu): a small
// row-block matmul for the input and recurrent projections, and the per-time-step cell
// updates of SimpleRNN, LSTM and GRU with masks. C++17, plain structs, device pointers.
// State, projections and weights are f32; x, mask and outputs are in the storage dtype.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_activation.h"
#include "kerasrt/op_types.h"
#include "kerasrt/tensor.h"

namespace krt::cuda {

// ops/activation.h's Activation, as a POD the kernels take by value.
using SeqActivation = ActParams;  // one activation description for every family

// out[r * ldo + c] = bias[c] + sum_k in[in_offset + r * in_stride + k] * w[k * ldw + c]
// for r < rows, c < cols, k < depth (bias may be null). `in` has dtype in_dtype, the rest f32.
void launch_rows_matmul(const void* in, DType in_dtype, int64_t in_offset, int64_t in_stride,
                        int64_t rows, int64_t depth, const float* w, int64_t ldw, int64_t cols,
                        const float* bias, float* out, int64_t ldo, cudaStream_t stream);

enum class CellKind { simple, lstm, gru_reset_after, gru_reset_before };

// One time step of a recurrent layer over `batch` samples of `units`.
//   xw: the input projection of this step, row b at xw + b * xw_stride (gates*units f32)
//   hw: the recurrent projection h @ recurrent_kernel (+ recurrent bias), (batch, gates*units)
//   h, c: the states (batch, units), updated in place where the mask keeps the sample
//   cand: GRU with the reset gate before the matmul: (r * h) @ U_h, (batch, units)
//   mask: (batch, mask_stride) f32 or null; the step's entry is mask[b * mask_stride + t]
//   y: where the step's output goes, or null: y[b * y_stride + j] (storage dtype y_dtype)
struct CellStep {
  CellKind kind = CellKind::simple;
  int64_t batch = 0, units = 0;
  SeqActivation act, ract;
  const float* xw = nullptr;
  int64_t xw_stride = 0;
  const float* hw = nullptr;
  float* h = nullptr;
  float* c = nullptr;
  const float* cand = nullptr;
  const float* mask = nullptr;
  int64_t mask_stride = 0, t = 0;
  bool zero_output_for_mask = false;
  void* y = nullptr;
  int64_t y_stride = 0;
};
void launch_cell_step(const CellStep& step, DType y_dtype, cudaStream_t stream);

// GRU with the reset gate before the matmul, first half of a step: hr[b, j] = r * h[b, j] with
// r = ract(xw[u + j] + hw[u + j]) (the candidate's input, (r * h) @ U_h, is computed next).
void launch_gru_reset_before_gate(const CellStep& step, float* hr, cudaStream_t stream);

}  // namespace krt::cuda
