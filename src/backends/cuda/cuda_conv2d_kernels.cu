// Fast paths of the convolution family for the common 2-D case (one and two spatial axes) with
// 32-bit sizes: the general kernels of cuda_conv_kernels.cu split every flattened index with
// 64-bit divisions, which cost more than the copy itself on large batches.
#include <algorithm>

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_conv_kernels.h"
#include "backends/cuda/cuda_conv_vec.cuh"
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
// would run on a short, unaligned K. Each thread computes CT output channels of one position:
// it reads its window once into registers (zeros outside the image), then multiplies it by
// weights that every lane of the warp reads at the same address (one broadcast from L1), since
// positions vary fastest across threads. `window` holds each window value's (kh, kw, ci).
struct SmallWindow {
  int count;  // taps * cin <= kSmallConvWindow
  short kh[kSmallConvWindow], kw[kSmallConvWindow], ci[kSmallConvWindow];
};

template <class T, int CT>
__global__ void conv2d_small_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                    const float* __restrict__ bias, T* __restrict__ y,
                                    SmallWindow win, int positions, int tiles, int H, int W,
                                    int Cin, int Cout, int OH, int OW, int SH, int SW, int DH,
                                    int DW, int PH, int PW, ActParams act) {
  wait_for_producers();
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < positions * tiles;
       idx += gridDim.x * blockDim.x) {
    const int pos = idx % positions, c0 = (idx / positions) * CT;
    const int ow = pos % OW, oh = (pos / OW) % OH, n = pos / (OW * OH);
    const T* xn = x + static_cast<size_t>(n) * H * W * Cin;
    float xw[kSmallConvWindow];
#pragma unroll
    for (int t = 0; t < kSmallConvWindow; ++t) {
      xw[t] = 0.f;
      if (t < win.count) {
        const int ih = oh * SH + win.kh[t] * DH - PH, iw = ow * SW + win.kw[t] * DW - PW;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W)
          xw[t] = to_f32(xn[(ih * W + iw) * Cin + win.ci[t]]);
      }
    }
    float acc[CT] = {};
#pragma unroll
    for (int t = 0; t < kSmallConvWindow; ++t) {
      if (t >= win.count) break;
      const T* wt = w + t * Cout + c0;
#pragma unroll
      for (int c = 0; c < CT; c += 4) {
        float wv[4];
        loadv<4>(wt + c, wv);
#pragma unroll
        for (int v = 0; v < 4; ++v) acc[c + v] = fmaf(xw[t], wv[v], acc[c + v]);
      }
    }
    T* yp = y + static_cast<size_t>(pos) * Cout + c0;
#pragma unroll
    for (int c = 0; c < CT; c += 4) {
      float out[4];
#pragma unroll
      for (int v = 0; v < 4; ++v)
        out[v] = apply_activation(act, bias ? acc[c + v] + bias[c0 + c + v] : acc[c + v]);
      storev<4>(yp + c, out);
    }
  }
}

