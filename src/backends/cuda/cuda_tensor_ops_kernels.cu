// The general tensor ops on the GPU, with the reference's semantics
// (backends/reference/tensor_ops.cpp): every function is computed in f32.
#include <cmath>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_tensor_ops_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;

__device__ __forceinline__ float truth(bool b) { return b ? 1.f : 0.f; }

__device__ float unary_value(UnaryKind kind, float a, float b, float x) {
  switch (kind) {
    case UnaryKind::abs:
      return fabsf(x);
    case UnaryKind::negative:
      return -x;
    case UnaryKind::sqrt:
      return sqrtf(x);
    case UnaryKind::rsqrt:
      return 1.f / sqrtf(x);
    case UnaryKind::square:
      return x * x;
    case UnaryKind::exp:
      return expf(x);
    case UnaryKind::expm1:
      return expm1f(x);
    case UnaryKind::log:
      return logf(x);
    case UnaryKind::log1p:
      return log1pf(x);
    case UnaryKind::log2:
      return log2f(x);
    case UnaryKind::log10:
      return log10f(x);
    case UnaryKind::floor:
      return floorf(x);
    case UnaryKind::ceil:
      return ceilf(x);
    case UnaryKind::round:
      return rintf(x);  // halves to even, as numpy
    case UnaryKind::cast_int:
      return truncf(x);
    case UnaryKind::sign:
      return x > 0.f ? 1.f : x < 0.f ? -1.f : x;  // keeps 0 and NaN
    case UnaryKind::reciprocal:
      return 1.f / x;
    case UnaryKind::sin:
      return sinf(x);
    case UnaryKind::cos:
      return cosf(x);
    case UnaryKind::tan:
      return tanf(x);
    case UnaryKind::asin:
      return asinf(x);
    case UnaryKind::acos:
      return acosf(x);
    case UnaryKind::atan:
      return atanf(x);
    case UnaryKind::sinh:
      return sinhf(x);
    case UnaryKind::cosh:
      return coshf(x);
    case UnaryKind::asinh:
      return asinhf(x);
    case UnaryKind::acosh:
      return acoshf(x);
    case UnaryKind::atanh:
      return atanhf(x);
    case UnaryKind::erf:
      return erff(x);
    case UnaryKind::logical_not:
      return truth(x == 0.f);
    case UnaryKind::isnan:
      return truth(isnan(x));
    case UnaryKind::isinf:
      return truth(isinf(x));
    case UnaryKind::isfinite:
      return truth(isfinite(x));
    case UnaryKind::clip: {  // numpy: max first, then min; NaN stays NaN (as std::max/min)
      const float lo = x < a ? a : x;
      return b < lo ? b : lo;
    }
  }
  return x;
}

__device__ float binary_value(BinaryKind kind, float a, float b) {
  switch (kind) {
    case BinaryKind::add:
      return a + b;
    case BinaryKind::subtract:
      return a - b;
    case BinaryKind::multiply:
      return a * b;
    case BinaryKind::divide:
      return a / b;
    case BinaryKind::floor_divide:
      return floorf(a / b);
    case BinaryKind::mod: {  // Python's %: the result has the divisor's sign
      const float r = fmodf(a, b);
      return r != 0.f && ((r < 0.f) != (b < 0.f)) ? r + b : r;
    }
    case BinaryKind::power:
      return powf(a, b);
    case BinaryKind::maximum:
      return isnan(a) || isnan(b) ? NAN : fmaxf(a, b);
    case BinaryKind::minimum:
      return isnan(a) || isnan(b) ? NAN : fminf(a, b);
    case BinaryKind::squared_difference:
      return (a - b) * (a - b);
    case BinaryKind::equal:
      return truth(a == b);
    case BinaryKind::not_equal:
      return truth(a != b);
    case BinaryKind::less:
      return truth(a < b);
    case BinaryKind::less_equal:
      return truth(a <= b);
    case BinaryKind::greater:
      return truth(a > b);
    case BinaryKind::greater_equal:
      return truth(a >= b);
    case BinaryKind::logical_and:
      return truth(a != 0.f && b != 0.f);
    case BinaryKind::logical_or:
      return truth(a != 0.f || b != 0.f);
    case BinaryKind::logical_xor:
      return truth((a != 0.f) != (b != 0.f));
    case BinaryKind::atan2:
      return atan2f(a, b);
  }
  return a;
}

template <class T>
__device__ __forceinline__ float load_operand(const BroadcastOperand& op, int64_t off) {
  return op.f32 ? static_cast<const float*>(op.data)[off]
                : to_f32(static_cast<const T*>(op.data)[off]);
}

// The offset of each operand for output element i.
__device__ __forceinline__ void broadcast_offsets(const BroadcastMap& map, int64_t i,
                                                  int64_t (&off)[kMaxBroadcastOperands]) {
  for (int k = 0; k < kMaxBroadcastOperands; ++k) off[k] = 0;
  for (int a = map.rank - 1; a >= 0; --a) {
    const int64_t c = i % map.out_dim[a];
    i /= map.out_dim[a];
    for (int k = 0; k < map.operands; ++k) off[k] += c * map.op[k].stride[a];
  }
}

