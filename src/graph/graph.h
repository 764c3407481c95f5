// The intermediate representation: values (tensors flowing between nodes) and nodes (ops),
// kept in topological order. Shapes include the batch axis; `dynamic` (-1) marks a dimension
// known only at run time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kerasrt/tensor.h"
#include "ops/op.h"

namespace krt {

using ValueId = int;

struct Value {
  std::string name;
  Shape shape;
  DType dtype = DType::f32;
  int producer = -1;  // node index, -1 for graph inputs
};

struct Node {
  OpKind kind = OpKind::identity;
  OpParams params;
  std::string name;         // the Keras layer name (or a derived one for helper nodes)
  std::string keras_class;  // the Keras class that produced it, for messages
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::vector<Tensor> weights;

  template <class P>
  const P& get() const {
    return std::get<P>(params);
  }
  template <class P>
  P& get() {
    return std::get<P>(params);
  }
  // "layer 'fc1' (Dense)", for error messages.
  std::string label() const;
  // The activation this node applies to its own result (Dense, the convolutions, EinsumDense),
  // or nullptr for ops that carry none.
  const Activation* fused_activation() const;
  Activation* fused_activation() {
    return const_cast<Activation*>(std::as_const(*this).fused_activation());
  }
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;  // topological order
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;

  ValueId add_value(std::string name, Shape shape, DType dtype = DType::f32);
  // Appends a node; its outputs must already exist and get this node as producer.
  int add_node(Node node);
};

// Checks structural invariants (ids in range, topological order, one producer per value);
// throws krt::Error (internal) describing the first violation.
void verify_graph(const Graph& graph);

}  // namespace krt
