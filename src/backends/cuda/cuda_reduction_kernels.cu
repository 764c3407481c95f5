// Reduction kernels. Group kernels give each group (a row: the members of the reduced axes)
// to one warp, or to a whole block when it has many members; lanes stride over the members and
// combine through shuffles (and shared memory across warps). Sums are f32.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_pointwise_activation.cuh"
#include "backends/cuda/cuda_reduction_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;

struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};
// std::max / std::min semantics.
struct MaxOp {
  __device__ float operator()(float a, float b) const { return a < b ? b : a; }
};
struct MinOp {
  __device__ float operator()(float a, float b) const { return b < a ? b : a; }
};
struct ProdOp {
  __device__ float operator()(float a, float b) const { return a * b; }
};

// Combines v over the kTpg threads of a group (a warp, or the whole block); every thread of
// the group gets the result. With kTpg == kBlock, all threads of the block must call it.
template <int kTpg, class Op>
__device__ float group_reduce(float v, Op op, float* smem) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (kTpg == 32) return v;
  __syncthreads();  // smem may still be read from the previous call
  if (threadIdx.x % 32 == 0) smem[threadIdx.x / 32] = v;
  __syncthreads();
  v = smem[0];
#pragma unroll
  for (int w = 1; w < kTpg / 32; ++w) v = op(v, smem[w]);
  return v;
}

// Offsets of group g's first element in the first kOps operands.
template <int kOps>
__device__ __forceinline__ void kept_offsets(const GroupMap& m, int64_t g, int64_t (&off)[kOps]) {
#pragma unroll
  for (int k = 0; k < kOps; ++k) off[k] = 0;
  if (m.kept_rank == 1) {
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] = g * m.kept_stride[k][0];
    return;
  }
#pragma unroll
  for (int d = kGroupMaxDims - 1; d >= 0; --d) {
    if (d >= m.kept_rank) continue;
    const int64_t c = g % m.kept_shape[d];
    g /= m.kept_shape[d];
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] += c * m.kept_stride[k][d];
  }
}

// Offsets of member r (relative to its group's first element) in the first kOps operands.
template <int kOps>
__device__ __forceinline__ void member_offsets(const GroupMap& m, int64_t r, int64_t (&off)[kOps]) {
#pragma unroll
  for (int k = 0; k < kOps; ++k) off[k] = 0;
  if (m.red_rank == 1) {
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] = r * m.red_stride[k][0];
    return;
  }
#pragma unroll
  for (int d = kGroupMaxDims - 1; d >= 0; --d) {
    if (d >= m.red_rank) continue;
    const int64_t c = r % m.red_shape[d];
    r /= m.red_shape[d];
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] += c * m.red_stride[k][d];
  }
}

__device__ __forceinline__ int64_t member_offset(const GroupMap& m, int64_t r) {
  int64_t off[1];
  member_offsets<1>(m, r, off);
  return off[0];
}

// The group loop: each group of kTpg threads takes groups g = first, first + step, ...
// (uniform over a warp, or over the block when kTpg == kBlock).
template <int kTpg>
__device__ __forceinline__ int64_t first_group() {
  return static_cast<int64_t>(blockIdx.x) * (kBlock / kTpg) + threadIdx.x / kTpg;
}
template <int kTpg>
__device__ __forceinline__ int64_t group_step() {
  return static_cast<int64_t>(gridDim.x) * (kBlock / kTpg);
}
template <int kTpg>
__device__ __forceinline__ int lane() {
  return static_cast<int>(threadIdx.x % kTpg);
}

