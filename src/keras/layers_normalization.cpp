// Normalization layers. BatchNormalization is folded at import into y = x * scale + shift.
#include <cmath>

#include "core/check.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

std::vector<ValueId> import_batch_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  int64_t rank = static_cast<int64_t>(ctx.input_shape().size());
  std::vector<int64_t> axes = ctx.config().has("axis") ? ctx.config().get_int_list("axis") : std::vector<int64_t>{-1};
  if (axes.size() != 1) ctx.error("normalizing over several axes is not supported yet", ErrorCode::unsupported);
  int64_t axis = axes[0];
  if (axis < -rank || axis >= rank || axis == 0 || axis == -rank) ctx.error(str_cat("axis ", axis, " is out of range"));
  if (axis < 0) axis += rank;
  int64_t channels = ctx.input_shape()[axis];
  if (channels < 0) ctx.error("the normalized axis must have a known size");
  if (ctx.config().get_int("mode", 0) != 0)
    ctx.error("Keras 1 BatchNormalization mode other than 0 is not supported", ErrorCode::unsupported);
  bool scale = ctx.config().get_bool("scale", true);
  bool center = ctx.config().get_bool("center", true);
  double epsilon = ctx.config().get_float("epsilon", 1e-3);
  int index = 0;
  std::optional<Tensor> gamma, beta;
  if (scale) gamma = ctx.weight(index++, "gamma", {channels});
  if (center) beta = ctx.weight(index++, "beta", {channels});
  Tensor mean = ctx.weight(index++, "moving_mean", {channels});
  Tensor variance = ctx.weight(index++, "moving_variance", {channels});

  Tensor s(DType::f32, {channels}), t(DType::f32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    double inv = 1.0 / std::sqrt(static_cast<double>(variance.data_as<float>()[c]) + epsilon);
    if (gamma) inv *= gamma->data_as<float>()[c];
    double shift = -static_cast<double>(mean.data_as<float>()[c]) * inv;
    if (beta) shift += beta->data_as<float>()[c];
    s.data_as<float>()[c] = static_cast<float>(inv);
    t.data_as<float>()[c] = static_cast<float>(shift);
  }
  return {ctx.emit(OpKind::scale_shift, ScaleShiftParams{axis}, {ctx.input()}, {s, t})};
}

}  // namespace

void register_normalization_layers(LayerRegistry& r) {
  r.add("BatchNormalization", import_batch_normalization, "inference mode, one axis, center/scale optional; folded");
}

}  // namespace krt::keras
