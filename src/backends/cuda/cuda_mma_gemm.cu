// y (rows, N) = act(x (rows, K) @ w (K, N) + bias) in f16/bf16 on tensor cores (wmma 16x16x16,
// f32 accumulation), row-major, with the bias and any activation applied before the one store.
// Unlike cuBLASLt's kernels it is launched with programmatic dependent launch, so on the small
// GEMMs of batch-1 convolution stacks its launch overlaps the kernel before it (cuda_gemm.cpp
// times it against cuBLASLt and keeps the faster).
#include <mma.h>

#include <algorithm>

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kBK = 32;                   // K per stage
constexpr int kBN = 64;                   // columns per block
constexpr int kStages = 3;                // cp.async pipeline depth
constexpr int kPad = 8;                   // halves of padding per shared row (bank spread, 16 B)
constexpr int kThreads = 128;             // 4 warps: 2 along rows x 2 along columns
constexpr int kChunk = 8;                 // halves per 16-byte copy

// 16 bytes from global to shared without registers; src_bytes 0 writes zeros (out of bounds).
__device__ __forceinline__ void copy16(void* smem, const void* gmem, int src_bytes) {
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem),
               "r"(src_bytes));
}
__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;"); }
template <int Pending>
__device__ __forceinline__ void wait_copies() {
  asm volatile("cp.async.wait_group %0;" ::"n"(Pending));
}

template <class T, int BM>
struct Stage {
  T a[BM][kBK + kPad];
  T b[kBK][kBN + kPad];
};

// Block tile BM x 64 (BM = 32 * WM), four warps of (16 * WM) x 32. With gridDim.z = S > 1 block
// z sums the z-th part of K into `partial` (S, rows, N) and the last block of a tile to finish
// (a ticket in `counters`, left at 0 for the next launch) adds the parts, as the GEMV does.
// Needs K % 8 == 0, N % 8 == 0 and 16-byte aligned x, w and y.
template <class T, int WM>
__global__ void __launch_bounds__(kThreads)
    mma_gemm_kernel(const T* __restrict__ x, const T* __restrict__ w,
                    const float* __restrict__ bias, T* __restrict__ y, int64_t rows, int K, int N,
                    int k_per_split, ActParams act, float* __restrict__ partial,
                    unsigned* __restrict__ counters) {
  constexpr int BM = 32 * WM;
  constexpr int kLdc = kBN + 4;
  constexpr size_t kPipeBytes = sizeof(Stage<T, BM>) * kStages;
  constexpr size_t kOutBytes = sizeof(float) * BM * kLdc;
  __shared__ __align__(128) unsigned char smem[kPipeBytes > kOutBytes ? kPipeBytes : kOutBytes];
  auto* stages = reinterpret_cast<Stage<T, BM>*>(smem);
  auto* out = reinterpret_cast<float*>(smem);  // reused once the pipeline is drained

  allow_next_kernel();
  const int tid = threadIdx.x, warp = tid / 32;
  const int64_t row0 = int64_t{blockIdx.x} * BM;
  const int col0 = blockIdx.y * kBN;
  const int k_begin = blockIdx.z * k_per_split;
  const int k_end = min(K, k_begin + k_per_split);
  const int steps = (k_end - k_begin + kBK - 1) / kBK;

  // One stage: the x tile (BM x 32) and the w tile (32 x 64) in 16-byte pieces.
  auto load_stage = [&](int step) {
    Stage<T, BM>& s = stages[step % kStages];
    const int k0 = k_begin + step * kBK;
    for (int c = tid; c < BM * (kBK / kChunk); c += kThreads) {
      const int r = c / (kBK / kChunk), kc = (c % (kBK / kChunk)) * kChunk;
      const bool in = row0 + r < rows && k0 + kc < k_end;
      copy16(&s.a[r][kc], in ? x + (row0 + r) * K + k0 + kc : x, in ? 16 : 0);
    }
    for (int c = tid; c < kBK * (kBN / kChunk); c += kThreads) {
      const int k = c / (kBN / kChunk), nc = (c % (kBN / kChunk)) * kChunk;
      const bool in = k0 + k < k_end && col0 + nc < N;
      copy16(&s.b[k][nc], in ? w + int64_t{k0 + k} * N + col0 + nc : w, in ? 16 : 0);
    }
  };

  wait_for_previous_kernel();
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[WM][2];
#pragma unroll
  for (int i = 0; i < WM; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);
  const int wr = (warp / 2) * 16 * WM, wc = (warp % 2) * 32;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < steps) load_stage(s);
    commit_copies();
  }
  for (int step = 0; step < steps; ++step) {
    wait_copies<kStages - 2>();
    __syncthreads();  // this stage landed for every thread; the one refilled below is free
    if (step + kStages - 1 < steps) load_stage(step + kStages - 1);
    commit_copies();
    const Stage<T, BM>& s = stages[step % kStages];
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a[WM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b[2];
#pragma unroll
      for (int i = 0; i < WM; ++i) wmma::load_matrix_sync(a[i], &s.a[wr + 16 * i][kk], kBK + kPad);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(b[j], &s.b[kk][wc + 16 * j], kBN + kPad);
#pragma unroll
      for (int i = 0; i < WM; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
  }
  wait_copies<0>();
  __syncthreads();  // every warp is done with the stages: `out` may overwrite them
#pragma unroll
  for (int i = 0; i < WM; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&out[(wr + 16 * i) * kLdc + wc + 16 * j], acc[i][j], kLdc,
                              wmma::mem_row_major);
  __syncthreads();

  const int splits = static_cast<int>(gridDim.z);
  auto finish = [&](int64_t row, int col, const float (&v)[kChunk]) {
    float o[kChunk];
#pragma unroll
    for (int e = 0; e < kChunk; ++e)
      o[e] = apply_activation(act, bias ? v[e] + bias[col + e] : v[e]);
    storev<kChunk>(y + row * N + col, o);
  };
  for (int c = tid; c < BM * (kBN / kChunk); c += kThreads) {
    const int r = c / (kBN / kChunk), nc = (c % (kBN / kChunk)) * kChunk;
    const int64_t row = row0 + r;
    const int col = col0 + nc;
    if (row >= rows || col >= N) continue;
    float v[kChunk];
#pragma unroll
    for (int e = 0; e < kChunk; ++e) v[e] = out[r * kLdc + nc + e];
    if (splits == 1) {
      finish(row, col, v);
    } else {
      float* p = partial + (int64_t{blockIdx.z} * rows + row) * N + col;
#pragma unroll
      for (int e = 0; e < kChunk; ++e) p[e] = v[e];
    }
  }
  if (splits == 1) return;
  unsigned* ticket = counters + blockIdx.y * gridDim.x + blockIdx.x;
  if (!last_block_of_tile(ticket, splits)) return;
  for (int c = tid; c < BM * (kBN / kChunk); c += kThreads) {
    const int r = c / (kBN / kChunk), nc = (c % (kBN / kChunk)) * kChunk;
    const int64_t row = row0 + r;
    const int col = col0 + nc;
    if (row >= rows || col >= N) continue;
    float v[kChunk] = {};
    for (int z = 0; z < splits; ++z) {
      const float* p = partial + (int64_t{z} * rows + row) * N + col;
#pragma unroll
      for (int e = 0; e < kChunk; ++e) v[e] += __ldcg(p + e);
    }
    finish(row, col, v);
  }
  if (tid == 0) *ticket = 0u;
}

template <class T, int WM>
void launch_tiles(const T* x, const T* w, const float* bias, T* y, int64_t rows, int64_t K,
                  int64_t N, ActParams act, const GemvScratch& scratch, cudaStream_t stream) {
  constexpr int BM = 32 * WM;
  const int64_t row_tiles = (rows + BM - 1) / BM, col_tiles = (N + kBN - 1) / kBN;
  const int64_t tiles = row_tiles * col_tiles;
  int64_t splits = split_k_parts(scratch, tiles, rows, K, N);
  // Parts a multiple of kBK deep; the split count shrinks to the parts that hold any K.
  const int64_t steps = (K + kBK - 1) / kBK;
  const int64_t k_per = (steps + splits - 1) / splits * kBK;
  splits = (K + k_per - 1) / k_per;
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles),
                  static_cast<unsigned>(splits));
  launch_kernel(mma_gemm_kernel<T, WM>, grid, dim3(kThreads), 0, stream, x, w, bias, y, rows,
                static_cast<int>(K), static_cast<int>(N), static_cast<int>(k_per), act,
                scratch.partial, scratch.counters);
  check_launch("mma_gemm_kernel");
}

}  // namespace