template <class T, int kTpg>
__global__ void __launch_bounds__(kBlock)
    reduce_kernel(const T* __restrict__ x, T* __restrict__ y, GroupMap m, ReduceOp op) {
  wait_for_producers();
  __shared__ float smem[32];
  for (int64_t g = first_group<kTpg>(); g < m.groups; g += group_step<kTpg>()) {
    int64_t base[1];
    kept_offsets<1>(m, g, base);
    float acc = op == ReduceOp::all || op == ReduceOp::prod ? 1.f
                : op == ReduceOp::max                       ? -INFINITY
                : op == ReduceOp::min                       ? INFINITY
                                                            : 0.f;
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      const float v = to_f32(x[base[0] + member_offset(m, r)]);
      switch (op) {
        case ReduceOp::any:
          acc = (acc != 0.f || v != 0.f) ? 1.f : 0.f;
          break;
        case ReduceOp::all:
          acc = (acc != 0.f && v != 0.f) ? 1.f : 0.f;
          break;
        case ReduceOp::sum:
        case ReduceOp::mean:
          acc += v;
          break;
        case ReduceOp::max:
          acc = MaxOp{}(acc, v);
          break;
        case ReduceOp::min:
          acc = MinOp{}(acc, v);
          break;
        case ReduceOp::prod:
          acc *= v;
          break;
        case ReduceOp::argmax:
        case ReduceOp::argmin:
          break;  // arg_reduce_kernel
      }
    }
    switch (op) {
      case ReduceOp::any:
      case ReduceOp::max:
        acc = group_reduce<kTpg>(acc, MaxOp{}, smem);
        break;
      case ReduceOp::all:
      case ReduceOp::min:
        acc = group_reduce<kTpg>(acc, MinOp{}, smem);
        break;
      case ReduceOp::sum:
      case ReduceOp::mean:
        acc = group_reduce<kTpg>(acc, SumOp{}, smem);
        break;
      case ReduceOp::prod:
        acc = group_reduce<kTpg>(acc, ProdOp{}, smem);
        break;
      case ReduceOp::argmax:
      case ReduceOp::argmin:
        break;
    }
    if (op == ReduceOp::mean) acc /= static_cast<float>(m.members);
    if (lane<kTpg>() == 0) y[g] = from_f32<T>(acc);
  }
}

// The score softmax sees for element (x offset xoff): x itself, or its masked fill.
template <class T, bool kMask>
__device__ __forceinline__ float masked_score(const T* x, const T* mask, int64_t xoff, int64_t moff,
                                              const SoftmaxArgs& a, bool& keep) {
  const float v = to_f32(x[xoff]);
  keep = true;
  if (kMask) keep = to_f32(mask[moff]) != 0.f;
  if (a.causal) {
    const int64_t col = xoff % a.cols;
    const int64_t row = (xoff / a.cols) % a.rows;
    if (col > row) keep = false;
  }
  if (keep) return v;
  constexpr float kAddNegative = -1e9f;
  constexpr float kReplaceNegative = -0.7f * 3.38953e38f;
  return a.replace_fill ? kReplaceNegative : v + kAddNegative;
}

template <class T, int kTpg, bool kMask>
__global__ void __launch_bounds__(kBlock)
    softmax_kernel(const T* __restrict__ x, const T* __restrict__ mask, T* __restrict__ y,
                   GroupMap m, SoftmaxArgs a) {
  wait_for_producers();
  __shared__ float smem[32];
  constexpr int kOps = kMask ? 2 : 1;
  for (int64_t g = first_group<kTpg>(); g < m.groups; g += group_step<kTpg>()) {
    int64_t base[kOps];
    kept_offsets<kOps>(m, g, base);
    float mx = -INFINITY;
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      int64_t off[kOps];
      member_offsets<kOps>(m, r, off);
      bool keep;
      mx = MaxOp{}(mx, masked_score<T, kMask>(x, mask, base[0] + off[0],
                                              kMask ? base[kOps - 1] + off[kOps - 1] : 0, a, keep));
    }
    mx = group_reduce<kTpg>(mx, MaxOp{}, smem);
    float sum = 0.f;
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      int64_t off[kOps];
      member_offsets<kOps>(m, r, off);
      bool keep;
      sum += expf(masked_score<T, kMask>(x, mask, base[0] + off[0],
                                         kMask ? base[kOps - 1] + off[kOps - 1] : 0, a, keep) -
                  mx);
    }
    sum = group_reduce<kTpg>(sum, SumOp{}, smem);
    const float log_sum = a.log ? logf(sum) : 0.f;
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      int64_t off[kOps];
      member_offsets<kOps>(m, r, off);
      bool keep;
      const float z = masked_score<T, kMask>(x, mask, base[0] + off[0],
                                             kMask ? base[kOps - 1] + off[kOps - 1] : 0, a, keep);
      float v = a.log ? z - mx - log_sum : expf(z - mx) / sum;
      if (a.zero_masked && !keep) v = 0.f;
      y[base[0] + off[0]] = from_f32<T>(v);
    }
  }
}

