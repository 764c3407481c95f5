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

void launch_gemv_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows, int64_t K,
                          int64_t N, ActParams act, DType dtype, cudaStream_t stream);

void launch_gemm_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows, int64_t K,
                          int64_t N, ActParams act, DType dtype, cudaStream_t stream);

// In place over y (rows, N): y = act(y + bias) (bias may be null).
void launch_bias_act(void* y, const float* bias, int64_t rows, int64_t N, ActParams act, DType dtype,
                     cudaStream_t stream);

}  // namespace krt::cuda
