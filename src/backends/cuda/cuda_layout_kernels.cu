#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_layout_elements.cuh"
#include "backends/cuda/cuda_layout_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;

#define KRT_GRID_STRIDE_LOOP(i, n)                                          \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)

// Calls body(In{}, Out{}) for the C++ types of two float dtypes.
template <class Body>
bool dispatch_float2(DType a, DType b, Body&& body) {
  bool done = false;
  dispatch_float(a, [&](auto a_tag) {
    dispatch_float(b, [&](auto b_tag) {
      body(a_tag, b_tag);
      done = true;
    });
  });
  return done;
}

[[noreturn]] void unsupported_dtype(const char* kernel, DType dtype) {
  fail(ErrorCode::internal, "CUDA ", kernel, ": unsupported dtype ", dtype_name(dtype));
}

template <class In, class Out>
__global__ void gather_kernel(GatherMap map, const In* x, Out* y, int64_t n) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, n) gather_element(map, x, y, i);
}

template <class In, class Out>
__global__ void concat_kernel(const In* x, Out* y, int64_t outer, int64_t block, int64_t out_block,
                              int64_t at) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, outer * block) concat_element(x, y, block, out_block, at, i);
}

template <class T>
__global__ void pool_kernel(PoolGeometry g, const T* x, T* y, int64_t n) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, n) pool_element(g, x, y, i);
}

template <class T>
__global__ void resize_kernel(ResizeGeometry g, const T* x, T* y, int64_t n) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, n) resize_element(g, x, y, i);
}

template <class Id, class T>
__global__ void embedding_kernel(const Id* ids, const T* table, int64_t rows, int64_t dim, T* y,
                                 int64_t n) {
  wait_for_producers();
  KRT_GRID_STRIDE_LOOP(i, n) embedding_element(ids, table, rows, dim, y, i);
}

}  // namespace

void launch_gather(const GatherMap& map, const void* x, DType x_dtype, void* y, DType y_dtype,
                   int64_t y_size, cudaStream_t stream) {
  if (y_size <= 0) return;
  const bool ok = dispatch_float2(x_dtype, y_dtype, [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    launch_kernel(gather_kernel<In, Out>, grid_for(y_size, kBlock), kBlock, 0, stream, map,
                  static_cast<const In*>(x), static_cast<Out*>(y), y_size);
    check_launch("gather_kernel");
  });
  if (!ok) unsupported_dtype("gather", x_dtype);
}

void launch_concat_part(const void* x, DType x_dtype, void* y, DType y_dtype, int64_t outer,
                        int64_t block, int64_t out_block, int64_t at, cudaStream_t stream) {
  const int64_t n = outer * block;
  if (n <= 0) return;
  const bool ok = dispatch_float2(x_dtype, y_dtype, [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    launch_kernel(concat_kernel<In, Out>, grid_for(n, kBlock), kBlock, 0, stream,
                  static_cast<const In*>(x), static_cast<Out*>(y), outer, block, out_block, at);
    check_launch("concat_kernel");
  });
  if (!ok) unsupported_dtype("concat", x_dtype);
}

void launch_pool(const PoolGeometry& g, const void* x, void* y, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out[0] * g.out[1] * g.out[2] * g.channels;
  if (n <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(pool_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream, g,
                  static_cast<const T*>(x), static_cast<T*>(y), n);
    check_launch("pool_kernel");
  });
  if (!ok) unsupported_dtype("pool", dtype);
}

void launch_resize(const ResizeGeometry& g, const void* x, void* y, DType dtype,
                   cudaStream_t stream) {
  const int64_t n = g.batch * g.out[0] * g.out[1] * g.out[2] * g.channels;
  if (n <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(resize_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream, g,
                  static_cast<const T*>(x), static_cast<T*>(y), n);
    check_launch("resize_kernel");
  });
  if (!ok) unsupported_dtype("resize", dtype);
}

void launch_embedding(const void* ids, DType ids_dtype, const void* table, int64_t rows,
                      int64_t dim, void* y, DType dtype, int64_t count, cudaStream_t stream) {
  const int64_t n = count * dim;
  if (n <= 0) return;
  const bool ok = dispatch_float2(ids_dtype, dtype, [&](auto id_tag, auto tag) {
    using Id = decltype(id_tag);
    using T = decltype(tag);
    launch_kernel(embedding_kernel<Id, T>, grid_for(n, kBlock), kBlock, 0, stream,
                  static_cast<const Id*>(ids), static_cast<const T*>(table), rows, dim,
                  static_cast<T*>(y), n);
    check_launch("embedding_kernel");
  });
  if (!ok) unsupported_dtype("embedding", dtype);
}

}  // namespace krt::cuda
