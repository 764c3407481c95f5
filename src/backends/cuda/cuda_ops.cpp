#include "backends/cuda/cuda_ops.h"

#include "core/check.h"

namespace krt::cuda {

namespace {

enum class Family { matmul, conv, pointwise, reduction, layout, tensor, none };

// Every op has a family here (no default: a new op does not compile until it is placed).
Family family_of(OpKind kind) {
  switch (kind) {
    case OpKind::dense:
    case OpKind::einsum:
      return Family::matmul;
    case OpKind::conv:
    case OpKind::depthwise_conv:
    case OpKind::conv_transpose:
      return Family::conv;
    case OpKind::activation:
    case OpKind::scale_shift:
    case OpKind::prelu:
    case OpKind::elementwise:
    case OpKind::compare:
      return Family::pointwise;
    case OpKind::reduce:
    case OpKind::axis_activation:
    case OpKind::masked_softmax:
    case OpKind::l2_normalize:
    case OpKind::normalize:
    case OpKind::global_pool:
    case OpKind::additive_score:
      return Family::reduction;
    case OpKind::reshape:
    case OpKind::identity:
    case OpKind::transpose:
    case OpKind::pad:
    case OpKind::slice:
    case OpKind::upsample:
    case OpKind::concat:
    case OpKind::pool:
    case OpKind::resize:
    case OpKind::embedding:
    case OpKind::recurrent:
      return Family::layout;
    case OpKind::unary:
    case OpKind::binary:
    case OpKind::where:
    case OpKind::gather:
    case OpKind::strided_slice:
    case OpKind::shape_of:
      return Family::tensor;
    case OpKind::custom:  // the user's C++ implementation runs on the host
    case OpKind::copy:
      return Family::none;
  }
  return Family::none;
}

}  // namespace

Support supports_node(const Node& node, const Graph& graph, const CompileOptions& options) {
  switch (family_of(node.kind)) {
    case Family::matmul:
      return matmul_support(node, graph, options);
    case Family::conv:
      return conv_support(node, graph, options);
    case Family::pointwise:
      return pointwise_support(node, graph, options);
    case Family::reduction:
      return reduction_support(node, graph, options);
    case Family::layout:
      return layout_support(node, graph, options);
    case Family::tensor:
      return tensor_op_support(node, graph, options);
    case Family::none:
      break;
  }
  return Support::no(str_cat("op ", op_name(node.kind), " runs on the host only"));
}

std::unique_ptr<NodeKernel> make_node_kernel(const Node& node, const Graph& graph,
                                             const CompileOptions& options) {
  switch (family_of(node.kind)) {
    case Family::matmul:
      return make_matmul_kernel(node, graph, options);
    case Family::conv:
      return make_conv_kernel(node, graph, options);
    case Family::pointwise:
      return make_pointwise_kernel(node, graph, options);
    case Family::reduction:
      return make_reduction_kernel(node, graph, options);
    case Family::layout:
      return make_layout_kernel(node, graph, options);
    case Family::tensor:
      return make_tensor_op_kernel(node, graph, options);
    case Family::none:
      break;
  }
  fail(ErrorCode::internal, node.label(), ": no CUDA kernel for op ", op_name(node.kind));
}

}  // namespace krt::cuda
