// Concatenation on the CPU: the reference's row-major block copies, shared among threads by
// output bytes so one big block (concat along the batch axis) splits as well as many small ones.
#pragma once

#include <span>

#include "graph/graph.h"

namespace krt::cpu {

// Runs a concat node (any dtype, any axis) and returns true; false for other nodes.
bool run_concat_fast(const Node& node, std::span<const Tensor> inputs, Tensor& y);

}  // namespace krt::cpu