// A depthwise 3x3 convolution (depth multiplier 1, no dilation, stride S on both axes) on a
// large layer: each thread computes P consecutive output columns of V channels, so the input
// columns those outputs share are read once and the nine weight vectors once per P outputs.
// (One output per thread reads 18 vectors per output from L1, which then bounds the layer.)
template <class T, int V, int S, int P>
__global__ void __launch_bounds__(256)
    depthwise3x3_strip_kernel(const T* __restrict__ x, const T* __restrict__ w,
                              const float* __restrict__ bias, T* __restrict__ y, int total, int H,
                              int W, int C, int OH, int OW, int strips, int PH, int PW,
                              ActParams act) {
  wait_for_producers();
  const int CV = C / V;
  constexpr int kCols = (P - 1) * S + 3;  // input columns under P outputs
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += gridDim.x * blockDim.x) {
    const int c = (idx % CV) * V;
    int rest = idx / CV;
    const int ow0 = (rest % strips) * P;
    rest /= strips;
    const int oh = rest % OH, n = rest / OH;
    float wv[9][V];
#pragma unroll
    for (int t = 0; t < 9; ++t) loadv<V>(w + t * C + c, wv[t]);
    float acc[P][V] = {};
    const int iw0 = ow0 * S - PW;
#pragma unroll
    for (int kh = 0; kh < 3; ++kh) {
      const int ih = oh * S + kh - PH;
      if (ih < 0 || ih >= H) continue;
      const T* row = x + (static_cast<size_t>(n) * H + ih) * W * C + c;
#pragma unroll
      for (int j = 0; j < kCols; ++j) {
        const int iw = iw0 + j;
        float xv[V] = {};
        if (iw >= 0 && iw < W) loadv<V>(row + static_cast<size_t>(iw) * C, xv);
#pragma unroll
        for (int p = 0; p < P; ++p) {
          const int kw = j - p * S;  // compile-time after unrolling
          if (kw < 0 || kw > 2) continue;
#pragma unroll
          for (int v = 0; v < V; ++v) acc[p][v] = fmaf(xv[v], wv[kh * 3 + kw][v], acc[p][v]);
        }
      }
    }
    const int slot = ((n * OH + oh) * OW + ow0) * CV + c / V;
#pragma unroll
    for (int p = 0; p < P; ++p)
      if (ow0 + p < OW) store_bias_act<V>(y, slot + p * CV, acc[p], bias, c, act);
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

// Threads per block for a grid of `threads`: 128 where 256 would leave SMs of an H100 idle.
unsigned block_for(int64_t threads) { return threads < int64_t{264} * 256 ? 128 : 256; }

bool launch_small_conv2d(const void* x, const void* w, const float* bias, void* y,
                         const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  if (n <= 0 || g.groups != 1 || g.taps() * g.cin > kSmallConvWindow || !fits_2d(g, n))
    return false;
  SmallWindow win{};
  win.count = static_cast<int>(g.taps() * g.cin);
  for (int t = 0; t < win.count; ++t) {
    const int tap = t / static_cast<int>(g.cin);
    win.ci[t] = static_cast<short>(t % g.cin);
    win.kh[t] = static_cast<short>(tap / g.k[1]);
    win.kw[t] = static_cast<short>(tap % g.k[1]);
  }
  bool launched = false;
  dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    if (vector_width<T>(g.cout, {w, y}) == 0) return;  // channels in fours, aligned
    const int ct = g.cout % 32 == 0 ? 32 : g.cout % 16 == 0 ? 16 : g.cout % 8 == 0 ? 8 : 4;
    const auto kernel = ct == 32   ? conv2d_small_kernel<T, 32>
                        : ct == 16 ? conv2d_small_kernel<T, 16>
                        : ct == 8  ? conv2d_small_kernel<T, 8>
                                   : conv2d_small_kernel<T, 4>;
    const auto i = [](int64_t e) { return static_cast<int>(e); };
    const int64_t positions = g.batch * g.out_positions(), threads = positions * (g.cout / ct);
    const unsigned block = block_for(threads);
    launch_kernel(kernel, grid_for(threads, block), block, 0, stream, static_cast<const T*>(x),
                  static_cast<const T*>(w), bias, static_cast<T*>(y), win, i(positions),
                  i(g.cout / ct), i(g.in[0]), i(g.in[1]), i(g.cin), i(g.cout), i(g.out[0]),
                  i(g.out[1]), i(g.stride[0]), i(g.stride[1]), i(g.dil[0]), i(g.dil[1]),
                  i(g.pad[0]), i(g.pad[1]), act);
    check_launch("conv2d_small_kernel");
    launched = true;
  });
  return launched;
}

bool launch_depthwise3x3_strips(const void* x, const void* w, const float* bias, void* y,
                                const ConvGeom& g, ActParams act, DType dtype,
                                cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  const int s = static_cast<int>(g.stride[0]);
  if (n <= 0 || g.cout != g.cin || g.k[0] != 3 || g.k[1] != 3 || g.dil[0] != 1 || g.dil[1] != 1 ||
      g.stride[1] != s || (s != 1 && s != 2) || !fits_2d(g, n))
    return false;
  bool launched = false;
  dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const int v = vector_width<T>(g.cin, {x, w, y});
    if (v == 0) return;
    const int p = 16 / v;  // 2 outputs of 8 channels (16-bit types) or 4 of 4 (f32) a thread
    const int64_t strips = (g.out[1] + p - 1) / p,
                  threads = g.batch * g.out[0] * strips * (g.cin / v);
    if (threads < kStripMinThreads) return;  // small layers need every thread they can get
    const auto kernel = v == 8 ? (s == 1 ? depthwise3x3_strip_kernel<T, 8, 1, 2>
                                         : depthwise3x3_strip_kernel<T, 8, 2, 2>)
                               : (s == 1 ? depthwise3x3_strip_kernel<T, 4, 1, 4>
                                         : depthwise3x3_strip_kernel<T, 4, 2, 4>);
    const auto i = [](int64_t e) { return static_cast<int>(e); };
    launch_kernel(kernel, grid_for(threads), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<const T*>(w), bias, static_cast<T*>(y), i(threads), i(g.in[0]),
                  i(g.in[1]), i(g.cin), i(g.out[0]), i(g.out[1]), i(strips), i(g.pad[0]),
                  i(g.pad[1]), act);
    check_launch("depthwise3x3_strip_kernel");
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
