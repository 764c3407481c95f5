// Fast paths of the convolution family for the common 2-D case (one and two spatial axes) with
// 32-bit sizes: the general kernels of cuda_conv_kernels.cu split every flattened index with
// 64-bit divisions, which cost more than the copy itself on large batches.
#include <algorithm>

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_conv_kernels.h"
#include "backends/cuda/cuda_conv_vec.cuh"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "backends/cuda/cuda_types.cuh"

namespace krt::cuda {

namespace {

// Whether g has at most two spatial axes and every index of `elements` fits an int.
bool fits_2d(const ConvGeom& g, int64_t elements) {
  const int64_t limit = int64_t{1} << 30;
  return g.in[2] == 1 && g.out[2] == 1 && g.k[2] == 1 && elements < limit &&
         g.batch * g.in_positions() * g.cin < limit && g.batch * g.out_positions() * g.cout < limit;
}

// A forward convolution whose window holds few values (an image model's stem: 3x3 taps of 3
// channels), where im2col would write a narrow row of columns per output position and the GEMM
// would run on a short, unaligned K: each thread computes V output channels of one position,
// loading V weights at once; the threads of a position read the same inputs from cache.
template <class T, int V>
__global__ void conv2d_small_vec_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                         const float* __restrict__ bias, T* __restrict__ y,
                                         int total_v, int H, int W, int Cin, int Cout, int OH,
                                         int OW, int KH, int KW, int SH, int SW, int DH, int DW,
                                         int PH, int PW, ActParams act) {
  wait_for_producers();
  const int CV = Cout / V;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total_v;
       idx += gridDim.x * blockDim.x) {
    const auto [n, oh, ow, c] = nhwc_slot<V>(idx, CV, OH, OW);
    const T* xn = x + static_cast<size_t>(n) * H * W * Cin;
    float acc[V] = {};
    for (int kh = 0; kh < KH; ++kh) {
      const int ih = oh * SH + kh * DH - PH;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        const int iw = ow * SW + kw * DW - PW;
        if (iw < 0 || iw >= W) continue;
        const T* xp = xn + (ih * W + iw) * Cin;
        const T* wp = w + (kh * KW + kw) * Cin * Cout + c;
        for (int ci = 0; ci < Cin; ++ci) {
          const float xv = to_f32(xp[ci]);
          float wv[V];
          loadv<V>(wp + ci * Cout, wv);
#pragma unroll
          for (int v = 0; v < V; ++v) acc[v] = fmaf(xv, wv[v], acc[v]);
        }
      }
    }
    store_bias_act<V>(y, idx, acc, bias, c, act);
  }
}

// im2col_kernel in 32-bit arithmetic for at most two spatial axes, V channels per thread (one
// vector copy where cin and the pointers allow, else V = 1).
template <class T, int V>
__global__ void im2col2d_kernel(const T* __restrict__ x, T* __restrict__ cols, int total,
                                int row_begin, int H, int W, int Cin, int OH, int OW, int KH,
                                int KW, int SH, int SW, int DH, int DW, int PH, int PW) {
  wait_for_producers();
  const int CV = Cin / V, taps = KH * KW;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += gridDim.x * blockDim.x) {
    const int ci = (idx % CV) * V;
    const int rest = idx / CV;
    const int t = rest % taps;
    int r = row_begin + rest / taps;
    const int kw = t % KW, kh = t / KW;
    const int ow = r % OW;
    r /= OW;
    const int oh = r % OH;
    const int n = r / OH;
    const int ih = oh * SH + kh * DH - PH, iw = ow * SW + kw * DW - PW;
    const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
    const size_t src = inside ? (static_cast<size_t>(n) * H * W + ih * W + iw) * Cin + ci : 0;
    T* dst = cols + static_cast<size_t>(idx) * V;
    if constexpr (V > 1) {
      float v[V] = {};
      if (inside) loadv<V>(x + src, v);
      storev<V>(dst, v);
    } else {
      *dst = inside ? x[src] : from_f32<T>(0.f);
    }
  }
}

}  // namespace

bool launch_small_conv2d(const void* x, const void* w, const float* bias, void* y,
                         const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  if (n <= 0 || g.groups != 1 || g.taps() * g.cin > kSmallConvWindow || !fits_2d(g, n))
    return false;
  if (mma_mode() != MmaMode::off && launch_small_conv2d_mma(x, w, bias, y, g, act, dtype, stream))
    return true;
  bool launched = false;
  dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const int v = vector_width<T>(g.cout, {w, y});
    if (v == 0) return;
    const auto i = [](int64_t e) { return static_cast<int>(e); };
    const auto kernel = v == 8 ? conv2d_small_vec_kernel<T, 8> : conv2d_small_vec_kernel<T, 4>;
    launch_kernel(kernel, grid_for(n / v), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<const T*>(w), bias, static_cast<T*>(y), i(n / v), i(g.in[0]),
                  i(g.in[1]), i(g.cin), i(g.cout), i(g.out[0]), i(g.out[1]), i(g.k[0]), i(g.k[1]),
                  i(g.stride[0]), i(g.stride[1]), i(g.dil[0]), i(g.dil[1]), i(g.pad[0]),
                  i(g.pad[1]), act);
    check_launch("conv2d_small_vec_kernel");
    launched = true;
  });
  return launched;
}

bool launch_im2col2d(const void* x, void* cols, const ConvGeom& g, int64_t row_begin, int64_t rows,
                     DType dtype, cudaStream_t stream) {
  const int64_t n = rows * g.taps() * g.cin;
  if (n <= 0 || !fits_2d(g, n) || row_begin + rows > int64_t{1} << 30) return false;
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const int v = std::max(vector_width<T>(g.cin, {x, cols}), 1);
    const auto i = [](int64_t e) { return static_cast<int>(e); };
    const auto kernel = v == 8   ? im2col2d_kernel<T, 8>
                        : v == 4 ? im2col2d_kernel<T, 4>
                                 : im2col2d_kernel<T, 1>;
    launch_kernel(kernel, grid_for(n / v), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<T*>(cols), i(n / v), i(row_begin), i(g.in[0]), i(g.in[1]), i(g.cin),
                  i(g.out[0]), i(g.out[1]), i(g.k[0]), i(g.k[1]), i(g.stride[0]), i(g.stride[1]),
                  i(g.dil[0]), i(g.dil[1]), i(g.pad[0]), i(g.pad[1]));
    check_launch("im2col2d_kernel");
  });
}

}  // namespace krt::cuda
