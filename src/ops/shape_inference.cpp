// Output shapes of every op, following Keras's compute_output_shape rules. Unknown (-1)
// dimensions propagate; anything that cannot fit throws invalid_file naming the layer.
#include "ops/shape_inference.h"

#include <algorithm>

#include "core/check.h"
#include "ops/shape_rules_attention.h"
#include "ops/shape_rules_norm.h"
#include "ops/shape_rules_sequence.h"
#include "ops/shape_rules_tensor.h"

namespace krt {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A per-axis parameter, with 1 when the importer left the list empty.
int64_t param_at(const std::vector<int64_t>& v, size_t i) { return i < v.size() ? v[i] : 1; }

void expect_inputs(const Node& node, const std::vector<Shape>& inputs, size_t n) {
  if (inputs.size() != n)
    fail(ErrorCode::invalid_file, node.label(), ": expects ", n, " input", n == 1 ? "" : "s",
         ", found ", inputs.size());
}

void expect_weights(const Node& node, size_t n) {
  if (node.weights.size() < n)
    fail(ErrorCode::invalid_file, node.label(), ": expects ", n, " weight", n == 1 ? "" : "s",
         ", found ", node.weights.size());
}

// Conv-like ops: input rank must be spatial rank + 2 (batch, spatial..., channels).
void expect_spatial_rank(const Node& node, const Shape& in, size_t spatial) {
  if (in.size() != spatial + 2)
    fail(ErrorCode::invalid_file, node.label(), ": input has shape ", shape_to_string(in),
         ", expected rank ", spatial + 2, " (batch, ", spatial, " spatial axes, channels)");
}

bool known(int64_t d) { return d >= 0; }

void check_positive_spatial(const Node& node, const Shape& in, const Shape& out) {
  for (size_t i = 1; i + 1 < out.size(); ++i)
    if (known(out[i]) && out[i] <= 0)
      fail(ErrorCode::invalid_file, node.label(), ": input of shape ", shape_to_string(in),
           " gives an empty output ", shape_to_string(out),
           " (the window is larger than the input)");
}

Shape infer_conv(const Node& node, const Shape& in) {
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  expect_spatial_rank(node, in, spatial);
  expect_weights(node, p.has_bias ? 2 : 1);
  const Shape& k = node.weights[0].shape();
  if (k.size() != spatial + 2)
    fail(ErrorCode::invalid_file, node.label(), ": kernel has shape ", shape_to_string(k),
         ", expected rank ", spatial + 2);
  const int64_t cin = in.back();
  Shape out(in.size());
  out[0] = in[0];
  int64_t cout = 0;
  if (node.kind == OpKind::conv_transpose) {
    if (known(cin) && cin != k[spatial + 1])
      fail(ErrorCode::invalid_file, node.label(), ": input has ", cin, " channels, the kernel ",
           shape_to_string(k), " expects ", k[spatial + 1]);
    cout = k[spatial];
    for (size_t i = 0; i < spatial; ++i) {
      int64_t op = i < p.output_padding.size() ? p.output_padding[i] : -1;
      out[i + 1] = conv_transpose_output_length(in[i + 1], k[i], param_at(p.strides, i),
                                                param_at(p.dilation, i), p.padding, op);
    }
  } else {
    if (node.kind == OpKind::depthwise_conv) {
      if (known(cin) && cin != k[spatial])
        fail(ErrorCode::invalid_file, node.label(), ": input has ", cin, " channels, the kernel ",
             shape_to_string(k), " expects ", k[spatial]);
      cout = k[spatial] * k[spatial + 1];
    } else {
      const int64_t groups = std::max<int64_t>(p.groups, 1);
      if (known(cin) && cin != k[spatial] * groups)
        fail(ErrorCode::invalid_file, node.label(), ": input has ", cin, " channels, the kernel ",
             shape_to_string(k), " with ", groups, " group(s) expects ", k[spatial] * groups);
      cout = k[spatial + 1];
      if (cout % groups != 0)
        fail(ErrorCode::invalid_file, node.label(), ": ", cout, " filters cannot be split into ",
             groups, " groups");
    }
    for (size_t i = 0; i < spatial; ++i)
      out[i + 1] = conv_output_length(in[i + 1], k[i], param_at(p.strides, i),
                                      param_at(p.dilation, i), p.padding);
  }
  out.back() = cout;
  if (p.has_bias && node.weights[1].size() != cout)
    fail(ErrorCode::invalid_file, node.label(), ": bias has shape ",
         shape_to_string(node.weights[1].shape()), ", expected (", cout, ",)");
  check_positive_spatial(node, in, out);
  return out;
}

Shape infer_dense(const Node& node, const Shape& in) {
  const auto& p = node.get<DenseParams>();
  if (in.size() < 2)
    fail(ErrorCode::invalid_file, node.label(), ": input has shape ", shape_to_string(in),
         ", expected rank >= 2");
  expect_weights(node, p.has_bias ? 2 : 1);
  const Shape& k = node.weights[0].shape();
  if (k.size() != 2)
    fail(ErrorCode::invalid_file, node.label(), ": kernel has shape ", shape_to_string(k),
         ", expected rank 2");
  if (known(in.back()) && in.back() != k[0])
    fail(ErrorCode::invalid_file, node.label(), ": input has ", in.back(),
         " features on its last axis, the kernel expects ", k[0]);
  if (p.has_bias && node.weights[1].size() != k[1])
    fail(ErrorCode::invalid_file, node.label(), ": bias has shape ",
         shape_to_string(node.weights[1].shape()), ", expected (", k[1], ",)");
  Shape out = in;
  out.back() = k[1];
  return out;
}

// A reshape whose target includes the batch axis: whole tensors, one -1 allowed anywhere.
Shape infer_reshape_with_batch(const Node& node, const Shape& in) {
  const auto& target = node.get<ReshapeParams>().target;
  int unknown_at = -1;
  int64_t target_known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && unknown_at < 0)
      unknown_at = static_cast<int>(i);
    else if (target[i] < 0)
      fail(ErrorCode::invalid_file, node.label(), ": target shape ", shape_to_string(target),
           " is not valid");
    else
      target_known *= target[i];
  }
  Shape out = target;
  for (int64_t d : in)
    if (!known(d)) return out;  // the -1 stays unknown until run time
  const int64_t count = shape_elements(in);
  if (unknown_at >= 0 ? (target_known == 0 || count % target_known != 0) : count != target_known)
    fail(ErrorCode::invalid_file, node.label(), ": cannot reshape ", shape_to_string(in), " to ",
         shape_to_string(target));
  if (unknown_at >= 0) out[unknown_at] = count / target_known;
  return out;
}

