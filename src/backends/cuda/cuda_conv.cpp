// The convolution family on the GPU, NHWC, 1-D to 3-D, with the reference's geometry
// (ops/shape_inference.h): every case is computed exactly, none is declined.
// - conv, groups 1: a GEMM through Gemm (cuda_gemm.h: cuBLASLt with fused bias/ReLU, or our
//   GEMV for a few rows). A 1x1 stride-1 convolution, and one whose window covers the whole
//   unpadded input (one output position), read the input as the GEMM's rows directly; one whose
//   window holds few values (an image stem's 3x3x3) runs our direct kernel; others build im2col
//   columns in the run workspace, in chunks of output rows.
// - conv, groups > 1: our direct kernel.
// - depthwise_conv: our direct NHWC kernel (cuDNN is slow at depthwise).
// - conv_transpose: a GEMM x (positions, cin) @ w (cin, taps * cout) into the workspace, then a
//   gather (col2im) that adds the taps reaching each output, the bias and the activation, in
//   chunks of batch items; our direct kernel when one item's columns exceed the workspace.
#include <algorithm>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_conv_kernels.h"
#include "backends/cuda/cuda_gemm.h"
#include "backends/cuda/cuda_ops.h"
#include "core/check.h"
#include "ops/shape_inference.h"

namespace krt::cuda {

namespace {

DType storage_of(Precision precision) {
  return precision == Precision::fp16   ? DType::f16
         : precision == Precision::bf16 ? DType::bf16
                                        : DType::f32;
}

int64_t param_at(const std::vector<int64_t>& v, size_t i) { return i < v.size() ? v[i] : 1; }

// The geometry of one run, as reference/conv.cpp's make_geometry computes it.
ConvGeom geometry(const Node& node, const Tensor& x, const Tensor& y) {
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  ConvGeom g;
  g.batch = x.dim(0);
  g.cin = x.dim(-1);
  g.cout = y.dim(-1);
  g.groups = node.kind == OpKind::conv ? std::max<int64_t>(p.groups, 1) : 1;
  const Shape& ks = node.weights[0].shape();
  for (size_t i = 0; i < spatial; ++i) {
    g.in[i] = x.dim(static_cast<int>(i) + 1);
    g.out[i] = y.dim(static_cast<int>(i) + 1);
    g.k[i] = ks[i];
    g.stride[i] = param_at(p.strides, i);
    g.dil[i] = param_at(p.dilation, i);
    if (node.kind == OpKind::conv_transpose) {
      const int64_t op = i < p.output_padding.size() ? p.output_padding[i] : -1;
      g.pad[i] = conv_transpose_pad(g.k[i], g.stride[i], g.dil[i], p.padding, op);
    } else {
      g.pad[i] = conv_pad_before(g.in[i], g.k[i], g.stride[i], g.dil[i], p.padding);
    }
  }
  return g;
}

// Whether the im2col columns of a forward convolution are the input itself.
bool columns_are_input(const ConvGeom& g) {
  bool pointwise = true, whole = true;
  for (int a = 0; a < 3; ++a) {
    pointwise = pointwise && g.k[a] == 1 && g.stride[a] == 1 && g.pad[a] == 0;
    whole = whole && g.out[a] == 1 && g.pad[a] == 0 && g.k[a] == g.in[a] &&
            (g.dil[a] == 1 || g.k[a] == 1);
  }
  return pointwise || whole;
}

const Tensor* bias_of(const Node& node) {
  return node.get<ConvParams>().has_bias ? &node.weights[1] : nullptr;
}

std::shared_ptr<void> upload_bias(const Node& node, int device) {
  const Tensor* b = bias_of(node);
  return b ? upload_as(*b, DType::f32, device) : nullptr;
}

// Bytes of the run workspace after the GEMM's part, for columns.
constexpr size_t kColumnBytes = CudaRunContext::kWorkspaceBytes - kGemmWorkspaceBytes;

void* columns(CudaRunContext& context) {
  return static_cast<char*>(context.workspace()) + kGemmWorkspaceBytes;
}

// conv with groups == 1: im2col (or the input itself) @ kernel (taps * cin, cout).
class ConvGemmKernel : public CudaKernel {
 public:
  ConvGemmKernel(const Node& node, const CompileOptions& options)
      : node_(node),
        gemm_(node.weights[0].reshaped({node.weights[0].size() / node.weights[0].shape().back(),
                                        node.weights[0].shape().back()}),
              bias_of(node), node.get<ConvParams>().activation, options) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const ConvGeom g = geometry(node_, x, y);
    const int64_t rows = g.batch * g.out_positions();
    if (columns_are_input(g)) {
      gemm_.run(context, x.data(), y.data(), rows);
      return;
    }
    if (launch_small_conv2d(x.data(), gemm_.weights(), gemm_.bias_f32(), y.data(), g,
                            gemm_.activation(), gemm_.dtype(), context.stream()))
      return;
    const int64_t K = g.taps() * g.cin;
    const size_t esize = dtype_size(gemm_.dtype());
    const int64_t chunk = std::min<int64_t>(
        rows, static_cast<int64_t>(kColumnBytes / (static_cast<size_t>(K) * esize)));
    if (chunk <
        1) {  // one row of columns exceeds the workspace: the direct kernel reads the same kernel
      launch_direct_conv(x.data(), gemm_.weights(), gemm_.bias_f32(), y.data(), g,
                         gemm_.activation(), gemm_.dtype(), context.stream());
      return;
    }
    void* cols = columns(context);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      launch_im2col(x.data(), cols, g, r0, n, gemm_.dtype(), context.stream());
      gemm_.run(context, cols,
                static_cast<char*>(y.data()) + static_cast<size_t>(r0 * g.cout) * esize, n);
    }
  }
  std::string describe() const override { return "cuda conv (im2col + cublaslt gemm)"; }

