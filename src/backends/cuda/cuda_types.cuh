// Device-side helpers shared by the kernels (.cu files only): the storage dtypes as C++ types,
// loads and stores that convert to and from f32 (all math is f32), and a dispatch from a
// krt::DType to a template instantiation.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

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

// 4 consecutive elements of T, loaded and stored at once (16 bytes for f32, 8 for f16/bf16).
template <class T>
struct Vec4;
template <>
struct Vec4<float> {
  using type = float4;
};
template <>
struct Vec4<__half> {
  using type = uint2;
};
template <>
struct Vec4<__nv_bfloat16> {
  using type = uint2;
};

template <class T>
__device__ __forceinline__ void load4(const T* p, float (&out)[4]) {
  const typename Vec4<T>::type raw = *reinterpret_cast<const typename Vec4<T>::type*>(p);
  const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int v = 0; v < 4; ++v) out[v] = to_f32(e[v]);
}

template <class T>
__device__ __forceinline__ void store4(T* p, const float (&in)[4]) {
  typename Vec4<T>::type raw;
  T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
  for (int v = 0; v < 4; ++v) e[v] = from_f32<T>(in[v]);
  *reinterpret_cast<typename Vec4<T>::type*>(p) = raw;
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

// Grid size for `n` elements in blocks of `block` threads, capped so a grid-stride loop covers
// the rest (the cap keeps launches cheap for huge tensors).
inline unsigned grid_for(int64_t n, int block = 256) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

}  // namespace krt::cuda
