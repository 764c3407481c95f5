// One output element of each layout kernel (cuda_layout_kernels.cu), as __host__ __device__
// functions: the kernels call them in grid-stride loops, and the same code can be run on the
// host to check its index math against the reference kernels without a GPU. (.cu files only.)
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "backends/cuda/cuda_layout_kernels.h"

namespace krt::cuda {

// f32 loads and stores of the storage dtypes, on the host and the device (cuda_types.cuh's
// to_f32/from_f32 are device-only).
__host__ __device__ __forceinline__ float hd_to_f32(float v) { return v; }
__host__ __device__ __forceinline__ float hd_to_f32(__half v) { return __half2float(v); }
__host__ __device__ __forceinline__ float hd_to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
template <class T>
__host__ __device__ __forceinline__ T hd_from_f32(float v);
template <>
__host__ __device__ __forceinline__ float hd_from_f32<float>(float v) {
  return v;
}
template <>
__host__ __device__ __forceinline__ __half hd_from_f32<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__host__ __device__ __forceinline__ __nv_bfloat16 hd_from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

template <class In, class Out>
__host__ __device__ __forceinline__ void gather_element(const GatherMap& map, const In* x, Out* y,
                                                        int64_t i) {
  int64_t rest = i, off = 0;
  bool inside = true;
  for (int a = map.rank - 1; a >= 0; --a) {  // row-major: the last axis varies fastest
    const int64_t c = rest % map.out_dim[a];
    rest /= map.out_dim[a];
    const int64_t src = c / map.div[a] - map.shift[a];
    if (map.check_bounds && (src < 0 || src >= map.in_dim[a])) inside = false;
    off += src * map.in_stride[a];
  }
  y[i] = hd_from_f32<Out>(inside ? hd_to_f32(x[off]) : map.fill);
}

template <class In, class Out>
__host__ __device__ __forceinline__ void concat_element(const In* x, Out* y, int64_t block,
                                                        int64_t out_block, int64_t at, int64_t i) {
  const int64_t o = i / block, k = i - o * block;
  y[o * out_block + at + k] = hd_from_f32<Out>(hd_to_f32(x[i]));
}

template <class T>
__host__ __device__ __forceinline__ void pool_element(const PoolGeometry& g, const T* x, T* y,
                                                      int64_t i) {
  // i = (((b * out0 + o0) * out1 + o1) * out2 + o2) * channels + ch
  int64_t rest = i;
  const int64_t ch = rest % g.channels;
  rest /= g.channels;
  int64_t o[3];
  for (int a = 2; a >= 0; --a) {
    o[a] = rest % g.out[a];
    rest /= g.out[a];
  }
  const int64_t b = rest;
  double sum = 0.0;
  float mx = -INFINITY;
  int64_t count = 0;
  // The window in row-major order, as the reference walks it.
  for (int64_t w0 = 0; w0 < g.window[0]; ++w0) {
    const int64_t s0 = o[0] * g.stride[0] + w0 - g.pad[0];
    if (s0 < 0 || s0 >= g.in[0]) continue;
    for (int64_t w1 = 0; w1 < g.window[1]; ++w1) {
      const int64_t s1 = o[1] * g.stride[1] + w1 - g.pad[1];
      if (s1 < 0 || s1 >= g.in[1]) continue;
      for (int64_t w2 = 0; w2 < g.window[2]; ++w2) {
        const int64_t s2 = o[2] * g.stride[2] + w2 - g.pad[2];
        if (s2 < 0 || s2 >= g.in[2]) continue;
        const float v =
            hd_to_f32(x[(((b * g.in[0] + s0) * g.in[1] + s1) * g.in[2] + s2) * g.channels + ch]);
        sum += v;
        mx = mx < v ? v : mx;  // std::max(mx, v) as the reference: a NaN input is skipped
        ++count;
      }
    }
  }
  y[i] = hd_from_f32<T>(g.average ? static_cast<float>(sum / static_cast<double>(count)) : mx);
}

template <class T>
__host__ __device__ __forceinline__ void resize_element(const ResizeGeometry& g, const T* x, T* y,
                                                        int64_t i) {
  int64_t rest = i;
  const int64_t ch = rest % g.channels;
  rest /= g.channels;
  int64_t o[3];
  for (int a = 2; a >= 0; --a) {
    o[a] = rest % g.out[a];
    rest /= g.out[a];
  }
  const int64_t b = rest;
  // Taps per axis; unused axes (size 1, spatial < 3) have one tap of weight 1 at 0.
  int64_t first[3] = {0, 0, 0}, count[3] = {1, 1, 1};
  const float* w[3] = {nullptr, nullptr, nullptr};
  for (int a = 0; a < g.spatial; ++a) {
    first[a] = g.axis[a].first[o[a]];
    count[a] = g.axis[a].count[o[a]];
    w[a] = g.axis[a].weight + o[a] * g.axis[a].max_taps;
  }
  // The sum over axis 0 innermost: the reference resizes axis 1 (our axis 0) first.
  float acc2 = 0.f;
  for (int64_t k2 = 0; k2 < count[2]; ++k2) {
    const int64_t s2 = first[2] + k2;
    float acc1 = 0.f;
    for (int64_t k1 = 0; k1 < count[1]; ++k1) {
      const int64_t s1 = first[1] + k1;
      float acc0 = 0.f;
      for (int64_t k0 = 0; k0 < count[0]; ++k0) {
        const int64_t s0 = first[0] + k0;
        acc0 +=
            w[0][k0] *
            hd_to_f32(x[(((b * g.in[0] + s0) * g.in[1] + s1) * g.in[2] + s2) * g.channels + ch]);
      }
      acc1 += (g.spatial > 1 ? w[1][k1] : 1.f) * acc0;
    }
    acc2 += (g.spatial > 2 ? w[2][k2] : 1.f) * acc1;
  }
  y[i] = hd_from_f32<T>(acc2);
}

template <class Id, class T>
__host__ __device__ __forceinline__ void embedding_element(const Id* ids, const T* table,
                                                           int64_t rows, int64_t dim, T* y,
                                                           int64_t i) {
  const int64_t k = i / dim, d = i - k * dim;
  const float f = hd_to_f32(ids[k]);
  // Keras truncates float ids toward zero, so (-1, rows) are the valid ones. The reference
  // throws on others; here (kernels cannot throw) an invalid id gives a row of zeros.
  if (f > -1.f && f < static_cast<float>(rows)) {
    const int64_t row = static_cast<int64_t>(f);
    y[i] = table[row * dim + d];
  } else {
    y[i] = hd_from_f32<T>(0.f);
  }
}

}  // namespace krt::cuda
