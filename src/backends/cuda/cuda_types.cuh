// Device-side helpers shared by the kernels (.cu files only): the storage dtypes as C++ types,
// loads and stores that convert to and from f32 (all math is f32), and a dispatch from a
// krt::DType to a template instantiation.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <initializer_list>

#include "backends/cuda/cuda_launch.cuh"
#include "kerasrt/tensor.h"

namespace krt::cuda {

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// V consecutive elements of T, loaded and stored at once (V * sizeof(T) bytes: 16 at most).
template <class T, int V>
struct alignas(V * sizeof(T)) Pack {
  T e[V];
};

// Whether p is aligned for Pack<T, 4> accesses.
template <class T>
bool aligned_for_pack(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % (4 * sizeof(T)) == 0;
}

template <int V, class T>
__device__ __forceinline__ void loadv(const T* p, float (&out)[V]) {
  const Pack<T, V> raw = *reinterpret_cast<const Pack<T, V>*>(p);
#pragma unroll
  for (int v = 0; v < V; ++v) out[v] = to_f32(raw.e[v]);
}

template <int V, class T>
__device__ __forceinline__ void storev(T* p, const float (&in)[V]) {
  Pack<T, V> raw;
#pragma unroll
  for (int v = 0; v < V; ++v) raw.e[v] = from_f32<T>(in[v]);
  *reinterpret_cast<Pack<T, V>*>(p) = raw;
}

// Elements per vector access for channel-vectorized kernels: 8 for 16-bit types (16 bytes),
// else 4, where `channels` and the pointers allow; 0 where even 4 do not.
template <class T>
int vector_width(int64_t channels, std::initializer_list<const void*> pointers) {
  for (int v : {int(16 / sizeof(T)), 4}) {
    bool ok = channels % v == 0;
    for (const void* p : pointers) ok = ok && reinterpret_cast<uintptr_t>(p) % (v * sizeof(T)) == 0;
    if (ok) return v;
  }
  return 0;
}

// Calls body(T{}) with T the C++ type of `dtype` (f32, f16 or bf16), so a generic lambda
// `[&](auto tag) { using T = decltype(tag); ... }` is instantiated per type; returns false for
// other dtypes.
template <class Body>
bool dispatch_float(DType dtype, Body&& body) {
  switch (dtype) {
    case DType::f32:
      body(float{});
      return true;
    case DType::f16:
      body(__half{});
      return true;
    case DType::bf16:
      body(__nv_bfloat16{});
      return true;
    default:
      return false;
  }
}

// K split over the blocks of an output tile: whether this block, its parts written, is the last
// of the tile's `splits` blocks to finish, counted on `ticket`. The last one then reads every
// part (with __ldcg) and resets the ticket to 0 for the next launch. Every thread calls it.
__device__ __forceinline__ bool last_block_of_tile(unsigned* ticket, int splits) {
  __shared__ bool last;
  __threadfence();  // this block's parts are visible before its ticket is
  __syncthreads();
  if (threadIdx.x == 0 && threadIdx.y == 0)
    last = atomicAdd(ticket, 1u) == static_cast<unsigned>(splits - 1);
  __syncthreads();
  if (last) __threadfence();
  return last;
}

// Grid size for `n` elements in blocks of `block` threads, capped so a grid-stride loop covers
// the rest (the cap keeps launches cheap for huge tensors).
inline unsigned grid_for(int64_t n, int block = 256) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

}  // namespace krt::cuda
