// Pointwise kernels: one pass over dense tensors, grid-stride loops, 4 elements per thread
// through one vector load/store where every pointer is aligned for it. Math is f32.
#include <algorithm>
#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_pointwise_activation.cuh"
#include "backends/cuda/cuda_pointwise_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;

// Indices fit 32 bits (cheaper division) when the grid-stride loop cannot overflow them.
bool fits_u32(int64_t n) { return n < (int64_t{1} << 31); }

// y[i] = f(i, x[i]) for i < n. With kVec, x and y are aligned for Pack<T, 4> loads.
template <class T, class I, bool kVec, class F>
__global__ void map_kernel(const T* __restrict__ x, T* __restrict__ y, I n, F f) {
  wait_for_producers();
  const I step = static_cast<I>(gridDim.x) * blockDim.x;
  const I start = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x;
  I tail = 0;
  if (kVec) {
    const I packs = n / 4;
    const Pack<T, 4>* xv = reinterpret_cast<const Pack<T, 4>*>(x);
    Pack<T, 4>* yv = reinterpret_cast<Pack<T, 4>*>(y);
    for (I p = start; p < packs; p += step) {
      const Pack<T, 4> in = xv[p];
      Pack<T, 4> out;
#pragma unroll
      for (int k = 0; k < 4; ++k) out.e[k] = from_f32<T>(f(p * 4 + k, to_f32(in.e[k])));
      yv[p] = out;
    }
    tail = packs * 4;
  }
  for (I i = tail + start; i < n; i += step) y[i] = from_f32<T>(f(i, to_f32(x[i])));
}

// Launches map_kernel for `dtype`, vectorized where aligned; 32-bit indices when kWide32 and
// n allows (functors that divide indices are much cheaper so).
template <bool kWide32, class F>
void launch_map(const char* name, const void* x, void* y, int64_t n, DType dtype,
                cudaStream_t stream, const F& f) {
  if (n <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    const bool vec = aligned_for_pack<T>(x) && aligned_for_pack<T>(y) && n >= 4;
    const unsigned grid = grid_for(vec ? n / 4 : n, kBlock);
    if constexpr (kWide32) {
      if (fits_u32(n)) {
        const uint32_t n32 = static_cast<uint32_t>(n);
        if (vec)
          launch_kernel(map_kernel<T, uint32_t, true, F>, grid, kBlock, 0, stream, xp, yp, n32, f);
        else
          launch_kernel(map_kernel<T, uint32_t, false, F>, grid, kBlock, 0, stream, xp, yp, n32, f);
        check_launch(name);
        return;
      }
    }
    if (vec)
      launch_kernel(map_kernel<T, int64_t, true, F>, grid, kBlock, 0, stream, xp, yp, n, f);
    else
      launch_kernel(map_kernel<T, int64_t, false, F>, grid, kBlock, 0, stream, xp, yp, n, f);
    check_launch(name);
  });
  if (!done) fail(ErrorCode::internal, name, ": unsupported dtype ", dtype_name(dtype));
}

template <class I>
__device__ __forceinline__ I channel_of(const ChannelIndex& c, I i) {
  if (c.axes == 0) {
    const I q = c.inner == 1 ? i : i / static_cast<I>(c.inner);
    return c.channels == 1 ? I{0} : q % static_cast<I>(c.channels);
  }
  I ch = 0;
#pragma unroll
  for (int k = 0; k < kPointwiseMaxDims; ++k)
    if (k < c.axes)
      ch += (i / static_cast<I>(c.div[k])) % static_cast<I>(c.mod[k]) * static_cast<I>(c.mul[k]);
  return ch;
}

struct ActivationFn {
  ActivationArgs act;
  template <class I>
  __device__ float operator()(I, float x) const {
    return apply_activation_f32(act, x);
  }
};

struct ScaleShiftFn {
  const float* scale;
  const float* shift;
  int scale_step, shift_step;
  ChannelIndex channel;
  template <class I>
  __device__ float operator()(I i, float x) const {
    const I c = channel_of(channel, i);
    return x * scale[c * scale_step] + shift[c * shift_step];
  }
};

struct PreluFn {
  const float* alpha;
  ChannelIndex channel;
  template <class I>
  __device__ float operator()(I i, float x) const {
    return x > 0.f ? x : alpha[channel_of(channel, i)] * x;
  }
};

struct CompareFn {
  CompareOp op;
  float value;
  template <class I>
  __device__ float operator()(I, float a) const {
    bool r = false;
    switch (op) {
      case CompareOp::equal:
        r = a == value;
        break;
      case CompareOp::not_equal:
        r = a != value;
        break;
      case CompareOp::less:
        r = a < value;
        break;
      case CompareOp::less_equal:
        r = a <= value;
        break;
      case CompareOp::greater:
        r = a > value;
        break;
      case CompareOp::greater_equal:
        r = a >= value;
        break;
    }
    return r ? 1.f : 0.f;
  }
};

// One step of the left fold, with std::max/std::min's semantics.
__device__ __forceinline__ float merge(MergeOp op, float acc, float v) {
  switch (op) {
    case MergeOp::add:
      return acc + v;
    case MergeOp::subtract:
      return acc - v;
    case MergeOp::multiply:
      return acc * v;
    case MergeOp::maximum:
      return acc < v ? v : acc;
    case MergeOp::minimum:
      return v < acc ? v : acc;
  }
  return acc;
}