// Keras's sparsemax without sorting: an element's position in the descending order is the
// number of members before it (greater, or equal with a lower index), and the cumulative sum
// there is the sum of those members plus itself.
template <class T>
__global__ void __launch_bounds__(kBlock)
    sparsemax_kernel(const T* __restrict__ x, T* __restrict__ y, GroupMap m) {
  wait_for_producers();
  __shared__ float smem[32];
  for (int64_t g = blockIdx.x; g < m.groups; g += gridDim.x) {
    int64_t base[1];
    kept_offsets<1>(m, g, base);
    const T* xg = x + base[0];
    float support = 0.f, support_cumsum = 0.f;
    for (int64_t r = threadIdx.x; r < m.members; r += kBlock) {
      const float zi = to_f32(xg[member_offset(m, r)]);
      float cumsum = 0.f;
      int64_t before = 0;
      for (int64_t e = 0; e < m.members; ++e) {
        const float ze = to_f32(xg[member_offset(m, e)]);
        if (ze > zi || (ze == zi && e < r)) {
          cumsum += ze;
          ++before;
        }
      }
      cumsum += zi;
      if (zi - (cumsum - 1.f) / static_cast<float>(before + 1) > 0.f) {
        support += 1.f;
        support_cumsum += cumsum;
      }
    }
    support = group_reduce<kBlock>(support, SumOp{}, smem);
    support_cumsum = group_reduce<kBlock>(support_cumsum, SumOp{}, smem);
    const float tau = (support_cumsum - 1.f) / support;
    for (int64_t r = threadIdx.x; r < m.members; r += kBlock) {
      const int64_t o = base[0] + member_offset(m, r);
      y[o] = from_f32<T>(MaxOp{}(to_f32(x[o]) - tau, 0.f));
    }
  }
}

template <class T, int kTpg>
__global__ void __launch_bounds__(kBlock)
    normalize_kernel(const T* __restrict__ x, T* __restrict__ y, const float* scale,
                     const float* shift, GroupMap m, NormMode mode, float eps) {
  wait_for_producers();
  __shared__ float smem[32];
  const float count = static_cast<float>(m.members);
  for (int64_t g = first_group<kTpg>(); g < m.groups; g += group_step<kTpg>()) {
    int64_t base[3];
    kept_offsets<3>(m, g, base);
    const bool centered = mode == NormMode::moments || mode == NormMode::centered_rms;
    float mean = 0.f;
    if (centered) {
      float s = 0.f;
      for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg)
        s += to_f32(x[base[0] + member_offset(m, r)]);
      mean = group_reduce<kTpg>(s, SumOp{}, smem) / count;
    }
    float second = 0.f;  // sum of squares, around the mean when centered
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      const float d = to_f32(x[base[0] + member_offset(m, r)]) - mean;
      second += d * d;
    }
    second = group_reduce<kTpg>(second, SumOp{}, smem);
    float inv = 1.f, norm = 1.f;
    switch (mode) {
      case NormMode::moments:
      case NormMode::centered_rms:
      case NormMode::rms:
        inv = 1.f / sqrtf(second / count + eps);
        break;
      case NormMode::l2:
        inv = 1.f / sqrtf(MaxOp{}(second, eps));
        break;
      case NormMode::l2_unit:
        norm = second == 0.f ? 1.f : sqrtf(second);
        break;
    }
    const float centre = mode == NormMode::moments ? mean : 0.f;
    for (int64_t r = lane<kTpg>(); r < m.members; r += kTpg) {
      int64_t off[3];
      member_offsets<3>(m, r, off);
      const float v = to_f32(x[base[0] + off[0]]);
      float out = mode == NormMode::l2_unit ? v / norm : (v - centre) * inv;
      if (scale) out *= scale[base[1] + off[1]];
      if (shift) out += shift[base[2] + off[2]];
      y[base[0] + off[0]] = from_f32<T>(out);
    }
  }
}

template <class T>
__global__ void glu_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer,
                           int64_t half_inner) {
  wait_for_producers();
  const int64_t n = outer * half_inner;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t o = i / half_inner, h = i % half_inner;
    const float a = to_f32(x[o * 2 * half_inner + h]);
    const float b = to_f32(x[o * 2 * half_inner + half_inner + h]);
    y[i] = from_f32<T>(a * sigmoid_f32(b));
  }
}

