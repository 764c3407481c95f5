// The pieces the channel-vectorized 2-D convolution kernels share (cuda_conv_kernels.cu,
// cuda_conv2d_kernels.cu): each thread owns V consecutive channels of one NHWC output position,
// in 32-bit indices. .cu files only.
#pragma once

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_types.cuh"

namespace krt::cuda {

// The output position and first channel of thread slot `idx` (CV = channels / V).
struct NhwcSlot {
  int n, oh, ow, c;
};

template <int V>
__device__ __forceinline__ NhwcSlot nhwc_slot(int idx, int CV, int OH, int OW) {
  NhwcSlot s;
  s.c = (idx % CV) * V;
  int p = idx / CV;
  s.ow = p % OW;
  p /= OW;
  s.oh = p % OH;
  s.n = p / OH;
  return s;
}

// act(acc + bias) (bias f32, or null) stored at slot `idx` of y.
template <int V, class T>
__device__ __forceinline__ void store_bias_act(T* y, int idx, float (&acc)[V],
                                               const float* bias, int c, const ActParams& act) {
#pragma unroll
  for (int v = 0; v < V; ++v)
    acc[v] = apply_activation(act, bias ? acc[v] + bias[c + v] : acc[v]);
  storev<V>(y + static_cast<size_t>(idx) * V, acc);
}

}  // namespace krt::cuda
