// Parameters of each op. Shapes follow the layout decisions in DESIGN.md: NHWC ("channels
// last"), the batch on axis 0, and spatial axes 1..rank-2 for convolutions and pooling.
// All axes stored here are non-negative and refer to the full tensor, batch included.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kerasrt/custom_layer.h"
#include "ops/activation.h"
#include "ops/params_sequence.h"  // embedding, recurrent, compare, reduce
#include "ops/params_tensor.h"    // unary, binary, where, gather, strided_slice

namespace krt {

struct DenseParams {
  bool has_bias = true;
  Activation activation;
  // weights: kernel (in, out), bias (out)
};

// For conv, depthwise_conv and conv_transpose. Spatial rank = kernel_size.size() (1 to 3).
struct ConvParams {
  std::vector<int64_t> kernel_size;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilation;
  Padding padding = Padding::valid;
  int64_t groups = 1;                   // conv only
  int64_t filters = 0;                  // output channels (conv, conv_transpose)
  int64_t depth_multiplier = 1;         // depthwise_conv only
  std::vector<int64_t> output_padding;  // conv_transpose only; empty = none given
  bool has_bias = true;
  Activation activation;
  // weights: kernel, bias (when has_bias)
};

struct ReshapeParams {
  std::vector<int64_t> target;  // excludes the batch axis; may hold one -1
  // The target includes the batch axis instead (TimeDistributed folds time into the batch and
  // back); the bytes still never move.
  bool with_batch = false;
};

struct TransposeParams {
  std::vector<int64_t> perm;  // full permutation, perm[0] == 0 for Keras Permute
};

struct ActivationParams {
  Activation activation;
};

enum class AxisActivationKind { softmax, log_softmax, sparsemax, glu };
struct AxisActivationParams {
  AxisActivationKind kind = AxisActivationKind::softmax;
  std::vector<int64_t> axes;  // softmax may reduce over several axes; others use one
};

struct PReluParams {
  // weights: alpha, shaped like the input without the batch axis, with 1 on shared axes
};

struct ScaleShiftParams {
  int64_t axis = -1;  // the channel axis (non-negative once shapes are known)
  // When not empty: several channel axes (ascending), used instead of `axis`
  // (BatchNormalization over several axes, Normalization, per-pixel Rescaling).
  std::vector<int64_t> axes;
  // weights: scale, shift: one value per channel (C, or the product of the dims on `axes`,
  // row-major over them), or a single value applied to every element
};

enum class PoolKind { max, average };
struct PoolParams {
  PoolKind kind = PoolKind::max;
  std::vector<int64_t> pool_size;
  std::vector<int64_t> strides;
  Padding padding = Padding::valid;  // 'same' averages count only the real (unpadded) inputs
};

struct GlobalPoolParams {
  PoolKind kind = PoolKind::average;
  bool keepdims = false;
};

struct PadParams {
  std::vector<int64_t> before;  // per axis, full rank
  std::vector<int64_t> after;
  float value = 0.f;
};

struct SliceParams {
  std::vector<int64_t> crop_before;  // per axis, full rank: elements removed at the start
  std::vector<int64_t> crop_after;   // elements removed at the end
};

struct UpsampleParams {
  std::vector<int64_t> factors;  // per spatial axis (axes 1..rank-2)
};

enum class ElementwiseKind { add, subtract, multiply, average, maximum, minimum };
struct ElementwiseParams {
  ElementwiseKind kind = ElementwiseKind::add;  // n-ary (subtract: exactly 2), numpy broadcasting
};

struct ConcatParams {
  int64_t axis = -1;
};

struct IdentityParams {};

// Placement inserts a copy where a value crosses from one memory space to another (host to a
// GPU and back); the runtime runs it with the device backend's copy functions.
struct CopyParams {
  int from_space = 0;
  int to_space = 0;
};

struct CustomParams {
  std::shared_ptr<const CustomLayer> layer;  // the user's implementation (kerasrt/custom_layer.h)
};

// Normalizes over `axes` (and over channel groups of `group_axis`), then scales and shifts:
//   moments:      (x - mean) / sqrt(var + eps)            LayerNormalization, GroupNormalization
//   centered_rms: x / sqrt(var + eps)                     LayerNormalization(rms_scaling=True)
//   rms:          x / sqrt(mean(x^2) + eps)               RMSNormalization
//   l2:           x / sqrt(max(sum(x^2), eps))            UnitNormalization
enum class NormalizeKind { moments, centered_rms, rms, l2 };
struct NormalizeParams {
  NormalizeKind kind = NormalizeKind::moments;
  std::vector<int64_t> axes;  // reduced axes, non-negative; excludes group_axis
  int64_t group_axis = -1;    // >= 0: this axis is split into `groups` groups of consecutive
  int64_t groups = 1;         // channels, each with its own statistics (GroupNormalization)
  float epsilon = 1e-3f;
  bool has_scale = false;  // weights: scale then shift when present, each of the input's
  bool has_shift = false;  // rank with 1 on broadcast axes (batch included)
};

// Resizes the spatial axes (1..rank-2) of an NHWC tensor as jax.image.resize does.
enum class ResizeMethod { nearest, linear, cubic, lanczos3, lanczos5 };
struct ResizeParams {
  ResizeMethod method = ResizeMethod::linear;
  std::vector<int64_t> size;     // output size per spatial axis, or empty to use `factors`
  std::vector<int64_t> factors;  // output = input * factor (UpSampling with interpolation)
  bool antialias = false;        // widen the kernel when downsampling
};

// einsum: the operands are the node inputs, then weights[0] when the equation names one more
// operand than there are inputs (EinsumDense's kernel). Labels are letters, ellipses are
// expanded by the importer; a label of size 1 in one operand broadcasts against the others.
struct EinsumParams {
  std::vector<std::string> operands;  // labels per operand, e.g. {"abc", "cd"}
  std::string output;                 // output labels, e.g. "abd"
  float scale = 1.f;                  // multiplies the sum of products (attention's 1/sqrt(d))
  bool has_bias = false;              // last weight: bias, broadcast right-aligned to the output
  Activation activation;
};

// Softmax over `axes` of input 0 where a mask (input 1, optional: same rank, dims equal or 1,
// nonzero = keep) and/or a causal rule (last two axes: keep col <= row) hide some entries.
enum class MaskFill {
  add_large_negative,      // x + (1 - m) * -1e9 (Keras Softmax layer, Attention layers)
  replace_large_negative,  // where(m, x, -0.7 * float max) (ops.dot_product_attention)
};
struct MaskedSoftmaxParams {
  std::vector<int64_t> axes;
  bool causal = false;
  MaskFill fill = MaskFill::add_large_negative;
  bool zero_masked = false;  // multiply the result by the mask (Keras 3 Softmax layer)
};

// x / ||x||_2 over `axes`; a zero norm counts as 1 (keras.utils.normalize on numpy arrays).
struct L2NormalizeParams {
  std::vector<int64_t> axes;
};

// Additive (Bahdanau) scores: q (..., Tq, D), k (..., Tv, D) ->
// (..., Tq, Tv) = outer * sum_d w_d * tanh(inner * (q[.., i, d] + k[.., j, d])).
struct AdditiveScoreParams {
  float inner_scale = 1.f;
  float outer_scale = 1.f;
  bool has_weight = false;  // weights[0] (D): w; otherwise w = 1
};

}  // namespace krt
