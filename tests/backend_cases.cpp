#include "backend_cases.h"

#include "ops/shape_inference.h"
#include "runtime/backend_registry.h"
#include "runtime/execution_plan.h"

namespace krt::test {

std::vector<BackendCase> backend_cases() {
  std::vector<BackendCase> cases;
  for (const Backend* b : registered_backends()) {
    if (!b->unavailable_reason().empty()) continue;
    for (Precision p : b->precisions()) {
      BackendCase c;
      c.options.device = Device::parse(b->name());
      c.options.precision = p;
      c.options.threads = 2;
      c.label = c.options.device.to_string() + "/" + precision_name(p);
      c.reduced_precision = p != Precision::fp32;
      cases.push_back(c);
    }
  }
  return cases;
}

std::vector<std::string> unavailable_backends() {
  std::vector<std::string> out;
  for (const Backend* b : registered_backends())
    if (!b->unavailable_reason().empty()) out.push_back(b->name() + ": " + b->unavailable_reason());
  return out;
}

double reduced_precision_tolerance(Precision precision) {
  switch (precision) {
    case Precision::fp32:
      return 0;
    case Precision::tf32:
      return 5e-3;
    case Precision::fp16:
      return 2e-2;
    case Precision::bf16:
      return 8e-2;
  }
  return 0;
}

Tensor random_tensor(const Shape& shape, std::mt19937& rng, float lo, float hi) {
  Tensor t(DType::f32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data_as<float>()[i] = dist(rng);
  return t;
}

Node make_node(OpKind kind, OpParams params, std::vector<Tensor> weights) {
  Node n;
  n.kind = kind;
  n.name = op_name(kind);
  n.params = std::move(params);
  n.weights = std::move(weights);
  return n;
}

struct CompiledNodes {
  std::shared_ptr<ExecutionPlan> plan;
};

std::shared_ptr<CompiledNodes> compile_nodes(const std::vector<Node>& nodes,
                                             const std::vector<Shape>& input_shapes,
                                             const CompileOptions& options, bool optimize) {
  Graph g;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<ValueId> current;
  std::vector<Shape> shapes = input_shapes;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    current.push_back(g.add_value("input_" + std::to_string(i), input_shapes[i]));
    g.inputs.push_back(current.back());
    inputs.push_back({"input_" + std::to_string(i), input_shapes[i], DType::f32});
  }
  for (const Node& original : nodes) {
    Node node = original;
    node.inputs = current;
    std::vector<Shape> out = infer_output_shapes(node, shapes);
    current.clear();
    for (size_t k = 0; k < out.size(); ++k)
      current.push_back(g.add_value(node.name + ":" + std::to_string(k), out[k]));
    node.outputs = current;
    g.add_node(std::move(node));
    shapes = out;
  }
  g.outputs = current;
  for (size_t k = 0; k < current.size(); ++k)
    outputs.push_back({"output_" + std::to_string(k), shapes[k], DType::f32});
  auto compiled = std::make_shared<CompiledNodes>();
  compiled->plan = compile_graph(g, inputs, outputs, options, optimize);
  return compiled;
}

std::vector<Tensor> run_compiled(const CompiledNodes& compiled, const std::vector<Tensor>& inputs) {
  return compiled.plan->run(inputs);
}

std::vector<Tensor> run_compiled_on_device(const CompiledNodes& compiled,
                                           const std::vector<Tensor>& inputs, DType input_dtype) {
  std::vector<Tensor> on_device;
  for (const Tensor& t : inputs) on_device.push_back(compiled.plan->transfer(t, true, input_dtype));
  RunOptions keep;
  keep.outputs_on_device = true;
  std::vector<Tensor> outputs = compiled.plan->run(on_device, keep);
  for (Tensor& t : outputs) t = compiled.plan->transfer(t, false);
  return outputs;
}

const CompileReport& report_of(const CompiledNodes& compiled) { return compiled.plan->report; }

}  // namespace krt::test
