// The layout family on the GPU: views (reshape, identity), data movement (transpose, pad, slice,
// upsample, concat), pooling, resize and embedding lookups; recurrent layers are in
// cuda_sequence.cpp. Each kernel computes what its reference kernel computes (layout.cpp,
// pool.cpp, resize.cpp, sequence.cpp), from the concrete shapes of each run.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numbers>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_convert.h"
#include "backends/cuda/cuda_layout_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_sequence.h"
#include "core/check.h"
#include "ops/resize_weights.h"
#include "ops/shape_inference.h"

namespace krt::cuda {

namespace {

// Pooling and resize read their input in the output's dtype (both are the storage dtype).
void expect_same_dtype(const Tensor& x, const Tensor& y, const char* op) {
  if (x.dtype() != y.dtype())
    fail(ErrorCode::internal, "CUDA ", op, ": input dtype ", dtype_name(x.dtype()),
         " differs from output dtype ", dtype_name(y.dtype()));
}

// reshape and identity: the memory plan makes the output a view of the input's bytes, so
// there is nothing to do; were they ever given distinct buffers, the bytes are copied (as
// the reference's run_copy does), converted if the dtypes differ.
class ViewKernel : public CudaKernel {
 public:
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    if (x.data() == y.data() || x.size() == 0) return;
    convert_on_device(x.data(), x.dtype(), y.data(), y.dtype(), x.size(), context.stream());
  }
  std::string describe() const override { return "cuda view (no copy)"; }
};

// transpose, pad, slice and upsample: one output element per thread, mapped to its source.
class GatherKernel : public CudaKernel {
 public:
  explicit GatherKernel(const Node& node) : kind_(node.kind), params_(node.params) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const int rank = x.rank();
    const std::vector<int64_t> xs = row_major_strides(x.shape());
    GatherMap map;
    map.rank = rank;
    for (int a = 0; a < rank; ++a) {
      map.out_dim[a] = y.shape()[a];
      map.div[a] = 1;
      map.shift[a] = 0;
      map.in_dim[a] = x.shape()[a];
      map.in_stride[a] = xs[a];
    }
    switch (kind_) {
      case OpKind::transpose: {
        const auto& perm = std::get<TransposeParams>(params_).perm;
        for (int a = 0; a < rank; ++a)
          map.in_stride[a] = xs[perm[a]];  // y axis a is x axis perm[a]
        break;
      }
      case OpKind::pad: {
        const auto& p = std::get<PadParams>(params_);
        for (int a = 0; a < rank; ++a) map.shift[a] = p.before[a];
        map.check_bounds = true;
        map.fill = p.value;
        break;
      }
      case OpKind::slice: {
        const auto& p = std::get<SliceParams>(params_);
        for (int a = 0; a < rank; ++a) map.shift[a] = -p.crop_before[a];
        break;
      }
      case OpKind::upsample: {
        const auto& f = std::get<UpsampleParams>(params_).factors;
        for (int a = 1; a + 1 < rank; ++a) map.div[a] = f[a - 1];
        break;
      }
      default:
        fail(ErrorCode::internal, "CUDA gather kernel for op ", op_name(kind_));
    }
    launch_gather(map, x.data(), x.dtype(), y.data(), y.dtype(), y.size(), context.stream());
  }
  std::string describe() const override { return str_cat("cuda ", op_name(kind_), " (gather)"); }

 private:
  OpKind kind_;
  OpParams params_;
};

// Row-major concat: for every index of the axes before `axis`, the inputs' blocks follow each
// other in the output; one launch per input.
class ConcatKernel : public CudaKernel {
 public:
  explicit ConcatKernel(const Node& node) : axis_(node.get<ConcatParams>().axis) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    Tensor& y = outputs[0];
    int64_t outer = 1;
    for (int64_t a = 0; a < axis_; ++a) outer *= y.shape()[a];
    if (outer == 0 || y.size() == 0) return;
    const int64_t out_block = y.size() / outer;
    int64_t at = 0;
    for (const Tensor& t : inputs) {
      const int64_t block = t.size() / outer;
      launch_concat_part(t.data(), t.dtype(), y.data(), y.dtype(), outer, block, out_block, at,
                         context.stream());
      at += block;
    }
  }
  std::string describe() const override { return "cuda concat"; }

 private:
  int64_t axis_;
};

