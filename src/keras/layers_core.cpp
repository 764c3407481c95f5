// Core Keras layers: Dense, activations as layers, reshapes and inference-time identities.
#include "core/check.h"
#include "keras/activations.h"
#include "keras/layer_importer.h"
#include "keras/layout.h"

namespace krt::keras {

namespace {

int64_t normalize_axis(const LayerContext& ctx, int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    ctx.error(str_cat("axis ", axis, " is out of range for an input of rank ", r));
  return axis < 0 ? axis + r : axis;
}

std::vector<ValueId> import_dense(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape& in = ctx.input_shape();
  if (in.size() < 2) ctx.error("expects an input of rank 2 or more");
  int64_t units = ctx.config().get_int("units");
  if (units <= 0) ctx.error(str_cat("'units' must be positive, found ", units));
  DenseParams p;
  p.has_bias = ctx.config().get_bool("use_bias", true);
  ParsedActivation rest;
  p.activation = fusable_activation(ctx, &rest);
  std::vector<Tensor> w{ctx.weight(0, "kernel", {in.back(), units})};
  if (p.has_bias) w.push_back(ctx.weight(1, "bias", {units}));
  ValueId y = ctx.emit(OpKind::dense, p, {ctx.input()}, std::move(w));
  return {emit_activation(ctx, rest, y)};
}

std::vector<ValueId> import_activation(LayerContext& ctx) {
  ctx.expect_inputs(1);
  ParsedActivation act = parse_activation(ctx, ctx.config().find("activation"));
  if (act.is_linear()) return {ctx.emit(OpKind::identity, IdentityParams{}, {ctx.input()})};
  return {emit_activation(ctx, act, ctx.input(), "")};
}

ValueId emit_elementwise(LayerContext& ctx, Activation a) {
  return ctx.emit(OpKind::activation, ActivationParams{a}, {ctx.input()});
}

std::vector<ValueId> import_relu(LayerContext& ctx) {
  ctx.expect_inputs(1);
  Activation a;
  a.kind = ActivationKind::relu;
  std::optional<double> max_value = ctx.config().get_optional_float("max_value");
  if (max_value && *max_value < 0) ctx.error("'max_value' must be >= 0");
  a.max_value = max_value ? static_cast<float>(*max_value) : -1.f;
  a.negative_slope = static_cast<float>(ctx.config().get_float("negative_slope", 0.0));
  a.threshold = static_cast<float>(ctx.config().get_float("threshold", 0.0));
  return {emit_elementwise(ctx, a)};
}

// A layer that is one element-wise activation with a single parameter read from its config.
ValueId emit_alpha_activation(LayerContext& ctx, ActivationKind kind, double alpha) {
  ctx.expect_inputs(1);
  Activation a;
  a.kind = kind;
  a.alpha = static_cast<float>(alpha);
  return emit_elementwise(ctx, a);
}

std::vector<ValueId> import_leaky_relu(LayerContext& ctx) {
  // Keras 3 calls it negative_slope, Keras 2 alpha; both default to 0.3 for the layer.
  double slope = ctx.config().get_float("negative_slope", ctx.config().get_float("alpha", 0.3));
  return {emit_alpha_activation(ctx, ActivationKind::leaky_relu, slope)};
}

std::vector<ValueId> import_elu(LayerContext& ctx) {
  return {emit_alpha_activation(ctx, ActivationKind::elu, ctx.config().get_float("alpha", 1.0))};
}

std::vector<ValueId> import_thresholded_relu(LayerContext& ctx) {
  return {emit_alpha_activation(ctx, ActivationKind::thresholded_relu,
                                ctx.config().get_float("theta", 1.0))};
}

std::vector<ValueId> import_softmax(LayerContext& ctx) {
  ctx.expect_inputs(1);
  AxisActivationParams p;
  p.kind = AxisActivationKind::softmax;
  size_t rank = ctx.input_shape().size();
  std::vector<int64_t> axes =
      ctx.config().has("axis") ? ctx.config().get_int_list("axis") : std::vector<int64_t>{-1};
  for (int64_t a : axes) p.axes.push_back(normalize_axis(ctx, a, rank));
  if (ctx.call_kwargs() && ctx.call_kwargs()->find("mask") &&
      !ctx.call_kwargs()->find("mask")->is_null())
    ctx.error("Softmax with a mask input is not supported", ErrorCode::unsupported);
  return {ctx.emit(OpKind::axis_activation, p, {ctx.input()})};
}

std::vector<ValueId> import_prelu(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape& in = ctx.input_shape();
  Shape alpha_shape(in.begin() + 1, in.end());
  if (ctx.config().has("shared_axes"))
    for (int64_t axis : ctx.config().get_int_list("shared_axes")) {
      if (axis < 1 || axis >= static_cast<int64_t>(in.size()))
        ctx.error(str_cat("shared axis ", axis, " is out of range"));
      alpha_shape[axis - 1] = 1;
    }
  return {
      ctx.emit(OpKind::prelu, PReluParams{}, {ctx.input()}, {ctx.weight(0, "alpha", alpha_shape)})};
}

std::vector<ValueId> import_identity(LayerContext& ctx) {
  ctx.expect_inputs(1);
  return {ctx.emit(OpKind::identity, IdentityParams{}, {ctx.input()})};
}

std::vector<ValueId> import_reshape(LayerContext& ctx) {
  ctx.expect_inputs(1);
  ReshapeParams p;
  p.target = ctx.config().get_int_list("target_shape");
  int unknown = 0;
  for (int64_t d : p.target) {
    if (d == -1)
      ++unknown;
    else if (d < 0)
      ctx.error(str_cat("target_shape has a negative dimension ", d));
  }
  if (unknown > 1) ctx.error("target_shape can have only one -1");
  return {ctx.emit(OpKind::reshape, p, {ctx.input()})};
}

std::vector<ValueId> import_flatten(LayerContext& ctx) {
  ctx.expect_inputs(1);
  ValueId x = ctx.input();
  // Keras's Flatten with channels_first first moves channels last, then flattens.
  if (ctx.config().get_string("data_format", "channels_last") == "channels_first" &&
      ctx.input_shape().size() > 2)
    x = to_channels_last(ctx, x);
  return {ctx.emit(OpKind::reshape, ReshapeParams{{-1}}, {x})};
}

std::vector<ValueId> import_permute(LayerContext& ctx) {
  ctx.expect_inputs(1);
  std::vector<int64_t> dims = ctx.config().get_int_list("dims");
  size_t rank = ctx.input_shape().size();
  if (dims.size() + 1 != rank)
    ctx.error(str_cat("'dims' has ", dims.size(), " entries for an input of rank ", rank));
  TransposeParams t;
  t.perm.push_back(0);
  std::vector<bool> seen(rank, false);
  for (int64_t d : dims) {
    if (d < 1 || d >= static_cast<int64_t>(rank) || seen[d])
      ctx.error("'dims' is not a permutation of 1..rank-1");
    seen[d] = true;
    t.perm.push_back(d);
  }
  return {ctx.emit(OpKind::transpose, t, {ctx.input()})};
}

// keras.src.applications.convnext.LayerScale: x * gamma, gamma of shape (projection_dim,).
std::vector<ValueId> import_convnext_layer_scale(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const int64_t dim = ctx.config().get_int("projection_dim");
  if (ctx.input_shape().back() >= 0 && ctx.input_shape().back() != dim)
    ctx.error(str_cat("projection_dim ", dim, " does not match the input's last axis ",
                      ctx.input_shape().back()));
  Tensor gamma = ctx.weight(0, "gamma", {dim});
  return {ctx.emit(OpKind::binary, BinaryParams{BinaryKind::multiply, 2u}, {ctx.input()}, {gamma})};
}

}  // namespace

void register_core_layers(LayerRegistry& r) {
  r.add("Dense", import_dense, "any input rank; every activation");
  r.add("Activation", import_activation,
        "every Keras 3 activation name; hard_sigmoid follows the file's Keras version");
  r.add("ReLU", import_relu, "max_value, negative_slope, threshold");
  r.add("LeakyReLU", import_leaky_relu, "negative_slope (Keras 3) or alpha (Keras 2)");
  r.add("ELU", import_elu, "alpha");
  r.add("ThresholdedReLU", import_thresholded_relu,
        "theta (removed in Keras 3, still in old files)");
  r.add("Softmax", import_softmax, "axis (int or list); no mask input");
  r.add("PReLU", import_prelu, "shared_axes");
  r.add("Reshape", import_reshape, "one -1 allowed; a zero-copy view");
  r.add("Flatten", import_flatten, "a zero-copy view; channels_first moves channels last first");
  r.add("Permute", import_permute, "");
  r.add("Identity", import_identity, "");
  r.add("convnext.LayerScale", import_convnext_layer_scale,
        "ConvNeXt's (module keras.src.applications.convnext)");
  r.add("convnext.StochasticDepth", import_identity, "ConvNeXt's; identity at inference");
  for (const char* identity :
       {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
        "GaussianDropout", "AlphaDropout", "ActivityRegularization"})
    r.add(identity, import_identity, "identity at inference; removed by a pass");
}

}  // namespace krt::keras
