// The recorded tensor ops on the GPU (Keras op nodes, TFOpLambda): unary math, broadcasting
// binary operators and where, gather (numpy.take), Python slicing, and tf.shape. Each computes
// what its reference kernel computes (reference/tensor_ops.cpp) from the concrete shapes of
// each run. Constant operands written in the file are uploaded once, as f32.

#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_layout_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_tensor_ops_kernels.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

class UnaryKernel : public CudaKernel {
 public:
  explicit UnaryKernel(const Node& node) : p_(node.get<UnaryParams>()) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    launch_unary(p_, inputs[0].data(), outputs[0].data(), outputs[0].size(), outputs[0].dtype(),
                 context.stream());
  }
  std::string describe() const override { return "cuda unary"; }

 private:
  UnaryParams p_;
};

// binary and where: operands from the inputs in order, except the constants (weights).
class BroadcastKernel : public CudaKernel {
 public:
  BroadcastKernel(const Node& node, const CompileOptions& options)
      : kind_(node.kind),
        count_(node.kind == OpKind::where ? 3 : 2),
        constants_(node.kind == OpKind::where ? node.get<WhereParams>().constant_operands
                                              : node.get<BinaryParams>().constant_operands),
        binary_(node.kind == OpKind::binary ? node.get<BinaryParams>().kind : BinaryKind::add) {
    size_t next_weight = 0;
    for (int k = 0; k < count_; ++k)
      if (constants_ & (1u << k)) {
        const Tensor& w = node.weights[next_weight++];
        constant_shapes_[k] = w.shape();
        constants_data_[k] = upload_as(w, DType::f32, options.device.index);
      }
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    Tensor& y = outputs[0];
    BroadcastMap map;
    map.rank = y.rank();
    map.operands = count_;
    for (int a = 0; a < map.rank; ++a) map.out_dim[a] = y.shape()[a];
    size_t next_input = 0;
    for (int k = 0; k < count_; ++k) {
      const bool constant = constants_ & (1u << k);
      const Shape& shape = constant ? constant_shapes_[k] : inputs[next_input].shape();
      BroadcastOperand& op = map.op[k];
      op.data = constant ? constants_data_[k].get() : inputs[next_input].data();
      op.f32 = constant || inputs[next_input].dtype() == DType::f32;
      if (!constant) {
        if (!op.f32 && inputs[next_input].dtype() != y.dtype())
          fail(ErrorCode::internal, "CUDA ", op_name(kind_), ": operand dtype ",
               dtype_name(inputs[next_input].dtype()), " differs from the output's");
        ++next_input;
      }
      // numpy broadcasting: shapes line up from the right; a size-1 axis repeats.
      const std::vector<int64_t> st = row_major_strides(shape);
      const int lead = map.rank - static_cast<int>(shape.size());
      for (size_t a = 0; a < shape.size(); ++a)
        op.stride[lead + static_cast<int>(a)] = shape[a] == 1 ? 0 : st[a];
    }
    if (kind_ == OpKind::where)
      launch_where(map, y.data(), y.size(), y.dtype(), context.stream());
    else
      launch_binary(binary_, map, y.data(), y.size(), y.dtype(), context.stream());
  }
  std::string describe() const override { return str_cat("cuda ", op_name(kind_), " (broadcast)"); }

 private:
  OpKind kind_;
  int count_;
  uint32_t constants_;
  BinaryKind binary_;
  Shape constant_shapes_[kMaxBroadcastOperands];
  std::shared_ptr<void> constants_data_[kMaxBroadcastOperands];
};