class PoolKernel : public CudaKernel {
 public:
  explicit PoolKernel(const Node& node) : p_(node.get<PoolParams>()) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    PoolGeometry g;
    g.batch = x.shape()[0];
    g.channels = x.shape().back();
    for (size_t a = 0; a < p_.pool_size.size(); ++a) {
      g.in[a] = x.shape()[a + 1];
      g.out[a] = y.shape()[a + 1];
      g.window[a] = p_.pool_size[a];
      g.stride[a] = a < p_.strides.size() ? p_.strides[a]
                                          : p_.pool_size[a];  // Keras's default: the pool size
      g.pad[a] = conv_pad_before(g.in[a], g.window[a], g.stride[a], 1, p_.padding);
    }
    g.average = p_.kind == PoolKind::average;
    expect_same_dtype(x, y, "pool");
    launch_pool(g, x.data(), y.data(), y.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda pool"; }

 private:
  PoolParams p_;
};

// Taps of every output position along one axis: first[j], count[j], and count[j] weights from
// weights[j * max_taps]. An axis whose size does not change is left untouched (one tap of 1),
// as jax (and the reference) skip it.
struct HostTaps {
  std::vector<int> first, count;
  std::vector<float> weights;
  int max_taps = 1;
};

HostTaps resize_taps(ResizeMethod method, int64_t in, int64_t out, bool antialias) {
  std::vector<std::vector<float>> w_of(out);
  HostTaps taps;
  taps.first.assign(out, 0);
  taps.count.assign(out, 0);
  if (in == out) {
    for (int64_t j = 0; j < out; ++j) {
      taps.first[j] = static_cast<int>(j);
      w_of[j] = {1.f};
    }
  } else {
    std::vector<ResizeTaps> matrix = resize_weight_matrix(method, in, out, antialias);
    for (int64_t j = 0; j < out; ++j) {
      taps.first[j] = static_cast<int>(matrix[j].first);
      w_of[j] = std::move(matrix[j].weights);
    }
  }
  for (int64_t j = 0; j < out; ++j) {
    taps.count[j] = static_cast<int>(w_of[j].size());
    taps.max_taps = std::max(taps.max_taps, taps.count[j]);
  }
  taps.weights.assign(static_cast<size_t>(out * taps.max_taps), 0.f);
  for (int64_t j = 0; j < out; ++j)
    std::copy(w_of[j].begin(), w_of[j].end(), taps.weights.begin() + j * taps.max_taps);
  return taps;
}

class ResizeKernel : public CudaKernel {
 public:
  explicit ResizeKernel(const Node& node) : p_(node.get<ResizeParams>()) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    ResizeGeometry g;
    g.batch = x.shape()[0];
    g.channels = x.shape().back();
    g.spatial = x.rank() - 2;
    Shape key;
    for (int a = 0; a < g.spatial; ++a) {
      g.in[a] = x.shape()[a + 1];
      g.out[a] = y.shape()[a + 1];
      key.push_back(g.in[a]);
      key.push_back(g.out[a]);
    }
    expect_same_dtype(x, y, "resize");
    const Tables& tables = tables_for(key, g, context.device());
    for (int a = 0; a < g.spatial; ++a) g.axis[a] = tables.axis[a];
    launch_resize(g, x.data(), y.data(), y.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda resize"; }

 private:
  struct Tables {
    std::shared_ptr<void> memory;
    ResizeAxis axis[3];
  };

  // The taps of a shape, uploaded on its first (eager, never recorded) run and kept for the
  // kernel's lifetime: recorded graphs refer to them, and runs of other threads share them.
  const Tables& tables_for(const Shape& key, const ResizeGeometry& g, int device) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tables_.find(key);
    if (it != tables_.end()) return it->second;
    HostTaps taps[3];
    size_t bytes = 0;
    std::vector<size_t> offsets;
    for (int a = 0; a < g.spatial; ++a) {
      taps[a] = resize_taps(p_.method, g.in[a], g.out[a], p_.antialias);
      for (size_t part : {taps[a].first.size() * sizeof(int), taps[a].count.size() * sizeof(int),
                          taps[a].weights.size() * sizeof(float)}) {
        offsets.push_back(bytes);
        bytes += (part + 255) / 256 * 256;
      }
    }
    std::vector<char> host(bytes, 0);
    Tables t;
    t.memory = device_alloc(bytes, device);
    char* base = static_cast<char*>(t.memory.get());
    for (int a = 0; a < g.spatial; ++a) {
      const size_t* off = &offsets[static_cast<size_t>(a) * 3];
      std::copy_n(reinterpret_cast<const char*>(taps[a].first.data()),
                  taps[a].first.size() * sizeof(int), &host[off[0]]);
      std::copy_n(reinterpret_cast<const char*>(taps[a].count.data()),
                  taps[a].count.size() * sizeof(int), &host[off[1]]);
      std::copy_n(reinterpret_cast<const char*>(taps[a].weights.data()),
                  taps[a].weights.size() * sizeof(float), &host[off[2]]);
      t.axis[a].first = reinterpret_cast<const int*>(base + off[0]);
      t.axis[a].count = reinterpret_cast<const int*>(base + off[1]);
      t.axis[a].weight = reinterpret_cast<const float*>(base + off[2]);
      t.axis[a].max_taps = taps[a].max_taps;
    }
    if (bytes)
      check_cuda(cudaMemcpy(t.memory.get(), host.data(), bytes, cudaMemcpyHostToDevice),
                 "cudaMemcpy (resize taps)");
    return tables_.emplace(key, std::move(t)).first->second;
  }

