#include <algorithm>

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

// V consecutive elements at p as f32; one 16-byte load when they fill 16 bytes (p aligned).
template <class T, int V>
__device__ __forceinline__ void load_f32(const T* p, float (&out)[V]) {
  if constexpr (V * sizeof(T) == 16) {
    const uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int v = 0; v < V; ++v) out[v] = to_f32(e[v]);
  } else {
#pragma unroll
    for (int v = 0; v < V; ++v) out[v] = to_f32(p[v]);
  }
}

// 8 lanes of 16 bytes: each k row of a block is one 128-byte line; narrow blocks give a big N
// enough blocks to keep every SM loading.
constexpr int kGemvLanes = 8;    // threadIdx.x: groups of V columns
constexpr int kGemvSlices = 32;  // threadIdx.y: slices of K, summed through shared memory

// Block (8, 32) covers 8*V columns and R rows; each thread sums every 32nd k of its V columns
// for R rows, then the block adds the 32 slices and applies bias and activation. With
// gridDim.z = S > 1 (too few column blocks to fill the GPU) block z sums only the z-th part of
// K into `partial` (S, rows, N); the last of the S blocks of a tile to finish (a ticket in
// `counters`, reset to 0 by it for the next run or replay) adds the parts and finishes.
template <class T, int V, int R>
__global__ void __launch_bounds__(kGemvLanes* kGemvSlices)
    gemv_kernel(const T* __restrict__ x, const T* __restrict__ w, const float* __restrict__ bias,
                T* __restrict__ y, int64_t rows, int64_t K, int64_t N, ActParams act,
                float* __restrict__ partial, unsigned* __restrict__ counters) {
  allow_next_kernel();
  __shared__ float sums[kGemvSlices][kGemvLanes * V * R];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col0 = (int64_t{blockIdx.x} * kGemvLanes + tx) * V;
  const int64_t row0 = int64_t{blockIdx.y} * R;
  const int splits = static_cast<int>(gridDim.z);
  const int64_t k_per = (K + splits - 1) / splits;
  const int64_t k_begin = int64_t{blockIdx.z} * k_per;
  const int64_t k_end = k_begin + k_per < K ? k_begin + k_per : K;
  // The weights are no kernel's output: start pulling this block's rows into L2 while the
  // kernels before it finish (one prefetch per 128-byte row segment of the block).
  if (tx == 0 && col0 < N)
    for (int64_t k = k_begin + ty; k < k_end; k += kGemvSlices)
      asm volatile("prefetch.global.L2 [%0];" ::"l"(w + col0 + k * N));
  wait_for_previous_kernel();
  float acc[R][V];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int v = 0; v < V; ++v) acc[r][v] = 0.f;
  if (col0 < N) {
    const T* wp = w + col0;
#pragma unroll 8  // eight weight loads in flight per thread: the GEMV streams from memory
    for (int64_t k = k_begin + ty; k < k_end; k += kGemvSlices) {
      float wv[V];
      load_f32<T, V>(wp + k * N, wv);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float xv = row0 + r < rows ? to_f32(x[(row0 + r) * K + k]) : 0.f;
#pragma unroll
        for (int v = 0; v < V; ++v) acc[r][v] = fmaf(xv, wv[v], acc[r][v]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int v = 0; v < V; ++v) sums[ty][(tx * R + r) * V + v] = acc[r][v];
  __syncthreads();
  auto finish = [&](int64_t row, int64_t col, float s) {
    if (bias) s += bias[col];
    y[row * N + col] = from_f32<T>(apply_activation(act, s));
  };
  for (int j = ty * kGemvLanes + tx; j < kGemvLanes * V * R; j += kGemvLanes * kGemvSlices) {
    float s = 0.f;
#pragma unroll
    for (int q = 0; q < kGemvSlices; ++q) s += sums[q][j];
    const int lane = j / (R * V), r = (j / V) % R, v = j % V;
    const int64_t col = (int64_t{blockIdx.x} * kGemvLanes + lane) * V + v;
    const int64_t row = row0 + r;
    if (col < N && row < rows) {
      if (splits == 1)
        finish(row, col, s);
      else
        partial[(int64_t{blockIdx.z} * rows + row) * N + col] = s;
    }
  }
  if (splits == 1) return;
  unsigned* ticket = counters + blockIdx.y * gridDim.x + blockIdx.x;
  if (!last_block_of_tile(ticket, splits)) return;
  for (int j = ty * kGemvLanes + tx; j < kGemvLanes * V * R; j += kGemvLanes * kGemvSlices) {
    const int lane = j / (R * V), r = (j / V) % R, v = j % V;
    const int64_t col = (int64_t{blockIdx.x} * kGemvLanes + lane) * V + v;
    const int64_t row = row0 + r;
    if (col >= N || row >= rows) continue;
    float s = 0.f;
    for (int z = 0; z < splits; ++z) s += __ldcg(partial + (int64_t{z} * rows + row) * N + col);
    finish(row, col, s);
  }
  if (tx == 0 && ty == 0) *ticket = 0u;
}

template <class T, int V>
void gemv_rows(const T* x, const T* w, const float* bias, T* y, int64_t rows, int64_t K, int64_t N,
               ActParams act, const GemvScratch& scratch, cudaStream_t stream) {
  const dim3 block(kGemvLanes, kGemvSlices);
  const unsigned blocks_x = static_cast<unsigned>((N + kGemvLanes * V - 1) / (kGemvLanes * V));
  const int r_per_block = rows == 1 ? 1 : rows == 2 ? 2 : 4;
  const unsigned blocks_y = static_cast<unsigned>((rows + r_per_block - 1) / r_per_block);
  // Split K when the tiles alone would leave SMs idle: about two blocks per SM of an H100, each
  // part at least 64 deep, and only as far as the scratch holds the parts and tickets. A tile of
  // under 64 KB of weights is not split: its loads take less than the split's second pass (a
  // fence, a ticket and a read of the parts, one latency after another).
  const int64_t tiles = int64_t{blocks_x} * blocks_y;
  const int64_t tile_bytes = K * kGemvLanes * V * static_cast<int64_t>(sizeof(T));
  const int64_t splits = tile_bytes >= (64 << 10) ? split_k_parts(scratch, tiles, rows, K, N) : 1;
  const dim3 grid(blocks_x, blocks_y, static_cast<unsigned>(splits));
  if (r_per_block == 1)
    launch_kernel(gemv_kernel<T, V, 1>, grid, block, 0, stream, x, w, bias, y, rows, K, N, act,
                  scratch.partial, scratch.counters);
  else if (r_per_block == 2)
    launch_kernel(gemv_kernel<T, V, 2>, grid, block, 0, stream, x, w, bias, y, rows, K, N, act,
                  scratch.partial, scratch.counters);
  else
    launch_kernel(gemv_kernel<T, V, 4>, grid, block, 0, stream, x, w, bias, y, rows, K, N, act,
                  scratch.partial, scratch.counters);
  check_launch("gemv_kernel");
}

constexpr int kTile = 16;

// A plain shared-memory tiled GEMM, one output per thread (where cuBLASLt has no algorithm).
template <class T>
__global__ void gemm_kernel(const T* __restrict__ x, const T* __restrict__ w,
                            const float* __restrict__ bias, T* __restrict__ y, int64_t row_begin,
                            int64_t rows, int64_t K, int64_t N, ActParams act) {
  wait_for_producers();
  __shared__ float xs[kTile][kTile + 1];
  __shared__ float ws[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = row_begin + int64_t{blockIdx.y} * kTile + ty;
  const int64_t col = int64_t{blockIdx.x} * kTile + tx;
  float acc = 0.f;
  for (int64_t k0 = 0; k0 < K; k0 += kTile) {
    xs[ty][tx] = row < rows && k0 + tx < K ? to_f32(x[row * K + k0 + tx]) : 0.f;
    ws[ty][tx] = k0 + ty < K && col < N ? to_f32(w[(k0 + ty) * N + col]) : 0.f;
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) acc = fmaf(xs[ty][kk], ws[kk][tx], acc);
    __syncthreads();
  }
  if (row < rows && col < N) {
    if (bias) acc += bias[col];
    y[row * N + col] = from_f32<T>(apply_activation(act, acc));
  }
}

template <class T>
__global__ void bias_act_kernel(T* y, const float* __restrict__ bias, int64_t n, int64_t N,
                                ActParams act) {
  wait_for_producers();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    float v = to_f32(y[i]);
    if (bias) v += bias[i % N];
    y[i] = from_f32<T>(apply_activation(act, v));
  }
}

