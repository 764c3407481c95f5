// Recorded math operations: arithmetic and comparisons (tensors with tensors or constants),
// element-wise math, the activation functions of keras.ops.nn / tf.nn, reductions, where, cast.
#include <algorithm>

#include "core/check.h"
#include "keras/op_importers.h"

namespace krt::keras {

namespace {

using Outputs = std::vector<ValueId>;

OpImportFn binary_op(BinaryKind kind) {
  return [kind](OpCall& c) -> Outputs {
    return {emit_binary(c, kind, c.operand("x1"), c.operand("x2"))};
  };
}

OpImportFn unary_op(UnaryKind kind) {
  return [kind](OpCall& c) -> Outputs {
    return {c.ctx().emit(OpKind::unary, UnaryParams{kind, 0.f, 0.f}, {c.tensor("x")})};
  };
}

// An element-wise activation; `alpha_arg` names the argument that sets Activation::alpha.
OpImportFn activation_op(ActivationKind kind, const char* alpha_arg = nullptr, float alpha = 0.f) {
  return [kind, alpha_arg, alpha](OpCall& c) -> Outputs {
    Activation a;
    a.kind = kind;
    a.alpha = alpha_arg ? static_cast<float>(c.get_float(alpha_arg, alpha)) : alpha;
    if (kind == ActivationKind::leaky_relu) a.negative_slope = a.alpha;
    return {c.ctx().emit(OpKind::activation, ActivationParams{a}, {c.tensor("x")})};
  };
}

// gelu: keras.ops.nn.gelu defaults to the tanh approximation, tf.nn.gelu to the exact form.
OpImportFn gelu_op(bool approximate_default) {
  return [approximate_default](OpCall& c) -> Outputs {
    Activation a;
    a.kind = c.get_bool("approximate", approximate_default) ? ActivationKind::gelu_tanh
                                                            : ActivationKind::gelu;
    return {c.ctx().emit(OpKind::activation, ActivationParams{a}, {c.tensor("x")})};
  };
}

// tf.nn.silu / swish(features, beta=1.0): only beta 1 is silu.
Outputs import_tf_silu(OpCall& c) {
  if (c.get_float("beta", 1.0) != 1.0)
    c.error("swish with beta other than 1 is not supported", ErrorCode::unsupported);
  Activation a;
  a.kind = ActivationKind::silu;
  return {c.ctx().emit(OpKind::activation, ActivationParams{a}, {c.tensor("x")})};
}

// The axes an `axis` argument names (None: every axis), normalized and sorted.
std::vector<int64_t> axes_of(const OpCall& c, const char* name, int64_t rank,
                             std::optional<int64_t> fallback) {
  std::optional<std::vector<int64_t>> given = c.int_list(name);
  if (!given && fallback) given = std::vector<int64_t>{*fallback};
  std::vector<int64_t> axes;
  if (!given) {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    return axes;
  }
  for (int64_t a : *given) axes.push_back(normalize_axis(c, a, rank));
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) c.error("an axis is repeated");
  return axes;
}

OpImportFn axis_activation_op(AxisActivationKind kind) {
  return [kind](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
    AxisActivationParams p{kind, axes_of(c, "axis", rank, -1)};
    return {c.ctx().emit(OpKind::axis_activation, p, {x})};
  };
}

ValueId emit_reduce(OpCall& c, ReduceKind kind, ValueId x, std::vector<int64_t> axes,
                    bool keepdims) {
  if (axes.empty()) return c.ctx().emit(OpKind::identity, IdentityParams{}, {x});
  return c.ctx().emit(OpKind::reduce, ReduceParams{kind, std::move(axes), keepdims}, {x});
}

OpImportFn reduce_op(ReduceKind kind) {
  return [kind](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
    if (c.has("initial")) c.error("'initial' is not supported", ErrorCode::unsupported);
    return {emit_reduce(c, kind, x, axes_of(c, "axis", rank, std::nullopt),
                        c.get_bool("keepdims", false))};
  };
}

// var / std: mean((x - mean(x))^2) over the axes, as numpy computes it (ddof 0).
OpImportFn variance_op(bool take_sqrt) {
  return [take_sqrt](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
    const std::vector<int64_t> axes = axes_of(c, "axis", rank, std::nullopt);
    const ValueId mean = emit_reduce(c, ReduceKind::mean, x, axes, true);
    const ValueId d2 = c.ctx().emit(OpKind::binary, BinaryParams{BinaryKind::squared_difference, 0},
                                    {x, mean}, {}, "sq");
    ValueId v = emit_reduce(c, ReduceKind::mean, d2, axes, c.get_bool("keepdims", false));
    if (take_sqrt)
      v = c.ctx().emit(OpKind::unary, UnaryParams{UnaryKind::sqrt, 0.f, 0.f}, {v}, {}, "sqrt");
    return {v};
  };
}

// logsumexp: m + log(sum(exp(x - m))) with m the maximum over the axes (kept when all are -inf
// would give NaN in numpy too).
Outputs import_logsumexp(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
  const std::vector<int64_t> axes = axes_of(c, "axis", rank, std::nullopt);
  const bool keepdims = c.get_bool("keepdims", false);
  LayerContext& ctx = c.ctx();
  const ValueId m = emit_reduce(c, ReduceKind::max, x, axes, true);
  const ValueId e = ctx.emit(
      OpKind::unary, UnaryParams{UnaryKind::exp, 0.f, 0.f},
      {ctx.emit(OpKind::binary, BinaryParams{BinaryKind::subtract, 0}, {x, m}, {}, "shift")}, {},
      "exp");
  const ValueId s = ctx.emit(OpKind::unary, UnaryParams{UnaryKind::log, 0.f, 0.f},
                             {emit_reduce(c, ReduceKind::sum, e, axes, keepdims)}, {}, "log");
  const ValueId m_out = keepdims ? m : emit_reduce(c, ReduceKind::max, x, axes, false);
  return {ctx.emit(OpKind::elementwise, ElementwiseParams{ElementwiseKind::add}, {s, m_out})};
}

Outputs import_clip(OpCall& c) {
  const ValueId x = c.tensor("x");
  const OpCall::Operand lo = c.operand("x_min"), hi = c.operand("x_max");
  if (!lo.value && !hi.value && lo.constant.size() == 1 && hi.constant.size() == 1)
    return {c.ctx().emit(OpKind::unary,
                         UnaryParams{UnaryKind::clip, lo.constant.data_as<float>()[0],
                                     hi.constant.data_as<float>()[0]},
                         {x})};
  const ValueId y = emit_binary(c, BinaryKind::maximum, {x, Tensor()}, lo, "min");
  return {emit_binary(c, BinaryKind::minimum, {y, Tensor()}, hi)};
}

Outputs import_where(OpCall& c) {
  if (!c.has("x1") || !c.has("x2"))
    c.error("where with only a condition (the indices of nonzero elements) is not supported",
            ErrorCode::unsupported);
  std::vector<ValueId> inputs;
  std::vector<Tensor> constants;
  uint32_t mask = 0;
  int i = 0;
  for (const char* name : {"condition", "x1", "x2"}) {
    OpCall::Operand o = c.operand(name);
    if (o.value) {
      inputs.push_back(*o.value);
    } else {
      mask |= 1u << i;
      constants.push_back(o.constant);
    }
    ++i;
  }
  if (inputs.empty()) c.error("where on three constants is not supported", ErrorCode::unsupported);
  return {c.ctx().emit(OpKind::where, WhereParams{mask}, inputs, constants)};
}

// A cast between dtypes of values kept as f32: floats are unchanged, integer dtypes truncate
// toward zero, bool is x != 0.
ValueId emit_cast(OpCall& c, ValueId x, const std::string& dtype) {
  if (dtype.rfind("float", 0) == 0 || dtype == "bfloat16" || dtype == "half" || dtype == "double")
    return c.ctx().emit(OpKind::identity, IdentityParams{}, {x});
  if (dtype == "bool")
    return c.ctx().emit(OpKind::compare, CompareParams{CompareKind::not_equal, 0.f}, {x});
  if (dtype.rfind("int", 0) == 0 || dtype.rfind("uint", 0) == 0)
    return c.ctx().emit(OpKind::unary, UnaryParams{UnaryKind::cast_int, 0.f, 0.f}, {x});
  c.error(str_cat("cast to dtype '", dtype, "' is not supported"), ErrorCode::unsupported);
}

// The dtype argument: a string, or a DTypePolicy-like dict {"config": {"name": ...}}.
std::string dtype_name_of(const OpCall& c, const char* name) {
  const io::Json& v = c.literal(name);
  if (v.is_string()) return v.as_string();
  if (v.is_object())
    if (const io::Json* config = v.find("config"); config && config->is_object())
      if (const io::Json* n = config->find("name"); n && n->is_string()) return n->as_string();
  c.error(str_cat("argument '", name, "' should name a dtype, found ", v.dump()));
}

Outputs import_cast(OpCall& c) { return {emit_cast(c, c.tensor("x"), dtype_name_of(c, "dtype"))}; }

Outputs import_identity(OpCall& c) {
  return {c.ctx().emit(OpKind::identity, IdentityParams{}, {c.tensor("x")})};
}

Outputs import_round(OpCall& c) {
  if (c.get_int("decimals", 0) != 0)
    c.error("round with decimals is not supported", ErrorCode::unsupported);
  return {c.ctx().emit(OpKind::unary, UnaryParams{UnaryKind::round, 0.f, 0.f}, {c.tensor("x")})};
}

// keras.ops.nn.moments(x, axes, keepdims): the mean and the (biased) variance.
Outputs import_moments(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
  const std::vector<int64_t> axes = axes_of(c, "axes", rank, std::nullopt);
  const bool keepdims = c.get_bool("keepdims", false);
  const ValueId mean = emit_reduce(c, ReduceKind::mean, x, axes, true);
  const ValueId d2 = c.ctx().emit(OpKind::binary, BinaryParams{BinaryKind::squared_difference, 0},
                                  {x, mean}, {}, "sq");
  const ValueId var = emit_reduce(c, ReduceKind::mean, d2, axes, keepdims);
  return {keepdims ? mean : emit_reduce(c, ReduceKind::mean, x, axes, false), var};
}

// keras.ops.nn.batch_normalization(x, mean, variance, axis, offset, scale, epsilon):
// (x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics shaped along `axis`.
// tf.nn.batch_normalization broadcasts the statistics as given (numpy-style), which is the
// last-axis case here.
Outputs import_batch_normalization(OpCall& c, bool tf) {
  const ValueId x = c.tensor("x");
  const int64_t rank = static_cast<int64_t>(c.ctx().graph().values[x].shape.size());
  const int64_t axis = tf ? rank - 1 : normalize_axis(c, c.get_int("axis"), rank);
  // Statistics of shape (C,) broadcast along `axis`: reshape constants and tensors alike.
  auto along_axis = [&](const char* name) -> OpCall::Operand {
    OpCall::Operand o = c.operand(name);
    if (axis == rank - 1) return o;
    if (!o.value) {
      Shape s(rank - axis, 1);
      s[0] = o.constant.size();
      o.constant = o.constant.reshaped(s);
      return o;
    }
    Shape s = c.ctx().graph().values[*o.value].shape;
    if (s.size() != 1) return o;
    Shape out{s[0]};
    out.insert(out.end(), rank - axis - 1, 1);
    return {reshape_to(c, *o.value, out, false, str_cat(name, "_axis")), Tensor()};
  };
  const ValueId centered =
      emit_binary(c, BinaryKind::subtract, {x, Tensor()}, along_axis("mean"), "centered");
  OpCall::Operand var = along_axis("variance");
  const float eps = static_cast<float>(c.get_float("epsilon", 1e-3));
  Tensor eps_t(DType::f32, {});
  eps_t.data_as<float>()[0] = eps;
  const ValueId denom = c.ctx().emit(
      OpKind::unary, UnaryParams{UnaryKind::sqrt, 0.f, 0.f},
      {emit_binary(c, BinaryKind::add, var, {std::nullopt, eps_t}, "var_eps")}, {}, "std");
  ValueId y =
      emit_binary(c, BinaryKind::divide, {centered, Tensor()}, {denom, Tensor()}, "normalized");
  if (c.has("scale"))
    y = emit_binary(c, BinaryKind::multiply, {y, Tensor()}, along_axis("scale"), "scaled");
  if (c.has("offset")) y = emit_binary(c, BinaryKind::add, {y, Tensor()}, along_axis("offset"));
  return {y};
}

// tf.math.add_n(inputs): the sum of a list of tensors of one shape.
Outputs import_add_n(OpCall& c) {
  const std::vector<ValueId> xs = c.tensors("xs");
  if (xs.size() == 1) return {c.ctx().emit(OpKind::identity, IdentityParams{}, xs)};
  return {c.ctx().emit(OpKind::elementwise, ElementwiseParams{ElementwiseKind::add}, xs)};
}

// tf.nn.bias_add(value, bias): bias (C,) added along the last axis (data_format NHWC).
Outputs import_bias_add(OpCall& c) {
  const std::string format = c.get_string("data_format", "N...C");
  if (format.empty() || format.back() != 'C')
    c.error("bias_add with channels first is not supported", ErrorCode::unsupported);
  return {emit_binary(c, BinaryKind::add, c.operand("x1"), c.operand("x2"))};
}

}  // namespace

