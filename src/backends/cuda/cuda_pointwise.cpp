// The pointwise family on the GPU: activation, scale_shift, prelu, elementwise merges (numpy
// broadcasting) and compare, with the reference kernels' semantics (src/backends/reference/
// elementwise.cpp, sequence.cpp). Weights (scale, shift, alpha) are uploaded once as f32.
#include <algorithm>

#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_pointwise_kernels.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

std::vector<int64_t> dense_strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// The channel of element i of a dense tensor of `shape`: its row-major position over `axes`
// (ascending, non-negative). Consecutive axes (the usual case) become one (inner, channels) pair.
ChannelIndex channel_index(const Shape& shape, const std::vector<int64_t>& axes) {
  ChannelIndex c;
  if (axes.empty()) return c;  // one channel: c = 0
  bool consecutive = true;
  for (size_t k = 1; k < axes.size(); ++k) consecutive = consecutive && axes[k] == axes[k - 1] + 1;
  if (consecutive) {
    for (int64_t a : axes) c.channels *= shape[a];
    for (size_t a = axes.back() + 1; a < shape.size(); ++a) c.inner *= shape[a];
    return c;
  }
  const auto strides = dense_strides(shape);
  c.axes = static_cast<int>(axes.size());
  int64_t mul = 1;
  for (int k = c.axes - 1; k >= 0; --k) {
    c.div[k] = strides[axes[k]];
    c.mod[k] = shape[axes[k]];
    c.mul[k] = mul;
    mul *= shape[axes[k]];
  }
  return c;
}

void expect_same_dtype(const Tensor& x, const Tensor& y, const char* op) {
  if (x.dtype() != y.dtype())
    fail(ErrorCode::internal, "CUDA ", op, ": input dtype ", dtype_name(x.dtype()),
         " differs from output dtype ", dtype_name(y.dtype()));
}

class ActivationKernel : public CudaKernel {
 public:
  explicit ActivationKernel(const Activation& a) : name_(activation_name(a.kind)) {
    args_.kind = a.kind;
    args_.alpha = a.alpha;
    args_.max_value = a.max_value;
    args_.threshold = a.threshold;
    args_.negative_slope = a.negative_slope;
  }
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    expect_same_dtype(inputs[0], outputs[0], "activation");
    launch_activation(inputs[0].data(), outputs[0].data(), inputs[0].size(), args_,
                      inputs[0].dtype(), context.stream());
  }
  std::string describe() const override { return "cuda activation (" + name_ + ")"; }

 private:
  ActivationArgs args_;
  std::string name_;
};

class ScaleShiftKernel : public CudaKernel {
 public:
  ScaleShiftKernel(const Node& node, int device) {
    const auto& p = node.get<ScaleShiftParams>();
    axes_ = p.axes.empty() ? std::vector<int64_t>{p.axis} : p.axes;
    scale_ = upload_as(node.weights[0], DType::f32, device);
    shift_ = upload_as(node.weights[1], DType::f32, device);
    scale_step_ = node.weights[0].size() == 1 ? 0 : 1;
    shift_step_ = node.weights[1].size() == 1 ? 0 : 1;
  }
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_same_dtype(x, outputs[0], "scale_shift");
    std::vector<int64_t> axes = axes_;
    for (int64_t& a : axes)
      if (a < 0) a += x.rank();
    launch_scale_shift(x.data(), outputs[0].data(), x.size(),
                       static_cast<const float*>(scale_.get()),
                       static_cast<const float*>(shift_.get()), scale_step_, shift_step_,
                       channel_index(x.shape(), axes), x.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda scale_shift"; }

 private:
  std::vector<int64_t> axes_;
  std::shared_ptr<void> scale_, shift_;
  int scale_step_ = 1, shift_step_ = 1;
};

// The input axes on which PReLU's alpha (shaped like one sample, 1 on shared axes) varies.
std::vector<int64_t> prelu_axes(const Tensor& alpha) {
  std::vector<int64_t> axes;
  for (int a = 0; a < alpha.rank(); ++a)
    if (alpha.shape()[a] != 1) axes.push_back(a + 1);
  return axes;
}

class PreluKernel : public CudaKernel {
 public:
  PreluKernel(const Node& node, int device)
      : axes_(prelu_axes(node.weights[0])),
        alpha_(upload_as(node.weights[0], DType::f32, device)) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    expect_same_dtype(x, outputs[0], "prelu");
    launch_prelu(x.data(), outputs[0].data(), x.size(), static_cast<const float*>(alpha_.get()),
                 channel_index(x.shape(), axes_), x.dtype(), context.stream());
  }
  std::string describe() const override { return "cuda prelu"; }

