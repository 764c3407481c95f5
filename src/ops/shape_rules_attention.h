// Output-shape rules of the ops that serve Dot, EinsumDense and the attention layers.
#pragma once

#include <vector>

#include "graph/graph.h"

namespace krt {

Shape infer_einsum(const Node& node, const std::vector<Shape>& inputs);
Shape infer_masked_softmax(const Node& node, const std::vector<Shape>& inputs);
Shape infer_l2_normalize(const Node& node, const std::vector<Shape>& inputs);
Shape infer_additive_score(const Node& node, const std::vector<Shape>& inputs);

}  // namespace krt
