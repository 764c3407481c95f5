// Dense on the GPU through Gemm (cuda_gemm.h): our GEMV for a few rows, cuBLASLt with fused
// bias/ReLU otherwise. Einsum is not implemented yet: it runs on the cpu.
#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_gemm.h"
#include "backends/cuda/cuda_ops.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

class DenseKernel : public CudaKernel {
 public:
  DenseKernel(const Node& node, const CompileOptions& options)
      : gemm_(node.weights[0], node.get<DenseParams>().has_bias ? &node.weights[1] : nullptr,
              node.get<DenseParams>().activation, options) {}

  void run_cuda(CudaRunContext& context, std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    gemm_.run(context, x.data(), outputs[0].data(), x.size() / gemm_.K());
  }
  std::string describe() const override { return "cuda dense (gemv / cublaslt)"; }

 private:
  Gemm gemm_;
};

}  // namespace

Support matmul_support(const Node& node, const Graph&, const CompileOptions&) {
  switch (node.kind) {
    case OpKind::dense:
      if (node.weights.empty() || node.weights[0].shape().size() != 2) return Support::no("dense kernel is not 2-D");
      return Support::yes();
    case OpKind::einsum: return Support::no("einsum has no CUDA kernel yet");
    default: break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " is not a matmul"));
}

std::unique_ptr<NodeKernel> make_matmul_kernel(const Node& node, const Graph&, const CompileOptions& options) {
  if (node.kind == OpKind::dense) return std::make_unique<DenseKernel>(node, options);
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
