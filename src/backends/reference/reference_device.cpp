#include "backends/reference/reference_device.h"

#include "backends/reference/reference_backend.h"
#include "core/check.h"

namespace krt::reference {

namespace {

class ReferenceKernel : public NodeKernel {
 public:
  explicit ReferenceKernel(const Node& node) : node_(node) {}
  void run(RunContext&, std::span<const Tensor> inputs, std::span<Tensor> outputs) const override {
    run_node(node_, inputs, outputs);
  }
  std::string describe() const override { return "reference"; }

 private:
  const Node& node_;
};

class ReferenceBackend : public Backend {
 public:
  std::string name() const override { return "reference"; }
  std::string description() const override {
    return "plain loops for every op, one Keras layer per kernel (the oracle)";
  }
  Support supports(const Node&, const Graph&, const CompileOptions& options) const override {
    if (options.precision != Precision::fp32)
      return Support::no(str_cat("the reference device computes in fp32 only, not ",
                                 precision_name(options.precision)));
    return Support::yes();
  }
  std::unique_ptr<NodeKernel> prepare(const Node& node, const Graph&,
                                      const CompileOptions&) const override {
    return std::make_unique<ReferenceKernel>(node);
  }
};

}  // namespace

std::shared_ptr<const Backend> make_reference_backend() {
  return std::make_shared<ReferenceBackend>();
}

}  // namespace krt::reference