 private:
  std::vector<int64_t> axes_;
  std::shared_ptr<void> alpha_;
};

MergeOp merge_op(ElementwiseKind kind) {
  switch (kind) {
    case ElementwiseKind::add:
    case ElementwiseKind::average:
      return MergeOp::add;
    case ElementwiseKind::subtract:
      return MergeOp::subtract;
    case ElementwiseKind::multiply:
      return MergeOp::multiply;
    case ElementwiseKind::maximum:
      return MergeOp::maximum;
    case ElementwiseKind::minimum:
      return MergeOp::minimum;
  }
  return MergeOp::add;
}

// Fills args' shape and strides for inputs of `shapes` broadcast to `out`: size-1 output axes
// dropped, and neighbouring axes merged where every input walks them as one.
void describe_broadcast(const Shape& out, const std::vector<Shape>& shapes, MergeArgs& args) {
  const size_t rank = out.size();
  std::vector<std::vector<int64_t>> strides;
  for (const Shape& s : shapes) {
    const auto st = dense_strides(s);
    std::vector<int64_t> b(rank, 0);
    const size_t lead = rank - s.size();
    for (size_t a = 0; a < s.size(); ++a) b[lead + a] = s[a] == 1 ? 0 : st[a];
    strides.push_back(std::move(b));
  }
  std::vector<int64_t> dims;  // merged output dims, outermost first
  std::vector<std::vector<int64_t>> merged(shapes.size());
  for (size_t a = 0; a < rank; ++a) {
    if (out[a] == 1) continue;
    bool join = !dims.empty();
    for (size_t k = 0; join && k < shapes.size(); ++k)
      join = merged[k].back() == strides[k][a] * out[a];
    if (join) {
      dims.back() *= out[a];
      for (size_t k = 0; k < shapes.size(); ++k) merged[k].back() = strides[k][a];
    } else {
      dims.push_back(out[a]);
      for (size_t k = 0; k < shapes.size(); ++k) merged[k].push_back(strides[k][a]);
    }
  }
  if (dims.size() > static_cast<size_t>(kPointwiseMaxDims))
    fail(ErrorCode::internal, "CUDA elementwise: ", dims.size(), " broadcast axes (at most ",
         kPointwiseMaxDims, ")");
  args.rank = static_cast<int>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    args.shape[d] = dims[d];
    for (size_t k = 0; k < shapes.size(); ++k) args.strides[k][d] = merged[k][d];
  }
}

class ElementwiseKernel : public CudaKernel {
 public:
  explicit ElementwiseKernel(ElementwiseKind kind) : kind_(kind) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    Tensor& y = outputs[0];
    bool same = true;
    for (const Tensor& t : inputs) {
      expect_same_dtype(t, y, "elementwise");
      same = same && t.shape() == y.shape();
    }
    // A left fold over the inputs, kElementwiseMaxInputs at a time: later launches start
    // from the partial result in y.
    const size_t n = inputs.size();
    size_t next = 0;
    while (next < n) {
      MergeArgs args;
      args.op = merge_op(kind_);
      std::vector<Shape> shapes;
      if (next > 0) {
        args.inputs[args.count++] = y.data();
        shapes.push_back(y.shape());
      }
      while (next < n && args.count < kElementwiseMaxInputs) {
        args.inputs[args.count++] = inputs[next].data();
        shapes.push_back(inputs[next].shape());
        ++next;
      }
      if (next == n && kind_ == ElementwiseKind::average) args.divisor = static_cast<float>(n);
      if (same) {
        launch_merge_same_shape(args, y.data(), y.size(), y.dtype(), context.stream());
      } else {
        describe_broadcast(y.shape(), shapes, args);
        launch_merge_broadcast(args, y.data(), y.size(), y.dtype(), context.stream());
      }
    }
  }
  std::string describe() const override { return "cuda elementwise"; }

 private:
  ElementwiseKind kind_;
};