template <class T>
__global__ void einsum_kernel(EinsumOperands ops, const float* __restrict__ bias, T* __restrict__ y,
                              int64_t n, EinsumGeom g, ActParams act) {
  wait_for_producers();
  int64_t sum_count = 1;
  for (int k = 0; k < g.sum_rank; ++k) sum_count *= g.sum_shape[k];
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < n;
       o += int64_t{gridDim.x} * blockDim.x) {
    int64_t base[kEinsumMaxOperands] = {};
    int64_t bias_offset = 0;
    int64_t rest = o;
    for (int k = g.out_rank - 1; k >= 0; --k) {
      const int64_t c = rest % g.out_shape[k];
      rest /= g.out_shape[k];
      for (int i = 0; i < g.operands; ++i) base[i] += c * g.out_stride[i][k];
      bias_offset += c * g.bias_stride[k];
    }
    float acc = 0.f;
    for (int64_t s = 0; s < sum_count; ++s) {
      int64_t off[kEinsumMaxOperands];
      for (int i = 0; i < g.operands; ++i) off[i] = base[i];
      int64_t r = s;
      for (int k = g.sum_rank - 1; k >= 0; --k) {
        const int64_t c = r % g.sum_shape[k];
        r /= g.sum_shape[k];
        for (int i = 0; i < g.operands; ++i) off[i] += c * g.sum_stride[i][k];
      }
      float prod = 1.f;
      for (int i = 0; i < g.operands; ++i)
        prod *= to_f32(static_cast<const T*>(ops.data[i])[off[i]]);
      acc += prod;
    }
    float v = acc * g.scale;
    if (bias) v += bias[bias_offset];
    y[o] = from_f32<T>(apply_activation(act, v));
  }
}

