// Launch functions of the pointwise family (activation, scale_shift, prelu, elementwise merges,
// compare): device pointers, POD descriptions of shapes, a storage dtype (f32, f16, bf16: the
// inputs and the output share it) and a stream. Math is f32. C++17-clean: included by the .cu
// files and by cuda_pointwise.cpp.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_activation.h"
#include "kerasrt/op_types.h"
#include "kerasrt/tensor.h"

namespace krt::cuda {

// The most axes a shape description below holds (higher ranks are declined at support time).
constexpr int kPointwiseMaxDims = 8;
// The most inputs one elementwise launch folds; more are folded in several launches.
constexpr int kElementwiseMaxInputs = 8;

// krt::Activation as a POD for kernels (same fields, same meaning).
using ActivationArgs = ActParams;  // one activation description for every family

// Where element i of a dense row-major tensor finds its per-channel weight:
//   axes == 0: c = (i / inner) % channels          (the channel axes form one block of dims)
//   axes > 0:  c = sum_k ((i / div[k]) % mod[k]) * mul[k]   (any set of axes)
struct ChannelIndex {
  int64_t inner = 1;
  int64_t channels = 1;
  int axes = 0;
  int64_t div[kPointwiseMaxDims] = {};
  int64_t mod[kPointwiseMaxDims] = {};
  int64_t mul[kPointwiseMaxDims] = {};
};

// y = act(x), n elements.
void launch_activation(const void* x, void* y, int64_t n, const ActivationArgs& act, DType dtype,
                       cudaStream_t stream);

// y = x * scale[c * scale_step] + shift[c * shift_step] (step 0: one value for all), f32 weights.
void launch_scale_shift(const void* x, void* y, int64_t n, const float* scale, const float* shift,
                        int scale_step, int shift_step, const ChannelIndex& channel, DType dtype,
                        cudaStream_t stream);

// y = x > 0 ? x : alpha[c] * x, f32 alpha.
void launch_prelu(const void* x, void* y, int64_t n, const float* alpha,
                  const ChannelIndex& channel, DType dtype, cudaStream_t stream);

enum class MergeOp { add, subtract, multiply, maximum, minimum };

// A left fold of up to kElementwiseMaxInputs inputs, then a division when divisor > 0
// (average). Each input is broadcast to the output through its strides (0 on broadcast axes).
struct MergeArgs {
  MergeOp op = MergeOp::add;
  int count = 0;
  float divisor = 0.f;
  const void* inputs[kElementwiseMaxInputs] = {};
  // Broadcast form only: the output's shape and each input's stride per output axis.
  int rank = 0;
  int64_t shape[kPointwiseMaxDims] = {};
  int64_t strides[kElementwiseMaxInputs][kPointwiseMaxDims] = {};
};

// Every input has the output's shape (residual adds): a flat, vectorized fold.
void launch_merge_same_shape(const MergeArgs& args, void* y, int64_t n, DType dtype,
                             cudaStream_t stream);
// General numpy broadcasting through args.shape and args.strides.
void launch_merge_broadcast(const MergeArgs& args, void* y, int64_t n, DType dtype,
                            cudaStream_t stream);

enum class CompareOp { equal, not_equal, less, less_equal, greater, greater_equal };
// y = (x OP value) ? 1 : 0.
void launch_compare(const void* x, void* y, int64_t n, CompareOp op, float value, DType dtype,
                    cudaStream_t stream);

}  // namespace krt::cuda