bool mma_gemm_supported(const void* x, const void* w, const void* y, int64_t K, int64_t N,
                        DType dtype) {
  auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return (dtype == DType::f16 || dtype == DType::bf16) && K % kChunk == 0 && N % kChunk == 0 &&
         K < (int64_t{1} << 30) && N < (int64_t{1} << 30) && aligned(x) && aligned(w) &&
         aligned(y);
}

void launch_mma_gemm_bias_act(const void* x, const void* w, const float* bias, void* y,
                              int64_t rows, int64_t K, int64_t N, ActParams act, DType dtype,
                              const GemvScratch& scratch, cudaStream_t stream) {
  if (rows <= 0 || N <= 0) return;
  if (!mma_gemm_supported(x, w, y, K, N, dtype))
    fail(ErrorCode::internal, "tensor-core GEMM called for an unsupported shape or dtype");
  // 64-row tiles where they alone fill the GPU, 32-row tiles (twice the blocks) otherwise.
  const bool big = ((rows + 63) / 64) * ((N + kBN - 1) / kBN) >= kSplitBlocks / 2;
  auto go = [&](auto tag) {
    using T = decltype(tag);
    const auto* xp = static_cast<const T*>(x);
    const auto* wp = static_cast<const T*>(w);
    auto* yp = static_cast<T*>(y);
    big ? launch_tiles<T, 2>(xp, wp, bias, yp, rows, K, N, act, scratch, stream)
        : launch_tiles<T, 1>(xp, wp, bias, yp, rows, K, N, act, scratch, stream);
  };
  dtype == DType::f16 ? go(__half{}) : go(__nv_bfloat16{});
}

}  // namespace krt::cuda
