// Output shapes of each op from its input shapes. Works with `dynamic` (-1) dimensions:
// an output dimension that depends on an unknown input dimension is unknown too. Throws
// krt::Error (invalid_file, message starting with node.label()) when the inputs do not fit
// the op (wrong rank, mismatched channels, a kernel larger than its input...).
#pragma once

#include <vector>

#include "graph/graph.h"

namespace krt {

std::vector<Shape> infer_output_shapes(const Node& node, const std::vector<Shape>& inputs);

// Keras's output length of a convolution along one spatial axis (padding valid/same/causal);
// -1 when `input` is -1.
int64_t conv_output_length(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                           Padding padding);
// Elements of padding before the first input along one axis for conv/pool ('same' puts the
// extra element after, as TensorFlow and Keras do; 'causal' pads only before).
int64_t conv_pad_before(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                        Padding padding);
// Keras's output length of a transposed convolution (output_padding < 0 means not given).
int64_t conv_transpose_output_length(int64_t input, int64_t kernel, int64_t stride,
                                     int64_t dilation, Padding padding, int64_t output_padding);
// In scatter form y[i*stride + k*dilation - pad] += x[i] * w[k]: the pad for one axis.
int64_t conv_transpose_pad(int64_t kernel, int64_t stride, int64_t dilation, Padding padding,
                           int64_t output_padding);

}  // namespace krt
