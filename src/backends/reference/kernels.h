// Internal to the reference backend: one function per op (run_node dispatches to them) and the
// index helpers they share. Every kernel assumes shapes were validated by infer_output_shapes.
#pragma once

#include <span>
#include <vector>

#include "graph/graph.h"

namespace krt::reference {

// Row-major element strides of `shape`.
std::vector<int64_t> strides_of(const Shape& shape);
// The coordinates of flat element `index` in `shape` (row-major), written into `coords`.
void unravel(int64_t index, const Shape& shape, std::vector<int64_t>& coords);

// Sets y to act(y) in place.
void apply_activation_inplace(const Activation& act, Tensor& y);

void run_dense(const Node& node, const Tensor& x, Tensor& y);
void run_conv(const Node& node, const Tensor& x, Tensor& y);
void run_depthwise_conv(const Node& node, const Tensor& x, Tensor& y);
void run_conv_transpose(const Node& node, const Tensor& x, Tensor& y);

void run_activation(const Node& node, const Tensor& x, Tensor& y);
void run_axis_activation(const Node& node, const Tensor& x, Tensor& y);
void run_prelu(const Node& node, const Tensor& x, Tensor& y);
void run_scale_shift(const Node& node, const Tensor& x, Tensor& y);
void run_elementwise(const Node& node, std::span<const Tensor> inputs, Tensor& y);

void run_pool(const Node& node, const Tensor& x, Tensor& y);
void run_global_pool(const Node& node, const Tensor& x, Tensor& y);

void run_copy(const Tensor& x, Tensor& y);  // reshape, identity
void run_transpose(const Node& node, const Tensor& x, Tensor& y);
void run_pad(const Node& node, const Tensor& x, Tensor& y);
void run_slice(const Node& node, const Tensor& x, Tensor& y);
void run_upsample(const Node& node, const Tensor& x, Tensor& y);
void run_concat(const Node& node, std::span<const Tensor> inputs, Tensor& y);

void run_normalize(const Node& node, const Tensor& x, Tensor& y);  // normalize.cpp
void run_resize(const Node& node, const Tensor& x, Tensor& y);     // resize.cpp

// attention.cpp: Dot, EinsumDense and the attention layers.
void run_einsum(const Node& node, std::span<const Tensor> inputs, Tensor& y);
void run_masked_softmax(const Node& node, std::span<const Tensor> inputs, Tensor& y);
void run_l2_normalize(const Node& node, const Tensor& x, Tensor& y);
void run_additive_score(const Node& node, std::span<const Tensor> inputs, Tensor& y);

// sequence.cpp: Embedding, the recurrent layers and the mask ops.
void run_embedding(const Node& node, const Tensor& ids, Tensor& y);
void run_recurrent(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs);
void run_compare(const Node& node, const Tensor& x, Tensor& y);
void run_reduce(const Node& node, const Tensor& x, Tensor& y);

// tensor_ops.cpp: the general ops of Keras op nodes and TFOpLambda layers.
void run_unary(const Node& node, const Tensor& x, Tensor& y);
void run_binary(const Node& node, std::span<const Tensor> inputs, Tensor& y);
void run_where(const Node& node, std::span<const Tensor> inputs, Tensor& y);
void run_gather(const Node& node, std::span<const Tensor> inputs, Tensor& y);
void run_strided_slice(const Node& node, const Tensor& x, Tensor& y);
void run_shape_of(const Tensor& x, Tensor& y);

}  // namespace krt::reference
