// Dense on the GPU through Gemm (cuda_gemm.h): our GEMV for a few rows, cuBLASLt with fused
// bias/ReLU otherwise. Einsum: EinsumDense's "x labels = rows + summed, kernel = summed + out"
// form through the same Gemm; every other equation (attention's batched products, broadcasts,
// repeated labels) through our general einsum kernel, as the reference computes it.
#include <algorithm>
#include <string>

#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_gemm.h"
#include "backends/cuda/cuda_matmul_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

class DenseKernel : public CudaKernel {
 public:
  DenseKernel(const Node& node, const CompileOptions& options)
      : gemm_(node.weights[0], node.get<DenseParams>().has_bias ? &node.weights[1] : nullptr,
              node.get<DenseParams>().activation, options) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    gemm_.run(context, x.data(), outputs[0].data(), x.size() / gemm_.K());
  }
  std::string describe() const override { return "cuda dense (gemv / cublaslt)"; }

 private:
  Gemm gemm_;
};

DType storage_of(Precision precision) {
  return precision == Precision::fp16   ? DType::f16
         : precision == Precision::bf16 ? DType::bf16
                                        : DType::f32;
}

bool has_weight_operand(const Node& node) {
  return node.get<EinsumParams>().operands.size() == node.inputs.size() + 1;
}

std::string summed_labels(const EinsumParams& p) {
  std::string summed;
  for (const std::string& labels : p.operands)
    for (char c : labels)
      if (p.output.find(c) == std::string::npos && summed.find(c) == std::string::npos) summed += c;
  return summed;
}

bool unique_labels(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s.find(s[i]) != i) return false;
  return true;
}

// EinsumDense as a GEMM: one input "P K", the kernel "K N", output "P N", in those orders,
// the input's K axes known and equal to the kernel's, scale 1, bias absent or shaped "N".
bool einsum_is_gemm(const Node& node, const Graph& graph) {
  const auto& p = node.get<EinsumParams>();
  if (node.inputs.size() != 1 || !has_weight_operand(node) || p.scale != 1.f) return false;
  const std::string& x = p.operands[0];
  const std::string& w = p.operands[1];
  if (!unique_labels(x) || !unique_labels(w)) return false;
  size_t k_count = 0;
  while (k_count < w.size() && p.output.find(w[k_count]) == std::string::npos) ++k_count;
  const std::string k_labels = w.substr(0, k_count), n_labels = w.substr(k_count);
  if (k_labels.empty() || n_labels.empty() || x.size() <= k_count) return false;
  const std::string p_labels = x.substr(0, x.size() - k_count);
  if (x.substr(x.size() - k_count) != k_labels || p.output != p_labels + n_labels) return false;
  for (char c : n_labels)
    if (x.find(c) != std::string::npos) return false;
  const Shape& xs = graph.values[node.inputs[0]].shape;
  const Shape& ws = node.weights[0].shape();
  for (size_t j = 0; j < k_count; ++j)
    if (xs[x.size() - k_count + j] != ws[j])
      return false;  // dynamic (-1) or broadcast: general kernel
  if (p.has_bias) {
    const Shape& b = node.weights.back().shape();
    if (b.size() != n_labels.size()) return false;
    for (size_t j = 0; j < b.size(); ++j)
      if (b[j] != ws[k_count + j]) return false;
  }
  return true;
}

class EinsumGemmKernel : public CudaKernel {
 public:
  EinsumGemmKernel(const Node& node, const CompileOptions& options)
      : gemm_(make_gemm(node, options)) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    gemm_->run(context, inputs[0].data(), outputs[0].data(), inputs[0].size() / gemm_->K());
  }
  std::string describe() const override { return "cuda einsum as gemm (gemv / cublaslt)"; }

 private:
  static std::unique_ptr<Gemm> make_gemm(const Node& node, const CompileOptions& options) {
    const auto& p = node.get<EinsumParams>();
    const Tensor& w = node.weights[0];
    size_t k_count = 0;
    while (p.output.find(p.operands[1][k_count]) == std::string::npos) ++k_count;
    int64_t K = 1;
    for (size_t j = 0; j < k_count; ++j) K *= w.shape()[j];
    Tensor kernel = w.reshaped({K, w.size() / K});
    Tensor bias;
    if (p.has_bias) bias = node.weights.back().reshaped({node.weights.back().size()});
    return std::make_unique<Gemm>(kernel, p.has_bias ? &bias : nullptr, p.activation, options);
  }
  std::unique_ptr<Gemm> gemm_;
};