// Block (32 channels, 8 position lanes): loads over channels are coalesced; the 8 lanes split
// the positions and meet in shared memory.
constexpr int kPoolChannels = 32, kPoolLanes = 8;
template <class T>
__global__ void global_pool_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t batch,
                                   int64_t positions, int64_t channels, bool max) {
  wait_for_producers();
  __shared__ float part[kPoolLanes][kPoolChannels];
  const int64_t ch = static_cast<int64_t>(blockIdx.x) * kPoolChannels + threadIdx.x;
  for (int64_t n = blockIdx.y; n < batch; n += gridDim.y) {
    float acc = max ? -INFINITY : 0.f;
    if (ch < channels)
      for (int64_t p = threadIdx.y; p < positions; p += kPoolLanes) {
        const float v = to_f32(x[(n * positions + p) * channels + ch]);
        acc = max ? MaxOp{}(acc, v) : acc + v;
      }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && ch < channels) {
      for (int l = 1; l < kPoolLanes; ++l)
        acc = max ? MaxOp{}(acc, part[l][threadIdx.x]) : acc + part[l][threadIdx.x];
      y[n * channels + ch] = from_f32<T>(max ? acc : acc / static_cast<float>(positions));
    }
    __syncthreads();
  }
}

template <class T>
__global__ void additive_score_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                      T* __restrict__ y, const float* __restrict__ w, int64_t batch,
                                      int64_t tq, int64_t tv, int64_t d, float inner, float outer) {
  wait_for_producers();
  const int64_t n = batch * tq * tv;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += step) {
    const int64_t j = o % tv, i = (o / tv) % tq, b = o / (tv * tq);
    const T* qi = q + (b * tq + i) * d;
    const T* kj = k + (b * tv + j) * d;
    float acc = 0.f;
    for (int64_t c = 0; c < d; ++c) {
      const float t = tanhf(inner * (to_f32(qi[c]) + to_f32(kj[c])));
      acc += w ? w[c] * t : t;
    }
    y[o] = from_f32<T>(outer * acc);
  }
}

unsigned group_grid(int64_t groups, int tpg) { return grid_for(groups * tpg, kBlock); }

// Calls body(std::integral_constant<int, kTpg>) with a warp per group for short groups and a
// block per group for long ones.
template <class Body>
void dispatch_tpg(int64_t members, Body&& body) {
  if (members >= 512)
    body(std::integral_constant<int, kBlock>{});
  else
    body(std::integral_constant<int, 32>{});
}

[[noreturn]] void bad_dtype(const char* op, DType dtype) {
  fail(ErrorCode::internal, "CUDA ", op, ": unsupported dtype ", dtype_name(dtype));
}

// argmax/argmin: one thread per group walks the members in order, so a strict comparison
// keeps the first best value (the reference's rule; a NaN first member stays the answer).
template <class T>
__global__ void arg_reduce_kernel(const T* __restrict__ x, T* __restrict__ y, GroupMap m,
                                  bool largest) {
  wait_for_producers();
  for (int64_t g = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; g < m.groups;
       g += int64_t{gridDim.x} * blockDim.x) {
    int64_t base[1];
    kept_offsets<1>(m, g, base);
    float best = to_f32(x[base[0]]);
    int64_t at = 0;
    for (int64_t r = 1; r < m.members; ++r) {
      const float v = to_f32(x[base[0] + member_offset(m, r)]);
      if (largest ? v > best : v < best) {
        best = v;
        at = r;
      }
    }
    y[g] = from_f32<T>(static_cast<float>(at));
  }
}

}  // namespace

void launch_reduce(const void* x, void* y, const GroupMap& map, ReduceOp op, DType dtype,
                   cudaStream_t stream) {
  if (map.groups <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    if (op == ReduceOp::argmax || op == ReduceOp::argmin) {
      launch_kernel(arg_reduce_kernel<T>, grid_for(map.groups, kBlock), kBlock, 0, stream,
                    static_cast<const T*>(x), static_cast<T*>(y), map, op == ReduceOp::argmax);
      check_launch("arg_reduce_kernel");
      return;
    }
    dispatch_tpg(map.members, [&](auto tpg) {
      constexpr int kTpg = decltype(tpg)::value;
      launch_kernel(reduce_kernel<T, kTpg>, group_grid(map.groups, kTpg), kBlock, 0, stream,
                    static_cast<const T*>(x), static_cast<T*>(y), map, op);
    });
    check_launch("reduce_kernel");
  });
  if (!done) bad_dtype("reduce", dtype);
}

