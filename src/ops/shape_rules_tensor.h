// Output-shape rules of the general tensor ops: unary, binary, where, gather, strided_slice
// (the dispatch lives in shape_inference.cpp).
#pragma once

#include <vector>

#include "graph/graph.h"

namespace krt {

// numpy broadcasting of `shapes`, right-aligned; a dynamic dim against 1 stays dynamic. Throws
// with the node's label when two known dims differ and neither is 1.
Shape broadcast_shapes(const Node& node, const std::vector<Shape>& shapes);

// The operand shapes of binary/where: inputs and constant weights merged in operand order.
std::vector<Shape> operand_shapes(const Node& node, const std::vector<Shape>& inputs,
                                  size_t operands, uint32_t constant_operands);

Shape infer_binary(const Node& node, const std::vector<Shape>& inputs);
Shape infer_where(const Node& node, const std::vector<Shape>& inputs);
Shape infer_gather(const Node& node, const std::vector<Shape>& inputs);
Shape infer_strided_slice(const Node& node, const Shape& in);

}  // namespace krt
