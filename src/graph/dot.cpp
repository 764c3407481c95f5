#include "graph/dot.h"

#include <sstream>

#include "ops/activation.h"

namespace krt {

namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n')
      out += "\\n";  // a line break inside a Graphviz label
    else
      out += c;
  }
  return out + "\"";
}

// The name of the activation an op applies to its result, if it carries one (a fused activation).
std::string fused_activation_name(const Node& node) {
  const Activation* act = node.fused_activation();
  return act && !act->is_linear() ? activation_name(act->kind) : "";
}

}  // namespace

std::string graph_to_dot_cluster(const Graph& graph, const std::string& id,
                                 const std::string& title) {
  std::ostringstream out;
  out << "  subgraph cluster_" << id << " {\n    label=" << quoted(title) << ";\n";
  auto value_node = [&](ValueId v) { return id + "_v" + std::to_string(v); };
  auto op_node = [&](size_t n) { return id + "_n" + std::to_string(n); };
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const Value& v = graph.values[graph.inputs[i]];
    out << "    " << value_node(graph.inputs[i])
        << " [shape=ellipse, label=" << quoted("input " + v.name + "\n" + shape_to_string(v.shape))
        << "];\n";
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    std::string label = node.name + "\n" + op_name(node.kind);
    std::string act = fused_activation_name(node);
    if (!act.empty()) label += " +" + act;
    std::string style;
    if (node.kind == OpKind::reshape)
      style = ", style=dashed, color=blue", label += " (view)";
    else if (node.kind == OpKind::identity)
      style = ", style=dotted";
    else if (!act.empty())
      style = ", style=bold";
    out << "    " << op_node(n) << " [shape=box, label=" << quoted(label) << style << "];\n";
    for (ValueId in : node.inputs) {
      const Value& v = graph.values[in];
      std::string from = v.producer >= 0 ? op_node(v.producer) : value_node(in);
      out << "    " << from << " -> " << op_node(n)
          << " [label=" << quoted(shape_to_string(v.shape)) << "];\n";
    }
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    ValueId o = graph.outputs[i];
    const Value& v = graph.values[o];
    std::string sink = id + "_out" + std::to_string(i);
    out << "    " << sink << " [shape=ellipse, label="
        << quoted("output " + std::to_string(i) + "\n" + shape_to_string(v.shape)) << "];\n";
    out << "    " << (v.producer >= 0 ? op_node(v.producer) : value_node(o)) << " -> " << sink
        << ";\n";
  }
  out << "  }\n";
  return out.str();
}

}  // namespace krt