  ResizeParams p_;
  mutable std::mutex mutex_;
  mutable std::map<Shape, Tables> tables_;  // std::map: references stay valid as it grows
};

class EmbeddingKernel : public CudaKernel {
 public:
  EmbeddingKernel(const Node& node, const CompileOptions& options)
      : rows_(node.weights[0].shape()[0]),
        dim_(node.weights[0].shape()[1]),
        dtype_(storage_dtype(options.precision)) {
    table_ = upload_as(node.weights[0], dtype_, options.device.index);
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& ids = inputs[0];
    Tensor& y = outputs[0];
    if (y.dtype() != dtype_)
      fail(ErrorCode::internal, "CUDA embedding: output dtype ", dtype_name(y.dtype()),
           ", table uploaded as ", dtype_name(dtype_));
    launch_embedding(ids.data(), ids.dtype(), table_.get(), rows_, dim_, y.data(), y.dtype(),
                     ids.size(), context.stream());
  }
  std::string describe() const override { return "cuda embedding"; }

  static DType storage_dtype(Precision precision) {
    return precision == Precision::fp16   ? DType::f16
           : precision == Precision::bf16 ? DType::bf16
                                          : DType::f32;
  }

 private:
  int64_t rows_, dim_;
  DType dtype_;
  std::shared_ptr<void> table_;
};

bool moves_data(OpKind kind) {
  switch (kind) {
    case OpKind::reshape:
    case OpKind::identity:
    case OpKind::transpose:
    case OpKind::pad:
    case OpKind::slice:
    case OpKind::upsample:
    case OpKind::concat:
      return true;
    default:
      return false;
  }
}

// Whether `v` reaches the ids input of an Embedding through data movement alone. Embedding ids
// stay f32 on the device (placement keeps the Embedding's input f32), but the values before it
// would be f16/bf16, rounding ids above 2048 (and a reshape view would reinterpret f16 bytes as
// f32). Such nodes run on the host in reduced precision, so the ids reach the GPU as f32.
bool feeds_embedding_ids(const Graph& graph, ValueId v, int depth = 0) {
  if (depth > 64) return true;  // be conservative on absurdly long chains
  for (const Node& n : graph.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] != v) continue;
      if (n.kind == OpKind::embedding && i == 0) return true;
      if (moves_data(n.kind))
        for (ValueId out : n.outputs)
          if (feeds_embedding_ids(graph, out, depth + 1)) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;) s[a - 1] = s[a] * shape[a];
  return s;
}

