// Dense, convolution, depthwise and transposed convolution as oneDNN primitives. Our tensors
// stay in their Keras layouts (NHWC activations, Keras kernel layouts): each is described to
// oneDNN by explicit strides, so nothing is repacked by us. oneDNN's primitive cache makes the
// per-run primitive creation a lookup after the first run of a shape.
#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "ops/activation.h"
#include "ops/shape_inference.h"

namespace krt::cpu {

namespace {

using dims = dnnl::memory::dims;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::memory::desc f32_desc(const dims& sizes, const dims& strides) {
  return dnnl::memory::desc(sizes, dnnl::memory::data_type::f32, strides);
}

// Row-major strides for `sizes` listed in storage order `order` (outermost first), returned
// in the logical order of `sizes`.
dims strides_in_order(const dims& sizes, const std::vector<int>& order) {
  dims strides(sizes.size());
  int64_t step = 1;
  for (size_t i = order.size(); i-- > 0;) {
    strides[order[i]] = step;
    step *= sizes[order[i]];
  }
  return strides;
}

// An activation tensor (N, spatial..., C) as oneDNN's logical (N, C, spatial...). `spatial`,
// when given, may be smaller than the tensor's: a view of its leading rows.
dnnl::memory::desc channels_last(const Tensor& t, const dims& spatial = {}) {
  const int rank = t.rank();
  dims sizes{t.dim(0), t.dim(-1)}, full{t.dim(0), t.dim(-1)};
  std::vector<int> order{0};
  for (int i = 1; i < rank - 1; ++i) {
    full.push_back(t.dim(i));
    sizes.push_back(spatial.empty() ? t.dim(i) : spatial[i - 1]);
    order.push_back(i + 1);
  }
  order.push_back(1);
  return f32_desc(sizes, strides_in_order(full, order));
}

dnnl::memory memory_of(const dnnl::memory::desc& desc, const Tensor& t) {
  return dnnl::memory(desc, engine(), const_cast<void*>(t.data()));
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // concurrent runs never share one
  return attr;
}

void execute(const dnnl::primitive& primitive, const dnnl::memory::desc& scratch_desc,
             std::unordered_map<int, dnnl::memory> args) {
  std::vector<uint8_t> scratch(scratch_desc.get_size());
  if (!scratch.empty()) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratch_desc, engine(), scratch.data()));
  dnnl::stream stream(engine());
  primitive.execute(stream, args);
  stream.wait();
}

void apply_activation_inplace(const Activation& act, Tensor& y) {
  if (act.is_linear()) return;
  float* p = y.data_as<float>();
  for (int64_t i = 0; i < y.size(); ++i) p[i] = apply_activation(act, p[i]);
}

// y = x @ kernel + bias over the last axis: one matmul of (rows, in) by (in, out).
bool run_dense(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<DenseParams>();
  const Tensor& kernel = node.weights[0];
  const int64_t in = kernel.dim(0), out = kernel.dim(1), rows = x.size() / in;
  const dims src_sizes{rows, in}, w_sizes{in, out}, dst_sizes{rows, out}, b_sizes{1, out};
  auto src = f32_desc(src_sizes, {in, 1}), w = f32_desc(w_sizes, {out, 1}), dst = f32_desc(dst_sizes, {out, 1});
  dnnl::memory::desc bias = p.has_bias ? f32_desc(b_sizes, {out, 1}) : dnnl::memory::desc();
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, w, bias, dst), user_scratchpad(), engine());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, memory_of(src, x)}, {DNNL_ARG_WEIGHTS, memory_of(w, kernel)}, {DNNL_ARG_DST, memory_of(dst, y)}};
  if (p.has_bias) args.emplace(DNNL_ARG_BIAS, memory_of(bias, node.weights[1]));
  execute(dnnl::matmul(pd), pd.scratchpad_desc(), std::move(args));
  apply_activation_inplace(p.activation, y);
  return true;
}

// The Keras kernel of a conv-family node as oneDNN's logical weights: (OC, IC, k...) or, with
// groups, (G, OC/G, IC/G, k...), with strides that read Keras's own layout in place.
dnnl::memory::desc conv_weights(const Node& node, int64_t cin, int64_t cout) {
  const Shape& ks = node.weights[0].shape();
  const size_t spatial = ks.size() - 2;
  dims kernel(ks.begin(), ks.begin() + static_cast<std::ptrdiff_t>(spatial));
  dims sizes, strides;
  int64_t tap = 1;  // stride of the last kernel axis: one tap's block of weights
  if (node.kind == OpKind::conv_transpose) {  // (k..., cout, cin)
    sizes = {cout, cin};
    strides = {cin, 1};
    tap = cout * cin;
  } else if (node.kind == OpKind::depthwise_conv) {  // (k..., cin, mult): groups = cin
    const int64_t mult = cout / cin;
    sizes = {cin, mult, 1};
    strides = {mult, 1, 1};
    tap = cout;
  } else {
    const int64_t groups = std::max<int64_t>(node.get<ConvParams>().groups, 1);
    const int64_t cin_g = ks[spatial];  // (k..., cin/groups, cout)
    if (groups == 1) {
      sizes = {cout, cin_g};
      strides = {1, cout};
    } else {
      sizes = {groups, cout / groups, cin_g};
      strides = {cout / groups, 1, cout};
    }
    tap = cin_g * cout;
  }
  dims kernel_strides(spatial);
  for (size_t i = spatial; i-- > 0;) {
    kernel_strides[i] = tap;
    tap *= kernel[i];
  }
  sizes.insert(sizes.end(), kernel.begin(), kernel.end());
  strides.insert(strides.end(), kernel_strides.begin(), kernel_strides.end());
  return f32_desc(sizes, strides);
}