CompareOp compare_op(CompareKind kind) {
  switch (kind) {
    case CompareKind::equal:
      return CompareOp::equal;
    case CompareKind::not_equal:
      return CompareOp::not_equal;
    case CompareKind::less:
      return CompareOp::less;
    case CompareKind::less_equal:
      return CompareOp::less_equal;
    case CompareKind::greater:
      return CompareOp::greater;
    case CompareKind::greater_equal:
      return CompareOp::greater_equal;
  }
  return CompareOp::equal;
}

class CompareKernel : public CudaKernel {
 public:
  explicit CompareKernel(const CompareParams& p) : op_(compare_op(p.kind)), value_(p.value) {}
  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    expect_same_dtype(inputs[0], outputs[0], "compare");
    launch_compare(inputs[0].data(), outputs[0].data(), inputs[0].size(), op_, value_,
                   inputs[0].dtype(), context.stream());
  }
  std::string describe() const override { return "cuda compare"; }

 private:
  CompareOp op_;
  float value_;
};

}  // namespace

Support pointwise_support(const Node& node, const Graph& graph, const CompileOptions&) {
  switch (node.kind) {
    case OpKind::activation:
    case OpKind::compare:
      return Support::yes();
    case OpKind::scale_shift: {
      const auto& p = node.get<ScaleShiftParams>();
      if (node.weights.size() < 2)
        return Support::no("scale_shift without scale and shift weights");
      if (p.axes.size() > static_cast<size_t>(kPointwiseMaxDims))
        return Support::no(
            str_cat("scale_shift over ", p.axes.size(), " axes (at most ", kPointwiseMaxDims, ")"));
      return Support::yes();
    }
    case OpKind::prelu:
      if (node.weights.empty()) return Support::no("prelu without alpha");
      if (prelu_axes(node.weights[0]).size() > static_cast<size_t>(kPointwiseMaxDims))
        return Support::no(
            str_cat("prelu alpha varies over more than ", kPointwiseMaxDims, " axes"));
      return Support::yes();
    case OpKind::elementwise: {
      size_t rank = 0;
      for (ValueId v : node.inputs) rank = std::max(rank, graph.values[v].shape.size());
      if (rank > static_cast<size_t>(kPointwiseMaxDims))
        return Support::no(
            str_cat("elementwise of rank ", rank, " (at most ", kPointwiseMaxDims, ")"));
      return Support::yes();
    }
    default:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not a pointwise op"));
}

std::unique_ptr<NodeKernel> make_pointwise_kernel(const Node& node, const Graph&,
                                                  const CompileOptions& options) {
  const int device = options.device.index;
  switch (node.kind) {
    case OpKind::activation:
      return std::make_unique<ActivationKernel>(node.get<ActivationParams>().activation);
    case OpKind::scale_shift:
      return std::make_unique<ScaleShiftKernel>(node, device);
    case OpKind::prelu:
      return std::make_unique<PreluKernel>(node, device);
    case OpKind::elementwise:
      return std::make_unique<ElementwiseKernel>(node.get<ElementwiseParams>().kind);
    case OpKind::compare:
      return std::make_unique<CompareKernel>(node.get<CompareParams>());
    default:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA pointwise kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
