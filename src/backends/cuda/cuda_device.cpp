// The `cuda` backend: NVIDIA GPUs through cuBLASLt and our own kernels. Weights are
// uploaded at compile time, each run has its own stream and arena, and each segment of a run
// is recorded once as a CUDA Graph and replayed (see CudaRunContext).
#include "backends/cuda/cuda_device.h"

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_context.h"
#include "backends/cuda/cuda_convert.h"
#include "backends/cuda/cuda_ops.h"
#include "core/check.h"

namespace krt::cuda {

namespace {

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return 0;
    }
    return n;
  }();
  return count;
}

class CudaBackend : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  std::string description() const override {
    return "NVIDIA GPU: cuBLASLt GEMMs with fused epilogues, own kernels, CUDA Graph replay";
  }
  std::string unavailable_reason() const override {
    int n = 0;
    cudaError_t status = cudaGetDeviceCount(&n);
    if (status != cudaSuccess) {
      cudaGetLastError();
      return str_cat("no CUDA device found (", cudaGetErrorString(status), ")");
    }
    return n > 0 ? "" : "no CUDA device found";
  }
  MemoryLocation memory(int device_index) const override { return {"cuda", device_index}; }
  std::vector<Precision> precisions() const override {
    return {Precision::fp32, Precision::tf32, Precision::fp16, Precision::bf16};
  }
  std::string device_name(int index) const override {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess)
      return "CUDA device " + std::to_string(index);
    return prop.name;
  }
  bool wants_fusion() const override { return true; }
  DType storage_dtype(Precision precision) const override {
    return precision == Precision::fp16   ? DType::f16
           : precision == Precision::bf16 ? DType::bf16
                                          : DType::f32;
  }

  Support supports(const Node& node, const Graph& graph,
                   const CompileOptions& options) const override {
    if (options.device.index >= device_count())
      fail(ErrorCode::invalid_argument, "device cuda:", options.device.index,
           " does not exist: this machine has ", device_count(), " CUDA device(s)");
    for (ValueId v : node.inputs)
      if (graph.values[v].dtype != DType::f32)
        return Support::no(str_cat("input dtype ", dtype_name(graph.values[v].dtype)));
    return supports_node(node, graph, options);
  }
  std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph& graph,
                                      const CompileOptions& options) const override {
    check_cuda(cudaSetDevice(options.device.index), "cudaSetDevice");
    return make_node_kernel(node, graph, options);
  }
  std::unique_ptr<RunContext> open_run(const CompileOptions& options) const override {
    return std::make_unique<CudaRunContext>(options.device.index);
  }
  std::shared_ptr<void> allocate(size_t bytes, int device_index) const override {
    return pooled_device_alloc(bytes, device_index);
  }

  void copy_from_host(RunContext& context, const Tensor& src, Tensor& dst) const override {
    auto& c = static_cast<CudaRunContext&>(context);
    if (src.dtype() == dst.dtype()) {
      check_cuda(
          cudaMemcpyAsync(dst.data(), src.data(), src.nbytes(), cudaMemcpyHostToDevice, c.stream()),
          "cudaMemcpyAsync (input to the GPU)");
      return;
    }
    void* staged = c.staging(src.nbytes());  // host dtype on the device, then converted there
    check_cuda(
        cudaMemcpyAsync(staged, src.data(), src.nbytes(), cudaMemcpyHostToDevice, c.stream()),
        "cudaMemcpyAsync (input to the GPU)");
    convert_on_device(staged, src.dtype(), dst.data(), dst.dtype(), src.size(), c.stream());
  }
  void copy_to_host(RunContext& context, const Tensor& src, Tensor& dst) const override {
    auto& c = static_cast<CudaRunContext&>(context);
    const void* from = src.data();
    if (src.dtype() != dst.dtype()) {
      void* staged = c.staging(dst.nbytes());
      convert_on_device(src.data(), src.dtype(), staged, dst.dtype(), src.size(), c.stream());
      from = staged;
    }
    check_cuda(cudaMemcpyAsync(dst.data(), from, dst.nbytes(), cudaMemcpyDeviceToHost, c.stream()),
               "cudaMemcpyAsync (output to the host)");
  }
  void copy_within(RunContext& context, const Tensor& src, Tensor& dst) const override {
    auto& c = static_cast<CudaRunContext&>(context);
    convert_on_device(src.data(), src.dtype(), dst.data(), dst.dtype(), src.size(), c.stream());
  }
};

}  // namespace

std::shared_ptr<const Backend> make_cuda_backend() { return std::make_shared<CudaBackend>(); }

}  // namespace krt::cuda
