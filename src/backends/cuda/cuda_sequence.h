// The recurrent layers on the GPU (cuda_sequence.cpp), part of the layout family: cuda_layout.cpp
// dispatches OpKind::recurrent here.
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace krt::cuda {

Support recurrent_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_recurrent_kernel(const Node& node, const Graph& graph,
                                                  const CompileOptions& options);

}  // namespace krt::cuda
