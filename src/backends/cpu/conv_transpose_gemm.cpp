#include "backends/cpu/conv_transpose_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/gemm_nt.h"
#include "backends/cpu/gemv.h"
#include "backends/cpu/parallel.h"
#include "core/weight_storage.h"
#include "ops/shape_inference.h"

#include "backends/cpu/avx512.h"

namespace krt::cpu {

namespace {

using dims = dnnl::memory::dims;

// Columns of this many bytes or fewer per chunk of samples stay in L2 between the matmul that
// writes them and the gather that reads them.
constexpr int64_t kColumnBytes = 1 << 20;
// Up to this many rows of x (batch * input positions), gemm_nt_avx512 reads Keras's kernel in
// place: W streamed once per call, no packed copy. More rows go to oneDNN's packed matmul.
constexpr int64_t kOwnRows = 64;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Spatial axes padded to three with unit axes, as the reference kernel does.
struct Geometry {
  int64_t batch = 0, cin = 0, cout = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, stride{1, 1, 1}, dil{1, 1, 1},
      pad{0, 0, 0};
  int64_t in_positions() const { return in[0] * in[1] * in[2]; }
  int64_t out_positions() const { return out[0] * out[1] * out[2]; }
  int64_t taps() const { return k[0] * k[1] * k[2]; }
};

Geometry geometry(const Node& node, const Shape& x, const Shape& y) {
  const auto& p = node.get<ConvParams>();
  const Shape& ks = node.weights[0].shape();
  Geometry g;
  g.batch = x[0];
  g.cin = x.back();
  g.cout = y.back();
  for (size_t i = 0; i < p.kernel_size.size(); ++i) {
    g.in[i] = x[i + 1];
    g.out[i] = y[i + 1];
    g.k[i] = ks[i];
    g.stride[i] = i < p.strides.size() ? p.strides[i] : 1;
    g.dil[i] = i < p.dilation.size() ? p.dilation[i] : 1;
    const int64_t op = i < p.output_padding.size() ? p.output_padding[i] : -1;
    g.pad[i] = conv_transpose_pad(g.k[i], g.stride[i], g.dil[i], p.padding, op);
  }
  return g;
}

// For one axis, the (tap, input) pairs that reach each output coordinate: output o takes tap t
// from input i = (o + pad - t*d) / s when that divides exactly and lies inside the input.
struct AxisTaps {
  std::vector<int64_t> start;                      // out + 1 entries into `pairs`
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (tap, input)
};

AxisTaps axis_taps(const Geometry& g, int a) {
  AxisTaps r;
  for (int64_t o = 0; o < g.out[a]; ++o) {
    r.start.push_back(static_cast<int64_t>(r.pairs.size()));
    for (int64_t t = 0; t < g.k[a]; ++t) {
      const int64_t num = o + g.pad[a] - t * g.dil[a];
      if (num < 0 || num % g.stride[a] != 0 || num / g.stride[a] >= g.in[a]) continue;
      r.pairs.emplace_back(t, num / g.stride[a]);
    }
  }
  r.start.push_back(static_cast<int64_t>(r.pairs.size()));
  return r;
}

// y[pos] = bias + sum of the columns at `offsets` (cout floats each), then max(., 0) if `relu`.
void gather_sum_portable(const float* cols, const int64_t* offsets, int64_t count, int64_t cout,
                         const float* bias, bool relu, float* y) {
  for (int64_t c = 0; c < cout; ++c) y[c] = bias ? bias[c] : 0.f;
  for (int64_t j = 0; j < count; ++j) {
    const float* col = cols + offsets[j];
    for (int64_t c = 0; c < cout; ++c) y[c] += col[c];
  }
  if (relu)
    for (int64_t c = 0; c < cout; ++c) y[c] = std::max(y[c], 0.f);
}

KRT_AVX512 void gather_sum_avx512(const float* cols, const int64_t* offsets, int64_t count,
                                  int64_t cout, const float* bias, bool relu, float* y) {
  constexpr int kBlock = 8;  // vectors of 16 floats summed in registers at a time
  for (int64_t c0 = 0; c0 < cout; c0 += kBlock * 16) {
    const int64_t width = std::min<int64_t>(kBlock * 16, cout - c0);
    __m512 acc[kBlock];
    __mmask16 mask[kBlock];
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) {
      const int64_t left = std::clamp<int64_t>(width - v * 16, 0, 16);
      mask[v] = static_cast<__mmask16>((1u << left) - 1);
      acc[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + c0 + v * 16) : _mm512_setzero_ps();
    }
    for (int64_t j = 0; j < count; ++j) {
      const float* col = cols + offsets[j] + c0;
#pragma GCC unroll 8
      for (int v = 0; v < kBlock; ++v)
        acc[v] = _mm512_add_ps(acc[v], _mm512_maskz_loadu_ps(mask[v], col + v * 16));
    }
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) {
      if (relu) acc[v] = _mm512_max_ps(acc[v], _mm512_setzero_ps());
      _mm512_mask_storeu_ps(y + c0 + v * 16, mask[v], acc[v]);
    }
  }
}

}  // namespace