template <class T>
__global__ void unary_kernel(UnaryKind kind, float a, float b, const T* __restrict__ x,
                             T* __restrict__ y, int64_t n) {
  wait_for_producers();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    y[i] = from_f32<T>(unary_value(kind, a, b, to_f32(x[i])));
}

template <class T>
__global__ void binary_kernel(BinaryKind kind, BroadcastMap map, T* __restrict__ y, int64_t n) {
  wait_for_producers();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[kMaxBroadcastOperands];
    broadcast_offsets(map, i, off);
    y[i] = from_f32<T>(
        binary_value(kind, load_operand<T>(map.op[0], off[0]), load_operand<T>(map.op[1], off[1])));
  }
}

template <class T>
__global__ void where_kernel(BroadcastMap map, T* __restrict__ y, int64_t n) {
  wait_for_producers();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[kMaxBroadcastOperands];
    broadcast_offsets(map, i, off);
    y[i] =
        from_f32<T>(load_operand<T>(map.op[0], off[0]) != 0.f ? load_operand<T>(map.op[1], off[1])
                                                              : load_operand<T>(map.op[2], off[2]));
  }
}

template <class T>
__global__ void take_kernel(const T* __restrict__ x, const void* __restrict__ idx, bool idx_f32,
                            T* __restrict__ y, int64_t outer, int64_t dim, int64_t count,
                            int64_t inner) {
  wait_for_producers();
  const int64_t n = outer * count * inner;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t in = i % inner, k = (i / inner) % count, o = i / (inner * count);
    const float v =
        idx_f32 ? static_cast<const float*>(idx)[k] : to_f32(static_cast<const T*>(idx)[k]);
    const bool valid =
        v >= static_cast<float>(-dim) && v < static_cast<float>(dim) && v == floorf(v);
    int64_t j = valid ? static_cast<int64_t>(v) : 0;
    if (j < 0) j += dim;
    y[i] = valid ? x[(o * dim + j) * inner + in] : from_f32<T>(NAN);
  }
}

struct Dims {
  int64_t d[kMaxBroadcastRank];
};

template <class T>
__global__ void shape_of_kernel(Dims dims, int rank, T* y) {
  wait_for_producers();
  const int a = threadIdx.x;
  if (a < rank) y[a] = from_f32<T>(static_cast<float>(dims.d[a]));
}

void unsupported(const char* what, DType dtype) {
  fail(ErrorCode::internal, "CUDA ", what, ": unsupported dtype ", dtype_name(dtype));
}

}  // namespace

void launch_unary(const UnaryParams& p, const void* x, void* y, int64_t n, DType dtype,
                  cudaStream_t stream) {
  if (n <= 0) return;
  if (!dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        launch_kernel(unary_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream, p.kind, p.a, p.b,
                      static_cast<const T*>(x), static_cast<T*>(y), n);
        check_launch("unary_kernel");
      }))
    unsupported("unary", dtype);
}

void launch_binary(BinaryKind kind, const BroadcastMap& map, void* y, int64_t n, DType dtype,
                   cudaStream_t stream) {
  if (n <= 0) return;
  if (!dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        launch_kernel(binary_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream, kind, map,
                      static_cast<T*>(y), n);
        check_launch("binary_kernel");
      }))
    unsupported("binary", dtype);
}

void launch_where(const BroadcastMap& map, void* y, int64_t n, DType dtype, cudaStream_t stream) {
  if (n <= 0) return;
  if (!dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        launch_kernel(where_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream, map,
                      static_cast<T*>(y), n);
        check_launch("where_kernel");
      }))
    unsupported("where", dtype);
}

void launch_take(const void* x, const void* idx, bool idx_f32, void* y, int64_t outer, int64_t dim,
                 int64_t count, int64_t inner, DType dtype, cudaStream_t stream) {
  const int64_t n = outer * count * inner;
  if (n <= 0) return;
  if (!dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        launch_kernel(take_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream,
                      static_cast<const T*>(x), idx, idx_f32, static_cast<T*>(y), outer, dim, count,
                      inner);
        check_launch("take_kernel");
      }))
    unsupported("gather", dtype);
}

void launch_shape_of(const int64_t (&dims)[kMaxBroadcastRank], int rank, void* y, DType dtype,
                     cudaStream_t stream) {
  if (rank <= 0) return;
  Dims d{};
  for (int a = 0; a < rank; ++a) d.d[a] = dims[a];
  if (!dispatch_float(dtype, [&](auto tag) {
        using T = decltype(tag);
        launch_kernel(shape_of_kernel<T>, 1, kMaxBroadcastRank, 0, stream, d, rank,
                      static_cast<T*>(y));
        check_launch("shape_of_kernel");
      }))
    unsupported("shape_of", dtype);
}

}  // namespace krt::cuda
