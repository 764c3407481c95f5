// Normalization layers. BatchNormalization is folded at import into y = x * scale + shift;
// the others compute statistics at run time (the normalize op).
#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

// The layer's axis (an int or a list) as sorted, distinct, non-negative axes; the batch axis
// is refused (its statistics would depend on the batch size).
std::vector<int64_t> normalized_axes(const LayerContext& ctx, const std::vector<int64_t>& raw) {
  const int64_t rank = static_cast<int64_t>(ctx.input_shape().size());
  std::vector<int64_t> axes;
  for (int64_t a : raw) {
    if (a < -rank || a >= rank)
      ctx.error(str_cat("axis ", a, " is out of range for an input of rank ", rank));
    if (a < 0) a += rank;
    if (a == 0)
      ctx.error("normalizing over the batch axis is not supported", ErrorCode::unsupported);
    axes.push_back(a);
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

std::vector<int64_t> config_axes(const LayerContext& ctx, int64_t fallback = -1) {
  return normalized_axes(ctx, ctx.config().has("axis") ? ctx.config().get_int_list("axis")
                                                       : std::vector<int64_t>{fallback});
}

// The input's dims on `axes`, which must be known.
int64_t known_dim(const LayerContext& ctx, int64_t axis) {
  const int64_t d = ctx.input_shape()[axis];
  if (d < 0) ctx.error(str_cat("axis ", axis, " must have a known size"));
  return d;
}

// A per-channel weight over `axes` (row-major over them) reshaped to the input's rank with 1
// elsewhere, as Keras's `ops.reshape(w, broadcast_shape)` does.
Tensor broadcast_over(const LayerContext& ctx, const Tensor& w, const std::vector<int64_t>& axes) {
  Shape shape(ctx.input_shape().size(), 1);
  int64_t n = 1;
  for (int64_t a : axes) n *= shape[a] = known_dim(ctx, a);
  if (w.size() != n)
    ctx.error(
        str_cat("weight has shape ", shape_to_string(w.shape()), ", expected ", n, " values"));
  return w.reshaped(shape);
}

// BatchNormalization: Keras 3 takes one int axis; Keras 2 (tf.keras) also a list, with
// weights of shape (C,) or, for several axes, the input's rank with 1 on the other axes.
std::vector<ValueId> import_batch_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  std::vector<int64_t> axes = config_axes(ctx);
  if (axes.empty()) ctx.error("no axis given");
  if (ctx.config().get_int("mode", 0) != 0)
    ctx.error("Keras 1 BatchNormalization mode other than 0 is not supported",
              ErrorCode::unsupported);
  int64_t channels = 1;
  for (int64_t a : axes) channels *= known_dim(ctx, a);
  bool scale = ctx.config().get_bool("scale", true);
  bool center = ctx.config().get_bool("center", true);
  double epsilon = ctx.config().get_float("epsilon", 1e-3);
  int index = 0;
  auto load = [&](const char* name) {
    std::optional<Tensor> w = ctx.weights().find(index++, name);
    if (!w)
      ctx.error(str_cat("weight '", name, "' (variable ", index - 1,
                        ") is missing from the weights file"));
    if (w->size() != channels)
      ctx.error(str_cat(name, " has shape ", shape_to_string(w->shape()), ", expected ", channels,
                        " values"));
    return w->dtype() == DType::f32 ? *w : w->cast(DType::f32);
  };
  std::optional<Tensor> gamma, beta;
  if (scale) gamma = load("gamma");
  if (center) beta = load("beta");
  Tensor mean = load("moving_mean");
  Tensor variance = load("moving_variance");

  Tensor s(DType::f32, {channels}), t(DType::f32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    double inv = 1.0 / std::sqrt(static_cast<double>(variance.data_as<float>()[c]) + epsilon);
    if (gamma) inv *= gamma->data_as<float>()[c];
    double shift = -static_cast<double>(mean.data_as<float>()[c]) * inv;
    if (beta) shift += beta->data_as<float>()[c];
    s.data_as<float>()[c] = static_cast<float>(inv);
    t.data_as<float>()[c] = static_cast<float>(shift);
  }
  ScaleShiftParams p;
  p.axis = axes[0];
  if (axes.size() > 1) p.axes = axes;
  return {ctx.emit(OpKind::scale_shift, p, {ctx.input()}, {s, t})};
}

// LayerNormalization: gamma/beta span the normalized axes. Keras stores them with the dims
// in the config's axis order and reshapes the raw values to ascending-axis broadcast form.
std::vector<ValueId> import_layer_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  std::vector<int64_t> raw =
      ctx.config().has("axis") ? ctx.config().get_int_list("axis") : std::vector<int64_t>{-1};
  NormalizeParams p;
  p.axes = normalized_axes(ctx, raw);
  if (p.axes.empty()) ctx.error("no axis given");
  p.epsilon = static_cast<float>(ctx.config().get_float("epsilon", 1e-3));
  const bool rms = ctx.config().get_bool("rms_scaling", false);
  // Keras: with rms_scaling, x / sqrt(var(x) + eps) * gamma (the variance is centred).
  p.kind = rms ? NormalizeKind::centered_rms : NormalizeKind::moments;
  p.has_scale = rms || ctx.config().get_bool("scale", true);
  p.has_shift = !rms && ctx.config().get_bool("center", true);
  Shape stored;
  const int64_t rank = static_cast<int64_t>(ctx.input_shape().size());
  for (int64_t a : raw) stored.push_back(known_dim(ctx, a < 0 ? a + rank : a));
  std::vector<Tensor> w;
  int index = 0;
  if (p.has_scale) w.push_back(broadcast_over(ctx, ctx.weight(index++, "gamma", stored), p.axes));
  if (p.has_shift) w.push_back(broadcast_over(ctx, ctx.weight(index++, "beta", stored), p.axes));
  return {ctx.emit(OpKind::normalize, p, {ctx.input()}, std::move(w))};
}