Shape infer_reshape(const Node& node, const Shape& in) {
  if (node.get<ReshapeParams>().with_batch) return infer_reshape_with_batch(node, in);
  const auto& target = node.get<ReshapeParams>().target;
  if (in.empty()) fail(ErrorCode::invalid_file, node.label(), ": input has no batch axis");
  Shape out{in[0]};
  int unknown_at = -1;
  int64_t target_known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (unknown_at >= 0)
        fail(ErrorCode::invalid_file, node.label(), ": target shape ", shape_to_string(target),
             " has more than one -1");
      unknown_at = static_cast<int>(i);
    } else if (target[i] < 0) {
      fail(ErrorCode::invalid_file, node.label(), ": target shape ", shape_to_string(target),
           " has a negative dimension");
    } else {
      target_known *= target[i];
    }
    out.push_back(target[i]);
  }
  bool in_known = true;
  int64_t in_count = 1;
  for (size_t i = 1; i < in.size(); ++i) {
    if (!known(in[i]))
      in_known = false;
    else
      in_count *= in[i];
  }
  if (!in_known) return out;  // a -1 in the target stays unknown
  Shape in_tail(in.begin() + 1, in.end());
  if (unknown_at >= 0) {
    if (target_known == 0 || in_count % target_known != 0)
      fail(ErrorCode::invalid_file, node.label(), ": cannot reshape ", shape_to_string(in_tail),
           " (", in_count, " elements per sample) to ", shape_to_string(target));
    out[unknown_at + 1] = in_count / target_known;
  } else if (in_count != target_known) {
    fail(ErrorCode::invalid_file, node.label(), ": cannot reshape ", shape_to_string(in_tail), " (",
         in_count, " elements per sample) to ", shape_to_string(target), " (", target_known,
         " elements)");
  }
  return out;
}

Shape infer_transpose(const Node& node, const Shape& in) {
  const auto& perm = node.get<TransposeParams>().perm;
  if (perm.size() != in.size())
    fail(ErrorCode::invalid_file, node.label(), ": permutation of ", perm.size(),
         " axes for an input of rank ", in.size());
  std::vector<bool> seen(in.size(), false);
  Shape out(in.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(in.size()) || seen[perm[i]])
      fail(ErrorCode::invalid_file, node.label(), ": ", shape_to_string(perm),
           " is not a permutation of ", in.size(), " axes");
    seen[perm[i]] = true;
    out[i] = in[perm[i]];
  }
  return out;
}

