// The reduction family on the GPU: reduce, axis activations (softmax, log_softmax, sparsemax,
// glu), masked softmax, l2_normalize, normalize (layer/group/RMS/L2), global pooling and
// additive attention scores, with the reference kernels' semantics (src/backends/reference/
// elementwise.cpp, attention.cpp, normalize.cpp, pool.cpp, sequence.cpp). Each op describes its
// tensor as groups of members (cuda_reduction_kernels.h); weights are uploaded once as f32.
#include <algorithm>

#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_reduction_kernels.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

// Sparsemax compares every member with every other: longer groups stay on the cpu.
constexpr int64_t kSparsemaxMaxMembers = 8192;

std::vector<int64_t> dense_strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Strides of a tensor broadcast against a same-rank one: 0 where its dim is 1.
std::vector<int64_t> broadcast_strides(const Shape& shape) {
  std::vector<int64_t> s = dense_strides(shape);
  for (size_t a = 0; a < shape.size(); ++a)
    if (shape[a] == 1) s[a] = 0;
  return s;
}

// One axis of the walk over a tensor: its size, whether it is reduced, and each operand's stride.
struct WalkDim {
  int64_t size = 1;
  bool reduced = false;
  int64_t stride[kGroupOperands] = {};
};

GroupMap group_map(const std::vector<WalkDim>& walk) {
  std::vector<WalkDim> kept, red;
  for (const WalkDim& d : walk) {
    if (d.size == 1) continue;  // contributes nothing to either enumeration
    std::vector<WalkDim>& list = d.reduced ? red : kept;
    // Row-major over a class's axes: the previous one merges with this one where every operand
    // steps over both as over one axis.
    bool join = !list.empty();
    for (int k = 0; join && k < kGroupOperands; ++k)
      join = list.back().stride[k] == d.stride[k] * d.size;
    if (join) {
      list.back().size *= d.size;
      for (int k = 0; k < kGroupOperands; ++k) list.back().stride[k] = d.stride[k];
    } else {
      list.push_back(d);
    }
  }
  if (kept.size() > static_cast<size_t>(kGroupMaxDims) ||
      red.size() > static_cast<size_t>(kGroupMaxDims))
    fail(ErrorCode::internal, "CUDA reduction: ", kept.size(), " kept and ", red.size(),
         " reduced axes (at most ", kGroupMaxDims, " each)");
  GroupMap m;
  m.kept_rank = static_cast<int>(kept.size());
  m.red_rank = static_cast<int>(red.size());
  for (size_t d = 0; d < kept.size(); ++d) {
    m.kept_shape[d] = kept[d].size;
    m.groups *= kept[d].size;
    for (int k = 0; k < kGroupOperands; ++k) m.kept_stride[k][d] = kept[d].stride[k];
  }
  for (size_t d = 0; d < red.size(); ++d) {
    m.red_shape[d] = red[d].size;
    m.members *= red[d].size;
    for (int k = 0; k < kGroupOperands; ++k) m.red_stride[k][d] = red[d].stride[k];
  }
  return m;
}

bool has_axis(const std::vector<int64_t>& axes, size_t a, size_t rank) {
  for (int64_t r : axes)
    if ((r < 0 ? r + static_cast<int64_t>(rank) : r) == static_cast<int64_t>(a)) return true;
  return false;
}

// x (dense) reduced over `axes`; operand 1 walks `aux` strides when given (a broadcast mask).
GroupMap axes_map(const Shape& shape, const std::vector<int64_t>& axes,
                  const std::vector<int64_t>* aux = nullptr) {
  const auto xs = dense_strides(shape);
  std::vector<WalkDim> walk;
  for (size_t a = 0; a < shape.size(); ++a) {
    WalkDim d;
    d.size = shape[a];
    d.reduced = has_axis(axes, a, shape.size());
    d.stride[0] = xs[a];
    if (aux) d.stride[1] = (*aux)[a];
    walk.push_back(d);
  }
  return group_map(walk);
}

void expect_dtype(const Tensor& t, DType dtype, const char* op) {
  if (t.dtype() != dtype)
    fail(ErrorCode::internal, "CUDA ", op, ": tensor dtype ", dtype_name(t.dtype()),
         " differs from ", dtype_name(dtype));
}