bool run_conv_family(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  if (spatial < 1 || spatial > 3 || x.rank() != static_cast<int>(spatial) + 2) return false;
  const bool transpose = node.kind == OpKind::conv_transpose;
  const Shape& ks = node.weights[0].shape();
  dims strides(spatial), dilates(spatial), pad_l(spatial), pad_r(spatial), read(spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x.dim(static_cast<int>(i) + 1), out = y.dim(static_cast<int>(i) + 1), k = ks[i];
    const int64_t s = i < p.strides.size() ? p.strides[i] : 1, d = i < p.dilation.size() ? p.dilation[i] : 1;
    strides[i] = s;
    dilates[i] = d - 1;  // oneDNN counts the gaps between taps
    if (transpose) {
      const int64_t op = i < p.output_padding.size() ? p.output_padding[i] : -1;
      pad_l[i] = conv_transpose_pad(k, s, d, p.padding, op);
      pad_r[i] = (in - 1) * s + (k - 1) * d + 1 - pad_l[i] - out;
    } else {
      pad_l[i] = conv_pad_before(in, k, s, d, p.padding);
      pad_r[i] = (out - 1) * s + (k - 1) * d + 1 - in - pad_l[i];
    }
    read[i] = in;
    if (!transpose && pad_r[i] < 0) {  // strides leave the last input rows unread: view the rest
      read[i] = in + pad_r[i];
      pad_r[i] = 0;
    }
    if (pad_l[i] < 0 || pad_r[i] < 0) return false;  // oneDNN wants non-negative padding
  }
  const int64_t cin = x.dim(-1), cout = y.dim(-1);
  auto src = channels_last(x, read), dst = channels_last(y), w = conv_weights(node, cin, cout);
  dnnl::memory::desc bias = p.has_bias ? f32_desc({cout}, {1}) : dnnl::memory::desc();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, memory_of(src, x)}, {DNNL_ARG_WEIGHTS, memory_of(w, node.weights[0])}, {DNNL_ARG_DST, memory_of(dst, y)}};
  if (p.has_bias) args.emplace(DNNL_ARG_BIAS, memory_of(bias, node.weights[1]));
  const auto prop = dnnl::prop_kind::forward_inference;
  if (transpose) {
    dnnl::deconvolution_forward::desc desc(prop, dnnl::algorithm::deconvolution_direct, src, w, bias, dst, strides,
                                           dilates, pad_l, pad_r);
    dnnl::deconvolution_forward::primitive_desc pd(desc, user_scratchpad(), engine());
    execute(dnnl::deconvolution_forward(pd), pd.scratchpad_desc(), std::move(args));
  } else {
    dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, src, w, bias, dst, strides,
                                         dilates, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc pd(desc, user_scratchpad(), engine());
    execute(dnnl::convolution_forward(pd), pd.scratchpad_desc(), std::move(args));
  }
  apply_activation_inplace(p.activation, y);
  return true;
}

}  // namespace

bool run_with_onednn(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  if (inputs.size() != 1 || outputs.size() != 1 || inputs[0].dtype() != DType::f32) return false;
  try {
    switch (node.kind) {
      case OpKind::dense: return run_dense(node, inputs[0], outputs[0]);
      case OpKind::conv:
      case OpKind::depthwise_conv:
      case OpKind::conv_transpose: return run_conv_family(node, inputs[0], outputs[0]);
      default: return false;
    }
  } catch (const dnnl::error&) {
    return false;  // no oneDNN implementation for this case: the reference kernel runs it
  }
}

void run_node(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  if (!run_with_onednn(node, inputs, outputs)) reference::run_node(node, inputs, outputs);
}

void use_threads_on_this_thread(int threads) {
  // libdnnl brings its OpenMP runtime; looking the setters up there keeps us from linking a
  // second runtime (or needing clang's) just for two calls.
  using SetFn = void (*)(int);
  using GetFn = int (*)();
  static const auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  static const auto procs = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "omp_get_num_procs"));
  if (set && procs) set(threads > 0 ? threads : procs());
}

}  // namespace krt::cpu
