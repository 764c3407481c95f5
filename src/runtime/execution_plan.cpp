#include "runtime/execution_plan.h"

#include <chrono>

#include "core/check.h"
#include "ops/op.h"
#include "passes/passes.h"
#include "runtime/backend_registry.h"

namespace krt {

// What one run holds exclusively: an arena per memory space (from the owning backend's
// allocator) and a context per backend in use. Pooled, so addresses repeat between runs.
struct ExecutionPlan::RunSlot {
  std::vector<std::shared_ptr<void>> arenas;
  std::vector<int64_t> arena_bytes;
  std::vector<std::unique_ptr<RunContext>> contexts;  // per placement backend
};

ExecutionPlan::~ExecutionPlan() = default;

std::shared_ptr<ExecutionPlan> compile_graph(const Graph& graph,
                                             const std::vector<TensorInfo>& inputs,
                                             const std::vector<TensorInfo>& outputs,
                                             const CompileOptions& options, bool optimize,
                                             bool graph_owns_weights) {
  if (options.threads < 0)
    fail(ErrorCode::invalid_argument, "CompileOptions::threads must be 0 or more, got ",
         options.threads);
  const Backend& device = backend_for(options.device);
  bool offered = false;
  for (Precision p : device.precisions()) offered |= p == options.precision;
  if (!offered) {
    std::string list;
    for (Precision p : device.precisions())
      list += std::string(list.empty() ? "" : ", ") + precision_name(p);
    fail(ErrorCode::unsupported, "device '", options.device.to_string(),
         "' does not offer precision ", precision_name(options.precision), " (it offers ", list,
         ")");
  }
  auto plan = std::make_shared<ExecutionPlan>();
  plan->graph = graph;
  plan->inputs = inputs;
  plan->outputs = outputs;
  plan->options = options;
  CompileReport& report = plan->report;
  report.nodes_before_passes = static_cast<int>(graph.nodes.size());
  PassStats stats =
      optimize ? run_inference_passes(plan->graph, device.wants_fusion(), graph_owns_weights)
               : PassStats{};
  report.identities_removed = stats.identities_removed;
  report.scale_shifts_folded = stats.scale_shifts_folded;
  report.activations_fused = stats.activations_fused;
  for (const Node& n : plan->graph.nodes)
    if (is_view_op(n.kind)) ++report.zero_copy_views;

  plan->placement = place_nodes(plan->graph, device, fallback_backend(), options);
  const Placement& placement = plan->placement;
  for (size_t i = 0; i < plan->graph.nodes.size(); ++i) {
    const Node& node = plan->graph.nodes[i];
    const Backend* backend = placement.backends[placement.node_backend[i]];
    if (node.kind == OpKind::copy) {
      plan->kernels.push_back(nullptr);
      continue;
    }
    plan->kernels.push_back(backend->prepare(
        node, plan->graph, placement.node_backend[i] == 0 ? options : fallback_options(options)));
    ++report.nodes_per_backend[backend->name()];
  }
  for (const auto& [name, count] : report.nodes_per_backend) report.nodes += count;
  report.copies = placement.copies;
  report.fallbacks = placement.fallbacks;
  report.device = options.device.to_string();
  report.precision = precision_name(options.precision);
  plan->batch_separable = options.device == Device::cpu() && placement.spaces.size() == 1 &&
                          is_batch_separable(plan->graph);
  return plan;
}

std::shared_ptr<const MemoryPlan> ExecutionPlan::plan_for(
    const std::vector<Shape>& input_shapes) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = plans_.find(input_shapes);
    if (it != plans_.end()) return it->second;
  }
  auto plan =
      std::make_shared<const MemoryPlan>(plan_memory(graph, input_shapes, placement.value_space));
  std::lock_guard<std::mutex> lock(mutex_);
  if (plans_.size() > 64) plans_.clear();  // bound the cache for callers with ever-changing shapes
  return plans_.emplace(input_shapes, plan).first->second;
}

namespace {

// The backend that owns memory space `space`: the host's for 0, the device's otherwise.
const Backend& owner_of_space(const Placement& placement, int space) {
  for (const Backend* b : placement.backends)
    if ((space == 0) == b->memory(0).is_host()) return *b;
  return fallback_backend();
}

// The dtypes a device keeps float values in (Backend::storage_dtype), which device inputs may
// have.
bool is_float_storage(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f16 || dtype == DType::bf16;
}

}  // namespace