 private:
  const Node& node_;
  Gemm gemm_;
};

// conv with groups > 1 and depthwise_conv: our direct kernels over the Keras kernel as stored.
class DirectConvKernel : public CudaKernel {
 public:
  DirectConvKernel(const Node& node, const CompileOptions& options)
      : node_(node),
        dtype_(storage_of(options.precision)),
        act_(act_params(node.get<ConvParams>().activation)) {
    w_ = upload_as(node.weights[0], dtype_, options.device.index);
    bias_ = upload_bias(node, options.device.index);
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const ConvGeom g = geometry(node_, inputs[0], outputs[0]);
    const auto* bias = static_cast<const float*>(bias_.get());
    if (node_.kind == OpKind::depthwise_conv)
      launch_depthwise_conv(inputs[0].data(), w_.get(), bias, outputs[0].data(), g, act_, dtype_,
                            context.stream());
    else
      launch_direct_conv(inputs[0].data(), w_.get(), bias, outputs[0].data(), g, act_, dtype_,
                         context.stream());
  }
  std::string describe() const override {
    return node_.kind == OpKind::depthwise_conv ? "cuda depthwise conv"
                                                : "cuda grouped conv (direct)";
  }

 private:
  const Node& node_;
  DType dtype_;
  ActParams act_;
  std::shared_ptr<void> w_, bias_;
};

// The Keras transposed kernel (taps, cout, cin) as (cin, taps, cout): the GEMM's (K, N) matrix.
Tensor transposed_kernel(const Tensor& k) {
  const Shape& s = k.shape();
  const int64_t cin = s.back(), cout = s[s.size() - 2];
  const int64_t taps = k.size() / (cin * cout);
  Tensor out(DType::f32, {cin, taps * cout});
  const float* src = k.data_as<float>();
  float* dst = out.data_as<float>();
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t ci = 0; ci < cin; ++ci)
        dst[(ci * taps + t) * cout + co] = src[(t * cout + co) * cin + ci];
  return out;
}

class ConvTransposeKernel : public CudaKernel {
 public:
  ConvTransposeKernel(const Node& node, const CompileOptions& options)
      : node_(node),
        act_(act_params(node.get<ConvParams>().activation)),
        gemm_(transposed_kernel(node.weights[0]), nullptr, Activation{}, options) {
    bias_ = upload_bias(node, options.device.index);
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    Tensor& y = outputs[0];
    const ConvGeom g = geometry(node_, x, y);
    const auto* bias = static_cast<const float*>(bias_.get());
    const DType dtype = gemm_.dtype();
    const size_t esize = dtype_size(dtype);
    const size_t item_bytes = static_cast<size_t>(g.in_positions() * g.taps() * g.cout) * esize;
    const int64_t chunk = std::min<int64_t>(
        g.batch, static_cast<int64_t>(kColumnBytes / std::max<size_t>(item_bytes, 1)));
    if (chunk < 1) {
      launch_direct_conv_transpose(x.data(), gemm_.weights(), bias, y.data(), g, act_, dtype,
                                   context.stream());
      return;
    }
    void* cols = columns(context);
    for (int64_t n0 = 0; n0 < g.batch; n0 += chunk) {
      const int64_t n = std::min(chunk, g.batch - n0);
      const void* xn = static_cast<const char*>(x.data()) +
                       static_cast<size_t>(n0 * g.in_positions() * g.cin) * esize;
      gemm_.run(context, xn, cols, n * g.in_positions());
      launch_col2im_bias_act(cols, y.data(), bias, g, n0, n, act_, dtype, context.stream());
    }
  }
  std::string describe() const override { return "cuda conv_transpose (cublaslt gemm + col2im)"; }

 private:
  const Node& node_;
  ActParams act_;
  Gemm gemm_;
  std::shared_ptr<void> bias_;
};

}  // namespace

Support conv_support(const Node& node, const Graph& graph, const CompileOptions&) {
  if (node.kind != OpKind::conv && node.kind != OpKind::depthwise_conv &&
      node.kind != OpKind::conv_transpose)
    return Support::no(str_cat("op ", op_name(node.kind), " is not a convolution"));
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  if (spatial < 1 || spatial > 3) return Support::no(str_cat(spatial, "-D convolution"));
  if (node.inputs.size() != 1) return Support::no("convolution with several inputs");
  const Shape& in = graph.values[node.inputs[0]].shape;
  if (in.size() != spatial + 2) return Support::no("input rank does not match the kernel");
  if (node.weights.empty() || node.weights[0].shape().size() != spatial + 2)
    return Support::no("unexpected kernel rank");
  for (size_t i = 0; i < spatial; ++i)
    if (param_at(p.strides, i) < 1 || param_at(p.dilation, i) < 1)
      return Support::no("stride or dilation below 1");
  return Support::yes();
}

std::unique_ptr<NodeKernel> make_conv_kernel(const Node& node, const Graph&,
                                             const CompileOptions& options) {
  switch (node.kind) {
    case OpKind::conv:
      if (std::max<int64_t>(node.get<ConvParams>().groups, 1) == 1)
        return std::make_unique<ConvGemmKernel>(node, options);
      return std::make_unique<DirectConvKernel>(node, options);
    case OpKind::depthwise_conv:
      return std::make_unique<DirectConvKernel>(node, options);
    case OpKind::conv_transpose:
      return std::make_unique<ConvTransposeKernel>(node, options);
    default:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