void launch_softmax(const void* x, const void* mask, void* y, const GroupMap& map,
                    const SoftmaxArgs& args, DType dtype, cudaStream_t stream) {
  if (map.groups <= 0 || map.members <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    dispatch_tpg(map.members, [&](auto tpg) {
      constexpr int kTpg = decltype(tpg)::value;
      const unsigned grid = group_grid(map.groups, kTpg);
      if (mask)
        launch_kernel(softmax_kernel<T, kTpg, true>, grid, kBlock, 0, stream,
                      static_cast<const T*>(x), static_cast<const T*>(mask), static_cast<T*>(y),
                      map, args);
      else
        launch_kernel(softmax_kernel<T, kTpg, false>, grid, kBlock, 0, stream,
                      static_cast<const T*>(x), nullptr, static_cast<T*>(y), map, args);
    });
    check_launch("softmax_kernel");
  });
  if (!done) bad_dtype("softmax", dtype);
}

void launch_sparsemax(const void* x, void* y, const GroupMap& map, DType dtype,
                      cudaStream_t stream) {
  if (map.groups <= 0 || map.members <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(sparsemax_kernel<T>, group_grid(map.groups, kBlock), kBlock, 0, stream,
                  static_cast<const T*>(x), static_cast<T*>(y), map);
    check_launch("sparsemax_kernel");
  });
  if (!done) bad_dtype("sparsemax", dtype);
}

void launch_normalize(const void* x, void* y, const float* scale, const float* shift,
                      const GroupMap& map, NormMode mode, float epsilon, DType dtype,
                      cudaStream_t stream) {
  if (map.groups <= 0 || map.members <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    dispatch_tpg(map.members, [&](auto tpg) {
      constexpr int kTpg = decltype(tpg)::value;
      launch_kernel(normalize_kernel<T, kTpg>, group_grid(map.groups, kTpg), kBlock, 0, stream,
                    static_cast<const T*>(x), static_cast<T*>(y), scale, shift, map, mode, epsilon);
    });
    check_launch("normalize_kernel");
  });
  if (!done) bad_dtype("normalize", dtype);
}

void launch_glu(const void* x, void* y, int64_t outer, int64_t half_inner, DType dtype,
                cudaStream_t stream) {
  if (outer * half_inner <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(glu_kernel<T>, grid_for(outer * half_inner, kBlock), kBlock, 0, stream,
                  static_cast<const T*>(x), static_cast<T*>(y), outer, half_inner);
    check_launch("glu_kernel");
  });
  if (!done) bad_dtype("glu", dtype);
}

void launch_global_pool(const void* x, void* y, int64_t batch, int64_t positions, int64_t channels,
                        bool max, DType dtype, cudaStream_t stream) {
  if (batch <= 0 || channels <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const dim3 block(kPoolChannels, kPoolLanes);
    const dim3 grid(static_cast<unsigned>((channels + kPoolChannels - 1) / kPoolChannels),
                    static_cast<unsigned>(batch < 65535 ? batch : 65535));
    launch_kernel(global_pool_kernel<T>, grid, block, 0, stream, static_cast<const T*>(x),
                  static_cast<T*>(y), batch, positions, channels, max);
    check_launch("global_pool_kernel");
  });
  if (!done) bad_dtype("global_pool", dtype);
}

void launch_additive_score(const void* q, const void* k, void* y, const float* w, int64_t batch,
                           int64_t tq, int64_t tv, int64_t d, float inner_scale, float outer_scale,
                           DType dtype, cudaStream_t stream) {
  const int64_t n = batch * tq * tv;
  if (n <= 0) return;
  const bool done = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(additive_score_kernel<T>, grid_for(n, kBlock), kBlock, 0, stream,
                  static_cast<const T*>(q), static_cast<const T*>(k), static_cast<T*>(y), w, batch,
                  tq, tv, d, inner_scale, outer_scale);
    check_launch("additive_score_kernel");
  });
  if (!done) bad_dtype("additive_score", dtype);
}

}  // namespace krt::cuda