ReduceOp reduce_op(ReduceKind kind) {
  switch (kind) {
    case ReduceKind::any:
      return ReduceOp::any;
    case ReduceKind::all:
      return ReduceOp::all;
    case ReduceKind::sum:
      return ReduceOp::sum;
    case ReduceKind::mean:
      return ReduceOp::mean;
    case ReduceKind::max:
      return ReduceOp::max;
    case ReduceKind::min:
      return ReduceOp::min;
    case ReduceKind::prod:
      return ReduceOp::prod;
    case ReduceKind::argmax:
      return ReduceOp::argmax;
    case ReduceKind::argmin:
      return ReduceOp::argmin;
  }
  fail(ErrorCode::internal, "CUDA reduce: no kernel for this reduction");
}

class ReduceKernel : public CudaKernel {
 public:
  explicit ReduceKernel(const ReduceParams& p) : op_(reduce_op(p.kind)), axes_(p.axes) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_dtype(outputs[0], x.dtype(), "reduce");
    launch_reduce(x.data(), outputs[0].data(), axes_map(x.shape(), axes_), op_, x.dtype(),
                  context.stream());
  }
  std::string describe() const override { return "cuda reduce"; }

 private:
  ReduceOp op_;
  std::vector<int64_t> axes_;
};

class AxisActivationKernel : public CudaKernel {
 public:
  explicit AxisActivationKernel(const AxisActivationParams& p) : p_(p) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    expect_dtype(y, x.dtype(), "axis activation");
    switch (p_.kind) {
      case AxisActivationKind::glu: {
        const int64_t axis = p_.axes[0] < 0 ? p_.axes[0] + x.rank() : p_.axes[0];
        int64_t outer = 1, inner = 1;
        for (int64_t a = 0; a < axis; ++a) outer *= x.shape()[a];
        for (int64_t a = axis + 1; a < x.rank(); ++a) inner *= x.shape()[a];
        launch_glu(x.data(), y.data(), outer, x.shape()[axis] / 2 * inner, x.dtype(),
                   context.stream());
        return;
      }
      case AxisActivationKind::sparsemax:
        launch_sparsemax(x.data(), y.data(), axes_map(x.shape(), p_.axes), x.dtype(),
                         context.stream());
        return;
      case AxisActivationKind::softmax:
      case AxisActivationKind::log_softmax: {
        SoftmaxArgs args;
        args.log = p_.kind == AxisActivationKind::log_softmax;
        launch_softmax(x.data(), nullptr, y.data(), axes_map(x.shape(), p_.axes), args, x.dtype(),
                       context.stream());
        return;
      }
    }
  }
  std::string describe() const override { return "cuda axis activation"; }

 private:
  AxisActivationParams p_;
};