void unsupported(DType dtype, const char* what) {
  fail(ErrorCode::internal, what, ": dtype ", dtype_name(dtype), " is not supported on CUDA");
}

}  // namespace

int64_t split_k_parts(const GemvScratch& scratch, int64_t tiles, int64_t rows, int64_t K,
                      int64_t N) {
  if (!scratch.partial || tiles >= kSplitBlocks || tiles > scratch.counter_count) return 1;
  const int64_t splits = std::min((kSplitBlocks + tiles - 1) / tiles, K / kSplitMinDepth);
  const int64_t fit = static_cast<int64_t>(scratch.partial_bytes / sizeof(float)) / (rows * N);
  return std::max<int64_t>(1, std::min(splits, fit));
}

void launch_gemv_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows,
                          int64_t K, int64_t N, ActParams act, DType dtype,
                          const GemvScratch& scratch, cudaStream_t stream) {
  if (rows <= 0 || N <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int V = static_cast<int>(16 / sizeof(T));
    const auto* xp = static_cast<const T*>(x);
    const auto* wp = static_cast<const T*>(w);
    auto* yp = static_cast<T*>(y);
    // 16-byte loads need every row of w to start 16-byte aligned (w itself is: cudaMalloc).
    const bool vector = N % V == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0;
    for (int64_t r0 = 0; r0 < rows; r0 += 4 * 65535) {  // grid.y limit
      const int64_t r = rows - r0 < 4 * 65535 ? rows - r0 : 4 * 65535;
      if (vector)
        gemv_rows<T, V>(xp + r0 * K, wp, bias, yp + r0 * N, r, K, N, act, scratch, stream);
      else
        gemv_rows<T, 1>(xp + r0 * K, wp, bias, yp + r0 * N, r, K, N, act, scratch, stream);
    }
  });
  if (!ok) unsupported(dtype, "gemv");
}

void launch_gemm_bias_act(const void* x, const void* w, const float* bias, void* y, int64_t rows,
                          int64_t K, int64_t N, ActParams act, DType dtype, cudaStream_t stream) {
  if (rows <= 0 || N <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const dim3 block(kTile, kTile);
    const unsigned blocks_x = static_cast<unsigned>((N + kTile - 1) / kTile);
    constexpr int64_t kRowsPerLaunch = int64_t{65535} * kTile;
    for (int64_t r0 = 0; r0 < rows; r0 += kRowsPerLaunch) {
      const int64_t r = rows - r0 < kRowsPerLaunch ? rows - r0 : kRowsPerLaunch;
      const unsigned blocks_y = static_cast<unsigned>((r + kTile - 1) / kTile);
      launch_kernel(gemm_kernel<T>, dim3(blocks_x, blocks_y), block, 0, stream,
                    static_cast<const T*>(x), static_cast<const T*>(w), bias, static_cast<T*>(y),
                    r0, rows, K, N, act);
      check_launch("gemm_kernel");
    }
  });
  if (!ok) unsupported(dtype, "gemm");
}

void launch_bias_act(void* y, const float* bias, int64_t rows, int64_t N, ActParams act,
                     DType dtype, cudaStream_t stream) {
  const int64_t n = rows * N;
  if (n <= 0 || (!bias && act.kind == ActivationKind::linear)) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(bias_act_kernel<T>, grid_for(n), 256, 0, stream, static_cast<T*>(y), bias, n, N,
                  act);
    check_launch("bias_act_kernel");
  });
  if (!ok) unsupported(dtype, "bias_act");
}

void launch_einsum(const EinsumOperands& operands, const float* bias, void* y, int64_t out_elements,
                   const EinsumGeom& g, ActParams act, DType dtype, cudaStream_t stream) {
  if (out_elements <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(einsum_kernel<T>, grid_for(out_elements), 256, 0, stream, operands, bias,
                  static_cast<T*>(y), out_elements, g, act);
    check_launch("einsum_kernel");
  });
  if (!ok) unsupported(dtype, "einsum");
}

}  // namespace krt::cuda