void register_math_ops(OpTables& t) {
  const std::vector<std::string> xy{"x1", "x2"};
  const std::vector<std::string> tf_xy{"x1=x", "x2=y"};
  struct BinaryName {
    const char* keras;
    BinaryKind kind;
    std::vector<std::string> tf;
  };
  const BinaryName binaries[] = {
      {"Add", BinaryKind::add, {"__operators__.add", "math.add", "add"}},
      {"Subtract", BinaryKind::subtract, {"math.subtract", "subtract", "__operators__.sub"}},
      {"Multiply", BinaryKind::multiply, {"math.multiply", "multiply", "__operators__.mul"}},
      {"Divide", BinaryKind::divide, {"math.divide", "divide"}},
      {"TrueDivide", BinaryKind::divide, {"math.truediv", "truediv", "__operators__.truediv"}},
      {"FloorDivide", BinaryKind::floor_divide, {"math.floordiv", "floordiv", "math.floor_div"}},
      {"Mod", BinaryKind::mod, {"math.floormod", "floormod", "math.mod", "mod"}},
      {"Power", BinaryKind::power, {"math.pow", "pow"}},
      {"Maximum", BinaryKind::maximum, {"math.maximum", "maximum"}},
      {"Minimum", BinaryKind::minimum, {"math.minimum", "minimum"}},
      {"Equal", BinaryKind::equal, {"math.equal", "equal", "__operators__.eq"}},
      {"NotEqual", BinaryKind::not_equal, {"math.not_equal", "not_equal", "__operators__.ne"}},
      {"Less", BinaryKind::less, {"math.less", "less"}},
      {"LessEqual", BinaryKind::less_equal, {"math.less_equal", "less_equal"}},
      {"Greater", BinaryKind::greater, {"math.greater", "greater"}},
      {"GreaterEqual", BinaryKind::greater_equal, {"math.greater_equal", "greater_equal"}},
      {"LogicalAnd", BinaryKind::logical_and, {"math.logical_and", "logical_and"}},
      {"LogicalOr", BinaryKind::logical_or, {"math.logical_or", "logical_or"}},
      {"LogicalXor", BinaryKind::logical_xor, {"math.logical_xor", "logical_xor"}},
  };
  for (const BinaryName& b : binaries) {
    t.keras(b.keras, xy, binary_op(b.kind), "tensors or constants, numpy broadcasting");
    t.tf(b.tf, tf_xy, binary_op(b.kind));
  }
  t.keras("Arctan2", xy, binary_op(BinaryKind::atan2));
  t.tf({"math.atan2", "atan2"}, {"x1=y", "x2=x"}, binary_op(BinaryKind::atan2));
  t.tf({"math.squared_difference"}, tf_xy, binary_op(BinaryKind::squared_difference));
  t.tf({"math.add_n", "add_n"}, {"xs=inputs"}, import_add_n);
  t.tf({"nn.bias_add"}, {"x1=value", "x2=bias", "data_format"}, import_bias_add, "channels last");

  struct UnaryName {
    const char* keras;
    UnaryKind kind;
    std::vector<std::string> tf;
  };
  const UnaryName unaries[] = {
      {"Absolute", UnaryKind::abs, {"math.abs", "abs"}},
      {"Negative", UnaryKind::negative, {"math.negative", "negative", "__operators__.neg"}},
      {"Sqrt", UnaryKind::sqrt, {"math.sqrt", "sqrt"}},
      {"Rsqrt", UnaryKind::rsqrt, {"math.rsqrt"}},
      {"Square", UnaryKind::square, {"math.square", "square"}},
      {"Exp", UnaryKind::exp, {"math.exp", "exp"}},
      {"Expm1", UnaryKind::expm1, {"math.expm1"}},
      {"Log", UnaryKind::log, {"math.log", "log"}},
      {"Log1p", UnaryKind::log1p, {"math.log1p"}},
      {"Log2", UnaryKind::log2, {}},
      {"Log10", UnaryKind::log10, {}},
      {"Floor", UnaryKind::floor, {"math.floor", "floor"}},
      {"Ceil", UnaryKind::ceil, {"math.ceil"}},
      {"Trunc", UnaryKind::cast_int, {}},
      {"Sign", UnaryKind::sign, {"math.sign", "sign"}},
      {"Reciprocal", UnaryKind::reciprocal, {"math.reciprocal"}},
      {"Sin", UnaryKind::sin, {"math.sin"}},
      {"Cos", UnaryKind::cos, {"math.cos"}},
      {"Tan", UnaryKind::tan, {"math.tan"}},
      {"Arcsin", UnaryKind::asin, {"math.asin"}},
      {"Arccos", UnaryKind::acos, {"math.acos"}},
      {"Arctan", UnaryKind::atan, {"math.atan"}},
      {"Sinh", UnaryKind::sinh, {"math.sinh"}},
      {"Cosh", UnaryKind::cosh, {"math.cosh"}},
      {"Arcsinh", UnaryKind::asinh, {"math.asinh"}},
      {"Arccosh", UnaryKind::acosh, {"math.acosh"}},
      {"Arctanh", UnaryKind::atanh, {"math.atanh"}},
      {"Erf", UnaryKind::erf, {"math.erf"}},
      {"LogicalNot", UnaryKind::logical_not, {"math.logical_not", "logical_not"}},
      {"Isnan", UnaryKind::isnan, {"math.is_nan"}},
      {"Isinf", UnaryKind::isinf, {"math.is_inf"}},
      {"Isfinite", UnaryKind::isfinite, {"math.is_finite"}},
  };
  for (const UnaryName& u : unaries) {
    t.keras(u.keras, {"x"}, unary_op(u.kind));
    if (!u.tf.empty()) t.tf(u.tf, {"x"}, unary_op(u.kind));
  }
  t.keras("Round", {"x", "decimals"}, import_round, "decimals 0");
  t.tf({"math.round", "round"}, {"x"}, import_round);
  t.keras("Clip", {"x", "x_min", "x_max"}, import_clip);
  t.tf({"clip_by_value"}, {"x=t", "x_min=clip_value_min", "x_max=clip_value_max"}, import_clip);

  // Activations: keras.ops.nn (argument x) and tf.nn / tf.math (argument features or x).
  struct ActName {
    const char* keras;
    ActivationKind kind;
    std::vector<std::string> tf;
    const char* tf_arg;
  };
  const ActName acts[] = {
      {"Relu", ActivationKind::relu, {"nn.relu"}, "x=features"},
      {"Relu6", ActivationKind::relu6, {"nn.relu6"}, "x=features"},
      {"Sigmoid", ActivationKind::sigmoid, {"math.sigmoid", "nn.sigmoid", "sigmoid"}, "x"},
      {"HardSigmoid", ActivationKind::hard_sigmoid, {}, "x"},
      {"Softplus", ActivationKind::softplus, {"math.softplus", "nn.softplus"}, "x=features"},
      {"Softsign", ActivationKind::softsign, {"math.softsign", "nn.softsign"}, "x=features"},
      {"Silu", ActivationKind::silu, {}, "x"},
      {"HardSilu", ActivationKind::hard_silu, {}, "x"},
      {"LogSigmoid", ActivationKind::log_sigmoid, {"math.log_sigmoid"}, "x"},
      {"Selu", ActivationKind::selu, {"nn.selu"}, "x=features"},
      {"Tanh", ActivationKind::tanh, {"math.tanh", "nn.tanh", "tanh"}, "x"},
      {"Mish", ActivationKind::mish, {}, "x"},
      {"HardTanh", ActivationKind::hard_tanh, {}, "x"},
      {"SparsePlus", ActivationKind::sparse_plus, {}, "x"},
      {"SparseSigmoid", ActivationKind::sparse_sigmoid, {}, "x"},
      {"TanhShrink", ActivationKind::tanh_shrink, {}, "x"},
  };
  for (const ActName& a : acts) {
    t.keras(a.keras, {"x"}, activation_op(a.kind));
    if (!a.tf.empty()) t.tf(a.tf, {a.tf_arg}, activation_op(a.kind));
  }
  t.keras("Elu", {"x", "alpha"}, activation_op(ActivationKind::elu, "alpha", 1.f));
  t.tf({"nn.elu"}, {"x=features"}, activation_op(ActivationKind::elu, nullptr, 1.f));
  t.keras("Celu", {"x", "alpha"}, activation_op(ActivationKind::celu, "alpha", 1.f));
  t.keras("LeakyRelu", {"x", "negative_slope"},
          activation_op(ActivationKind::leaky_relu, "negative_slope", 0.2f));
  t.tf({"nn.leaky_relu"}, {"x=features", "negative_slope=alpha"},
       activation_op(ActivationKind::leaky_relu, "negative_slope", 0.2f));
  t.keras("SoftShrink", {"x", "threshold"},
          activation_op(ActivationKind::soft_shrink, "threshold", 0.5f));
  t.keras("HardShrink", {"x", "threshold"},
          activation_op(ActivationKind::hard_shrink, "threshold", 0.5f));
  t.keras("Squareplus", {"x", "b"}, activation_op(ActivationKind::squareplus, "b", 4.f));
  t.keras("Gelu", {"x", "approximate"}, gelu_op(true),
          "approximate (default true, as keras.ops.gelu)");
  t.tf({"nn.gelu"}, {"x=features", "approximate"}, gelu_op(false),
       "approximate (default false, as tf.nn.gelu)");
  t.tf({"nn.silu", "nn.swish", "math.swish"}, {"x=features", "beta"}, import_tf_silu, "beta 1");
  t.keras("Softmax", {"x", "axis"}, axis_activation_op(AxisActivationKind::softmax),
          "axis: int or tuple");
  t.tf({"nn.softmax", "math.softmax"}, {"x=logits", "axis"},
       axis_activation_op(AxisActivationKind::softmax));
  t.keras("LogSoftmax", {"x", "axis"}, axis_activation_op(AxisActivationKind::log_softmax));
  t.tf({"nn.log_softmax", "math.log_softmax"}, {"x=logits", "axis"},
       axis_activation_op(AxisActivationKind::log_softmax));
  t.keras("Sparsemax", {"x", "axis"}, axis_activation_op(AxisActivationKind::sparsemax));
  t.keras("Glu", {"x", "axis"}, axis_activation_op(AxisActivationKind::glu));

  // Reductions over axes (None: all, which must keep the batch axis with keepdims).
  struct ReduceName {
    const char* keras;
    ReduceKind kind;
    const char* tf;
  };
  const ReduceName reductions[] = {
      {"Sum", ReduceKind::sum, "math.reduce_sum"},
      {"Mean", ReduceKind::mean, "math.reduce_mean"},
      {"Max", ReduceKind::max, "math.reduce_max"},
      {"Min", ReduceKind::min, "math.reduce_min"},
      {"Prod", ReduceKind::prod, "math.reduce_prod"},
      {"Any", ReduceKind::any, "math.reduce_any"},
      {"All", ReduceKind::all, "math.reduce_all"},
  };
  for (const ReduceName& r : reductions) {
    t.keras(r.keras, {"x", "axis", "keepdims"}, reduce_op(r.kind), "axis None/int/tuple, keepdims");
    t.tf({r.tf, std::string(r.tf).substr(5)}, {"x=input_tensor", "axis", "keepdims"},
         reduce_op(r.kind));
  }
  t.keras("Amax", {"x", "axis", "keepdims"}, reduce_op(ReduceKind::max));
  t.keras("Amin", {"x", "axis", "keepdims"}, reduce_op(ReduceKind::min));
  t.keras("Var", {"x", "axis", "keepdims"}, variance_op(false));
  t.keras("Std", {"x", "axis", "keepdims"}, variance_op(true));
  t.tf({"math.reduce_variance"}, {"x=input_tensor", "axis", "keepdims"}, variance_op(false));
  t.tf({"math.reduce_std"}, {"x=input_tensor", "axis", "keepdims"}, variance_op(true));
  t.keras("Logsumexp", {"x", "axis", "keepdims"}, import_logsumexp);
  t.tf({"math.reduce_logsumexp"}, {"x=input_tensor", "axis", "keepdims"}, import_logsumexp);

  t.keras("Where", {"condition", "x1", "x2"}, import_where,
          "condition with two tensors or constants");
  t.tf({"where", "where_v2", "compat.v1.where_v2"}, {"condition", "x1=x", "x2=y"}, import_where);
  t.keras("Cast", {"x", "dtype"}, import_cast, "float: unchanged; int: truncates; bool: != 0");
  t.tf({"cast", "dtypes.cast"}, {"x", "dtype"}, import_cast);
  t.keras("StopGradient", {"x"}, import_identity, "identity at inference");
  t.keras("ConvertToTensor", {"x"}, import_identity);
  t.keras("Copy", {"x"}, import_identity);
  t.keras("Moments", {"x", "axes", "keepdims"}, import_moments, "two outputs: mean and variance");
  t.tf({"nn.moments"}, {"x", "axes", "shift", "keepdims"}, import_moments);
  t.keras(
      "BatchNorm", {"x", "mean", "variance", "axis", "offset", "scale", "epsilon"},
      [](OpCall& c) { return import_batch_normalization(c, false); },
      "statistics as tensors or constants");
  t.tf({"nn.batch_normalization"},
       {"x", "mean", "variance", "offset", "scale", "epsilon=variance_epsilon"},
       [](OpCall& c) { return import_batch_normalization(c, true); });
  t.tf({"stop_gradient", "identity"}, {"x=input"}, import_identity);
}

}  // namespace krt::keras