bool einsum_fits_general_kernel(const EinsumParams& p) {
  return p.operands.size() <= static_cast<size_t>(kEinsumMaxOperands) &&
         p.output.size() <= static_cast<size_t>(kEinsumMaxLabels) &&
         summed_labels(p).size() <= static_cast<size_t>(kEinsumMaxLabels);
}

std::vector<int64_t> strides_of_shape(const Shape& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) st[i - 1] = st[i] * shape[i];
  return st;
}

class EinsumKernel : public CudaKernel {
 public:
  EinsumKernel(const Node& node, const CompileOptions& options)
      : node_(node),
        dtype_(storage_of(options.precision)),
        act_(act_params(node.get<EinsumParams>().activation)) {
    const auto& p = node.get<EinsumParams>();
    if (has_weight_operand(node)) w_ = upload_as(node.weights[0], dtype_, options.device.index);
    if (p.has_bias) bias_ = upload_as(node.weights.back(), DType::f32, options.device.index);
  }

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs,
                std::span<Tensor> outputs) const override {
    const auto& p = node_.get<EinsumParams>();
    std::vector<Shape> shapes;
    EinsumOperands ops;
    for (size_t i = 0; i < inputs.size(); ++i) {
      shapes.push_back(inputs[i].shape());
      ops.data[i] = inputs[i].data();
    }
    if (w_) {
      shapes.push_back(node_.weights[0].shape());
      ops.data[inputs.size()] = w_.get();
    }
    const std::string summed = summed_labels(p);
    EinsumGeom g;
    g.operands = static_cast<int>(shapes.size());
    g.out_rank = static_cast<int>(p.output.size());
    g.sum_rank = static_cast<int>(summed.size());
    g.scale = p.scale;
    const Shape& out_shape = outputs[0].shape();
    for (int k = 0; k < g.out_rank; ++k) g.out_shape[k] = out_shape[k];
    for (int k = 0; k < g.sum_rank; ++k) {
      int64_t size = 1;
      for (size_t i = 0; i < shapes.size(); ++i)
        for (size_t j = 0; j < p.operands[i].size(); ++j)
          if (p.operands[i][j] == summed[k]) size = std::max(size, shapes[i][j]);
      g.sum_shape[k] = size;
    }
    // As the reference: per operand, the stride of each label (summed over repeats, 0 where the
    // operand's axis has size 1 and so broadcasts).
    for (size_t i = 0; i < shapes.size(); ++i) {
      const auto st = strides_of_shape(shapes[i]);
      for (size_t j = 0; j < p.operands[i].size(); ++j) {
        if (shapes[i][j] == 1) continue;
        const char c = p.operands[i][j];
        const size_t at_out = p.output.find(c);
        if (at_out != std::string::npos) g.out_stride[i][at_out] += st[j];
        const size_t at_sum = summed.find(c);
        if (at_sum != std::string::npos) g.sum_stride[i][at_sum] += st[j];
      }
    }
    if (bias_) {
      const Shape& b = node_.weights.back().shape();
      const auto bst = strides_of_shape(b);
      const size_t lead = out_shape.size() - b.size();
      for (size_t k = 0; k < b.size(); ++k)
        if (b[k] != 1) g.bias_stride[lead + k] = bst[k];
    }
    launch_einsum(ops, static_cast<const float*>(bias_.get()), outputs[0].data(), outputs[0].size(),
                  g, act_, dtype_, context.stream());
  }
  std::string describe() const override { return "cuda einsum (general kernel)"; }

 private:
  const Node& node_;
  DType dtype_;
  ActParams act_;
  std::shared_ptr<void> w_, bias_;
};

}  // namespace

Support matmul_support(const Node& node, const Graph&, const CompileOptions&) {
  switch (node.kind) {
    case OpKind::dense:
      if (node.weights.empty() || node.weights[0].shape().size() != 2)
        return Support::no("dense kernel is not 2-D");
      return Support::yes();
    case OpKind::einsum:
      if (!einsum_fits_general_kernel(node.get<EinsumParams>()))
        return Support::no(str_cat("einsum with more than ", kEinsumMaxOperands, " operands or ",
                                   kEinsumMaxLabels, " output or summed labels"));
      return Support::yes();
    default:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not a matmul"));
}

std::unique_ptr<NodeKernel> make_matmul_kernel(const Node& node, const Graph& graph,
                                               const CompileOptions& options) {
  if (node.kind == OpKind::dense) return std::make_unique<DenseKernel>(node, options);
  if (node.kind == OpKind::einsum) {
    if (einsum_is_gemm(node, graph)) return std::make_unique<EinsumGemmKernel>(node, options);
    return std::make_unique<EinsumKernel>(node, options);
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