// GroupNormalization: statistics over every non-batch axis, per group of channels.
std::vector<ValueId> import_group_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  std::vector<int64_t> axis = config_axes(ctx);
  if (axis.size() != 1) ctx.error("GroupNormalization takes one axis", ErrorCode::unsupported);
  const int64_t channels = known_dim(ctx, axis[0]);
  NormalizeParams p;
  p.kind = NormalizeKind::moments;
  p.group_axis = axis[0];
  p.groups = ctx.config().get_int("groups", 32);
  if (p.groups == -1) p.groups = channels;
  if (p.groups <= 0 || p.groups > channels || channels % p.groups != 0)
    ctx.error(str_cat(p.groups, " groups do not divide ", channels, " channels"));
  for (int64_t a = 1; a < static_cast<int64_t>(ctx.input_shape().size()); ++a)
    if (a != p.group_axis) p.axes.push_back(a);
  p.epsilon = static_cast<float>(ctx.config().get_float("epsilon", 1e-3));
  p.has_scale = ctx.config().get_bool("scale", true);
  p.has_shift = ctx.config().get_bool("center", true);
  std::vector<Tensor> w;
  int index = 0;
  if (p.has_scale) w.push_back(broadcast_over(ctx, ctx.weight(index++, "gamma", {channels}), axis));
  if (p.has_shift) w.push_back(broadcast_over(ctx, ctx.weight(index++, "beta", {channels}), axis));
  return {ctx.emit(OpKind::normalize, p, {ctx.input()}, std::move(w))};
}

// UnitNormalization: x / sqrt(max(sum(x^2), 1e-12)).
std::vector<ValueId> import_unit_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  NormalizeParams p;
  p.kind = NormalizeKind::l2;
  p.axes = config_axes(ctx);
  if (p.axes.empty()) ctx.error("no axis given");
  p.epsilon = 1e-12f;
  return {ctx.emit(OpKind::normalize, p, {ctx.input()})};
}

// RMSNormalization: x * rsqrt(mean(x^2) + eps) * scale, where `scale` (the dims of the sorted
// axes) broadcasts against x numpy-style, i.e. right-aligned.
std::vector<ValueId> import_rms_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  NormalizeParams p;
  p.kind = NormalizeKind::rms;
  p.axes = config_axes(ctx);
  if (p.axes.empty()) ctx.error("no axis given");
  p.epsilon = static_cast<float>(ctx.config().get_float("epsilon", 1e-6));
  p.has_scale = true;
  Shape stored;
  for (int64_t a : p.axes) stored.push_back(known_dim(ctx, a));
  Tensor scale = ctx.weight(0, "scale", stored);
  const size_t rank = ctx.input_shape().size();
  Shape full(rank - stored.size(), 1);
  full.insert(full.end(), stored.begin(), stored.end());
  return {ctx.emit(OpKind::normalize, p, {ctx.input()}, {scale.reshaped(full)})};
}

}  // namespace

void register_normalization_layers(LayerRegistry& r) {
  r.add("BatchNormalization", import_batch_normalization,
        "inference mode; one axis or several (Keras 2); center/scale optional; folded to "
        "scale_shift");
  r.add("LayerNormalization", import_layer_normalization,
        "axis int or list, epsilon, center, scale, rms_scaling (Keras's centred-variance formula)");
  r.add("GroupNormalization", import_group_normalization,
        "groups (-1 = one per channel), axis, epsilon, center, scale");
  r.add("UnitNormalization", import_unit_normalization, "axis int or list");
  r.add("RMSNormalization", import_rms_normalization, "axis int or list, epsilon");
}

}  // namespace krt::keras