Support rank_at_most(const Node& node, const Graph& graph, size_t rank) {
  for (ValueId v : node.inputs)
    if (graph.values[v].shape.size() > rank)
      return Support::no(str_cat(op_name(node.kind), " of rank ", graph.values[v].shape.size(),
                                 " (the CUDA kernel takes up to ", rank, ")"));
  for (ValueId v : node.outputs)
    if (graph.values[v].shape.size() > rank)
      return Support::no(str_cat(op_name(node.kind), " output of rank ",
                                 graph.values[v].shape.size(), " (the CUDA kernel takes up to ",
                                 rank, ")"));
  return Support::yes();
}

Support layout_support(const Node& node, const Graph& graph, const CompileOptions& options) {
  if (moves_data(node.kind) &&
      (options.precision == Precision::fp16 || options.precision == Precision::bf16))
    for (ValueId out : node.outputs)
      if (feeds_embedding_ids(graph, out))
        return Support::no(
            str_cat(op_name(node.kind), " carries Embedding ids, which must stay float32 (",
                    precision_name(options.precision), " would round ids above 2048)"));
  if (node.kind != OpKind::concat && node.kind != OpKind::recurrent && node.inputs.size() != 1)
    return Support::no(str_cat(op_name(node.kind), " with ", node.inputs.size(), " inputs"));
  if (node.kind != OpKind::recurrent && node.outputs.size() != 1)
    return Support::no(str_cat(op_name(node.kind), " with ", node.outputs.size(), " outputs"));
  switch (node.kind) {
    case OpKind::reshape:
    case OpKind::identity:
      return Support::yes();
    case OpKind::transpose:
    case OpKind::pad:
    case OpKind::slice:
    case OpKind::upsample:
      return rank_at_most(node, graph, kMaxLayoutRank);
    case OpKind::concat:
      if (node.inputs.empty()) return Support::no("concat of no inputs");
      return Support::yes();
    case OpKind::pool: {
      const auto& p = node.get<PoolParams>();
      if (p.pool_size.empty() || p.pool_size.size() > 3)
        return Support::no(str_cat("pooling over ", p.pool_size.size(), " spatial axes"));
      return Support::yes();
    }
    case OpKind::resize: {
      const size_t rank = graph.values[node.inputs[0]].shape.size();
      if (rank < 3 || rank > 5)
        return Support::no(
            str_cat("resize of rank ", rank, " (the CUDA kernel takes 1-3 spatial axes)"));
      return Support::yes();
    }
    case OpKind::embedding:
      if (node.weights.empty() || node.weights[0].rank() != 2)
        return Support::no("embedding table is not 2-D");
      return Support::yes();
    case OpKind::recurrent:
      return recurrent_support(node, graph, options);
    default:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not in the layout family"));
}

std::unique_ptr<NodeKernel> make_layout_kernel(const Node& node, const Graph& graph,
                                               const CompileOptions& options) {
  switch (node.kind) {
    case OpKind::reshape:
    case OpKind::identity:
      return std::make_unique<ViewKernel>();
    case OpKind::transpose:
    case OpKind::pad:
    case OpKind::slice:
    case OpKind::upsample:
      return std::make_unique<GatherKernel>(node);
    case OpKind::concat:
      return std::make_unique<ConcatKernel>(node);
    case OpKind::pool:
      return std::make_unique<PoolKernel>(node);
    case OpKind::resize:
      return std::make_unique<ResizeKernel>(node);
    case OpKind::embedding:
      return std::make_unique<EmbeddingKernel>(node, options);
    case OpKind::recurrent:
      return make_recurrent_kernel(node, graph, options);
    default:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
