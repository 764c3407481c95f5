// Where each value of a graph lives during one run, for concrete input shapes.
//
// Reshape outputs are views: they share their input's storage ("root"). Each root that a
// node computes gets an offset in one arena; roots whose lifetimes do not overlap share
// bytes (greedy by size, as TFLite's planner does). Graph inputs stay in the caller's buffers.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace krt {

struct MemoryPlan {
  std::vector<Shape> shapes;     // per value, concrete
  std::vector<ValueId> root;     // per value: the value whose storage it uses (itself if none)
  std::vector<int64_t> offset;   // per value: byte offset of its root in the arena; -1 for inputs
  int64_t arena_bytes = 0;       // the arena size: peak intermediate memory
  int64_t naive_bytes = 0;       // one buffer per computed root
  int views = 0;                 // values that alias another value's storage
};

// True for ops whose output is the same bytes as their input.
bool is_view_op(OpKind kind);

// Infers every shape from the inputs and assigns storage. Throws krt::Error on shape errors.
MemoryPlan plan_memory(const Graph& graph, const std::vector<Shape>& input_shapes);

}  // namespace krt
