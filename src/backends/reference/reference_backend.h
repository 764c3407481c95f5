// The reference backend: plain, obviously-correct loops for every op. It is the oracle the
// fast backends are tested against, so clarity wins over speed here.
#pragma once

#include <span>

#include "graph/graph.h"

namespace krt::reference {

// Runs one node. `inputs` and `outputs` are dense row-major tensors with fully known shapes
// (as infer_output_shapes gives them); outputs are preallocated, their contents undefined.
// Inputs and outputs never overlap, except for reshape/identity where the executor may pass the
// same bytes (the kernel then does nothing).
void run_node(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs);

}  // namespace krt::reference
