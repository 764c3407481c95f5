#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_conv_kernels.h"
#include "backends/cuda/cuda_conv_vec.cuh"
#include "backends/cuda/cuda_types.cuh"
#include "core/check.h"

namespace krt::cuda {

namespace {

// Splits a flattened (n, o0, o1, o2) position.
__device__ __forceinline__ void split_position(int64_t r, const int64_t (&ext)[3], int64_t& n,
                                               int64_t (&o)[3]) {
  o[2] = r % ext[2];
  r /= ext[2];
  o[1] = r % ext[1];
  r /= ext[1];
  o[0] = r % ext[0];
  n = r / ext[0];
}

__device__ __forceinline__ void split_tap(int64_t t, const int64_t (&k)[3], int64_t (&tap)[3]) {
  tap[2] = t % k[2];
  t /= k[2];
  tap[1] = t % k[1];
  tap[0] = t / k[1];
}

// Forward: the input position tap t of output o reads; false where it falls in the padding.
__device__ __forceinline__ bool forward_input(const ConvGeom& g, const int64_t (&o)[3],
                                              const int64_t (&t)[3], int64_t& offset) {
  int64_t pos = 0;
#pragma unroll
  for (int a = 0; a < 3; ++a) {
    const int64_t i = o[a] * g.stride[a] + t[a] * g.dil[a] - g.pad[a];
    if (i < 0 || i >= g.in[a]) return false;
    pos = pos * g.in[a] + i;
  }
  offset = pos;
  return true;
}

// Transposed: the input position from which tap t reaches output o; false where none does.
__device__ __forceinline__ bool transpose_input(const ConvGeom& g, const int64_t (&o)[3],
                                                const int64_t (&t)[3], int64_t& offset) {
  int64_t pos = 0;
#pragma unroll
  for (int a = 0; a < 3; ++a) {
    const int64_t num = o[a] + g.pad[a] - t[a] * g.dil[a];
    if (num < 0 || num % g.stride[a] != 0) return false;
    const int64_t i = num / g.stride[a];
    if (i >= g.in[a]) return false;
    pos = pos * g.in[a] + i;
  }
  offset = pos;
  return true;
}

#define KRT_GRID_STRIDE(i, n)                                               \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{gridDim.x} * blockDim.x)

template <class T>
__global__ void im2col_kernel(const T* __restrict__ x, T* __restrict__ cols, ConvGeom g,
                              int64_t row_begin, int64_t rows) {
  wait_for_producers();
  const int64_t taps = g.taps();
  const int64_t n_elems = rows * taps * g.cin;
  KRT_GRID_STRIDE(idx, n_elems) {
    const int64_t ci = idx % g.cin;
    const int64_t rest = idx / g.cin;
    const int64_t t = rest % taps;
    const int64_t r = row_begin + rest / taps;
    int64_t n, o[3], tap[3], pos;
    split_position(r, g.out, n, o);
    split_tap(t, g.k, tap);
    cols[idx] = forward_input(g, o, tap, pos) ? x[(n * g.in_positions() + pos) * g.cin + ci]
                                              : from_f32<T>(0.f);
  }
}

template <class T>
__global__ void col2im_kernel(const T* __restrict__ cols, T* __restrict__ y,
                              const float* __restrict__ bias, ConvGeom g, int64_t n_begin,
                              int64_t count, ActParams act) {
  wait_for_producers();
  const int64_t out_pos = g.out_positions(), in_pos = g.in_positions(), taps = g.taps();
  const int64_t n_elems = count * out_pos * g.cout;
  KRT_GRID_STRIDE(idx, n_elems) {
    const int64_t co = idx % g.cout;
    int64_t n, o[3], tap[3], pos;
    split_position(idx / g.cout, g.out, n, o);
    float acc = 0.f;
    for (int64_t t = 0; t < taps; ++t) {
      split_tap(t, g.k, tap);
      if (!transpose_input(g, o, tap, pos)) continue;
      acc += to_f32(cols[((n * in_pos + pos) * taps + t) * g.cout + co]);
    }
    if (bias) acc += bias[co];
    y[(n_begin * out_pos) * g.cout + idx] = from_f32<T>(apply_activation(act, acc));
  }
}

template <class T>
__global__ void depthwise_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                 const float* __restrict__ bias, T* __restrict__ y, ConvGeom g,
                                 ActParams act) {
  wait_for_producers();
  const int64_t out_pos = g.out_positions(), in_pos = g.in_positions(), taps = g.taps();
  const int64_t mult = g.cout / g.cin;
  const int64_t n_elems = g.batch * out_pos * g.cout;
  KRT_GRID_STRIDE(idx, n_elems) {
    const int64_t co = idx % g.cout;
    const int64_t ci = co / mult;
    int64_t n, o[3], tap[3], pos;
    split_position(idx / g.cout, g.out, n, o);
    float acc = 0.f;
    for (int64_t t = 0; t < taps; ++t) {
      split_tap(t, g.k, tap);
      if (!forward_input(g, o, tap, pos)) continue;
      acc = fmaf(to_f32(x[(n * in_pos + pos) * g.cin + ci]), to_f32(w[t * g.cout + co]), acc);
    }
    if (bias) acc += bias[co];
    y[idx] = from_f32<T>(apply_activation(act, acc));
  }
}

// Depthwise with at most two spatial axes and 32-bit indices (MobileNet's hot loop): no 64-bit
// divisions, taps walked as (kh, kw).
template <class T>
__global__ void depthwise2d_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                   const float* __restrict__ bias, T* __restrict__ y, int total,
                                   int H, int W, int C, int OH, int OW, int CO, int KH, int KW,
                                   int SH, int SW, int DH, int DW, int PH, int PW, int mult,
                                   ActParams act) {
  wait_for_producers();
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += gridDim.x * blockDim.x) {
    const int co = idx % CO;
    int p = idx / CO;
    const int ow = p % OW;
    p /= OW;
    const int oh = p % OH;
    const int n = p / OH;
    const int ci = co / mult;
    const T* xn = x + static_cast<size_t>(n) * H * W * C + ci;
    float acc = 0.f;
    for (int kh = 0; kh < KH; ++kh) {
      const int ih = oh * SH + kh * DH - PH;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        const int iw = ow * SW + kw * DW - PW;
        if (iw < 0 || iw >= W) continue;
        acc = fmaf(to_f32(xn[(ih * W + iw) * C]), to_f32(w[(kh * KW + kw) * CO + co]), acc);
      }
    }
    if (bias) acc += bias[co];
    y[idx] = from_f32<T>(apply_activation(act, acc));
  }
}

