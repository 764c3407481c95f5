// Dense, convolution, depthwise and transposed convolution as oneDNN primitives. Activations
// stay in our NHWC layout, described to oneDNN by explicit strides; the weights are packed once
// per input shape into the layout the chosen primitive prefers (the fast jit kernels want
// blocked weights), and the primitive is kept with them.
#include <dlfcn.h>

#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>

#include "backends/cpu/concat_kernels.h"
#include "backends/cpu/conv_transpose_gemm.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/dense_kernels.h"
#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/pad_crop_kernels.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/pool_kernels.h"
#include "backends/cpu/softmax_kernels.h"
#include "backends/cpu/weight_packing.h"
#include "backends/reference/reference_backend.h"
#include "core/check.h"
#include "core/weight_storage.h"
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
dnnl::memory::desc channels_last(const Shape& shape, const dims& spatial = {}) {
  const size_t rank = shape.size();
  dims sizes{shape[0], shape[rank - 1]}, full{shape[0], shape[rank - 1]};
  std::vector<int> order{0};
  for (size_t i = 1; i + 1 < rank; ++i) {
    full.push_back(shape[i]);
    sizes.push_back(spatial.empty() ? shape[i] : spatial[i - 1]);
    order.push_back(static_cast<int>(i) + 1);
  }
  order.push_back(1);
  return f32_desc(sizes, strides_in_order(full, order));
}

dnnl::memory memory_of(const dnnl::memory::desc& desc, const Tensor& t) {
  return dnnl::memory(desc, engine(), const_cast<void*>(t.data()));
}

// User scratchpad (concurrent runs never share one); a plain relu runs inside the primitive.
dnnl::primitive_attr attributes(const Activation& act) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (is_plain_relu(act)) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

// A primitive ready for one input shape, with the weights packed in the layout it chose.
struct Prepared {
  dnnl::primitive primitive;
  dnnl::memory::desc src, dst, scratch;
  dnnl::memory weights, bias;           // view the packed bytes / the node's bias
  std::shared_ptr<void> weights_owner;  // the packed bytes (null: the node's own kernel)
};

// The node's kernel packed into each layout a primitive asked for. Primitives for different
// batch sizes usually want the same layout, so they share one packed copy.
class PackedWeights {
 public:
  struct Packed {
    dnnl::memory memory;
    std::shared_ptr<void> owner;  // from allocate_weight_storage; null for the user's kernel
  };
  Packed get(const dnnl::memory::desc& wanted, const dnnl::memory::desc& user_desc,
             const Tensor& user) {
    dnnl::memory user_mem(user_desc, engine(), const_cast<void*>(user.data()));
    if (wanted == user_desc) return {user_mem, nullptr};
    for (const Packed& p : packed_)
      if (p.memory.get_desc() == wanted) return p;
    std::shared_ptr<void> storage = allocate_weight_storage(wanted.get_size());
    dnnl::memory packed(wanted, engine(), storage.get());
    // Our strided copy where the layout has one block (every convolution kernel of a MobileNet),
    // which spares creating a reorder primitive per layer; a reorder for anything else.
    if (!pack_one_block(user_desc, user.data_as<float>(), wanted,
                        static_cast<float*>(storage.get()))) {
      dnnl::stream stream(engine());
      dnnl::reorder(user_mem, packed).execute(stream, user_mem, packed);
      stream.wait();
    }
    packed_.push_back({packed, storage});
    return packed_.back();
  }
  void clear() { packed_.clear(); }
  size_t size() const { return packed_.size(); }

 private:
  std::vector<Packed> packed_;
};

