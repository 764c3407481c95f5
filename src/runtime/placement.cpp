#include "runtime/placement.h"

#include <map>

#include "core/check.h"

namespace krt {

CompileOptions fallback_options(const CompileOptions& options) {
  CompileOptions fp32 = options;
  fp32.precision = Precision::fp32;
  return fp32;
}

Placement place_nodes(Graph& graph, const Backend& device, const Backend& fallback,
                      const CompileOptions& options) {
  Placement p;
  p.backends.push_back(&device);
  p.spaces.push_back(MemoryLocation{});
  const MemoryLocation device_memory = device.memory(options.device.index);
  if (!device_memory.is_host()) p.spaces.push_back(device_memory);
  auto space_of = [&](const Backend* b) {
    return b->memory(options.device.index).is_host() ? 0 : 1;
  };

  // Choose a backend per node of the original graph.
  std::vector<const Backend*> chosen;
  for (const Node& node : graph.nodes) {
    Support s = device.supports(node, graph, options);
    if (s.supported) {
      chosen.push_back(&device);
      continue;
    }
    Support f =
        &fallback == &device ? s : fallback.supports(node, graph, fallback_options(options));
    if (!f.supported)
      fail(ErrorCode::unsupported, node.label(), ": the ", device.name(), " device cannot run it (",
           s.reason, ") and neither can ", fallback.name(), " (", f.reason, ")");
    chosen.push_back(&fallback);
    p.fallbacks.push_back(node.label() + " runs on " + fallback.name() + ": " + s.reason);
    if (p.backends.size() == 1) p.backends.push_back(&fallback);
  }

  // Rebuild the node list with copies where an input lives in another space than its reader.
  std::vector<Node> old_nodes = std::move(graph.nodes);
  graph.nodes.clear();
  p.value_space.assign(graph.values.size(), 0);
  std::map<std::pair<ValueId, int>, ValueId> twins;  // (value, space) -> its copy there
  for (size_t i = 0; i < old_nodes.size(); ++i) {
    Node& node = old_nodes[i];
    const int backend_index = chosen[i] == &device ? 0 : 1;
    const int space = space_of(chosen[i]);
    for (ValueId& v : node.inputs) {
      if (p.value_space[v] == space) continue;
      auto [it, fresh] = twins.try_emplace({v, space}, -1);
      if (fresh) {
        const Value original = graph.values[v];  // a copy: add_value may move the values
        it->second = graph.add_value(original.name + "@" + p.spaces[space].to_string(),
                                     original.shape, original.dtype);
        p.value_space.push_back(space);
        Node copy;
        copy.kind = OpKind::copy;
        copy.params = CopyParams{p.value_space[v], space};
        copy.name = original.name + " to " + p.spaces[space].to_string();
        copy.inputs = {v};
        copy.outputs = {it->second};
        graph.add_node(std::move(copy));
        p.node_backend.push_back(0);  // the device backend copies, whichever way
        ++p.copies;
      }
      v = it->second;
    }
    for (ValueId v : node.outputs) p.value_space[v] = space;
    graph.add_node(std::move(node));
    p.node_backend.push_back(backend_index);
  }
  for (ValueId v : graph.outputs)
    if (p.value_space[v] != 0) ++p.copies;
  // Values in device memory are stored in the device's dtype for the precision (f16 for fp16),
  // except Embedding ids, which stay f32 so that ids above 2048 keep their exact value.
  const DType storage = device.storage_dtype(options.precision);
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (p.value_space[v] != 0 && graph.values[v].dtype == DType::f32)
      graph.values[v].dtype = storage;
  for (const Node& node : graph.nodes)
    if (node.kind == OpKind::embedding && !node.inputs.empty() &&
        p.value_space[node.inputs[0]] != 0)
      graph.values[node.inputs[0]].dtype = DType::f32;
  verify_graph(graph);
  return p;
}

}  // namespace krt