Tensor ExecutionPlan::transfer(const Tensor& t, bool to_device, DType device_dtype) const {
  const Backend& device = *placement.backends[0];
  const MemoryLocation where = placement.spaces.back();
  if (to_device ? !t.is_host() : t.location() != where)
    fail(ErrorCode::invalid_argument,
         to_device ? "upload expects a host tensor, got one on " : "download expects a tensor on ",
         to_device ? t.location().to_string() : where.to_string(),
         to_device ? "" : str_cat(", got one on ", t.location().to_string()));
  if (to_device && !is_float_storage(device_dtype))
    fail(ErrorCode::invalid_argument, "upload makes float32, float16 or bfloat16 tensors, not ",
         dtype_name(device_dtype));
  // Uploads go through float32, as the model's host inputs do.
  const Tensor host = !to_device || t.dtype() == DType::f32 ? t : t.cast(DType::f32);
  if (to_device && where.is_host()) return host.cast(device_dtype);  // a host device: a copy
  std::unique_ptr<RunContext> context = device.open_run(options);
  context->begin_run();
  Tensor out;
  if (to_device) {
    const size_t bytes = static_cast<size_t>(host.size()) * dtype_size(device_dtype);
    std::shared_ptr<void> storage = device.allocate(bytes, options.device.index);
    out = Tensor::wrap_device(device_dtype, host.shape(), storage.get(), where, storage);
    device.copy_from_host(*context, host, out);
  } else {
    out = Tensor(DType::f32, t.shape());
    device.copy_to_host(*context, t, out);
  }
  context->synchronize();
  return out;
}

std::unique_ptr<ExecutionPlan::RunSlot> ExecutionPlan::take_slot(const MemoryPlan& memory) const {
  std::unique_ptr<RunSlot> slot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!slots_.empty()) {
      slot = std::move(slots_.back());
      slots_.pop_back();
    }
  }
  if (!slot) {
    slot = std::make_unique<RunSlot>();
    for (const Backend* b : placement.backends) slot->contexts.push_back(b->open_run(options));
  }
  slot->arenas.resize(memory.space_bytes.size());
  slot->arena_bytes.resize(memory.space_bytes.size(), 0);
  for (size_t s = 0; s < memory.space_bytes.size(); ++s) {
    if (slot->arena_bytes[s] >= memory.space_bytes[s] && slot->arenas[s]) continue;
    slot->arenas[s].reset();  // free before allocating the larger one
    slot->arenas[s] =
        owner_of_space(placement, static_cast<int>(s))
            .allocate(static_cast<size_t>(std::max<int64_t>(memory.space_bytes[s], 1)),
                      options.device.index);
    slot->arena_bytes[s] = memory.space_bytes[s];
  }
  return slot;
}

void ExecutionPlan::return_slot(std::unique_ptr<RunSlot> slot) const {
  std::lock_guard<std::mutex> lock(mutex_);
  slots_.push_back(std::move(slot));
}

namespace {

// Checks user inputs against the model's declared inputs; converts other numeric dtypes of
// host inputs. Inputs in `device` memory are taken as they are (float32 only).
std::vector<Tensor> checked_inputs(const std::vector<TensorInfo>& infos,
                                   const std::vector<Tensor>& given, const MemoryLocation& device) {
  if (given.size() != infos.size())
    fail(ErrorCode::invalid_argument, "the model takes ", infos.size(), " input(s), got ",
         given.size());
  std::vector<Tensor> out;
  for (size_t i = 0; i < given.size(); ++i) {
    const TensorInfo& info = infos[i];
    const Tensor& t = given[i];
    bool ok = t.rank() == static_cast<int>(info.shape.size());
    for (size_t d = 0; ok && d < info.shape.size(); ++d)
      ok = info.shape[d] == dynamic || info.shape[d] == t.shape()[d];
    if (!ok)
      fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') has shape ",
           shape_to_string(t.shape()), ", the model expects ", shape_to_string(info.shape));
    if (t.size() == 0)
      fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') is empty");
    if (!t.is_host()) {
      if (t.location() != device)
        fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') lives on ",
             t.location().to_string(), " but the model runs on ",
             device.is_host() ? "the host" : device.to_string());
      if (!is_float_storage(t.dtype()))
        fail(ErrorCode::invalid_argument, "input ", i, " ('", info.name, "') on ",
             device.to_string(), " is ", dtype_name(t.dtype()),
             "; device inputs must be float32, float16 or bfloat16");
      out.push_back(t);
      continue;
    }
    out.push_back(t.dtype() == DType::f32 ? t : t.cast(DType::f32));
  }
  return out;
}

