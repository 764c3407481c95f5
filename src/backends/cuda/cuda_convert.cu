#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_convert.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

template <class From, class To>
__global__ void convert_kernel(const From* src, To* dst, int64_t n) {
  wait_for_producers();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = from_f32<To>(to_f32(src[i]));
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
      launch_kernel(convert_kernel<From, To>, grid_for(n), 256, 0, stream,
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
