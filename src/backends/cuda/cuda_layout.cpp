// Not implemented yet: every node of this family is placed on the cpu backend.
#include "backends/cuda/cuda_ops.h"

#include "core/check.h"

namespace krt::cuda {

Support layout_support(const Node& node, const Graph&, const CompileOptions&) {
  return Support::no(str_cat("no CUDA kernel for op ", op_name(node.kind), " yet"));
}

std::unique_ptr<NodeKernel> make_layout_kernel(const Node& node, const Graph&, const CompileOptions&) {
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
