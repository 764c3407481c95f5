#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_layout_kernels.h"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

constexpr int kBlock = 256;

#define KRT_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// Calls body(In{}, Out{}) for the C++ types of two float dtypes.
template <class Body> bool dispatch_float2(DType a, DType b, Body&& body) {
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
  KRT_GRID_STRIDE_LOOP(i, n) {
    int64_t rest = i, off = 0;
    bool inside = true;
    for (int a = map.rank - 1; a >= 0; --a) {  // row-major: the last axis varies fastest
      const int64_t c = rest % map.out_dim[a];
      rest /= map.out_dim[a];
      const int64_t src = c / map.div[a] - map.shift[a];
      if (map.check_bounds && (src < 0 || src >= map.in_dim[a])) inside = false;
      off += src * map.in_stride[a];
    }
    y[i] = from_f32<Out>(inside ? to_f32(x[off]) : map.fill);
  }
}

template <class In, class Out>
__global__ void concat_kernel(const In* x, Out* y, int64_t outer, int64_t block, int64_t out_block, int64_t at) {
  const int64_t n = outer * block;
  KRT_GRID_STRIDE_LOOP(i, n) {
    const int64_t o = i / block, k = i - o * block;
    y[o * out_block + at + k] = from_f32<Out>(to_f32(x[i]));
  }
}

template <class T>
__global__ void pool_kernel(PoolGeometry g, const T* x, T* y, int64_t n) {
  KRT_GRID_STRIDE_LOOP(i, n) {
    // i = (((b * out0 + o0) * out1 + o1) * out2 + o2) * channels + ch
    int64_t rest = i;
    const int64_t ch = rest % g.channels;
    rest /= g.channels;
    int64_t o[3];
    for (int a = 2; a >= 0; --a) {
      o[a] = rest % g.out[a];
      rest /= g.out[a];
    }
    const int64_t b = rest;
    double sum = 0.0;
    float mx = -INFINITY;
    int64_t count = 0;
    // The window in row-major order, as the reference walks it.
    for (int64_t w0 = 0; w0 < g.window[0]; ++w0) {
      const int64_t s0 = o[0] * g.stride[0] + w0 - g.pad[0];
      if (s0 < 0 || s0 >= g.in[0]) continue;
      for (int64_t w1 = 0; w1 < g.window[1]; ++w1) {
        const int64_t s1 = o[1] * g.stride[1] + w1 - g.pad[1];
        if (s1 < 0 || s1 >= g.in[1]) continue;
        for (int64_t w2 = 0; w2 < g.window[2]; ++w2) {
          const int64_t s2 = o[2] * g.stride[2] + w2 - g.pad[2];
          if (s2 < 0 || s2 >= g.in[2]) continue;
          const float v = to_f32(x[(((b * g.in[0] + s0) * g.in[1] + s1) * g.in[2] + s2) * g.channels + ch]);
          sum += v;
          mx = fmaxf(mx, v);  // like std::max(mx, v) in the reference, a NaN input is skipped
          ++count;
        }
      }
    }
    y[i] = from_f32<T>(g.average ? static_cast<float>(sum / static_cast<double>(count)) : mx);
  }
}

template <class T>
__global__ void resize_kernel(ResizeGeometry g, const T* x, T* y, int64_t n) {
  KRT_GRID_STRIDE_LOOP(i, n) {
    int64_t rest = i;
    const int64_t ch = rest % g.channels;
    rest /= g.channels;
    int64_t o[3];
    for (int a = 2; a >= 0; --a) {
      o[a] = rest % g.out[a];
      rest /= g.out[a];
    }
    const int64_t b = rest;
    // Taps per axis; unused axes (size 1, spatial < 3) have one tap of weight 1 at 0.
    int64_t first[3] = {0, 0, 0}, count[3] = {1, 1, 1};
    const float* w[3] = {nullptr, nullptr, nullptr};
    for (int a = 0; a < g.spatial; ++a) {
      first[a] = g.axis[a].first[o[a]];
      count[a] = g.axis[a].count[o[a]];
      w[a] = g.axis[a].weight + o[a] * g.axis[a].max_taps;
    }
    float acc2 = 0.f;
    for (int64_t k2 = 0; k2 < count[2]; ++k2) {
      const int64_t s2 = first[2] + k2;
      float acc1 = 0.f;
      for (int64_t k1 = 0; k1 < count[1]; ++k1) {
        const int64_t s1 = first[1] + k1;
        float acc0 = 0.f;
        for (int64_t k0 = 0; k0 < count[0]; ++k0) {
          const int64_t s0 = first[0] + k0;
          const float v = to_f32(x[(((b * g.in[0] + s0) * g.in[1] + s1) * g.in[2] + s2) * g.channels + ch]);
          acc0 += w[0][k0] * v;
        }
        acc1 += (g.spatial > 1 ? w[1][k1] : 1.f) * acc0;
      }
      acc2 += (g.spatial > 2 ? w[2][k2] : 1.f) * acc1;
    }
    y[i] = from_f32<T>(acc2);
  }
}

