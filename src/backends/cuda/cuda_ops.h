// The CUDA backend's op families: each says which nodes it runs (op, dtypes, shapes,
// precision) and makes their kernels. cuda_ops.cpp dispatches every OpKind to one family, so
// a new op fails to compile until it is given one (or declined there, running on the cpu).
//
// Conventions every family follows:
// - Tensors handed to a kernel are in device memory, dense row-major NHWC, with concrete
//   shapes; their dtype() is the storage dtype of the precision (f32 for fp32/tf32, f16 for
//   fp16, bf16 for bf16), except Embedding ids, which are always f32. Math is done in f32.
// - Weights are uploaded once, in the kernel's constructor (upload_as), converted to the
//   storage dtype where the kernel reads them so (biases and scales may stay f32).
// - fp32 means TF32 off (Keras's numbers); tf32 allows it in cuBLASLt.
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace krt::cuda {

// The dispatch over families (cuda_ops.cpp).
Support supports_node(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_node_kernel(const Node& node, const Graph& graph,
                                             const CompileOptions& options);

// dense, einsum: cuBLASLt with bias and activation in the epilogue (cuda_matmul.cpp).
Support matmul_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_matmul_kernel(const Node& node, const Graph& graph,
                                               const CompileOptions& options);

// conv, depthwise_conv, conv_transpose: cuBLASLt GEMMs and our own kernels, NHWC (cuda_conv.cpp).
Support conv_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_conv_kernel(const Node& node, const Graph& graph,
                                             const CompileOptions& options);

// activation, scale_shift, prelu, elementwise (broadcasting merges), compare (cuda_pointwise.cpp).
Support pointwise_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_pointwise_kernel(const Node& node, const Graph& graph,
                                                  const CompileOptions& options);

// reduce, axis_activation, masked_softmax, l2_normalize, normalize, global_pool,
// additive_score (cuda_reduction.cpp).
Support reduction_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_reduction_kernel(const Node& node, const Graph& graph,
                                                  const CompileOptions& options);

// reshape, identity, transpose, pad, slice, upsample, concat, pool, resize, embedding,
// recurrent (cuda_layout.cpp, cuda_sequence.cpp).
Support layout_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_layout_kernel(const Node& node, const Graph& graph,
                                               const CompileOptions& options);

// Element strides of a dense row-major tensor of this shape.
std::vector<int64_t> row_major_strides(const Shape& shape);

// Yes when no input or output of the node has more than `rank` axes (a kernel's fixed limit).
Support rank_at_most(const Node& node, const Graph& graph, size_t rank);

// unary, binary, where, gather, strided_slice, shape_of: the recorded tensor ops
// (cuda_tensor_ops.cpp).
Support tensor_op_support(const Node& node, const Graph& graph, const CompileOptions& options);
std::unique_ptr<NodeKernel> make_tensor_op_kernel(const Node& node, const Graph& graph,
                                                  const CompileOptions& options);

}  // namespace krt::cuda
