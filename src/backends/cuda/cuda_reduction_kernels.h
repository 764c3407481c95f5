// Launch functions of the reduction family (reduce, softmax and friends, normalization, global
// pooling, additive scores): device pointers, POD descriptions of shapes, the storage dtype
// (f32, f16, bf16: inputs and output share it; weights are f32) and a stream. Math is f32.
// C++17-clean: included by cuda_reduction_kernels.cu and cuda_reduction.cpp.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kerasrt/tensor.h"

namespace krt::cuda {

constexpr int kGroupMaxDims = 8;
constexpr int kGroupOperands = 3;

// A dense tensor's elements split into groups (one per coordinate of the kept axes, row-major)
// of members (the coordinates of the reduced axes, row-major). Element (g, r) of operand k
// (0: the input and output; 1, 2: a broadcast mask, scale or shift) sits at
//   unravel(g, kept_shape) . kept_stride[k] + unravel(r, red_shape) . red_stride[k].
struct GroupMap {
  int64_t groups = 1;
  int64_t members = 1;
  int kept_rank = 0;
  int red_rank = 0;
  int64_t kept_shape[kGroupMaxDims] = {};
  int64_t red_shape[kGroupMaxDims] = {};
  int64_t kept_stride[kGroupOperands][kGroupMaxDims] = {};
  int64_t red_stride[kGroupOperands][kGroupMaxDims] = {};
};

enum class ReduceOp { any, all, sum, mean, max, min, prod, argmax, argmin };
// y[g] = op over the members of group g (y: one value per group, row-major over kept axes).
// argmax/argmin give the member index (one reduced axis) of the first best value, as f32.
void launch_reduce(const void* x, void* y, const GroupMap& map, ReduceOp op, DType dtype,
                   cudaStream_t stream);

// Softmax over each group's members of z, where z = x unless masked: mask (operand 1 of the map,
// nonzero = keep; nullptr = none) and, when causal, the rule col <= row on the last two axes of
// x (cols = x's last dim, rows = the one before). Masked entries become x - 1e9
// (add_large_negative) or -0.7 * float max (replace), and 0 in y when zero_masked.
struct SoftmaxArgs {
  bool log = false;
  bool causal = false;
  bool replace_fill = false;
  bool zero_masked = false;
  int64_t cols = 1;
  int64_t rows = 1;
};
void launch_softmax(const void* x, const void* mask, void* y, const GroupMap& map,
                    const SoftmaxArgs& args, DType dtype, cudaStream_t stream);

// Keras 3.15's sparsemax over each group (see the reference kernel): groups of at most a few
// thousand members (the kernel is quadratic in them).
void launch_sparsemax(const void* x, void* y, const GroupMap& map, DType dtype,
                      cudaStream_t stream);

// Statistics over each group, then y = (x - centre) * inv (* scale) (+ shift); scale and shift
// are f32, operands 1 and 2 of the map, nullptr when absent.
enum class NormMode {
  moments,       // centre = mean, inv = 1 / sqrt(var + eps)
  centered_rms,  // centre = 0,    inv = 1 / sqrt(var + eps)
  rms,           // centre = 0,    inv = 1 / sqrt(mean(x^2) + eps)
  l2,            // centre = 0,    inv = 1 / sqrt(max(sum(x^2), eps))
  l2_unit,       // y = x / norm, norm = sqrt(sum(x^2)), or 1 where that is 0 (l2_normalize)
};
void launch_normalize(const void* x, void* y, const float* scale, const float* shift,
                      const GroupMap& map, NormMode mode, float epsilon, DType dtype,
                      cudaStream_t stream);

// glu: x viewed as (outer, 2, half_inner); y (outer, half_inner) = a * sigmoid(b).
void launch_glu(const void* x, void* y, int64_t outer, int64_t half_inner, DType dtype,
                cudaStream_t stream);

// x (batch, positions, channels) -> y (batch, channels): max or mean over positions.
void launch_global_pool(const void* x, void* y, int64_t batch, int64_t positions, int64_t channels,
                        bool max, DType dtype, cudaStream_t stream);

// q (batch, tq, d), k (batch, tv, d) -> y (batch, tq, tv) = outer * sum_c w_c tanh(inner (q + k));
// w (f32, d values) or nullptr for 1.
void launch_additive_score(const void* q, const void* k, void* y, const float* w, int64_t batch,
                           int64_t tq, int64_t tv, int64_t d, float inner_scale, float outer_scale,
                           DType dtype, cudaStream_t stream);

}  // namespace krt::cuda