template <class Id, class T>
__global__ void embedding_kernel(const Id* ids, const T* table, int64_t rows, int64_t dim, T* y, int64_t n) {
  KRT_GRID_STRIDE_LOOP(i, n) {
    const int64_t k = i / dim, d = i - k * dim;
    const float f = to_f32(ids[k]);
    // Keras truncates float ids toward zero, so (-1, rows) are the valid ones. The reference
    // throws on others; here (kernels cannot throw) an invalid id gives a row of zeros.
    if (f > -1.f && f < static_cast<float>(rows)) {
      const int64_t row = static_cast<int64_t>(f);
      y[i] = table[row * dim + d];
    } else {
      y[i] = from_f32<T>(0.f);
    }
  }
}

}  // namespace

void launch_gather(const GatherMap& map, const void* x, DType x_dtype, void* y, DType y_dtype, int64_t y_size,
                   cudaStream_t stream) {
  if (y_size <= 0) return;
  const bool ok = dispatch_float2(x_dtype, y_dtype, [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    gather_kernel<In, Out><<<grid_for(y_size, kBlock), kBlock, 0, stream>>>(map, static_cast<const In*>(x),
                                                                             static_cast<Out*>(y), y_size);
    check_launch("gather_kernel");
  });
  if (!ok) unsupported_dtype("gather", x_dtype);
}

void launch_concat_part(const void* x, DType x_dtype, void* y, DType y_dtype, int64_t outer, int64_t block,
                        int64_t out_block, int64_t at, cudaStream_t stream) {
  const int64_t n = outer * block;
  if (n <= 0) return;
  const bool ok = dispatch_float2(x_dtype, y_dtype, [&](auto in_tag, auto out_tag) {
    using In = decltype(in_tag);
    using Out = decltype(out_tag);
    concat_kernel<In, Out><<<grid_for(n, kBlock), kBlock, 0, stream>>>(static_cast<const In*>(x), static_cast<Out*>(y),
                                                                        outer, block, out_block, at);
    check_launch("concat_kernel");
  });
  if (!ok) unsupported_dtype("concat", x_dtype);
}

void launch_pool(const PoolGeometry& g, const void* x, void* y, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out[0] * g.out[1] * g.out[2] * g.channels;
  if (n <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    pool_kernel<T><<<grid_for(n, kBlock), kBlock, 0, stream>>>(g, static_cast<const T*>(x), static_cast<T*>(y), n);
    check_launch("pool_kernel");
  });
  if (!ok) unsupported_dtype("pool", dtype);
}

void launch_resize(const ResizeGeometry& g, const void* x, void* y, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out[0] * g.out[1] * g.out[2] * g.channels;
  if (n <= 0) return;
  const bool ok = dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    resize_kernel<T><<<grid_for(n, kBlock), kBlock, 0, stream>>>(g, static_cast<const T*>(x), static_cast<T*>(y), n);
    check_launch("resize_kernel");
  });
  if (!ok) unsupported_dtype("resize", dtype);
}

void launch_embedding(const void* ids, DType ids_dtype, const void* table, int64_t rows, int64_t dim, void* y,
                      DType dtype, int64_t count, cudaStream_t stream) {
  const int64_t n = count * dim;
  if (n <= 0) return;
  const bool ok = dispatch_float2(ids_dtype, dtype, [&](auto id_tag, auto tag) {
    using Id = decltype(id_tag);
    using T = decltype(tag);
    embedding_kernel<Id, T><<<grid_for(n, kBlock), kBlock, 0, stream>>>(
        static_cast<const Id*>(ids), static_cast<const T*>(table), rows, dim, static_cast<T*>(y), n);
    check_launch("embedding_kernel");
  });
  if (!ok) unsupported_dtype("embedding", dtype);
}

}  // namespace krt::cuda
