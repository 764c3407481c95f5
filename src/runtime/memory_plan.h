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
  std::vector<Shape> shapes;  // per value, concrete
  std::vector<ValueId> root;  // per value: the value whose storage it uses (itself if none)
  std::vector<int64_t>
      offset;              // per value: byte offset of its root in its space's arena; -1 for inputs
  std::vector<int> space;  // per value: the memory space (arena) it lives in; 0 is the host
  std::vector<int64_t> space_bytes;  // per space: its arena's size
  int64_t arena_bytes = 0;           // all arenas together: peak intermediate memory
  int64_t naive_bytes = 0;           // one buffer per computed root
  int views = 0;                     // values that alias another value's storage
};

// True for ops whose output is the same bytes as their input.
bool is_view_op(OpKind kind);

// Infers every shape from the inputs and assigns storage: one arena per memory space, given per
// value in `value_space` (empty: everything on the host, space 0). Throws krt::Error on shape
// errors.
MemoryPlan plan_memory(const Graph& graph, const std::vector<Shape>& input_shapes,
                       const std::vector<int>& value_space = {});

}  // namespace krt