struct ConvTransposeGemm::Impl {
  const Node& node;
  dnnl::memory::desc user_weights;  // Keras's kernel as W (cin, taps * cout), read in place
  std::mutex mutex;
  struct Matmul {
    dnnl::matmul primitive;
    dnnl::memory::desc src, dst, scratch;
    dnnl::memory weights;
    std::shared_ptr<void> weights_owner;  // the packed bytes (allocate_weight_storage)
  };
  // By row count and thread count (oneDNN splits the work for the count current at creation).
  std::map<std::pair<int64_t, int>, std::shared_ptr<const Matmul>> matmuls;
  std::vector<std::pair<dnnl::memory, std::shared_ptr<void>>> packed;  // with their bytes

  explicit Impl(const Node& n) : node(n) {}

  std::pair<dnnl::memory, std::shared_ptr<void>> packed_for(const dnnl::memory::desc& wanted) {
    dnnl::memory user(user_weights, engine(), const_cast<void*>(node.weights[0].data()));
    if (wanted == user_weights) return {user, nullptr};
    for (const auto& p : packed)
      if (p.first.get_desc() == wanted) return p;
    std::shared_ptr<void> storage = allocate_weight_storage(wanted.get_size());
    dnnl::memory m(wanted, engine(), storage.get());
    dnnl::stream stream(engine());
    dnnl::reorder(user, m).execute(stream, user, m);
    stream.wait();
    packed.emplace_back(m, storage);
    return packed.back();
  }

  // The matmul for `rows` rows of x, built (and W packed) on first use; null if oneDNN refuses.
  std::shared_ptr<const Matmul> matmul_for(int64_t rows) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::pair<int64_t, int> key{rows, max_threads()};
    auto it = matmuls.find(key);
    if (it != matmuls.end()) return it->second;
    if (matmuls.size() >= 16) {  // bounded for callers with ever-changing batch sizes
      matmuls.clear();
      packed.clear();
    }
    const int64_t cin = user_weights.dims()[0], n = user_weights.dims()[1];
    std::shared_ptr<const Matmul> made;
    try {
      const auto f32 = dnnl::memory::data_type::f32;
      dnnl::memory::desc src({rows, cin}, f32, dims{cin, 1}), dst({rows, n}, f32, dims{n, 1});
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc pd(
          dnnl::matmul::desc(src, dnnl::memory::desc({cin, n}, f32, dnnl::memory::format_tag::any),
                             dst),
          attr, engine());
      auto [weights, owner] = packed_for(pd.weights_desc());
      made = std::make_shared<Matmul>(
          Matmul{dnnl::matmul(pd), src, dst, pd.scratchpad_desc(), weights, owner});
    } catch (const dnnl::error&) {
      made = nullptr;
    }
    return matmuls.emplace(key, made).first->second;
  }
};

namespace {

void run_matmul(const ConvTransposeGemm::Impl::Matmul& mm, const float* x, float* cols,
                uint8_t* pad) {
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(mm.src, engine(), const_cast<float*>(x))},
      {DNNL_ARG_WEIGHTS, mm.weights},
      {DNNL_ARG_DST, dnnl::memory(mm.dst, engine(), cols)}};
  if (mm.scratch.get_size())
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(mm.scratch, engine(), pad));
  dnnl::stream stream(engine());
  mm.primitive.execute(stream, args);
  stream.wait();
}

}  // namespace

ConvTransposeGemm::ConvTransposeGemm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConvTransposeGemm::~ConvTransposeGemm() = default;

std::unique_ptr<ConvTransposeGemm> ConvTransposeGemm::for_node(const Node& node,
                                                               const Shape& input_shape) {
  if (node.kind != OpKind::conv_transpose || node.weights.empty() ||
      node.weights[0].dtype() != DType::f32 || !own_kernels_enabled())
    return nullptr;
  const Shape& ks = node.weights[0].shape();
  const size_t spatial = node.get<ConvParams>().kernel_size.size();
  if (spatial < 1 || spatial > 3 || ks.size() != spatial + 2) return nullptr;
  int64_t taps = 1;
  for (size_t i = 0; i < spatial; ++i) taps *= ks[i];
  const int64_t cout = ks[spatial], cin = ks[spatial + 1];
  auto impl = std::make_unique<Impl>(node);
  impl->user_weights =
      dnnl::memory::desc({cin, taps * cout}, dnnl::memory::data_type::f32, dims{1, cin});
  std::unique_ptr<ConvTransposeGemm> r(new ConvTransposeGemm(std::move(impl)));
  // Build the batch-1 matmul now, so W is packed at compile time rather than in the first run.
  if (input_shape.size() == spatial + 2) {
    int64_t positions = 1;
    for (size_t i = 1; i <= spatial; ++i)
      positions = input_shape[i] < 0 ? -1 : positions * input_shape[i];
    const bool own = cpu_has_avx512() && positions <= kOwnRows;
    if (positions > 0 && !own && !r->impl_->matmul_for(positions)) return nullptr;
  }
  return r;
}