void check_axis(const Node& node, int64_t axis, size_t rank) {
  if (axis < 0 || axis >= static_cast<int64_t>(rank))
    fail(ErrorCode::invalid_file, node.label(), ": axis ", axis,
         " is out of range for an input of rank ", rank);
}

Shape infer_axis_activation(const Node& node, const Shape& in) {
  const auto& p = node.get<AxisActivationParams>();
  if (p.axes.empty()) fail(ErrorCode::invalid_file, node.label(), ": no axis given");
  for (int64_t a : p.axes) check_axis(node, a, in.size());
  Shape out = in;
  if (p.kind == AxisActivationKind::glu) {
    int64_t& d = out[p.axes[0]];
    if (known(d) && d % 2 != 0)
      fail(ErrorCode::invalid_file, node.label(), ": glu splits axis ", p.axes[0],
           " in two halves, but it has odd size ", d);
    if (known(d)) d /= 2;
  }
  return out;
}

Shape infer_prelu(const Node& node, const Shape& in) {
  expect_weights(node, 1);
  const Shape& alpha = node.weights[0].shape();
  if (alpha.size() + 1 != in.size())
    fail(ErrorCode::invalid_file, node.label(), ": alpha has shape ", shape_to_string(alpha),
         ", expected rank ", in.size() - 1, " for input ", shape_to_string(in));
  for (size_t i = 0; i < alpha.size(); ++i)
    if (alpha[i] != 1 && known(in[i + 1]) && alpha[i] != in[i + 1])
      fail(ErrorCode::invalid_file, node.label(), ": alpha has shape ", shape_to_string(alpha),
           ", which does not fit input ", shape_to_string(in));
  return in;
}

Shape infer_scale_shift(const Node& node, const Shape& in) {
  const auto& p = node.get<ScaleShiftParams>();
  const std::vector<int64_t> axes = p.axes.empty() ? std::vector<int64_t>{p.axis} : p.axes;
  int64_t channels = 1;
  for (size_t i = 0; i < axes.size(); ++i) {
    check_axis(node, axes[i], in.size());
    if (i > 0 && axes[i] <= axes[i - 1])
      fail(ErrorCode::invalid_file, node.label(), ": channel axes must be ascending");
    channels = known(in[axes[i]]) && known(channels) ? channels * in[axes[i]] : dynamic;
  }
  expect_weights(node, 2);
  for (const Tensor& w : node.weights)
    if (known(channels) && w.size() != channels && w.size() != 1)
      fail(ErrorCode::invalid_file, node.label(), ": weight of shape ", shape_to_string(w.shape()),
           " for ", channels, " channels on axes ", shape_to_string(axes));
  return in;
}

Shape infer_pool(const Node& node, const Shape& in) {
  const auto& p = node.get<PoolParams>();
  const size_t spatial = p.pool_size.size();
  expect_spatial_rank(node, in, spatial);
  Shape out = in;
  // Keras's default strides for pooling are the pool size, not 1.
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t stride = i < p.strides.size() ? p.strides[i] : p.pool_size[i];
    out[i + 1] = conv_output_length(in[i + 1], p.pool_size[i], stride, 1, p.padding);
  }
  check_positive_spatial(node, in, out);
  return out;
}

Shape infer_global_pool(const Node& node, const Shape& in) {
  if (in.size() < 3)
    fail(ErrorCode::invalid_file, node.label(), ": input has shape ", shape_to_string(in),
         ", expected rank >= 3");
  if (!node.get<GlobalPoolParams>().keepdims) return {in.front(), in.back()};
  Shape out(in.size(), 1);
  out.front() = in.front();
  out.back() = in.back();
  return out;
}

Shape infer_pad(const Node& node, const Shape& in) {
  const auto& p = node.get<PadParams>();
  if (p.before.size() != in.size() || p.after.size() != in.size())
    fail(ErrorCode::invalid_file, node.label(), ": padding given for ", p.before.size(),
         " axes, input has rank ", in.size());
  Shape out = in;
  for (size_t i = 0; i < in.size(); ++i) {
    if (p.before[i] < 0 || p.after[i] < 0)
      fail(ErrorCode::invalid_file, node.label(), ": negative padding on axis ", i);
    if (known(in[i])) out[i] = in[i] + p.before[i] + p.after[i];
  }
  return out;
}