// depthwise2d_kernel for depth multiplier 1 and C % V == 0 (MobileNet): each thread computes
// V consecutive channels with vector loads and stores (pointers aligned to V elements; V = 8
// for 16-bit types makes every access 16 bytes). With
// K > 0 the window is K x K at compile time: the taps unroll, so their loads are all in flight
// at once (a small layer has too few threads to hide one load's latency after another).
template <class T, int K, int V>
__global__ void depthwise2d_vec_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                       const float* __restrict__ bias, T* __restrict__ y,
                                       int total_v, int H, int W, int C, int OH, int OW, int KH,
                                       int KW, int SH, int SW, int DH, int DW, int PH, int PW,
                                       ActParams act) {
  wait_for_producers();
  const int CV = C / V;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total_v;
       idx += gridDim.x * blockDim.x) {
    const auto [n, oh, ow, c] = nhwc_slot<V>(idx, CV, OH, OW);
    const T* xn = x + static_cast<size_t>(n) * H * W * C + c;
    float acc[V] = {};
    const int kh_count = K > 0 ? K : KH, kw_count = K > 0 ? K : KW;
#pragma unroll
    for (int kh = 0; kh < kh_count; ++kh) {
      const int ih = oh * SH + kh * DH - PH;
      if (ih < 0 || ih >= H) continue;
#pragma unroll
      for (int kw = 0; kw < kw_count; ++kw) {
        const int iw = ow * SW + kw * DW - PW;
        if (iw < 0 || iw >= W) continue;
        float xv[V], wv[V];
        loadv<V>(xn + (ih * W + iw) * C, xv);
        loadv<V>(w + (kh * kw_count + kw) * C + c, wv);
#pragma unroll
        for (int v = 0; v < V; ++v) acc[v] = fmaf(xv[v], wv[v], acc[v]);
      }
    }
    store_bias_act<V>(y, idx, acc, bias, c, act);
  }
}

