// EinsumDense and Dot: both are one einsum node (Dot after optional L2 normalization).
#include <regex>

#include "core/check.h"
#include "keras/activations.h"
#include "keras/einsum_dense.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

// Letters that appear in none of `used`, for the axes an ellipsis stands for.
std::string fresh_letters(const std::string& used, size_t n) {
  std::string out;
  for (char c : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    if (out.size() < n && used.find(c) == std::string::npos) out += c;
  return out;
}

}  // namespace

// The three forms keras.layers.EinsumDense accepts (_analyze_einsum_string).
EinsumSpec parse_einsum_dense_equation(const LayerContext& ctx, const std::string& equation,
                                       size_t input_rank) {
  static const std::regex plain("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)");
  static const std::regex left(R"(\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+))");
  static const std::regex right(R"(([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.)");
  std::smatch m;
  EinsumSpec s;
  bool elided_form = false;
  if (std::regex_match(equation, m, plain)) {
  } else if (std::regex_match(equation, m, left)) {
    elided_form = s.left_elided = true;
  } else if (std::regex_match(equation, m, right)) {
    elided_form = true;
  } else {
    ctx.error(
        str_cat("einsum equation '", equation,
                "' is not of the form [X],[Y]->[Z], ...[X],[Y]->...[Z] or [X]...,[Y]->[Z]..."));
  }
  s.input = m[1];
  s.kernel = m[2];
  s.output = m[3];
  if (input_rank < s.input.size() || (!elided_form && input_rank != s.input.size()))
    ctx.error(
        str_cat("einsum equation '", equation, "' does not fit an input of rank ", input_rank));
  s.elided = input_rank - s.input.size();
  const std::string extra = fresh_letters(s.input + s.kernel + s.output, s.elided);
  if (s.left_elided) {
    s.input = extra + s.input;
    s.output = extra + s.output;
  } else {
    s.input += extra;
    s.output += extra;
  }
  return s;
}

Tensor scoped_weight(const LayerContext& ctx, const WeightScope& scope, int index,
                     std::string_view name, const Shape& expected, const std::string& what) {
  std::optional<Tensor> w = scope.find(index, name);
  if (!w)
    ctx.error(
        str_cat(what, " '", name, "' (variable ", index, ") is missing from the weights file"));
  bool ok = w->rank() == static_cast<int>(expected.size());
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == w->shape()[i];
  if (!ok)
    ctx.error(str_cat(what, " ", name, " has shape ", shape_to_string(w->shape()), ", expected ",
                      shape_to_string(expected)));
  return w->dtype() == DType::f32 ? *w : w->cast(DType::f32);
}

ValueId emit_einsum_dense(LayerContext& ctx, const WeightScope& scope, const std::string& equation,
                          const std::string* bias_axes, ValueId x, const Activation& activation,
                          const std::string& suffix) {
  const Shape& in = ctx.graph().values[x].shape;
  const EinsumSpec s = parse_einsum_dense_equation(ctx, equation, in.size());
  const std::string what = suffix.empty() ? "kernel" : suffix;
  for (char c : s.output)
    if (s.input.find(c) == std::string::npos && s.kernel.find(c) == std::string::npos)
      ctx.error(str_cat("einsum output label '", std::string(1, c), "' of '", equation,
                        "' is in neither the input nor the kernel"));
  Shape kernel_shape;
  for (char c : s.kernel) {
    const size_t at = s.input.find(c);
    if (at == std::string::npos && s.output.find(c) == std::string::npos)
      ctx.error(str_cat("kernel label '", std::string(1, c), "' of '", equation,
                        "' is in neither the input nor the output"));
    kernel_shape.push_back(at == std::string::npos ? -1 : in[at]);
  }
  EinsumParams p;
  p.operands = {s.input, s.kernel};
  p.output = s.output;
  p.activation = activation;
  std::vector<Tensor> w{scoped_weight(ctx, scope, 0, "kernel", kernel_shape, what)};
  if (bias_axes && !bias_axes->empty()) {
    // Keras's bias spans the output from its first bias axis on, with 1 on the other axes.
    size_t first = s.output.size();
    for (char c : *bias_axes) {
      const size_t at = s.output.find(c);
      if (at == std::string::npos)
        ctx.error(
            str_cat("bias axis '", std::string(1, c), "' is not in the output '", s.output, "'"));
      first = std::min(first, at);
    }
    Shape bias_shape;
    for (size_t i = first; i < s.output.size(); ++i)
      bias_shape.push_back(bias_axes->find(s.output[i]) == std::string::npos ? 1 : -1);
    p.has_bias = true;
    w.push_back(scoped_weight(ctx, scope, 1, "bias", bias_shape, what));
  }
  return ctx.emit(OpKind::einsum, p, {x}, std::move(w), suffix);
}

