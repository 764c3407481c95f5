#include "graph/graph.h"

#include "core/check.h"

namespace krt {

const char* op_name(OpKind kind) {
  switch (kind) {
#define KRT_OP_NAME(name, Params, doc) \
  case OpKind::name:                   \
    return #name;
    KRT_OP_LIST(KRT_OP_NAME)
#undef KRT_OP_NAME
  }
  return "unknown";
}

const char* op_description(OpKind kind) {
  switch (kind) {
#define KRT_OP_DOC(name, Params, doc) \
  case OpKind::name:                  \
    return doc;
    KRT_OP_LIST(KRT_OP_DOC)
#undef KRT_OP_DOC
  }
  return "";
}

std::string Node::label() const {
  return str_cat("layer '", name, "' (", keras_class.empty() ? op_name(kind) : keras_class, ")");
}

const Activation* Node::fused_activation() const {
  switch (kind) {
    case OpKind::dense:
      return &get<DenseParams>().activation;
    case OpKind::conv:
    case OpKind::depthwise_conv:
    case OpKind::conv_transpose:
      return &get<ConvParams>().activation;
    case OpKind::einsum:
      return &get<EinsumParams>().activation;
    default:
      return nullptr;
  }
}

ValueId Graph::add_value(std::string name, Shape shape, DType dtype) {
  values.push_back(Value{std::move(name), std::move(shape), dtype, -1});
  return static_cast<ValueId>(values.size() - 1);
}

int Graph::add_node(Node node) {
  int index = static_cast<int>(nodes.size());
  for (ValueId v : node.outputs) values.at(v).producer = index;
  nodes.push_back(std::move(node));
  return index;
}

void verify_graph(const Graph& graph) {
  std::vector<bool> ready(graph.values.size(), false);
  for (ValueId v : graph.inputs) {
    if (v < 0 || v >= static_cast<ValueId>(graph.values.size()))
      fail(ErrorCode::internal, "graph input id ", v, " out of range");
    ready[v] = true;
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    for (ValueId v : n.inputs) {
      if (v < 0 || v >= static_cast<ValueId>(graph.values.size()))
        fail(ErrorCode::internal, n.label(), ": input id out of range");
      if (!ready[v])
        fail(ErrorCode::internal, n.label(), ": input '", graph.values[v].name,
             "' is used before it is computed");
    }
    for (ValueId v : n.outputs) {
      if (v < 0 || v >= static_cast<ValueId>(graph.values.size()))
        fail(ErrorCode::internal, n.label(), ": output id out of range");
      if (ready[v] || graph.values[v].producer != static_cast<int>(i))
        fail(ErrorCode::internal, n.label(), ": output '", graph.values[v].name,
             "' has another producer");
      ready[v] = true;
    }
  }
  for (ValueId v : graph.outputs)
    if (v < 0 || v >= static_cast<ValueId>(graph.values.size()) || !ready[v])
      fail(ErrorCode::internal, "graph output ", v, " is never computed");
}

}  // namespace krt