dnnl::memory::desc any_layout(const dnnl::memory::desc& d) {
  return dnnl::memory::desc(d.dims(), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
}

// The primitive for `desc` (whose weights layout is left to oneDNN), with the node's kernel,
// given in `user_weights`' layout, packed for it, and the node's bias when `bias` is not empty.
template <class Primitive>
Prepared make_prepared(const typename Primitive::desc& desc, const Node& node,
                       const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                       const dnnl::memory::desc& user_weights, const dnnl::memory::desc& bias,
                       PackedWeights& packed) {
  typename Primitive::primitive_desc pd(desc, attributes(*node.fused_activation()), engine());
  PackedWeights::Packed w = packed.get(pd.weights_desc(), user_weights, node.weights[0]);
  Prepared r{Primitive(pd), src, dst, pd.scratchpad_desc(), w.memory, {}, w.owner};
  if (!bias.is_zero())
    r.bias = dnnl::memory(bias, engine(), const_cast<void*>(node.weights[1].data()));
  return r;
}

// y = x @ kernel + bias over the last axis: one matmul of (rows, in) by (in, out).
std::optional<Prepared> prepare_dense(const Node& node, const Tensor& x, PackedWeights& packed) {
  const Tensor& kernel = node.weights[0];
  const int64_t in = kernel.dim(0), out = kernel.dim(1), rows = x.size() / in;
  auto src = f32_desc({rows, in}, {in, 1}), w = f32_desc({in, out}, {out, 1}),
       dst = f32_desc({rows, out}, {out, 1});
  dnnl::memory::desc bias =
      node.get<DenseParams>().has_bias ? f32_desc({1, out}, {out, 1}) : dnnl::memory::desc();
  return make_prepared<dnnl::matmul>({src, any_layout(w), bias, dst}, node, src, dst, w, bias,
                                     packed);
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

// Conv, depthwise or transposed conv; nothing when oneDNN cannot run this case.
std::optional<Prepared> prepare_conv_family(const Node& node, const Tensor& x, const Shape& y_shape,
                                            PackedWeights& packed) {
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  if (spatial < 1 || spatial > 3 || x.rank() != static_cast<int>(spatial) + 2) return std::nullopt;
  const bool transpose = node.kind == OpKind::conv_transpose;
  const Shape& ks = node.weights[0].shape();
  dims strides(spatial), dilates(spatial), pad_l(spatial), pad_r(spatial), read(spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x.dim(static_cast<int>(i) + 1), out = y_shape[i + 1], k = ks[i];
    const int64_t s = i < p.strides.size() ? p.strides[i] : 1,
                  d = i < p.dilation.size() ? p.dilation[i] : 1;
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
    if (pad_l[i] < 0 || pad_r[i] < 0) return std::nullopt;  // oneDNN wants non-negative padding
  }
  const int64_t cin = x.dim(-1), cout = y_shape.back();
  auto src = channels_last(x.shape(), read), dst = channels_last(y_shape),
       w = conv_weights(node, cin, cout);
  dnnl::memory::desc bias = p.has_bias ? f32_desc({cout}, {1}) : dnnl::memory::desc();
  const auto prop = dnnl::prop_kind::forward_inference;
  if (transpose)
    return make_prepared<dnnl::deconvolution_forward>(
        {prop, dnnl::algorithm::deconvolution_direct, src, any_layout(w), bias, dst, strides,
         dilates, pad_l, pad_r},
        node, src, dst, w, bias, packed);
  return make_prepared<dnnl::convolution_forward>(
      {prop, dnnl::algorithm::convolution_direct, src, any_layout(w), bias, dst, strides, dilates,
       pad_l, pad_r},
      node, src, dst, w, bias, packed);
}

// Our threaded kernels for the ops oneDNN does not run; false leaves the node to the reference.
bool run_fast(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  switch (node.kind) {
    case OpKind::elementwise:
      return run_merge(node, inputs, y);
    case OpKind::concat:
      return run_concat_fast(node, inputs, y);
    case OpKind::pool:
      return inputs.size() == 1 && run_pool_fast(node, inputs[0], y);
    case OpKind::global_pool:
      return inputs.size() == 1 && run_global_pool_fast(node, inputs[0], y);
    case OpKind::pad:
    case OpKind::slice:
      return inputs.size() == 1 && run_pad_crop_fast(node, inputs[0], y);
    case OpKind::axis_activation:
      return inputs.size() == 1 && run_softmax_fast(node, inputs[0], y);
    default:
      return false;
  }
}

bool has_onednn_kernel(OpKind kind) {
  return kind == OpKind::dense || kind == OpKind::conv || kind == OpKind::depthwise_conv ||
         kind == OpKind::conv_transpose;
}

}  // namespace

struct NodeRunner::Impl {
  explicit Impl(const Node& n, int rank) : node(n), input_rank(rank) {}
  const Node& node;
  // The first input's rank at compile time (-1 when not given): says, for profiles, whether
  // softmax runs our kernel (its axes must be the trailing ones).
  int input_rank;
  // False when compile time showed oneDNN has no implementation for this node.
  bool onednn = false;
  std::mutex mutex;
  // Per input shape; nullptr records that oneDNN cannot run this shape (padding it cannot
  // express), which the reference kernel then runs.
  // Keyed by the thread count too: oneDNN splits a primitive's work for the count current when
  // it is built, and one built for two threads ran a MobileNet row about 1.3x slower on one
  // (sub-batches side by side run one thread each).
  std::map<std::pair<Shape, int>, std::shared_ptr<const Prepared>> prepared;
  PackedWeights packed;
  // Dense over a few rows on our own kernel (then oneDNN is prepared only for more rows).
  std::unique_ptr<DenseGemv> own;
  // ConvTranspose as a matmul and a gather (the deconvolution primitive only if it refuses).
  std::unique_ptr<ConvTransposeGemm> deconv;

  std::shared_ptr<const Prepared> prepare(const Shape& x_shape, const Shape& y_shape) {
    Tensor x = Tensor::wrap(DType::f32, x_shape, nullptr);
    std::optional<Prepared> p = node.kind == OpKind::dense
                                    ? prepare_dense(node, x, packed)
                                    : prepare_conv_family(node, x, y_shape, packed);
    return p ? std::make_shared<Prepared>(std::move(*p)) : nullptr;
  }

  std::shared_ptr<const Prepared> prepared_for(const Tensor& x, const Shape& y_shape) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::pair<Shape, int> key{x.shape(), max_threads()};
    auto it = prepared.find(key);
    if (it != prepared.end()) return it->second;
    if (prepared.size() >= 16) {  // bound it for callers with ever-changing shapes
      prepared.clear();           // (runs in flight keep theirs alive through shared_ptr)
      packed.clear();
    }
    try {
      return prepared.emplace(key, prepare(x.shape(), y_shape)).first->second;
    } catch (const dnnl::error& e) {
      fail(ErrorCode::internal, node.label(), ": oneDNN refused input shape ",
           shape_to_string(x.shape()), " although it accepted the compiled shape: ", e.what());
    }
  }
};