class MaskedSoftmaxKernel : public CudaKernel {
 public:
  explicit MaskedSoftmaxKernel(const MaskedSoftmaxParams& p) : p_(p) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_dtype(outputs[0], x.dtype(), "masked softmax");
    SoftmaxArgs args;
    args.causal = p_.causal;
    args.replace_fill = p_.fill == MaskFill::replace_large_negative;
    args.zero_masked = p_.zero_masked;
    args.cols = x.rank() >= 1 ? x.shape()[x.rank() - 1] : 1;
    args.rows = x.rank() >= 2 ? x.shape()[x.rank() - 2] : 1;
    const void* mask = nullptr;
    GroupMap map;
    if (inputs.size() > 1) {
      expect_dtype(inputs[1], x.dtype(), "masked softmax mask");
      const auto ms = broadcast_strides(inputs[1].shape());
      map = axes_map(x.shape(), p_.axes, &ms);
      mask = inputs[1].data();
    } else {
      map = axes_map(x.shape(), p_.axes);
    }
    launch_softmax(x.data(), mask, outputs[0].data(), map, args, x.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda masked softmax"; }

 private:
  MaskedSoftmaxParams p_;
};

class L2NormalizeKernel : public CudaKernel {
 public:
  explicit L2NormalizeKernel(const L2NormalizeParams& p) : axes_(p.axes) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_dtype(outputs[0], x.dtype(), "l2_normalize");
    launch_normalize(x.data(), outputs[0].data(), nullptr, nullptr, axes_map(x.shape(), axes_),
                     NormMode::l2_unit, 0.f, x.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda l2_normalize"; }

 private:
  std::vector<int64_t> axes_;
};

NormMode norm_mode(NormalizeKind kind) {
  switch (kind) {
    case NormalizeKind::moments:
      return NormMode::moments;
    case NormalizeKind::centered_rms:
      return NormMode::centered_rms;
    case NormalizeKind::rms:
      return NormMode::rms;
    case NormalizeKind::l2:
      return NormMode::l2;
  }
  return NormMode::moments;
}

class NormalizeKernel : public CudaKernel {
 public:
  NormalizeKernel(const Node& node, int device) : p_(node.get<NormalizeParams>()) {
    size_t w = 0;
    if (p_.has_scale) {
      scale_shape_ = node.weights[w].shape();
      scale_ = upload_as(node.weights[w++], DType::f32, device);
    }
    if (p_.has_shift) {
      shift_shape_ = node.weights[w].shape();
      shift_ = upload_as(node.weights[w++], DType::f32, device);
    }
  }
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_dtype(outputs[0], x.dtype(), "normalize");
    const Shape& shape = x.shape();
    const auto xs = dense_strides(shape);
    const auto ss =
        scale_ ? broadcast_strides(scale_shape_) : std::vector<int64_t>(shape.size(), 0);
    const auto ts =
        shift_ ? broadcast_strides(shift_shape_) : std::vector<int64_t>(shape.size(), 0);
    std::vector<WalkDim> walk;
    for (size_t a = 0; a < shape.size(); ++a) {
      if (static_cast<int64_t>(a) == p_.group_axis) {
        // The grouped axis becomes (groups: kept, channels per group: reduced).
        const int64_t inner = shape[a] / p_.groups;
        walk.push_back({p_.groups, false, {xs[a] * inner, ss[a] * inner, ts[a] * inner}});
        walk.push_back({inner, true, {xs[a], ss[a], ts[a]}});
      } else {
        walk.push_back({shape[a], has_axis(p_.axes, a, shape.size()), {xs[a], ss[a], ts[a]}});
      }
    }
    launch_normalize(x.data(), outputs[0].data(), static_cast<const float*>(scale_.get()),
                     static_cast<const float*>(shift_.get()), group_map(walk), norm_mode(p_.kind),
                     p_.epsilon, x.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda normalize"; }

 private:
  NormalizeParams p_;
  Shape scale_shape_, shift_shape_;
  std::shared_ptr<void> scale_, shift_;
};

class GlobalPoolKernel : public CudaKernel {
 public:
  explicit GlobalPoolKernel(const GlobalPoolParams& p) : max_(p.kind == PoolKind::max) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_dtype(outputs[0], x.dtype(), "global_pool");
    const int64_t batch = x.dim(0), channels = x.dim(-1);
    const int64_t positions = batch * channels > 0 ? x.size() / (batch * channels) : 0;
    launch_global_pool(x.data(), outputs[0].data(), batch, positions, channels, max_, x.dtype(),
                       context.stream());
  }
  std::string describe() const override { return "cuda global_pool"; }

