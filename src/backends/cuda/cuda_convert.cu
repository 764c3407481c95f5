#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_convert.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

// dst[i] = src[i] converted; with V > 1 both are aligned for V-element accesses and the
// threads convert V elements at a time (the tail, n % V, one at a time).
template <class From, class To, int V>
__global__ void convert_kernel(const From* __restrict__ src, To* __restrict__ dst, int64_t n) {
  wait_for_producers();
  const int64_t start = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  const int64_t packs = V > 1 ? n / V : 0;
  for (int64_t p = start; p < packs; p += step) {
    float v[V];
    loadv<V>(src + p * V, v);
    storev<V>(dst + p * V, v);
  }
  for (int64_t i = packs * V + start; i < n; i += step) dst[i] = from_f32<To>(to_f32(src[i]));
}

}  // namespace

void convert_on_device(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
                       cudaStream_t stream) {
  if (n <= 0) return;
  if (src_dtype == dst_dtype) {
    check_cuda(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * dtype_size(src_dtype),
                               cudaMemcpyDeviceToDevice, stream),
               "cudaMemcpyAsync (device to device)");
    return;
  }
  bool done = false;
  dispatch_float(src_dtype, [&](auto from_tag) {
    using From = decltype(from_tag);
    dispatch_float(dst_dtype, [&](auto to_tag) {
      using To = decltype(to_tag);
      const bool vec = n >= 4 && aligned_for_pack<From>(src) && aligned_for_pack<To>(dst);
      if (vec)
        launch_kernel(convert_kernel<From, To, 4>, grid_for(n / 4), 256, 0, stream,
                      static_cast<const From*>(src), static_cast<To*>(dst), n);
      else
        launch_kernel(convert_kernel<From, To, 1>, grid_for(n), 256, 0, stream,
                      static_cast<const From*>(src), static_cast<To*>(dst), n);
      check_launch("convert_kernel");
      done = true;
    });
  });
  if (!done)
    fail(ErrorCode::internal, "CUDA conversion from ", dtype_name(src_dtype), " to ",
         dtype_name(dst_dtype), " is not supported");
}

}  // namespace krt::cuda