NodeRunner::NodeRunner(const Node& node, const Shape& input_shape, const Shape& output_shape)
    : impl_(std::make_unique<Impl>(
          node, input_shape.empty() ? -1 : static_cast<int>(input_shape.size()))) {
  if (!has_onednn_kernel(node.kind)) return;
  impl_->onednn = true;
  impl_->own = DenseGemv::for_node(node);
  if (impl_->own) return;
  impl_->deconv = ConvTransposeGemm::for_node(node, input_shape);
  if (impl_->deconv) return;
  // Decided here, at compile time: build the primitive for the model's own shape (batch 1)
  // and fall back to the reference kernel only if oneDNN has no implementation for it.
  Shape x = input_shape, y = output_shape;
  if (x.empty() || y.empty()) return;
  x[0] = y[0] = 1;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] < 0) return;  // unknown dims: oneDNN's reference implementations cover any f32 shape
  for (size_t i = 1; i < y.size(); ++i)
    if (y[i] < 0) return;
  try {
    impl_->prepared.emplace(std::make_pair(x, max_threads()), impl_->prepare(x, y));
  } catch (const dnnl::error&) {
    impl_->onednn = false;
    impl_->prepared.clear();
    impl_->packed.clear();
  }
}
NodeRunner::~NodeRunner() = default;

