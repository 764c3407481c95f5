// Launch functions of the layout family's kernels (cuda_layout_kernels.cu): data movement
// (transpose, pad, slice, upsample, concat), pooling, resize and embedding lookups. Plain
// structs of sizes and strides, device pointers, dtypes and a stream: C++17, no runtime types.
// Every kernel maps one output element to the input element(s) it reads, in a grid-stride loop,
// with f32 (or, for sums the reference accumulates in double, double) math.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kerasrt/tensor.h"

namespace krt::cuda {

constexpr int kMaxLayoutRank = 8;

// y[c] = x[sum_a (c[a] / div[a] - shift[a]) * in_stride[a]] for output coordinates c; with
// check_bounds, a source coordinate outside [0, in_dim[a]) on any axis gives `fill` instead.
//   transpose: div 1, shift 0, in_stride[a] = x stride of axis perm[a]
//   slice:     div 1, shift -crop_before[a]
//   pad:       div 1, shift before[a], check_bounds, fill = value
//   upsample:  div factor on spatial axes
struct GatherMap {
  int rank = 0;
  int64_t out_dim[kMaxLayoutRank] = {};
  int64_t div[kMaxLayoutRank] = {};
  int64_t shift[kMaxLayoutRank] = {};
  int64_t in_dim[kMaxLayoutRank] = {};
  int64_t in_stride[kMaxLayoutRank] = {};
  bool check_bounds = false;
  float fill = 0.f;
};
void launch_gather(const GatherMap& map, const void* x, DType x_dtype, void* y, DType y_dtype,
                   int64_t y_size, cudaStream_t stream);

// One concat input: y[o, at + i] = x[o, i] for o < outer, i < block (elements), the output rows
// being out_block elements long.
void launch_concat_part(const void* x, DType x_dtype, void* y, DType y_dtype, int64_t outer,
                        int64_t block, int64_t out_block, int64_t at, cudaStream_t stream);

// Max or average pooling over 1-3 spatial axes of (n, spatial..., c); unused axes have size 1.
// Padded positions never take part (a 'same' average divides by the real inputs it saw).
struct PoolGeometry {
  int64_t batch = 0, channels = 0;
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t window[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1};
  int64_t pad[3] = {0, 0, 0};
  bool average = false;
};
void launch_pool(const PoolGeometry& g, const void* x, void* y, DType dtype, cudaStream_t stream);

// Separable resize of 1-3 spatial axes of (n, spatial..., c). Per spatial axis d and output
// position j: taps first[j] .. first[j] + count[j] - 1 of the input axis with weights
// weight[j * max_taps + k]. Axes are applied innermost sum first on axis 0, as the reference
// resizes axis 1 first (its intermediate rounding to f32 aside).
struct ResizeAxis {
  const int* first = nullptr;
  const int* count = nullptr;
  const float* weight = nullptr;
  int max_taps = 0;
};
struct ResizeGeometry {
  int64_t batch = 0, channels = 0;
  int spatial = 0;
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  ResizeAxis axis[3];
};
void launch_resize(const ResizeGeometry& g, const void* x, void* y, DType dtype,
                   cudaStream_t stream);

// y[i, :] = table[int(ids[i]), :] for `count` ids; an id outside (-1, rows) gives a row of zeros
// (the reference throws; a kernel cannot, and must not read out of bounds).
void launch_embedding(const void* ids, DType ids_dtype, const void* table, int64_t rows,
                      int64_t dim, void* y, DType dtype, int64_t count, cudaStream_t stream);

}  // namespace krt::cuda
