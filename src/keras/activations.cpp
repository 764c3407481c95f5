#include "keras/activations.h"

#include "core/check.h"

namespace krt::keras {

namespace {

std::string activation_name_of(const LayerContext& ctx, const io::Json* value) {
  if (!value || value->is_null()) return "linear";
  if (value->kind() == io::Json::Kind::string) return value->as_string();
  if (value->kind() == io::Json::Kind::object) {
    // Keras 3 may serialize a built-in function as {"class_name": "function", "config": "relu"}.
    const io::Json* config = value->find("config");
    if (config && config->kind() == io::Json::Kind::string) return config->as_string();
    const io::Json* class_name = value->find("class_name");
    if (class_name && class_name->kind() == io::Json::Kind::string) return class_name->as_string();
  }
  ctx.error(str_cat("activation ", value->dump(), " is not a built-in Keras activation"),
            ErrorCode::unsupported);
}

}  // namespace

ParsedActivation parse_activation(const LayerContext& ctx, const io::Json* value) {
  std::string name = activation_name_of(ctx, value);
  ParsedActivation out;
  auto simple = [&](ActivationKind kind, float alpha = 0.f) {
    Activation a;
    a.kind = kind;
    a.alpha = alpha;
    out.elementwise = a;
  };
  auto axis = [&](AxisActivationKind kind) {
    AxisActivationParams p;
    p.kind = kind;
    p.axes = {static_cast<int64_t>(ctx.input_shape().size()) - 1};
    out.along_axis = p;
  };
  if (name == "linear" || name == "None")
    simple(ActivationKind::linear);
  else if (name == "relu")
    simple(ActivationKind::relu);
  else if (name == "relu6")
    simple(ActivationKind::relu6);
  else if (name == "sigmoid")
    simple(ActivationKind::sigmoid);
  else if (name == "hard_sigmoid")
    simple(ctx.file().keras_major >= 3 ? ActivationKind::hard_sigmoid
                                       : ActivationKind::hard_sigmoid_keras2);
  else if (name == "tanh")
    simple(ActivationKind::tanh);
  else if (name == "elu")
    simple(ActivationKind::elu, 1.f);
  else if (name == "selu")
    simple(ActivationKind::selu);
  else if (name == "celu")
    simple(ActivationKind::celu, 1.f);
  else if (name == "softplus")
    simple(ActivationKind::softplus);
  else if (name == "softsign")
    simple(ActivationKind::softsign);
  else if (name == "exponential")
    simple(ActivationKind::exponential);
  else if (name == "silu" || name == "swish")
    simple(ActivationKind::silu);
  else if (name == "hard_silu" || name == "hard_swish")
    simple(ActivationKind::hard_silu);
  else if (name == "gelu")
    simple(ActivationKind::gelu);
  else if (name == "leaky_relu")
    simple(ActivationKind::leaky_relu, 0.2f);
  else if (name == "mish")
    simple(ActivationKind::mish);
  else if (name == "hard_shrink")
    simple(ActivationKind::hard_shrink, 0.5f);
  else if (name == "soft_shrink")
    simple(ActivationKind::soft_shrink, 0.5f);
  else if (name == "hard_tanh")
    simple(ActivationKind::hard_tanh);
  else if (name == "log_sigmoid")
    simple(ActivationKind::log_sigmoid);
  else if (name == "sparse_plus")
    simple(ActivationKind::sparse_plus);
  else if (name == "sparse_sigmoid")
    simple(ActivationKind::sparse_sigmoid);
  else if (name == "squareplus")
    simple(ActivationKind::squareplus, 4.f);
  else if (name == "tanh_shrink")
    simple(ActivationKind::tanh_shrink);
  else if (name == "softmax")
    axis(AxisActivationKind::softmax);
  else if (name == "log_softmax")
    axis(AxisActivationKind::log_softmax);
  else if (name == "sparsemax")
    axis(AxisActivationKind::sparsemax);
  else if (name == "glu")
    axis(AxisActivationKind::glu);
  else
    ctx.error(str_cat("activation '", name, "' is not supported"), ErrorCode::unsupported);
  return out;
}

ValueId emit_activation(LayerContext& ctx, const ParsedActivation& act, ValueId x,
                        const std::string& suffix) {
  if (act.elementwise) {
    if (act.elementwise->is_linear()) return x;
    return ctx.emit(OpKind::activation, ActivationParams{*act.elementwise}, {x}, {}, suffix);
  }
  AxisActivationParams p = *act.along_axis;
  // The axis was set from the layer's input; the activation applies to the rank of x.
  int64_t rank = static_cast<int64_t>(ctx.graph().values[x].shape.size());
  for (int64_t& a : p.axes) a = rank - 1;
  return ctx.emit(OpKind::axis_activation, p, {x}, {}, suffix);
}

Activation fusable_activation(const LayerContext& ctx, ParsedActivation* rest) {
  ParsedActivation act = parse_activation(ctx, ctx.config().find("activation"));
  if (act.elementwise) {
    *rest = ParsedActivation{Activation{}, std::nullopt};
    return *act.elementwise;
  }
  *rest = act;
  return Activation{};
}

}  // namespace krt::keras