// Inputs may include y itself (the accumulator of an earlier launch), so no __restrict__.
template <class T, bool kVec>
__global__ void merge_flat_kernel(MergeArgs a, T* y, int64_t n) {
  wait_for_producers();
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t start = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t tail = 0;
  if (kVec) {
    const int64_t packs = n / 4;
    for (int64_t p = start; p < packs; p += step) {
      const Pack<T, 4> first = static_cast<const Pack<T, 4>*>(a.inputs[0])[p];
      float acc[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) acc[k] = to_f32(first.e[k]);
#pragma unroll
      for (int in = 1; in < kElementwiseMaxInputs; ++in) {
        if (in >= a.count) break;
        const Pack<T, 4> v = static_cast<const Pack<T, 4>*>(a.inputs[in])[p];
#pragma unroll
        for (int k = 0; k < 4; ++k) acc[k] = merge(a.op, acc[k], to_f32(v.e[k]));
      }
      Pack<T, 4> out;
#pragma unroll
      for (int k = 0; k < 4; ++k)
        out.e[k] = from_f32<T>(a.divisor > 0.f ? acc[k] / a.divisor : acc[k]);
      reinterpret_cast<Pack<T, 4>*>(y)[p] = out;
    }
    tail = packs * 4;
  }
  for (int64_t i = tail + start; i < n; i += step) {
    float acc = to_f32(static_cast<const T*>(a.inputs[0])[i]);
#pragma unroll
    for (int in = 1; in < kElementwiseMaxInputs; ++in) {
      if (in >= a.count) break;
      acc = merge(a.op, acc, to_f32(static_cast<const T*>(a.inputs[in])[i]));
    }
    y[i] = from_f32<T>(a.divisor > 0.f ? acc / a.divisor : acc);
  }
}

template <class T, class I>
__global__ void merge_broadcast_kernel(MergeArgs a, T* y, I n) {
  wait_for_producers();
  const I step = static_cast<I>(gridDim.x) * blockDim.x;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    I off[kElementwiseMaxInputs] = {};
    I rem = i;
#pragma unroll
    for (int d = kPointwiseMaxDims - 1; d >= 0; --d) {
      if (d >= a.rank) continue;
      const I size = static_cast<I>(a.shape[d]);
      const I c = rem % size;
      rem /= size;
#pragma unroll
      for (int in = 0; in < kElementwiseMaxInputs; ++in)
        if (in < a.count) off[in] += c * static_cast<I>(a.strides[in][d]);
    }
    float acc = to_f32(static_cast<const T*>(a.inputs[0])[off[0]]);
#pragma unroll
    for (int in = 1; in < kElementwiseMaxInputs; ++in) {
      if (in >= a.count) break;
      acc = merge(a.op, acc, to_f32(static_cast<const T*>(a.inputs[in])[off[in]]));
    }
    y[i] = from_f32<T>(a.divisor > 0.f ? acc / a.divisor : acc);
  }
}

}  // namespace

void launch_activation(const void* x, void* y, int64_t n, const ActivationArgs& act, DType dtype,
                       cudaStream_t stream) {
  launch_map<false>("activation_kernel", x, y, n, dtype, stream, ActivationFn{act});
}

void launch_scale_shift(const void* x, void* y, int64_t n, const float* scale, const float* shift,
                        int scale_step, int shift_step, const ChannelIndex& channel, DType dtype,
                        cudaStream_t stream) {
  launch_map<true>("scale_shift_kernel", x, y, n, dtype, stream,
                   ScaleShiftFn{scale, shift, scale_step, shift_step, channel});
}

void launch_prelu(const void* x, void* y, int64_t n, const float* alpha,
                  const ChannelIndex& channel, DType dtype, cudaStream_t stream) {
  launch_map<true>("prelu_kernel", x, y, n, dtype, stream, PreluFn{alpha, channel});
}

void launch_compare(const void* x, void* y, int64_t n, CompareOp op, float value, DType dtype,
                    cudaStream_t stream) {
  launch_map<false>("compare_kernel", x, y, n, dtype, stream, CompareFn{op, value});
}

void launch_merge_same_shape(const MergeArgs& args, void* y, int64_t n, DType dtype,
                             cudaStream_t stream) {
  if (n <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    bool vec = n >= 4 && aligned_for_pack<T>(y);
    for (int k = 0; k < args.count; ++k) vec = vec && aligned_for_pack<T>(args.inputs[k]);
    const unsigned grid = grid_for(vec ? n / 4 : n, kBlock);
    if (vec)
      launch_kernel(merge_flat_kernel<T, true>, grid, kBlock, 0, stream, args, static_cast<T*>(y),
                    n);
    else
      launch_kernel(merge_flat_kernel<T, false>, grid, kBlock, 0, stream, args, static_cast<T*>(y),
                    n);
    check_launch("merge_flat_kernel");
  });
  if (!done) fail(ErrorCode::internal, "elementwise: unsupported dtype ", dtype_name(dtype));
}

void launch_merge_broadcast(const MergeArgs& args, void* y, int64_t n, DType dtype,
                            cudaStream_t stream) {
  if (n <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const unsigned grid = grid_for(n, kBlock);
    if (fits_u32(n))
      launch_kernel(merge_broadcast_kernel<T, uint32_t>, grid, kBlock, 0, stream, args,
                    static_cast<T*>(y), static_cast<uint32_t>(n));
    else
      launch_kernel(merge_broadcast_kernel<T, int64_t>, grid, kBlock, 0, stream, args,
                    static_cast<T*>(y), n);
    check_launch("merge_broadcast_kernel");
  });
  if (!done) fail(ErrorCode::internal, "elementwise: unsupported dtype ", dtype_name(dtype));
}

}  // namespace krt::cuda
