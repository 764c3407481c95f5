// Output shapes of the normalize and resize ops (the dispatch lives in shape_inference.cpp).
#pragma once

#include "graph/graph.h"

namespace krt {

// Same shape as the input; checks axes, groups and the broadcast shape of scale/shift.
Shape infer_normalize(const Node& node, const Shape& in);
// The spatial axes (1..rank-2) take ResizeParams::size, or input * factors.
Shape infer_resize(const Node& node, const Shape& in);

}  // namespace krt
