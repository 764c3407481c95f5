#include "runtime/execution_plan.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "core/check.h"
#include "passes/passes.h"

namespace krt {

std::shared_ptr<ExecutionPlan> compile_graph(const Graph& graph, const std::vector<TensorInfo>& inputs,
                                             const std::vector<TensorInfo>& outputs, const CompileOptions& options,
                                             bool optimize) {
  auto plan = std::make_shared<ExecutionPlan>();
  plan->graph = graph;
  plan->inputs = inputs;
  plan->outputs = outputs;
  plan->report.nodes_before_passes = static_cast<int>(graph.nodes.size());
  const bool on_cpu = options.device.kind == Device::Kind::cpu;
  PassStats stats = optimize ? run_inference_passes(plan->graph, /*fuse=*/on_cpu) : PassStats{};
  plan->report.identities_removed = stats.identities_removed;
  plan->report.scale_shifts_folded = stats.scale_shifts_folded;
  plan->report.activations_fused = stats.activations_fused;
  plan->report.nodes = static_cast<int>(plan->graph.nodes.size());
  for (const Node& n : plan->graph.nodes)
    if (is_view_op(n.kind)) ++plan->report.zero_copy_views;
  // The CPU backend takes every node: it runs its own kernel where it has one and the
  // reference kernel otherwise. The reference device is the oracle: reference kernels only.
  if (options.threads < 0) fail(ErrorCode::invalid_argument, "CompileOptions::threads must be 0 or more, got ", options.threads);
  plan->threads = options.threads;
  if (on_cpu)
    for (const Node& n : plan->graph.nodes) plan->cpu_runners.push_back(std::make_unique<cpu::NodeRunner>(n));
  return plan;
}

std::shared_ptr<const MemoryPlan> ExecutionPlan::plan_for(const std::vector<Shape>& input_shapes) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = plans_.find(input_shapes);
    if (it != plans_.end()) return it->second;
  }
  auto plan = std::make_shared<const MemoryPlan>(plan_memory(graph, input_shapes));
  std::lock_guard<std::mutex> lock(mutex_);
  if (plans_.size() > 64) plans_.clear();  // bound the cache for callers with ever-changing shapes
  return plans_.emplace(input_shapes, plan).first->second;
}

std::unique_ptr<std::vector<uint8_t>> ExecutionPlan::take_arena(int64_t bytes) const {
  std::unique_ptr<std::vector<uint8_t>> arena;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!arenas_.empty()) {
      arena = std::move(arenas_.back());
      arenas_.pop_back();
    }
  }
  if (!arena) arena = std::make_unique<std::vector<uint8_t>>();
  if (static_cast<int64_t>(arena->size()) < bytes) arena->resize(static_cast<size_t>(bytes));
  return arena;
}

void ExecutionPlan::return_arena(std::unique_ptr<std::vector<uint8_t>> arena) const {
  std::lock_guard<std::mutex> lock(mutex_);
  arenas_.push_back(std::move(arena));
}

namespace {

// Checks user inputs against the model's declared inputs; converts other numeric dtypes.
std::vector<Tensor> checked_inputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& given) {
  if (given.size() != infos.size())
    fail(ErrorCode::invalid_argument, "the model takes ", infos.size(), " input(s), got ", given.size());
  std::vector<Tensor> out;
  for (size_t i = 0; i < given.size(); ++i) {
    const TensorInfo& info = infos[i];
    const Tensor& t = given[i];
    bool ok = t.rank() == static_cast<int>(info.shape.size());
    for (size_t d = 0; ok && d < info.shape.size(); ++d) ok = info.shape[d] == dynamic || info.shape[d] == t.shape()[d];
    if (!ok)
      fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') has shape ", shape_to_string(t.shape()),
           ", the model expects ", shape_to_string(info.shape));
    if (t.size() == 0) fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') is empty");
    out.push_back(t.dtype() == DType::f32 ? t : t.cast(DType::f32));
  }
  return out;
}

}  // namespace

std::vector<Tensor> ExecutionPlan::run(const std::vector<Tensor>& given, std::vector<Tensor>* all_values) const {
  std::vector<Tensor> inputs = checked_inputs(this->inputs, given);
  if (!cpu_runners.empty()) cpu::use_threads_on_this_thread(threads);
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  std::shared_ptr<const MemoryPlan> memory = plan_for(shapes);
  std::unique_ptr<std::vector<uint8_t>> arena = take_arena(memory->arena_bytes);

  std::vector<Tensor> values(graph.values.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) values[graph.inputs[i]] = inputs[i];
  for (size_t v = 0; v < graph.values.size(); ++v) {
    ValueId root = memory->root[v];
    if (memory->offset[v] >= 0) {
      values[v] = Tensor::wrap(graph.values[v].dtype, memory->shapes[v], arena->data() + memory->offset[v]);
    } else if (root != static_cast<ValueId>(v) && !values[root].empty()) {
      values[v] = values[root].reshaped(memory->shapes[v]);  // a view of a graph input
    }
  }
  if (all_values) {
    all_values->assign(graph.values.size(), Tensor());
    for (size_t i = 0; i < graph.inputs.size(); ++i) (*all_values)[graph.inputs[i]] = inputs[i];
  }
  std::vector<Tensor> node_inputs, node_outputs;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    node_inputs.clear();
    node_outputs.clear();
    for (ValueId v : node.inputs) node_inputs.push_back(values[v]);
    for (ValueId v : node.outputs) node_outputs.push_back(values[v]);
    if (cpu_runners.empty()) reference::run_node(node, node_inputs, node_outputs);
    else cpu_runners[i]->run(node_inputs, node_outputs);
    // Later nodes may reuse these bytes, so a caller who wants every value gets copies now.
    if (all_values)
      for (ValueId v : node.outputs) (*all_values)[v] = values[v].clone();
  }
  std::vector<Tensor> outputs;
  for (ValueId v : graph.outputs) outputs.push_back(values[v].clone());
  return_arena(std::move(arena));
  return outputs;
}

}  // namespace krt