namespace {

std::vector<ValueId> import_einsum_dense(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const LayerConfig& c = ctx.config();
  if (c.has("quantization_config"))
    ctx.error("quantized EinsumDense is not supported", ErrorCode::unsupported);
  if (const io::Json* d = c.find("dtype"); d && d->kind() == io::Json::Kind::object)
    if (const io::Json* cls = d->find("class_name");
        cls && cls->kind() == io::Json::Kind::string && cls->as_string() != "DTypePolicy")
      ctx.error(str_cat("dtype policy ", cls->as_string(), " (quantized weights) is not supported"),
                ErrorCode::unsupported);
  const std::string equation = c.get_string("equation");
  std::string bias_axes;
  if (c.has("bias_axes")) bias_axes = c.get_string("bias_axes");
  ParsedActivation rest;
  Activation act = fusable_activation(ctx, &rest);
  ValueId y = emit_einsum_dense(ctx, ctx.weights(), equation,
                                c.has("bias_axes") ? &bias_axes : nullptr, ctx.input(), act, "");
  // output_shape only sizes the kernel's free axes; check it against what the kernel gave.
  const Shape& out = ctx.graph().values[y].shape;
  if (const io::Json* os = c.find("output_shape"); os && !os->is_null()) {
    std::vector<int64_t> want = os->kind() == io::Json::Kind::array
                                    ? c.get_int_list("output_shape")
                                    : std::vector<int64_t>{c.get_int("output_shape")};
    bool ok = want.size() + 1 == out.size();
    for (size_t i = 0; ok && i < want.size(); ++i)
      ok = want[i] < 0 || out[i + 1] < 0 || want[i] == out[i + 1];
    if (!ok)
      ctx.error(str_cat("output_shape ", shape_to_string(want),
                        " does not match the einsum output ", shape_to_string(out)));
  }
  return {emit_activation(ctx, rest, y)};
}

// keras.layers.Dot: batch_dot over one axis of each input; the output keeps the first input's
// other axes, then the second's (batch excluded), and is at least (batch, 1).
std::vector<ValueId> import_dot(LayerContext& ctx) {
  ctx.expect_inputs(2);
  const int64_t r1 = static_cast<int64_t>(ctx.input_shape(0).size());
  const int64_t r2 = static_cast<int64_t>(ctx.input_shape(1).size());
  if (r1 < 2 || r2 < 2) ctx.error("Dot needs inputs of rank 2 or more");
  const io::Json* axes_json = ctx.config().find("axes");
  int64_t a1 = -1, a2 = -1;
  if (!axes_json || axes_json->is_null()) ctx.error("'axes' is missing");
  auto wrap = [](int64_t a, int64_t r) { return ((a % r) + r) % r; };  // Python's a % r
  if (axes_json->kind() == io::Json::Kind::array) {
    std::vector<int64_t> a = ctx.config().get_int_list("axes");
    if (a.size() != 2) ctx.error("'axes' should hold two integers");
    a1 = a[0] < 0 ? wrap(a[0], r1) : a[0];
    a2 = a[1] < 0 ? wrap(a[1], r2) : a[1];
  } else {
    const int64_t a = ctx.config().get_int("axes");
    a1 = a < 0 ? wrap(a, r1) : a;
    a2 = a < 0 ? wrap(a, r2) : a;
  }
  if (a1 >= r1 || a2 >= r2)
    ctx.error(
        str_cat("axes (", a1, ", ", a2, ") are out of range for inputs of rank ", r1, " and ", r2));
  if (a1 == 0 || a2 == 0) ctx.error("Dot cannot reduce over the batch axis");
  ValueId x = ctx.input(0), y = ctx.input(1);
  if (ctx.config().get_bool("normalize", false)) {
    x = ctx.emit(OpKind::l2_normalize, L2NormalizeParams{{a1}}, {x}, {}, "normalize_0");
    y = ctx.emit(OpKind::l2_normalize, L2NormalizeParams{{a2}}, {y}, {}, "normalize_1");
  }
  // Labels: 'a' batch, 'b' the summed axis, then one fresh letter per other axis.
  std::string lx, ly, out = "a";
  char next = 'c';
  for (int64_t i = 0; i < r1; ++i) lx += i == 0 ? 'a' : i == a1 ? 'b' : next++;
  for (int64_t i = 0; i < r2; ++i) ly += i == 0 ? 'a' : i == a2 ? 'b' : next++;
  for (int64_t i = 1; i < r1; ++i)
    if (i != a1) out += lx[i];
  for (int64_t i = 1; i < r2; ++i)
    if (i != a2) out += ly[i];
  EinsumParams p;
  p.operands = {lx, ly};
  p.output = out;
  if (out.size() > 1) return {ctx.emit(OpKind::einsum, p, {x, y})};
  ValueId z = ctx.emit(OpKind::einsum, p, {x, y}, {}, "dot");
  ReshapeParams rp;
  rp.target = {1};
  return {ctx.emit(OpKind::reshape, rp, {z})};
}

}  // namespace

void register_einsum_layers(LayerRegistry& r) {
  r.add("EinsumDense", import_einsum_dense,
        "any equation of the forms ab,bc->ac, ...b,bc->...c, ab...,bc->ac... (any rank); "
        "output_shape with None; "
        "bias_axes; activation; LoRA kernels as saved (merged); quantized kernels unsupported");
  r.add("Dot", import_dot,
        "axes as int or pair (negative allowed, not the batch axis), normalize, inputs of any rank "
        ">= 2");
}

}  // namespace krt::keras
