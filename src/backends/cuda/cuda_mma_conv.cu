// A forward 2-D convolution whose window holds at most 32 values (an image model's stem: 3x3
// taps of 3 channels) in f16/bf16 on tensor cores. Each block gathers the windows of 64 output
// positions into shared memory as a 64 x 32 matrix (zeros past the window and in the padding)
// and multiplies it by 32 output channels of the (window, cout) kernel with wmma, f32
// accumulation, bias and activation before the one store. The direct kernel it replaces loads
// every window value once per 8 channels and every weight once per position: on a MobileNet's
// stem at batch 256 those loads, not the arithmetic or the bytes, set its time.
#include <mma.h>

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_conv_kernels.h"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "backends/cuda/cuda_types.cuh"

namespace krt::cuda {

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kRows = 64;     // output positions per block (4 warps of 16)
constexpr int kCols = 32;     // output channels per block
constexpr int kWindow = 32;   // window values, padded with zeros (one K of the product)
constexpr int kThreads = 128;
constexpr int kPad = 8;       // halves of padding per shared row (bank spread, 32-byte frames)
static_assert(kWindow >= kSmallConvWindow, "launch_small_conv2d hands over windows this large");

template <class T>
__global__ void __launch_bounds__(kThreads)
    conv2d_window_mma_kernel(const T* __restrict__ x, const T* __restrict__ w,
                             const float* __restrict__ bias, T* __restrict__ y, int positions,
                             int H, int W, int Cin, int Cout, int OH, int OW, int KW, int SH,
                             int SW, int DH, int DW, int PH, int PW, int window, ActParams act) {
  __shared__ __align__(128) T a[kRows][kWindow + kPad];
  __shared__ __align__(128) T b[kWindow][kCols + kPad];
  __shared__ __align__(128) float c[kRows][kCols + 4];
  __shared__ int tap_dy[kWindow], tap_dx[kWindow], tap_ci[kWindow];
  __shared__ int row_base[kRows], row_ih[kRows], row_iw[kRows];

  allow_next_kernel();
  const int tid = threadIdx.x, warp = tid / 32;
  const int col0 = blockIdx.y * kCols;
  // The weights (no kernel writes them) and the geometry before waiting on the kernel before.
  for (int e = tid; e < kWindow * kCols; e += kThreads) {
    const int k = e / kCols, n = e % kCols;
    b[k][n] = k < window && col0 + n < Cout ? w[k * Cout + col0 + n] : from_f32<T>(0.f);
  }
  if (tid < kWindow) {  // window value k: tap (dy, dx), channel ci
    const int tap = tid / Cin;
    tap_ci[tid] = tid % Cin;
    tap_dy[tid] = tap / KW * DH;
    tap_dx[tid] = tap % KW * DW;
  } else if (tid < kWindow + kRows) {  // output position r: its image and window corner
    const int r = tid - kWindow, p = blockIdx.x * kRows + r;
    const int ow = p % OW, q = p / OW, oh = q % OH, n = q / OH;
    const bool inside = p < positions;
    row_base[r] = inside ? n * H * W * Cin : 0;
    row_ih[r] = inside ? oh * SH - PH : -(1 << 29);  // every tap of a missing row is outside
    row_iw[r] = ow * SW - PW;
  }
  __syncthreads();
  wait_for_previous_kernel();
  for (int e = tid; e < kRows * kWindow; e += kThreads) {
    const int r = e / kWindow, k = e % kWindow;
    T v = from_f32<T>(0.f);
    if (k < window) {
      const int ih = row_ih[r] + tap_dy[k], iw = row_iw[r] + tap_dx[k];
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[row_base[r] + (ih * W + iw) * Cin + tap_ci[k]];
    }
    a[r][k] = v;
  }
  __syncthreads();

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2];
  wmma::fill_fragment(acc[0], 0.f);
  wmma::fill_fragment(acc[1], 0.f);
#pragma unroll
  for (int kk = 0; kk < kWindow; kk += 16) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
    wmma::load_matrix_sync(fa, &a[16 * warp][kk], kWindow + kPad);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
      wmma::load_matrix_sync(fb, &b[kk][16 * j], kCols + kPad);
      wmma::mma_sync(acc[j], fa, fb, acc[j]);
    }
  }
#pragma unroll
  for (int j = 0; j < 2; ++j)
    wmma::store_matrix_sync(&c[16 * warp][16 * j], acc[j], kCols + 4, wmma::mem_row_major);
  __syncthreads();

  constexpr int V = 8;
  for (int e = tid; e < kRows * (kCols / V); e += kThreads) {
    const int r = e / (kCols / V), nc = e % (kCols / V) * V;
    const int p = blockIdx.x * kRows + r, col = col0 + nc;
    if (p >= positions || col >= Cout) continue;
    float o[V];
#pragma unroll
    for (int v = 0; v < V; ++v)
      o[v] = apply_activation(act, bias ? c[r][nc + v] + bias[col + v] : c[r][nc + v]);
    storev<V>(y + static_cast<size_t>(p) * Cout + col, o);
  }
}

}  // namespace

bool launch_small_conv2d_mma(const void* x, const void* w, const float* bias, void* y,
                             const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream) {
  // launch_small_conv2d has checked the rest: groups 1, the window, two axes, 32-bit sizes.
  if ((dtype != DType::f16 && dtype != DType::bf16) || g.cout % 8 != 0 ||
      reinterpret_cast<uintptr_t>(y) % 16 != 0)
    return false;
  const int64_t positions = g.batch * g.out_positions();
  const auto i = [](int64_t e) { return static_cast<int>(e); };
  const dim3 grid(static_cast<unsigned>((positions + kRows - 1) / kRows),
                  static_cast<unsigned>((g.cout + kCols - 1) / kCols));
  auto go = [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(conv2d_window_mma_kernel<T>, grid, dim3(kThreads), 0, stream,
                  static_cast<const T*>(x), static_cast<const T*>(w), bias, static_cast<T*>(y),
                  i(positions), i(g.in[0]), i(g.in[1]), i(g.cin), i(g.cout), i(g.out[0]),
                  i(g.out[1]), i(g.k[1]), i(g.stride[0]), i(g.stride[1]), i(g.dil[0]),
                  i(g.dil[1]), i(g.pad[0]), i(g.pad[1]), i(g.taps() * g.cin), act);
  };
  dtype == DType::f16 ? go(__half{}) : go(__nv_bfloat16{});
  check_launch("conv2d_window_mma_kernel");
  return true;
}

}  // namespace krt::cuda
