// Our own kernels of the convolution family (C++17-clean: included by .cu and host files), NHWC
// with the spatial axes padded to three (trailing unit axes keep every row-major offset), as
// the reference kernels do. Activations and weights in `dtype` (f32, f16, bf16), bias f32 (or
// null), f32 accumulation. Forward convolutions: input i = o*stride + t*dilation - pad.
// Transposed: output o takes tap t from input i = (o + pad - t*dilation) / stride when exact.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_activation.h"
#include "kerasrt/tensor.h"

namespace krt::cuda {

// (constexpr: callable in kernels through --expt-relaxed-constexpr)
struct ConvGeom {
  int64_t batch = 0, cin = 0, cout = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pad[3] = {0, 0, 0};

  constexpr int64_t in_positions() const { return in[0] * in[1] * in[2]; }
  constexpr int64_t out_positions() const { return out[0] * out[1] * out[2]; }
  constexpr int64_t taps() const { return k[0] * k[1] * k[2]; }
};

// cols (rows, taps * cin) for output rows [row_begin, row_begin + rows) of the flattened
// (n, o...) output positions: cols[r][t][ci] = x[n][o*stride + t*dil - pad][ci], 0 in padding.
void launch_im2col(const void* x, void* cols, const ConvGeom& g, int64_t row_begin, int64_t rows,
                   DType dtype, cudaStream_t stream);

// The fast paths for at most two spatial axes and 32-bit sizes (cuda_conv2d_kernels.cu); each
// returns false, launching nothing, where it does not apply.
// - A forward convolution, groups 1, whose window holds at most kSmallConvWindow values
//   (taps * cin) and cout % 4 == 0, computed directly from the (taps * cin, cout) kernel.
constexpr int64_t kSmallConvWindow = 32;
bool launch_small_conv2d(const void* x, const void* w, const float* bias, void* y,
                         const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream);
// - The same on tensor cores in f16/bf16 (cuda_mma_conv.cu), for cout % 8 == 0 and y 16-byte
//   aligned; launch_small_conv2d, having checked its own conditions, takes it first where
//   mma_mode() is not off (the default; it is called only from there).
bool launch_small_conv2d_mma(const void* x, const void* w, const float* bias, void* y,
                             const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream);
// - launch_im2col.
bool launch_im2col2d(const void* x, void* cols, const ConvGeom& g, int64_t row_begin, int64_t rows,
                     DType dtype, cudaStream_t stream);

// Transposed convolution from cols (count * in_positions, taps * cout) = x @ w^T for batch items
// [n_begin, n_begin + count): y[n][o][co] = act(bias + sum over taps t reaching o of
// cols[n - n_begin][i][t][co]).
void launch_col2im_bias_act(const void* cols, void* y, const float* bias, const ConvGeom& g,
                            int64_t n_begin, int64_t count, ActParams act, DType dtype,
                            cudaStream_t stream);

// Depthwise: w (taps, cout) with cout = cin * mult; output channel co reads input co / mult.
void launch_depthwise_conv(const void* x, const void* w, const float* bias, void* y,
                           const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream);

// Direct (grouped) convolution, one thread per output: w (taps, cin / groups, cout).
void launch_direct_conv(const void* x, const void* w, const float* bias, void* y, const ConvGeom& g,
                        ActParams act, DType dtype, cudaStream_t stream);

// Direct transposed convolution, one thread per output: w (cin, taps, cout).
void launch_direct_conv_transpose(const void* x, const void* w, const float* bias, void* y,
                                  const ConvGeom& g, ActParams act, DType dtype,
                                  cudaStream_t stream);

}  // namespace krt::cuda