size_t ConvTransposeGemm::packed_weight_copies() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->packed.size();
}

bool ConvTransposeGemm::run(const Tensor& x, Tensor& y, std::vector<uint8_t>* scratch) const {
  const Node& node = impl_->node;
  if (x.dtype() != DType::f32 || x.rank() != y.rank() ||
      x.rank() != static_cast<int>(node.get<ConvParams>().kernel_size.size()) + 2)
    return false;
  const Geometry g = geometry(node, x.shape(), y.shape());
  const int64_t ncols = g.taps() * g.cout;
  const int64_t sample_bytes = g.in_positions() * ncols * static_cast<int64_t>(sizeof(float));
  const bool own = cpu_has_avx512() && g.batch * g.in_positions() <= kOwnRows;
  const int64_t chunk =
      own ? g.batch
          : std::clamp<int64_t>(kColumnBytes / std::max<int64_t>(sample_bytes, 1), 1, g.batch);
  std::shared_ptr<const Impl::Matmul> full, rest;
  if (!own) {
    full = impl_->matmul_for(chunk * g.in_positions());
    if (g.batch % chunk) rest = impl_->matmul_for((g.batch % chunk) * g.in_positions());
    if (!full || (g.batch % chunk && !rest)) return false;
  }

  // Scratch: the columns (64-byte aligned), then oneDNN's scratchpad.
  const size_t col_bytes = static_cast<size_t>(chunk * sample_bytes);
  const size_t pad_bytes =
      std::max(full ? full->scratch.get_size() : 0, rest ? rest->scratch.get_size() : 0);
  std::vector<uint8_t> own_scratch;
  if (!scratch) scratch = &own_scratch;
  if (scratch->size() < col_bytes + pad_bytes + 128) scratch->resize(col_bytes + pad_bytes + 128);
  auto* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch->data()) + 63) &
                                          ~uintptr_t{63});
  float* cols = reinterpret_cast<float*>(base);
  uint8_t* pad = base + ((col_bytes + 63) & ~size_t{63});

  const std::array<AxisTaps, 3> axes{axis_taps(g, 0), axis_taps(g, 1), axis_taps(g, 2)};
  const Activation& act = *node.fused_activation();
  const bool relu = is_plain_relu(act);
  const float* bias = node.get<ConvParams>().has_bias ? node.weights[1].data_as<float>() : nullptr;
  const bool avx512 = cpu_has_avx512();
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
    const int64_t samples = std::min(chunk, g.batch - n0);
    const float* xn = xp + n0 * g.in_positions() * g.cin;
    if (own) {
      gemm_nt_avx512(samples * g.in_positions(), g.cin, ncols, xn, node.weights[0].data_as<float>(),
                     cols);
    } else {
      run_matmul(samples == chunk ? *full : *rest, xn, cols, pad);
    }
    parallel_for(
        samples * g.out_positions(),
        [&](int64_t begin, int64_t end) {
          std::vector<int64_t> offsets;
          for (int64_t idx = begin; idx < end; ++idx) {
            const int64_t n = idx / g.out_positions();
            int64_t rem = idx % g.out_positions();
            const int64_t o2 = rem % g.out[2], o1 = (rem / g.out[2]) % g.out[1],
                          o0 = rem / (g.out[2] * g.out[1]);
            offsets.clear();
            for (int64_t a = axes[0].start[o0]; a < axes[0].start[o0 + 1]; ++a)
              for (int64_t b = axes[1].start[o1]; b < axes[1].start[o1 + 1]; ++b)
                for (int64_t c = axes[2].start[o2]; c < axes[2].start[o2 + 1]; ++c) {
                  const auto [t0, i0] = axes[0].pairs[a];
                  const auto [t1, i1] = axes[1].pairs[b];
                  const auto [t2, i2] = axes[2].pairs[c];
                  const int64_t row = ((n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2;
                  const int64_t tap = (t0 * g.k[1] + t1) * g.k[2] + t2;
                  offsets.push_back(row * ncols + tap * g.cout);
                }
            float* out = yp + ((n0 + n) * g.out_positions() + rem) * g.cout;
            if (avx512)
              gather_sum_avx512(cols, offsets.data(), static_cast<int64_t>(offsets.size()), g.cout,
                                bias, relu, out);
            else
              gather_sum_portable(cols, offsets.data(), static_cast<int64_t>(offsets.size()),
                                  g.cout, bias, relu, out);
          }
        },
        16);
  }
  if (!relu && act.kind != ActivationKind::linear) activate(act, yp, yp, y.size());
  return true;
}

}  // namespace krt::cpu