// col2im_kernel for at most two spatial axes, cout % V == 0 and 32-bit sizes (the decoder's
// Conv2DTranspose): V channels per thread with vector loads; a tap is visited only when its
// stride phase reaches the output. y points at the chunk's first batch item. With K > 0 the
// window is K x K at compile time: the taps unroll and their loads are in flight together (a
// small layer's threads would otherwise wait out one load latency per tap).
template <class T, int V, int K>
__global__ void col2im2d_vec_kernel(const T* __restrict__ cols, T* __restrict__ y,
                                    const float* __restrict__ bias, int total_v, int IH, int IW,
                                    int C, int OH, int OW, int KH, int KW, int SH, int SW, int DH,
                                    int DW, int PH, int PW, ActParams act) {
  wait_for_producers();
  const int kh_count = K > 0 ? K : KH, kw_count = K > 0 ? K : KW;
  const int CV = C / V, taps = kh_count * kw_count;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total_v;
       idx += gridDim.x * blockDim.x) {
    const auto [n, oh, ow, c] = nhwc_slot<V>(idx, CV, OH, OW);
    float acc[V] = {};
#pragma unroll
    for (int kh = 0; kh < kh_count; ++kh) {
      const int th = oh + PH - kh * DH;
      if (th < 0 || th % SH != 0 || th / SH >= IH) continue;
      const int row = (n * IH + th / SH) * IW;
#pragma unroll
      for (int kw = 0; kw < kw_count; ++kw) {
        const int tw = ow + PW - kw * DW;
        if (tw < 0 || tw % SW != 0 || tw / SW >= IW) continue;
        float v[V];
        loadv<V>(cols + (static_cast<size_t>(row + tw / SW) * taps + kh * kw_count + kw) * C + c,
                 v);
#pragma unroll
        for (int j = 0; j < V; ++j) acc[j] += v[j];
      }
    }
    store_bias_act<V>(y, idx, acc, bias, c, act);
  }
}

template <class T>
__global__ void direct_conv_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                   const float* __restrict__ bias, T* __restrict__ y, ConvGeom g,
                                   ActParams act) {
  wait_for_producers();
  const int64_t out_pos = g.out_positions(), in_pos = g.in_positions(), taps = g.taps();
  const int64_t cin_g = g.cin / g.groups, cout_g = g.cout / g.groups;
  const int64_t n_elems = g.batch * out_pos * g.cout;
  KRT_GRID_STRIDE(idx, n_elems) {
    const int64_t co = idx % g.cout;
    const int64_t group = co / cout_g;
    int64_t n, o[3], tap[3], pos;
    split_position(idx / g.cout, g.out, n, o);
    float acc = 0.f;
    for (int64_t t = 0; t < taps; ++t) {
      split_tap(t, g.k, tap);
      if (!forward_input(g, o, tap, pos)) continue;
      const T* xv = x + (n * in_pos + pos) * g.cin + group * cin_g;
      const T* wv = w + t * cin_g * g.cout + co;
      for (int64_t ci = 0; ci < cin_g; ++ci)
        acc = fmaf(to_f32(xv[ci]), to_f32(wv[ci * g.cout]), acc);
    }
    if (bias) acc += bias[co];
    y[idx] = from_f32<T>(apply_activation(act, acc));
  }
}