class TakeKernel : public CudaKernel {
 public:
  // Constant indices were checked against the axis at load (shape inference).
  TakeKernel(const Node& node, const CompileOptions& options)
      : axis_(node.get<GatherParams>().axis) {
    if (node.inputs.size() == 1) {
      indices_ = upload_as(node.weights[0], DType::f32, options.device.index);
      count_ = node.weights[0].size();
    }
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const int64_t dim = x.dim(static_cast<int>(axis_));
    int64_t outer = 1, inner = 1;
    for (int a = 0; a < axis_; ++a) outer *= x.dim(a);
    for (int a = static_cast<int>(axis_) + 1; a < x.rank(); ++a) inner *= x.dim(a);
    const bool from_input = inputs.size() == 2;
    const void* idx = from_input ? inputs[1].data() : indices_.get();
    const bool idx_f32 = !from_input || inputs[1].dtype() == DType::f32;
    const int64_t count = from_input ? inputs[1].size() : count_;
    launch_take(x.data(), idx, idx_f32, outputs[0].data(), outer, dim, count, inner, x.dtype(),
                context.stream());
  }
  std::string describe() const override { return "cuda gather (take)"; }

 private:
  int64_t axis_;
  std::shared_ptr<void> indices_;
  int64_t count_ = 0;
};

// Python slicing as a gather: start offset, then a (possibly negative) stride per axis.
class StridedSliceKernel : public CudaKernel {
 public:
  explicit StridedSliceKernel(const Node& node) : p_(node.get<StridedSliceParams>()) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    if (y.size() == 0) return;
    const std::vector<int64_t> xs = row_major_strides(x.shape());
    GatherMap map;
    map.rank = x.rank();
    int64_t start = 0;
    for (int a = 0; a < map.rank; ++a) {
      ResolvedSlice r;
      r.length = x.dim(a);
      if (static_cast<size_t>(a) < p_.axes.size()) r = resolve_slice(p_.axes[a], x.dim(a));
      start += r.start * xs[a];
      map.out_dim[a] = y.shape()[a];
      map.div[a] = 1;
      map.shift[a] = 0;
      map.in_dim[a] = x.dim(a);
      map.in_stride[a] = r.step * xs[a];
    }
    const auto* base = static_cast<const char*>(x.data()) + start * dtype_size(x.dtype());
    launch_gather(map, base, x.dtype(), y.data(), y.dtype(), y.size(), context.stream());
  }
  std::string describe() const override { return "cuda strided_slice (gather)"; }

 private:
  StridedSliceParams p_;
};

class ShapeOfKernel : public CudaKernel {
 public:
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    int64_t dims[kMaxBroadcastRank] = {};
    const int rank = inputs[0].rank();
    for (int a = 0; a < rank; ++a) dims[a] = inputs[0].dim(a);
    launch_shape_of(dims, rank, outputs[0].data(), outputs[0].dtype(), context.stream());
  }
  std::string describe() const override { return "cuda shape_of"; }
};

}  // namespace

Support tensor_op_support(const Node& node, const Graph& graph, const CompileOptions& options) {
  switch (node.kind) {
    case OpKind::unary:
      return Support::yes();
    case OpKind::binary:
    case OpKind::where:
      return rank_at_most(node, graph, kMaxBroadcastRank);
    case OpKind::strided_slice:
      return rank_at_most(node, graph, kMaxLayoutRank);
    case OpKind::shape_of:
      return rank_at_most(node, graph, kMaxBroadcastRank);
    case OpKind::gather:
      // Indices computed in f16/bf16 would round above 2048 (256): in those precisions a
      // gather whose indices are data runs on the host, in f32, as Embedding ids stay f32.
      if (node.inputs.size() == 2 &&
          (options.precision == Precision::fp16 || options.precision == Precision::bf16))
        return Support::no(str_cat("gather indices from data must stay float32 (",
                                   precision_name(options.precision), " would round them)"));
      return Support::yes();
    default:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not a tensor op"));
}

std::unique_ptr<NodeKernel> make_tensor_op_kernel(const Node& node, const Graph&,
                                                  const CompileOptions& options) {
  switch (node.kind) {
    case OpKind::unary:
      return std::make_unique<UnaryKernel>(node);
    case OpKind::binary:
    case OpKind::where:
      return std::make_unique<BroadcastKernel>(node, options);
    case OpKind::gather:
      return std::make_unique<TakeKernel>(node, options);
    case OpKind::strided_slice:
      return std::make_unique<StridedSliceKernel>(node);
    case OpKind::shape_of:
      return std::make_unique<ShapeOfKernel>();
    default:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA tensor-op kernel for ", op_name(node.kind));
}

}  // namespace krt::cuda
