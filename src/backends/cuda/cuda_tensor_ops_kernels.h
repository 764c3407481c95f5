// Launchers of the general tensor ops' kernels (cuda_tensor_ops_kernels.cu): element-wise math,
// broadcasting binary operators and select, numpy.take, and tf.shape. Data in device memory,
// storage dtype `dtype` (f32, f16 or bf16); math in f32, as the reference does it.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kerasrt/tensor.h"
#include "ops/params_tensor.h"

namespace krt::cuda {

constexpr int kMaxBroadcastRank = 8;
constexpr int kMaxBroadcastOperands = 3;

// One operand of a broadcast: its data, whether it is f32 (a constant of the file, kept exact)
// or the storage dtype, and its element stride per output axis (0 where it is broadcast).
struct BroadcastOperand {
  const void* data = nullptr;
  bool f32 = false;
  int64_t stride[kMaxBroadcastRank] = {};
};
struct BroadcastMap {
  int rank = 0;
  int operands = 0;
  int64_t out_dim[kMaxBroadcastRank] = {};
  BroadcastOperand op[kMaxBroadcastOperands];
};

void launch_unary(const UnaryParams& p, const void* x, void* y, int64_t n, DType dtype,
                  cudaStream_t stream);
// y = op0 KIND op1, broadcast (map.operands == 2).
void launch_binary(BinaryKind kind, const BroadcastMap& map, void* y, int64_t n, DType dtype,
                   cudaStream_t stream);
// y = op0 != 0 ? op1 : op2, broadcast (map.operands == 3).
void launch_where(const BroadcastMap& map, void* y, int64_t n, DType dtype, cudaStream_t stream);

// numpy.take: y[o, k, i] = x[o, idx[k], i] for o < outer, k < count, i < inner; idx holds whole
// numbers as f32 (idx_f32) or the storage dtype, negative ones counting from the end of `dim`.
// An index out of range gives NaN (kernels cannot throw; the reference raises an error).
void launch_take(const void* x, const void* idx, bool idx_f32, void* y, int64_t outer, int64_t dim,
                 int64_t count, int64_t inner, DType dtype, cudaStream_t stream);

// y[a] = dims[a] for a < rank (tf.shape), in the storage dtype.
void launch_shape_of(const int64_t (&dims)[kMaxBroadcastRank], int rank, void* y, DType dtype,
                     cudaStream_t stream);

}  // namespace krt::cuda