template <class T>
__global__ void direct_conv_transpose_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                             const float* __restrict__ bias, T* __restrict__ y,
                                             ConvGeom g, ActParams act) {
  wait_for_producers();
  const int64_t out_pos = g.out_positions(), in_pos = g.in_positions(), taps = g.taps();
  const int64_t n_elems = g.batch * out_pos * g.cout;
  KRT_GRID_STRIDE(idx, n_elems) {
    const int64_t co = idx % g.cout;
    int64_t n, o[3], tap[3], pos;
    split_position(idx / g.cout, g.out, n, o);
    float acc = 0.f;
    for (int64_t t = 0; t < taps; ++t) {
      split_tap(t, g.k, tap);
      if (!transpose_input(g, o, tap, pos)) continue;
      const T* xv = x + (n * in_pos + pos) * g.cin;
      const T* wv = w + t * g.cout + co;
      for (int64_t ci = 0; ci < g.cin; ++ci)
        acc = fmaf(to_f32(xv[ci]), to_f32(wv[ci * taps * g.cout]), acc);
    }
    if (bias) acc += bias[co];
    y[idx] = from_f32<T>(apply_activation(act, acc));
  }
}

#undef KRT_GRID_STRIDE

template <class Body>
void dispatch(DType dtype, const char* what, Body&& body) {
  if (!dispatch_float(dtype, body))
    fail(ErrorCode::internal, what, ": dtype ", dtype_name(dtype), " is not supported on CUDA");
}

}  // namespace

void launch_im2col(const void* x, void* cols, const ConvGeom& g, int64_t row_begin, int64_t rows,
                   DType dtype, cudaStream_t stream) {
  const int64_t n = rows * g.taps() * g.cin;
  if (n <= 0 || launch_im2col2d(x, cols, g, row_begin, rows, dtype, stream)) return;
  dispatch(dtype, "im2col", [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(im2col_kernel<T>, grid_for(n), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<T*>(cols), g, row_begin, rows);
    check_launch("im2col_kernel");
  });
}

void launch_col2im_bias_act(const void* cols, void* y, const float* bias, const ConvGeom& g,
                            int64_t n_begin, int64_t count, ActParams act, DType dtype,
                            cudaStream_t stream) {
  const int64_t n = count * g.out_positions() * g.cout;
  if (n <= 0) return;
  const int64_t limit = int64_t{1} << 30;
  if (g.in[2] == 1 && g.out[2] == 1 && g.k[2] == 1 && n < limit &&
      count * g.in_positions() * g.taps() * g.cout < limit) {
    bool launched = false;
    dispatch(dtype, "col2im", [&](auto tag) {
      using T = decltype(tag);
      const auto i = [](int64_t v) { return static_cast<int>(v); };
      T* y_chunk = static_cast<T*>(y) + n_begin * g.out_positions() * g.cout;
      const int v = vector_width<T>(g.cout, {cols, y_chunk});
      if (v == 0) return;
      const bool k3 = g.k[0] == 3 && g.k[1] == 3;
      const auto kernel = v == 8
                              ? (k3 ? col2im2d_vec_kernel<T, 8, 3> : col2im2d_vec_kernel<T, 8, 0>)
                              : (k3 ? col2im2d_vec_kernel<T, 4, 3> : col2im2d_vec_kernel<T, 4, 0>);
      launch_kernel(kernel, grid_for(n / v), 256, 0, stream, static_cast<const T*>(cols), y_chunk,
                    bias, i(n / v), i(g.in[0]), i(g.in[1]), i(g.cout), i(g.out[0]), i(g.out[1]),
                    i(g.k[0]), i(g.k[1]), i(g.stride[0]), i(g.stride[1]), i(g.dil[0]), i(g.dil[1]),
                    i(g.pad[0]), i(g.pad[1]), act);
      check_launch("col2im2d_vec_kernel");
      launched = true;
    });
    if (launched) return;
  }
  dispatch(dtype, "col2im", [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(col2im_kernel<T>, grid_for(n), 256, 0, stream, static_cast<const T*>(cols),
                  static_cast<T*>(y), bias, g, n_begin, count, act);
    check_launch("col2im_kernel");
  });
}

