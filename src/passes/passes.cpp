#include "passes/passes.h"

#include <algorithm>

namespace krt {

void replace_uses(Graph& graph, ValueId from, ValueId to) {
  for (Node& n : graph.nodes)
    for (ValueId& v : n.inputs)
      if (v == from) v = to;
  for (ValueId& v : graph.outputs)
    if (v == from) v = to;
}

int remove_identities(Graph& graph) {
  int removed = 0;
  for (Node& n : graph.nodes) {
    if (n.kind != OpKind::identity || n.inputs.size() != 1 || n.outputs.size() != 1) continue;
    replace_uses(graph, n.outputs[0], n.inputs[0]);
    ++removed;
  }
  remove_dead_nodes(graph);
  return removed;
}

int cancel_inverse_transposes(Graph& graph) {
  int cancelled = 0;
  for (Node& second : graph.nodes) {
    if (second.kind != OpKind::transpose) continue;
    ValueId mid = second.inputs[0];
    int p = graph.values[mid].producer;
    if (p < 0 || graph.nodes[p].kind != OpKind::transpose) continue;
    const auto& a = graph.nodes[p].get<TransposeParams>().perm;
    const auto& b = second.get<TransposeParams>().perm;
    if (a.size() != b.size()) continue;
    bool inverse = true;
    for (size_t i = 0; i < b.size() && inverse; ++i) inverse = a[b[i]] == static_cast<int64_t>(i);
    if (!inverse) continue;
    ValueId source = graph.nodes[p].inputs[0];
    replace_uses(graph, second.outputs[0], source);
    ++cancelled;
  }
  if (cancelled) remove_dead_nodes(graph);
  return cancelled;
}

void remove_dead_nodes(Graph& graph) {
  std::vector<bool> live_value(graph.values.size(), false);
  for (ValueId v : graph.outputs) live_value[v] = true;
  std::vector<bool> live_node(graph.nodes.size(), false);
  for (size_t i = graph.nodes.size(); i-- > 0;) {
    const Node& n = graph.nodes[i];
    bool used =
        std::any_of(n.outputs.begin(), n.outputs.end(), [&](ValueId v) { return live_value[v]; });
    if (!used) continue;
    live_node[i] = true;
    for (ValueId v : n.inputs) live_value[v] = true;
  }
  for (ValueId v : graph.inputs) live_value[v] = true;
  // Renumber values and nodes, keeping order.
  std::vector<ValueId> new_id(graph.values.size(), -1);
  std::vector<Value> values;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    bool keep = live_value[v];
    int producer = graph.values[v].producer;
    if (producer >= 0 && !live_node[producer]) keep = false;
    if (producer >= 0 && live_node[producer]) keep = true;  // all outputs of a live node stay
    if (!keep) continue;
    new_id[v] = static_cast<ValueId>(values.size());
    values.push_back(graph.values[v]);
  }
  std::vector<Node> nodes;
  std::vector<int> new_node(graph.nodes.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!live_node[i]) continue;
    new_node[i] = static_cast<int>(nodes.size());
    Node n = std::move(graph.nodes[i]);
    for (ValueId& v : n.inputs) v = new_id[v];
    for (ValueId& v : n.outputs) v = new_id[v];
    nodes.push_back(std::move(n));
  }
  for (Value& v : values)
    if (v.producer >= 0) v.producer = new_node[v.producer];
  for (ValueId& v : graph.inputs) v = new_id[v];
  for (ValueId& v : graph.outputs) v = new_id[v];
  graph.values = std::move(values);
  graph.nodes = std::move(nodes);
}

PassStats run_inference_passes(Graph& graph, bool fuse, bool graph_owns_weights) {
  PassStats stats;
  stats.identities_removed = remove_identities(graph);
  stats.transposes_cancelled = cancel_inverse_transposes(graph);
  if (fuse) {
    stats.scale_shifts_folded = fold_scale_shifts(graph, graph_owns_weights);
    stats.activations_fused = fuse_activations(graph);
  }
  verify_graph(graph);
  return stats;
}

}  // namespace krt
