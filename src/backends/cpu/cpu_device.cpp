// The `cpu` backend: the fusion passes, a NodeRunner per node (oneDNN where it has a kernel,
// our loops or the reference kernel elsewhere), threads set per run, a scratchpad per run.
#include "backends/cpu/cpu_device.h"

#include "backends/cpu/cpu_backend.h"
#include "core/check.h"

namespace krt::cpu {

namespace {

class CpuRunContext : public RunContext {
 public:
  explicit CpuRunContext(int threads) : threads_(threads) {}
  void begin_run() override { use_threads_on_this_thread(threads_); }
  void begin_run_on_threads(int threads) override { use_threads_on_this_thread(threads); }
  std::vector<uint8_t>& scratch() { return scratch_; }

 private:
  int threads_;
  std::vector<uint8_t> scratch_;  // oneDNN's scratchpad, grown to the largest primitive's
};

class CpuKernel : public NodeKernel {
 public:
  CpuKernel(const Node& node, const Graph& graph)
      : runner_(node, node.inputs.empty() ? Shape{} : graph.values[node.inputs[0]].shape,
                node.outputs.empty() ? Shape{} : graph.values[node.outputs[0]].shape) {}
  void run(RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) const override {
    runner_.run(inputs, outputs, &static_cast<CpuRunContext&>(context).scratch());
  }
  std::string describe() const override { return runner_.kernel_name(); }
  const NodeRunner& runner() const { return runner_; }

 private:
  NodeRunner runner_;
};

class CpuBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  std::string description() const override {
    return "CPU threads: oneDNN for Dense and convolutions, fused BatchNormalization and "
           "activations";
  }
  bool wants_fusion() const override { return true; }
  Support supports(const Node&, const Graph&, const CompileOptions& options) const override {
    if (options.precision != Precision::fp32)
      return Support::no(
          str_cat("the cpu device computes in fp32 only, not ", precision_name(options.precision)));
    return Support::yes();
  }
  std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph& graph,
                                      const CompileOptions& options) const override {
    // oneDNN sizes a primitive's work split for the thread count current when it is built: build
    // it for the count the runs will use (measured: 3.5x slower runs of the decoder otherwise).
    use_threads_on_this_thread(options.threads);
    return std::make_unique<CpuKernel>(node, graph);
  }
  std::unique_ptr<RunContext> open_run(const CompileOptions& options) const override {
    return std::make_unique<CpuRunContext>(options.threads);
  }
};

}  // namespace

std::shared_ptr<const Backend> make_cpu_backend() { return std::make_shared<CpuBackend>(); }

}  // namespace krt::cpu