std::string recording_key(size_t first_node, const std::vector<Shape>& shapes,
                          const ExecutionPlan::RunSlot& slot, const std::vector<Tensor>& inputs) {
  std::string key = str_cat("nodes from ", first_node, ";");
  for (const Shape& s : shapes) key += shape_to_string(s);
  for (const std::shared_ptr<void>& a : slot.arenas) key += str_cat(";", a.get());
  // Device inputs are read in place, or converted when not in the storage dtype: a buffer freed
  // and allocated again at the same address in another dtype must not replay the old recording.
  for (const Tensor& t : inputs)
    if (!t.is_host()) key += str_cat(";in ", t.data(), " ", dtype_name(t.dtype()));
  return key;
}

}  // namespace

std::vector<Tensor> ExecutionPlan::run(const std::vector<Tensor>& given,
                                       const RunOptions& run_options,
                                       std::vector<Tensor>* all_values) const {
  if (!all_values && !run_options.outputs_on_device)
    if (const int64_t rows = sub_batch_rows(given))
      return run_in_sub_batches(given, rows, run_options);
  return run_whole(given, run_options, all_values);
}

std::vector<Tensor> ExecutionPlan::run_whole(const std::vector<Tensor>& given,
                                             const RunOptions& run_options,
                                             std::vector<Tensor>* all_values, int threads) const {
  const MemoryLocation device_memory = placement.spaces.back();
  std::vector<Tensor> inputs = checked_inputs(this->inputs, given, device_memory);
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  std::shared_ptr<const MemoryPlan> memory = plan_for(shapes);
  std::unique_ptr<RunSlot> slot = take_slot(*memory);
  for (auto& context : slot->contexts)
    threads > 0 ? context->begin_run_on_threads(threads) : context->begin_run();

  std::vector<Tensor> values(graph.values.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) values[graph.inputs[i]] = inputs[i];
  // A copy node of an input the caller gave in device memory, in the storage dtype, is skipped:
  // its readers read the caller's tensor in place.
  std::vector<bool> skip(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    const Tensor& from = values[node.inputs.empty() ? 0 : node.inputs[0]];
    if (node.kind == OpKind::copy && !from.empty() &&
        from.location() == placement.spaces[memory->space[node.outputs[0]]] &&
        from.dtype() == graph.values[node.outputs[0]].dtype) {
      skip[i] = true;
      values[node.outputs[0]] = from;
    }
  }
  // Roots first (bound above, or in an arena), then the views of them.
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (memory->root[v] != static_cast<ValueId>(v) || !values[v].empty() || memory->offset[v] < 0)
      continue;
    const int space = memory->space[v];
    void* at = static_cast<uint8_t*>(slot->arenas[space].get()) + memory->offset[v];
    values[v] =
        Tensor::wrap_device(graph.values[v].dtype, memory->shapes[v], at, placement.spaces[space]);
  }
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const ValueId root = memory->root[v];
    if (root != static_cast<ValueId>(v) && !values[root].empty())
      values[v] = values[root].reshaped(memory->shapes[v]);
  }
  auto host_copy = [&](const Tensor& t, RunContext& context, const Backend& owner) {
    if (t.is_host()) return t.clone();
    Tensor h(DType::f32, t.shape());
    owner.copy_to_host(context, t, h);
    context.synchronize();
    return h;
  };
  if (all_values) {
    all_values->assign(graph.values.size(), Tensor());
    for (size_t i = 0; i < graph.inputs.size(); ++i) (*all_values)[graph.inputs[i]] = inputs[i];
  }

  // Consecutive nodes of one backend form a segment, which a recording backend records once
  // per key and replays; copies to or from the host and (when tracing) per-node host copies
  // break segments. A copy within the device (a caller's device input converted to the storage
  // dtype) is recorded with the nodes around it, so one replay covers the whole run. Found
  // before the clock starts, so the host's work stays out of the device's time.
  auto host_copy_node = [&](size_t i) {
    const Node& node = graph.nodes[i];
    return node.kind == OpKind::copy &&
           (values[node.inputs[0]].is_host() || values[node.outputs[0]].is_host());
  };
  struct Segment {
    size_t begin, end;
    std::string key;  // "" for a copy node to or from the host, or when tracing
  };
  std::vector<Segment> segments;
  for (size_t i = 0; i < graph.nodes.size();) {
    const int b = placement.node_backend[i];
    size_t end = i;
    while (end < graph.nodes.size() && placement.node_backend[end] == b && !host_copy_node(end) &&
           (end == i || !all_values))
      ++end;
    if (end == i) {  // a copy to or from the host
      segments.push_back({i, i + 1, ""});
    } else {
      const bool record = !all_values && !run_options.profile && slot->contexts[b]->records();
      segments.push_back({i, end, record ? recording_key(i, shapes, *slot, inputs) : ""});
    }
    i = segments.back().end;
  }

  // The device's clock covers the nodes, and the copies of host inputs among them.
  RunContext& clock = *slot->contexts[0];
  clock.mark_start();
  std::vector<Tensor> node_inputs, node_outputs;
  auto run_node = [&](size_t i) {
    const Node& node = graph.nodes[i];
    const int b = placement.node_backend[i];
    RunContext& context = *slot->contexts[b];
    if (skip[i]) return;
    if (node.kind == OpKind::copy) {
      const Tensor& from = values[node.inputs[0]];
      Tensor& to = values[node.outputs[0]];
      const Backend& device = *placement.backends[b];
      if (!from.is_host() && !to.is_host()) {
        device.copy_within(context, from,
                           to);  // a caller's device input, converted to the storage dtype
      } else if (to.is_host()) {
        device.copy_to_host(context, from, to);
        context.synchronize();  // host kernels read it next
      } else {
        device.copy_from_host(context, from, to);
      }
      return;
    }
    node_inputs.clear();
    node_outputs.clear();
    for (ValueId v : node.inputs) node_inputs.push_back(values[v]);
    for (ValueId v : node.outputs) node_outputs.push_back(values[v]);
    kernels[i]->run(context, node_inputs, node_outputs);
  };
  // Profiling times each node on the host's clock, the device waited for after each.
  auto run_profiled = [&](size_t i) {
    const int b = placement.node_backend[i];
    RunContext& context = *slot->contexts[b];
    const auto start = std::chrono::steady_clock::now();
    run_node(i);
    context.synchronize();
    const Node& node = graph.nodes[i];
    run_options.profile->push_back(
        {node.name, op_name(node.kind), placement.backends[b]->name(),
         kernels[i] ? kernels[i]->describe() : "copy",
         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
             .count()});
  };
  if (run_options.profile) run_options.profile->clear();
  for (const Segment& s : segments) {
    const int b = placement.node_backend[s.begin];
    RunContext& context = *slot->contexts[b];
    if (s.key.empty() || !context.replay(s.key)) {
      if (!s.key.empty()) context.begin_recording(s.key);
      for (size_t k = s.begin; k < s.end; ++k) run_options.profile ? run_profiled(k) : run_node(k);
      if (!s.key.empty()) context.end_recording();
    }
    if (all_values)
      for (size_t k = s.begin; k < s.end; ++k)
        for (ValueId v : graph.nodes[k].outputs)
          (*all_values)[v] = host_copy(values[v], context, *placement.backends[b]);
  }

  clock.mark_end();
  std::vector<Tensor> outputs;
  for (ValueId v : graph.outputs) {
    const Tensor& t = values[v];
    const int space = memory->space[memory->root[v]];
    if (t.is_host() || space == 0) {
      outputs.push_back(t.is_host() ? t.clone()
                                    : host_copy(t, *slot->contexts[0], *placement.backends[0]));
      continue;
    }
    const Backend& owner = owner_of_space(placement, space);
    RunContext& context = *slot->contexts[0];  // the device backend is placement.backends[0]
    if (run_options.outputs_on_device) {
      const DType dtype = run_options.outputs_as_float32 ? DType::f32 : t.dtype();
      const size_t bytes = static_cast<size_t>(t.size()) * dtype_size(dtype);
      std::shared_ptr<void> storage = owner.allocate(bytes, options.device.index);
      Tensor out = Tensor::wrap_device(dtype, t.shape(), storage.get(), t.location(), storage);
      owner.copy_within(context, t, out);
      outputs.push_back(out);
    } else {
      Tensor h(DType::f32, t.shape());  // the model's outputs are float32 on the host
      owner.copy_to_host(context, t, h);
      outputs.push_back(h);
    }
  }
  for (auto& context : slot->contexts) context->synchronize();
  if (run_options.device_time_ms) *run_options.device_time_ms = clock.elapsed_ms();
  return_slot(std::move(slot));
  return outputs;
}

}  // namespace krt