 private:
  bool max_;
};

class AdditiveScoreKernel : public CudaKernel {
 public:
  AdditiveScoreKernel(const Node& node, int device) : p_(node.get<AdditiveScoreParams>()) {
    if (p_.has_weight) w_ = upload_as(node.weights[0], DType::f32, device);
  }
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& q = inputs[0];
    const Tensor& k = inputs[1];
    expect_dtype(k, q.dtype(), "additive_score");
    expect_dtype(outputs[0], q.dtype(), "additive_score");
    const int r = q.rank();
    const int64_t tq = q.shape()[r - 2], tv = k.shape()[r - 2], d = q.shape()[r - 1];
    const int64_t batch = q.size() / std::max<int64_t>(tq * d, 1);
    launch_additive_score(q.data(), k.data(), outputs[0].data(),
                          static_cast<const float*>(w_.get()), batch, tq, tv, d, p_.inner_scale,
                          p_.outer_scale, q.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda additive_score"; }

 private:
  AdditiveScoreParams p_;
  std::shared_ptr<void> w_;
};

Support rank_at_most(const Node& node, const Shape& shape, size_t most) {
  if (shape.size() > most)
    return Support::no(
        str_cat(op_name(node.kind), " of rank ", shape.size(), " (at most ", most, ")"));
  return Support::yes();
}

}  // namespace

Support reduction_support(const Node& node, const Graph& graph, const CompileOptions& options) {
  if (node.inputs.empty()) return Support::no("no input");
  const Shape& in = graph.values[node.inputs[0]].shape;
  const size_t most = kGroupMaxDims;
  switch (node.kind) {
    case OpKind::reduce: {
      const auto& p = node.get<ReduceParams>();
      // An index above 2048 (256) is not exact in f16 (bf16): arg reductions stay f32 there.
      if ((p.kind == ReduceKind::argmax || p.kind == ReduceKind::argmin) &&
          (options.precision == Precision::fp16 || options.precision == Precision::bf16)) {
        const int64_t limit = options.precision == Precision::fp16 ? 2048 : 256;
        const int64_t axis = p.axes.empty() ? 0 : p.axes[0];
        if (axis < 0 || static_cast<size_t>(axis) >= in.size() || in[axis] < 0 || in[axis] > limit)
          return Support::no(str_cat("argmax/argmin over an axis of more than ", limit,
                                     " entries: ", precision_name(options.precision),
                                     " cannot hold every index exactly"));
      }
      return rank_at_most(node, in, most);
    }
    case OpKind::l2_normalize:
    case OpKind::masked_softmax:
      return rank_at_most(node, in, most);
    case OpKind::axis_activation: {
      const auto& p = node.get<AxisActivationParams>();
      if (p.kind == AxisActivationKind::glu) return Support::yes();
      if (p.kind == AxisActivationKind::sparsemax) {
        int64_t members = 1;
        for (size_t a = 0; a < in.size(); ++a)
          if (has_axis(p.axes, a, in.size()))
            members = in[a] < 0 ? -1 : (members < 0 ? -1 : members * in[a]);
        if (members < 0) return Support::no("sparsemax over an axis of unknown size");
        if (members > kSparsemaxMaxMembers)
          return Support::no(str_cat("sparsemax over ", members,
                                     " values (the CUDA kernel takes at most ",
                                     kSparsemaxMaxMembers, ")"));
      }
      return rank_at_most(node, in, most);
    }
    case OpKind::normalize: {
      const auto& p = node.get<NormalizeParams>();
      const size_t expected = (p.has_scale ? 1 : 0) + (p.has_shift ? 1 : 0);
      if (node.weights.size() != expected) return Support::no("normalize with unexpected weights");
      if (p.group_axis >= 0 && p.groups <= 0) return Support::no("normalize with no groups");
      return rank_at_most(node, in, p.group_axis >= 0 ? most - 1 : most);
    }
    case OpKind::global_pool:
      return Support::yes();
    case OpKind::additive_score: {
      if (node.inputs.size() != 2) return Support::no("additive_score without query and key");
      if (node.get<AdditiveScoreParams>().has_weight && node.weights.empty())
        return Support::no("additive_score without its scale");
      return Support::yes();
    }
    default:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not a reduction op"));
}

std::unique_ptr<NodeKernel> make_reduction_kernel(const Node& node, const Graph&,
                                                  const CompileOptions& options) {
  const int device = options.device.index;
  switch (node.kind) {
    case OpKind::reduce:
      return std::make_unique<ReduceKernel>(node.get<ReduceParams>());
    case OpKind::axis_activation:
      return std::make_unique<AxisActivationKernel>(node.get<AxisActivationParams>());
    case OpKind::masked_softmax:
      return std::make_unique<MaskedSoftmaxKernel>(node.get<MaskedSoftmaxParams>());
    case OpKind::l2_normalize:
      return std::make_unique<L2NormalizeKernel>(node.get<L2NormalizeParams>());
    case OpKind::normalize:
      return std::make_unique<NormalizeKernel>(node, device);
    case OpKind::global_pool:
      return std::make_unique<GlobalPoolKernel>(node.get<GlobalPoolParams>());
    case OpKind::additive_score:
      return std::make_unique<AdditiveScoreKernel>(node, device);
    default:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA reduction kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
