// Convolution layers: ConvND, ConvNDTranspose, DepthwiseConvND, SeparableConvND (N = 1..3).
#include "core/check.h"
#include "keras/activations.h"
#include "keras/layer_importer.h"
#include "keras/layout.h"

namespace krt::keras {

namespace {

Padding parse_padding(const LayerContext& ctx, bool causal_allowed) {
  std::string p = ctx.config().get_string("padding", "valid");
  if (p == "valid") return Padding::valid;
  if (p == "same") return Padding::same;
  if (p == "causal" && causal_allowed) return Padding::causal;
  ctx.error(str_cat("padding '", p, "' is not supported"), ErrorCode::unsupported);
}

// The parameters every convolution flavour shares.
ConvParams common_conv_params(const LayerContext& ctx, size_t rank, bool causal_allowed) {
  ConvParams p;
  p.kernel_size = ctx.config().get_ints("kernel_size", rank);
  p.strides = ctx.config().get_ints("strides", rank, 1);
  p.dilation = ctx.config().get_ints("dilation_rate", rank, 1);
  p.padding = parse_padding(ctx, causal_allowed);
  p.has_bias = ctx.config().get_bool("use_bias", true);
  for (size_t i = 0; i < rank; ++i)
    if (p.kernel_size[i] <= 0 || p.strides[i] <= 0 || p.dilation[i] <= 0)
      ctx.error("kernel_size, strides and dilation_rate must be positive");
  return p;
}

Tensor weight_named(const LayerContext& ctx, int index,
                    std::initializer_list<std::string_view> names, const Shape& shape) {
  for (std::string_view n : names)
    if (ctx.has_weight(index, n)) return ctx.weight(index, n, shape);
  return ctx.weight(index, *names.begin(), shape);
}

// Runs `body` on the channels-last view of the input and returns its result in the layer's
// data format, adding transposes around it for channels_first.
template <class Body>
std::vector<ValueId> in_channels_last(LayerContext& ctx, size_t spatial_rank, Body body) {
  ctx.expect_inputs(1);
  if (ctx.input_shape().size() != spatial_rank + 2)
    ctx.error(str_cat("expects an input of rank ", spatial_rank + 2, ", got shape ",
                      shape_to_string(ctx.input_shape())));
  bool channels_first = is_channels_first(ctx);
  ValueId x = channels_first ? to_channels_last(ctx, ctx.input()) : ctx.input();
  ValueId y = body(x, ctx.graph().values[x].shape.back());
  return {channels_first ? to_channels_first(ctx, y) : y};
}

LayerImportFn conv(size_t rank) {
  return [rank](LayerContext& ctx) {
    return in_channels_last(ctx, rank, [&](ValueId x, int64_t cin) {
      ConvParams p = common_conv_params(ctx, rank, rank == 1);
      p.filters = ctx.config().get_int("filters");
      p.groups = ctx.config().get_int("groups", 1);
      if (p.filters <= 0 || p.groups <= 0 || cin % p.groups != 0 || p.filters % p.groups != 0)
        ctx.error(str_cat("filters ", p.filters, " and input channels ", cin,
                          " must be divisible by groups ", p.groups));
      ParsedActivation rest;
      p.activation = fusable_activation(ctx, &rest);
      Shape kshape = p.kernel_size;
      kshape.push_back(cin / p.groups);
      kshape.push_back(p.filters);
      std::vector<Tensor> w{ctx.weight(0, "kernel", kshape)};
      if (p.has_bias) w.push_back(ctx.weight(1, "bias", {p.filters}));
      return emit_activation(ctx, rest, ctx.emit(OpKind::conv, p, {x}, std::move(w)));
    });
  };
}

LayerImportFn conv_transpose(size_t rank) {
  return [rank](LayerContext& ctx) {
    return in_channels_last(ctx, rank, [&](ValueId x, int64_t cin) {
      ConvParams p = common_conv_params(ctx, rank, false);
      p.filters = ctx.config().get_int("filters");
      if (p.filters <= 0) ctx.error("'filters' must be positive");
      if (ctx.config().has("output_padding")) {
        p.output_padding = ctx.config().get_ints("output_padding", rank);
        for (size_t i = 0; i < rank; ++i)
          if (p.output_padding[i] < 0 ||
              p.output_padding[i] >= std::max(p.strides[i], p.dilation[i]))
            ctx.error("output_padding must be smaller than the stride or the dilation");
      }
      ParsedActivation rest;
      p.activation = fusable_activation(ctx, &rest);
      Shape kshape = p.kernel_size;
      kshape.push_back(p.filters);
      kshape.push_back(cin);
      std::vector<Tensor> w{ctx.weight(0, "kernel", kshape)};
      if (p.has_bias) w.push_back(ctx.weight(1, "bias", {p.filters}));
      return emit_activation(ctx, rest, ctx.emit(OpKind::conv_transpose, p, {x}, std::move(w)));
    });
  };
}

// Depthwise part shared by DepthwiseConvND and SeparableConvND.
ValueId emit_depthwise(LayerContext& ctx, ValueId x, int64_t cin, size_t rank,
                       const Activation& act, bool with_bias, const std::string& suffix) {
  ConvParams p = common_conv_params(ctx, rank, rank == 1);
  p.depth_multiplier = ctx.config().get_int("depth_multiplier", 1);
  if (p.depth_multiplier <= 0) ctx.error("'depth_multiplier' must be positive");
  p.has_bias = with_bias;
  p.activation = act;
  Shape kshape = p.kernel_size;
  kshape.push_back(cin);
  kshape.push_back(p.depth_multiplier);
  std::vector<Tensor> w{weight_named(ctx, 0, {"depthwise_kernel", "kernel"}, kshape)};
  if (with_bias) w.push_back(ctx.weight(1, "bias", {cin * p.depth_multiplier}));
  return ctx.emit(OpKind::depthwise_conv, p, {x}, std::move(w), suffix);
}

LayerImportFn depthwise(size_t rank) {
  return [rank](LayerContext& ctx) {
    return in_channels_last(ctx, rank, [&](ValueId x, int64_t cin) {
      ParsedActivation rest;
      Activation act = fusable_activation(ctx, &rest);
      ValueId y =
          emit_depthwise(ctx, x, cin, rank, act, ctx.config().get_bool("use_bias", true), "");
      return emit_activation(ctx, rest, y);
    });
  };
}

LayerImportFn separable(size_t rank) {
  return [rank](LayerContext& ctx) {
    return in_channels_last(ctx, rank, [&](ValueId x, int64_t cin) {
      int64_t mult = ctx.config().get_int("depth_multiplier", 1);
      ValueId d = emit_depthwise(ctx, x, cin, rank, Activation{}, false, "depthwise");
      ConvParams p;
      p.kernel_size.assign(rank, 1);
      p.strides.assign(rank, 1);
      p.dilation.assign(rank, 1);
      p.filters = ctx.config().get_int("filters");
      p.has_bias = ctx.config().get_bool("use_bias", true);
      ParsedActivation rest;
      p.activation = fusable_activation(ctx, &rest);
      Shape kshape(rank, 1);
      kshape.push_back(cin * mult);
      kshape.push_back(p.filters);
      std::vector<Tensor> w{weight_named(ctx, 1, {"pointwise_kernel"}, kshape)};
      if (p.has_bias) w.push_back(ctx.weight(2, "bias", {p.filters}));
      return emit_activation(ctx, rest, ctx.emit(OpKind::conv, p, {d}, std::move(w), "pointwise"));
    });
  };
}

}  // namespace

void register_conv_layers(LayerRegistry& r) {
  const char* conv_notes =
      "valid/same (causal for 1D), strides, dilation, groups, bias, every activation, "
      "channels_first";
  r.add("Conv1D", conv(1), conv_notes);
  r.add("Conv2D", conv(2), conv_notes);
  r.add("Conv3D", conv(3), conv_notes);
  const char* t_notes =
      "valid/same, strides, dilation, output_padding, bias, every activation, channels_first";
  r.add("Conv1DTranspose", conv_transpose(1), t_notes);
  r.add("Conv2DTranspose", conv_transpose(2), t_notes);
  r.add("Conv3DTranspose", conv_transpose(3), t_notes);
  r.add("DepthwiseConv1D", depthwise(1),
        "depth_multiplier, valid/same/causal, strides, dilation, bias");
  r.add("DepthwiseConv2D", depthwise(2), "depth_multiplier, valid/same, strides, dilation, bias");
  r.add("SeparableConv1D", separable(1),
        "depthwise then pointwise, depth_multiplier, bias, activation");
  r.add("SeparableConv2D", separable(2),
        "depthwise then pointwise, depth_multiplier, bias, activation");
}

}  // namespace krt::keras
