// The public krt::Model and krt::CompiledModel, over ModelData and ExecutionPlan.
#include <sstream>

#include "core/check.h"
#include "graph/model_data.h"
#include "runtime/execution_plan.h"

namespace krt {

Model::Model(std::shared_ptr<const ModelData> data) : data_(std::move(data)) {}
const std::vector<TensorInfo>& Model::inputs() const { return data_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return data_->outputs; }
const std::vector<LayerInfo>& Model::layers() const { return data_->layers; }
int64_t Model::param_count() const { return data_->param_count; }
const std::string& Model::name() const { return data_->name; }

namespace {

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string pad(const std::string& s, size_t width, bool right_align = false) {
  if (s.size() >= width) return s;
  std::string fill(width - s.size(), ' ');
  return right_align ? fill + s : s + fill;
}

}  // namespace

std::string Model::summary() const {
  const size_t w1 = 40, w2 = 26, w3 = 14;
  std::ostringstream out;
  std::string rule(w1 + w2 + w3 + 4, '-');
  out << "Model: \"" << data_->name << "\"\n" << rule << "\n";
  out << pad("Layer (type)", w1) << "  " << pad("Output Shape", w2) << "  "
      << pad("Param #", w3, true) << "\n";
  out << std::string(w1 + w2 + w3 + 4, '=') << "\n";
  for (const LayerInfo& l : data_->layers) {
    std::string shape;
    for (size_t i = 0; i < l.output_shapes.size(); ++i)
      shape += (i ? ", " : "") + shape_to_string(l.output_shapes[i]);
    out << pad(l.name + " (" + l.class_name + ")", w1) << "  " << pad(shape, w2) << "  "
        << pad(with_thousands(l.param_count), w3, true) << "\n";
  }
  out << rule << "\n";
  out << "Total params: " << with_thousands(data_->param_count) << "\n";
  return out.str();
}

CompiledModel Model::compile(const CompileOptions& options) const {
  return CompiledModel(compile_graph(data_->graph, data_->inputs, data_->outputs, options));
}

CompiledModel::CompiledModel(std::shared_ptr<const ExecutionPlan> plan) : plan_(std::move(plan)) {}

std::vector<Tensor> CompiledModel::run(const std::vector<Tensor>& inputs,
                                       const RunOptions& options) const {
  return plan_->run(inputs, options);
}

const CompileOptions& CompiledModel::options() const { return plan_->options; }
Tensor CompiledModel::upload(const Tensor& host, DType dtype) const {
  return plan_->transfer(host, true, dtype);
}
DType CompiledModel::storage_dtype() const {
  const MemoryLocation where = plan_->placement.spaces.back();
  return where.is_host() ? DType::f32
                         : plan_->placement.backends[0]->storage_dtype(plan_->options.precision);
}
Tensor CompiledModel::download(const Tensor& device_tensor) const {
  return plan_->transfer(device_tensor, false);
}

CompileReport CompiledModel::plan_for(const std::vector<Shape>& input_shapes) const {
  CompileReport report = plan_->report;
  std::shared_ptr<const MemoryPlan> memory = plan_->plan_for(input_shapes);
  report.peak_intermediate_bytes = memory->arena_bytes;
  report.naive_intermediate_bytes = memory->naive_bytes;
  return report;
}

const CompileReport& CompiledModel::report() const { return plan_->report; }
const std::vector<TensorInfo>& CompiledModel::inputs() const { return plan_->inputs; }
const std::vector<TensorInfo>& CompiledModel::outputs() const { return plan_->outputs; }

}  // namespace krt

namespace krt {

std::vector<LayerOutputs> Model::trace(const std::vector<Tensor>& inputs) const {
  // Compile without passes so every layer's values still exist, and keep them all.
  std::shared_ptr<ExecutionPlan> plan =
      compile_graph(data_->graph, data_->inputs, data_->outputs,
                    CompileOptions{Device::reference()}, /*optimize=*/false);
  std::vector<Tensor> values;
  plan->run(inputs, {}, &values);
  std::vector<LayerOutputs> out;
  for (size_t i = 0; i < data_->layers.size(); ++i) {
    LayerOutputs layer{data_->layers[i].name, {}};
    for (ValueId v : data_->layer_values[i]) layer.outputs.push_back(values[v]);
    out.push_back(std::move(layer));
  }
  return out;
}

}  // namespace krt

namespace krt {

std::vector<Tensor> Model::layer_weights(const std::string& layer_name) const {
  std::vector<Tensor> weights;
  bool found = false;
  for (const Node& node : data_->graph.nodes) {
    bool mine = node.name == layer_name || node.name.rfind(layer_name + "/", 0) == 0;
    if (!mine) continue;
    found = true;
    for (const Tensor& w : node.weights) weights.push_back(w);
    if (!node.weights.empty() && node.name == layer_name)
      break;  // a shared layer's later calls repeat them
  }
  if (!found)
    fail(ErrorCode::invalid_argument, "model '", data_->name, "' has no layer named '", layer_name,
         "'");
  return weights;
}

}  // namespace krt