void launch_depthwise_conv(const void* x, const void* w, const float* bias, void* y,
                           const ConvGeom& g, ActParams act, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  if (n <= 0) return;
  const int64_t in_elems = g.batch * g.in_positions() * g.cin;
  const int64_t limit = int64_t{1} << 30;
  if (g.in[2] == 1 && g.out[2] == 1 && g.k[2] == 1 && n < limit && in_elems < limit) {
    bool launched = false;
    dispatch(dtype, "depthwise_conv", [&](auto tag) {
      using T = decltype(tag);
      const int v = g.cout == g.cin ? vector_width<T>(g.cin, {x, w, y}) : 0;
      if (v == 0) return;
      const bool k3 = g.k[0] == 3 && g.k[1] == 3;
      const auto kernel =
          v == 8 ? (k3 ? depthwise2d_vec_kernel<T, 3, 8> : depthwise2d_vec_kernel<T, 0, 8>)
                 : (k3 ? depthwise2d_vec_kernel<T, 3, 4> : depthwise2d_vec_kernel<T, 0, 4>);
      const auto i = [](int64_t e) { return static_cast<int>(e); };
      launch_kernel(kernel, grid_for(n / v), 256, 0, stream, static_cast<const T*>(x),
                    static_cast<const T*>(w), bias, static_cast<T*>(y), i(n / v), i(g.in[0]),
                    i(g.in[1]), i(g.cin), i(g.out[0]), i(g.out[1]), i(g.k[0]), i(g.k[1]),
                    i(g.stride[0]), i(g.stride[1]), i(g.dil[0]), i(g.dil[1]), i(g.pad[0]),
                    i(g.pad[1]), act);
      check_launch("depthwise2d_vec_kernel");
      launched = true;
    });
    if (launched) return;
    dispatch(dtype, "depthwise_conv", [&](auto tag) {
      using T = decltype(tag);
      const auto i = [](int64_t v) { return static_cast<int>(v); };
      launch_kernel(depthwise2d_kernel<T>, grid_for(n), 256, 0, stream, static_cast<const T*>(x),
                    static_cast<const T*>(w), bias, static_cast<T*>(y), i(n), i(g.in[0]),
                    i(g.in[1]), i(g.cin), i(g.out[0]), i(g.out[1]), i(g.cout), i(g.k[0]), i(g.k[1]),
                    i(g.stride[0]), i(g.stride[1]), i(g.dil[0]), i(g.dil[1]), i(g.pad[0]),
                    i(g.pad[1]), i(g.cout / g.cin), act);
      check_launch("depthwise2d_kernel");
    });
    return;
  }
  dispatch(dtype, "depthwise_conv", [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(depthwise_kernel<T>, grid_for(n), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<const T*>(w), bias, static_cast<T*>(y), g, act);
    check_launch("depthwise_kernel");
  });
}

void launch_direct_conv(const void* x, const void* w, const float* bias, void* y, const ConvGeom& g,
                        ActParams act, DType dtype, cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  if (n <= 0) return;
  dispatch(dtype, "conv", [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(direct_conv_kernel<T>, grid_for(n), 256, 0, stream, static_cast<const T*>(x),
                  static_cast<const T*>(w), bias, static_cast<T*>(y), g, act);
    check_launch("direct_conv_kernel");
  });
}

void launch_direct_conv_transpose(const void* x, const void* w, const float* bias, void* y,
                                  const ConvGeom& g, ActParams act, DType dtype,
                                  cudaStream_t stream) {
  const int64_t n = g.batch * g.out_positions() * g.cout;
  if (n <= 0) return;
  dispatch(dtype, "conv_transpose", [&](auto tag) {
    using T = decltype(tag);
    launch_kernel(direct_conv_transpose_kernel<T>, grid_for(n), 256, 0, stream,
                  static_cast<const T*>(x), static_cast<const T*>(w), bias, static_cast<T*>(y), g,
                  act);
    check_launch("direct_conv_transpose_kernel");
  });
}

}  // namespace krt::cuda