Shape infer_slice(const Node& node, const Shape& in) {
  const auto& p = node.get<SliceParams>();
  if (p.crop_before.size() != in.size() || p.crop_after.size() != in.size())
    fail(ErrorCode::invalid_file, node.label(), ": cropping given for ", p.crop_before.size(),
         " axes, input has rank ", in.size());
  Shape out = in;
  for (size_t i = 0; i < in.size(); ++i) {
    if (p.crop_before[i] < 0 || p.crop_after[i] < 0)
      fail(ErrorCode::invalid_file, node.label(), ": negative cropping on axis ", i);
    if (!known(in[i])) continue;
    out[i] = in[i] - p.crop_before[i] - p.crop_after[i];
    if (out[i] <= 0)
      fail(ErrorCode::invalid_file, node.label(), ": cropping ", p.crop_before[i], " + ",
           p.crop_after[i], " from axis ", i, " of input ", shape_to_string(in), " leaves nothing");
  }
  return out;
}

Shape infer_upsample(const Node& node, const Shape& in) {
  const auto& f = node.get<UpsampleParams>().factors;
  expect_spatial_rank(node, in, f.size());
  Shape out = in;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] < 1)
      fail(ErrorCode::invalid_file, node.label(), ": upsampling factor ", f[i], " on axis ", i + 1);
    if (known(in[i + 1])) out[i + 1] = in[i + 1] * f[i];
  }
  return out;
}

// numpy broadcasting, right-aligned; a dynamic dim against 1 stays dynamic.
Shape infer_elementwise(const Node& node, const std::vector<Shape>& inputs) {
  const auto kind = node.get<ElementwiseParams>().kind;
  if (inputs.size() < 2 || (kind == ElementwiseKind::subtract && inputs.size() != 2))
    fail(ErrorCode::invalid_file, node.label(), ": expects ",
         kind == ElementwiseKind::subtract ? "exactly 2" : "at least 2", " inputs, found ",
         inputs.size());
  size_t rank = 0;
  for (const Shape& s : inputs) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : inputs) {
    for (size_t j = 0; j < s.size(); ++j) {
      int64_t& o = out[rank - s.size() + j];
      const int64_t d = s[j];
      if (d == 1) continue;
      if (o == 1 || (o == dynamic && known(d)))
        o = d;
      else if (known(d) && known(o) && d != o) {
        std::string all;
        for (const Shape& t : inputs) all += (all.empty() ? "" : ", ") + shape_to_string(t);
        fail(ErrorCode::invalid_file, node.label(), ": input shapes ", all,
             " cannot be broadcast together");
      }
    }
  }
  return out;
}

Shape infer_concat(const Node& node, const std::vector<Shape>& inputs) {
  if (inputs.empty())
    fail(ErrorCode::invalid_file, node.label(), ": expects at least 1 input, found 0");
  const int64_t axis = node.get<ConcatParams>().axis;
  check_axis(node, axis, inputs[0].size());
  Shape out = inputs[0];
  for (size_t n = 1; n < inputs.size(); ++n) {
    const Shape& s = inputs[n];
    bool fits = s.size() == out.size();
    for (size_t i = 0; fits && i < s.size(); ++i) {
      if (static_cast<int64_t>(i) == axis) continue;
      if (known(s[i]) && known(out[i]) && s[i] != out[i])
        fits = false;
      else if (!known(out[i]))
        out[i] = s[i];
    }
    if (!fits)
      fail(ErrorCode::invalid_file, node.label(), ": input ", n, " has shape ", shape_to_string(s),
           ", which does not match ", shape_to_string(inputs[0]), " on the axes other than ", axis);
    out[axis] = known(out[axis]) && known(s[axis]) ? out[axis] + s[axis] : dynamic;
  }
  return out;
}

