// Output-shape rules of the sequence ops: embedding, recurrent, compare, reduce (the dispatch
// lives in shape_inference.cpp).
#pragma once

#include <vector>

#include "graph/graph.h"

namespace krt {

Shape infer_embedding(const Node& node, const Shape& in);
// The output, then the final states when return_state.
std::vector<Shape> infer_recurrent(const Node& node, const std::vector<Shape>& inputs);
Shape infer_compare(const Node& node, const Shape& in);
Shape infer_reduce(const Node& node, const Shape& in);

}  // namespace krt