bool NodeRunner::uses_onednn() const { return impl_->onednn; }

std::string NodeRunner::kernel_name() const {
  const OpKind kind = impl_->node.kind;
  if (impl_->own) return "gemv avx512 / onednn";
  if (impl_->deconv) return "onednn matmul + gather";
  if (impl_->onednn) return "onednn";
  if (kind == OpKind::reshape || kind == OpKind::identity) return "view";
  if (kind == OpKind::activation || kind == OpKind::scale_shift) return "cpu loop";
  // Our threaded kernels, named by what they compute (pooling of other ranks and softmax over
  // other axes run the reference kernel).
  if (kind == OpKind::elementwise) return "cpu merge_broadcast_f32";
  if (kind == OpKind::concat) return "cpu concat_copy";
  if (kind == OpKind::pad || kind == OpKind::slice) return "cpu pad_crop_rows";
  if (kind == OpKind::global_pool) return "cpu global_pool_nhwc_f32";
  if (kind == OpKind::pool) {
    const int rank = static_cast<int>(impl_->node.get<PoolParams>().pool_size.size()) + 2;
    return pool_fast_applies(impl_->node, rank) ? "cpu pool_nhwc_f32" : "reference";
  }
  if (impl_->input_rank > 0 && softmax_fast_applies(impl_->node, impl_->input_rank))
    return "cpu softmax_rows_f32";
  return "reference";
}

bool NodeRunner::run_with_onednn(std::span<const Tensor> inputs, std::span<Tensor> outputs,
                                 std::vector<uint8_t>* scratch) const {
  const Node& node = impl_->node;
  if (!impl_->onednn || inputs.size() != 1 || outputs.size() != 1 ||
      inputs[0].dtype() != DType::f32)
    return false;
  if (impl_->deconv && impl_->deconv->run(inputs[0], outputs[0], scratch)) return true;
  std::shared_ptr<const Prepared> r = impl_->prepared_for(inputs[0], outputs[0].shape());
  if (!r) return false;
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, memory_of(r->src, inputs[0])},
                                             {DNNL_ARG_WEIGHTS, r->weights},
                                             {DNNL_ARG_DST, memory_of(r->dst, outputs[0])}};
  if (r->bias) args.emplace(DNNL_ARG_BIAS, r->bias);
  // The run's scratch (not zeroed: oneDNN writes it); a private one for callers without a run.
  std::vector<uint8_t> own_scratch;
  if (!scratch) scratch = &own_scratch;
  const size_t scratch_bytes = r->scratch.get_size();
  if (scratch->size() < scratch_bytes) scratch->resize(scratch_bytes);
  if (scratch_bytes)
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(r->scratch, engine(), scratch->data()));
  dnnl::stream stream(engine());
  r->primitive.execute(stream, args);
  stream.wait();
  const Activation& act = *node.fused_activation();
  if (!is_plain_relu(act))
    activate(act, outputs[0].data_as<float>(), outputs[0].data_as<float>(), outputs[0].size());
  return true;
}

size_t NodeRunner::packed_weight_copies() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->packed.size() + (impl_->deconv ? impl_->deconv->packed_weight_copies() : 0);
}

void NodeRunner::run(std::span<const Tensor> inputs, std::span<Tensor> outputs,
                     std::vector<uint8_t>* scratch) const {
  if (impl_->own && inputs.size() == 1 && outputs.size() == 1 &&
      impl_->own->run(inputs[0], outputs[0]))
    return;
  if (run_with_onednn(inputs, outputs, scratch)) return;
  if (inputs.size() == 1 && outputs.size() == 1 &&
      run_elementwise_fast(impl_->node, inputs[0], outputs[0]))
    return;
  if (outputs.size() == 1 && run_fast(impl_->node, inputs, outputs[0])) return;
  reference::run_node(impl_->node, inputs, outputs);
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