Shape infer_single(const Node& node, const Shape& in) {
  switch (node.kind) {
    case OpKind::dense:
      return infer_dense(node, in);
    case OpKind::conv:
    case OpKind::depthwise_conv:
    case OpKind::conv_transpose:
      return infer_conv(node, in);
    case OpKind::reshape:
      return infer_reshape(node, in);
    case OpKind::transpose:
      return infer_transpose(node, in);
    case OpKind::axis_activation:
      return infer_axis_activation(node, in);
    case OpKind::prelu:
      return infer_prelu(node, in);
    case OpKind::scale_shift:
      return infer_scale_shift(node, in);
    case OpKind::pool:
      return infer_pool(node, in);
    case OpKind::global_pool:
      return infer_global_pool(node, in);
    case OpKind::pad:
      return infer_pad(node, in);
    case OpKind::slice:
      return infer_slice(node, in);
    case OpKind::upsample:
      return infer_upsample(node, in);
    case OpKind::activation:
    case OpKind::copy:
    case OpKind::identity:
      return in;
    case OpKind::embedding:
      return infer_embedding(node, in);
    case OpKind::compare:
      return infer_compare(node, in);
    case OpKind::reduce:
      return infer_reduce(node, in);
    case OpKind::normalize:
      return infer_normalize(node, in);
    case OpKind::resize:
      return infer_resize(node, in);
    case OpKind::unary:
      return in;
    case OpKind::strided_slice:
      return infer_strided_slice(node, in);
    case OpKind::shape_of:
      return {static_cast<int64_t>(in.size())};
    default:
      fail(ErrorCode::internal, node.label(), ": op ", op_name(node.kind),
           " is not a single-input op");
  }
}

}  // namespace

std::vector<Shape> infer_output_shapes(const Node& node, const std::vector<Shape>& inputs) {
  if (node.kind == OpKind::custom) return node.get<CustomParams>().layer->output_shapes(inputs);
  switch (node.kind) {
    case OpKind::recurrent:
      return infer_recurrent(node, inputs);
    case OpKind::elementwise:
      return {infer_elementwise(node, inputs)};
    case OpKind::concat:
      return {infer_concat(node, inputs)};
    case OpKind::einsum:
      return {infer_einsum(node, inputs)};
    case OpKind::masked_softmax:
      return {infer_masked_softmax(node, inputs)};
    case OpKind::l2_normalize:
      return {infer_l2_normalize(node, inputs)};
    case OpKind::additive_score:
      return {infer_additive_score(node, inputs)};
    case OpKind::binary:
      return {infer_binary(node, inputs)};
    case OpKind::where:
      return {infer_where(node, inputs)};
    case OpKind::gather:
      return {infer_gather(node, inputs)};
    default:
      expect_inputs(node, inputs, 1);
      return {infer_single(node, inputs[0])};
  }
}

int64_t conv_output_length(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                           Padding padding) {
  if (input < 0) return dynamic;
  if (padding == Padding::valid) {
    const int64_t kd = (kernel - 1) * dilation + 1;
    return floor_div(input - kd, stride) + 1;
  }
  return ceil_div(input, stride);  // same and causal
}

int64_t conv_pad_before(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                        Padding padding) {
  const int64_t kd = (kernel - 1) * dilation + 1;
  if (padding == Padding::valid) return 0;
  if (padding == Padding::causal) return kd - 1;
  const int64_t out = ceil_div(input, stride);
  const int64_t total = std::max<int64_t>((out - 1) * stride + kd - input, 0);
  return total / 2;
}

int64_t conv_transpose_output_length(int64_t input, int64_t kernel, int64_t stride,
                                     int64_t dilation, Padding padding, int64_t output_padding) {
  if (input < 0) return dynamic;
  const int64_t kd = (kernel - 1) * dilation + 1;
  if (output_padding < 0) {
    if (padding == Padding::valid) return input * stride + std::max<int64_t>(kd - stride, 0);
    return input * stride;
  }
  const int64_t pad = padding == Padding::valid ? 0 : kd / 2;
  return (input - 1) * stride + kd - 2 * pad + output_padding;
}

// Keras hands jax a (left, right) padding of the stride-dilated input that is then correlated
// with the flipped kernel (backend_utils._convert_conv_transpose_padding_args_from_keras_to_jax);
// in scatter form that shifts outputs left by kd - 1 - left.
int64_t conv_transpose_pad(int64_t kernel, int64_t stride, int64_t dilation, Padding padding,
                           int64_t output_padding) {
  const int64_t kd = (kernel - 1) * dilation + 1;
  int64_t left = 0;
  if (padding == Padding::valid) {
    left = kd - 1;
  } else {
    const int64_t pad_len = output_padding < 0 ? stride + kd - 2 : kd + kd % 2 - 2 + output_padding;
    left = std::min(pad_len / 2 + pad_len % 2, kd - 1);
  }
  return kd - 1 - left;
}

}  // namespace krt
