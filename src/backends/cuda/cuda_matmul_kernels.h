// Our own kernels of the matmul family (C++17-clean: included by .cu and host files): a GEMV
// for Dense with few rows (batch 1 is bound by reading the weights: 16-byte loads, split over
// K inside a block), a plain tiled GEMM used where cuBLASLt has no algorithm, and the bias +
// activation epilogue for activations cuBLASLt cannot fuse. Row-major throughout:
// y (rows, N) = act(x (rows, K) @ w (K, N) + bias (N)); x, w, y in `dtype` (f32, f16, bf16),
// bias in f32 (or null); f32 accumulation.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_activation.h"
#include "kerasrt/tensor.h"

namespace krt::cuda {

// The most rows the GEMV handles (more go to a GEMM).
constexpr int64_t kGemvMaxRows = 4;
// Up to this many rows the GEMV is timed against cuBLASLt on a shape's first run (cuda_gemm.cpp).
constexpr int64_t kGemvTimedRows = 16;

// Scratch of the run for a GEMV whose K is split over several blocks: room for the parts
// (S, rows, N) f32 and per-tile tickets that are 0 between launches (null: never split).
struct GemvScratch {
  float* partial = nullptr;
  size_t partial_bytes = 0;
  unsigned* counters = nullptr;
  int64_t counter_count = 0;
};
// How many parts to split K into for `tiles` output tiles of a (rows, N) result: about two
// blocks per SM of an H100 (kSplitBlocks), each part at least kSplitMinDepth deep, as far as the
// scratch holds the parts and tickets; 1 where the tiles alone fill the GPU or nothing fits.
constexpr int64_t kSplitBlocks = 2 * 132;
constexpr int64_t kSplitMinDepth = 64;
int64_t split_k_parts(const GemvScratch& scratch, int64_t tiles, int64_t rows, int64_t K,
                      int64_t N);
void launch_gemv_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows,
                          int64_t K, int64_t N, ActParams act, DType dtype,
                          const GemvScratch& scratch, cudaStream_t stream);

// Our tensor-core kernels (f16/bf16: this GEMM, the small-window convolution), chosen by
// KERASRT_CUDA_MMA, read at each planning: unset or "conv" (the default) runs the convolution on
// them and leaves every GEMM to cuBLASLt and the GEMV; "0" turns both off; "1" also times the
// GEMM against cuBLASLt per shape and keeps the faster; "force" gives it every GEMM it supports
// (tests, comparisons). docs/performance.md has the measurements behind the default.
enum class MmaMode { off, conv, timed, forced };
MmaMode mma_mode();

// The same on tensor cores (f16/bf16 only; cuda_mma_gemm.cu), split over K like the GEMV where
// the tiles are few. Supported for K and N multiples of 8 with x, w and y 16-byte aligned.
bool mma_gemm_supported(const void* x, const void* w, const void* y, int64_t K, int64_t N,
                        DType dtype);
void launch_mma_gemm_bias_act(const void* x, const void* w, const float* bias, void* y,
                              int64_t rows, int64_t K, int64_t N, ActParams act, DType dtype,
                              const GemvScratch& scratch, cudaStream_t stream);

void launch_gemm_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows,
                          int64_t K, int64_t N, ActParams act, DType dtype, cudaStream_t stream);

// In place over y (rows, N): y = act(y + bias) (bias may be null).
void launch_bias_act(void* y, const float* bias, int64_t rows, int64_t N, ActParams act,
                     DType dtype, cudaStream_t stream);

// A general einsum of up to kEinsumMaxOperands operands, as the reference computes it: every
// output element sums, over the summed labels, the product of the operands' elements; each
// operand reaches a label through a stride (0 where it broadcasts a size-1 axis, the sum of
// strides for a repeated label). y = act(sum * scale + bias), bias through its own strides.
constexpr int kEinsumMaxOperands = 3;
constexpr int kEinsumMaxLabels = 8;
struct EinsumGeom {
  int operands = 0;
  int out_rank = 0, sum_rank = 0;
  int64_t out_shape[kEinsumMaxLabels] = {};
  int64_t sum_shape[kEinsumMaxLabels] = {};
  int64_t out_stride[kEinsumMaxOperands][kEinsumMaxLabels] = {};
  int64_t sum_stride[kEinsumMaxOperands][kEinsumMaxLabels] = {};
  int64_t bias_stride[kEinsumMaxLabels] = {};
  float scale = 1.f;
};
struct EinsumOperands {
  const void* data[kEinsumMaxOperands] = {};
};
void launch_einsum(const EinsumOperands& operands, const float* bias, void* y, int64_t out_elements,
                   const EinsumGeom& g, ActParams act, DType dtype, cudaStream_t stream);

}  // namespace krt::cuda
