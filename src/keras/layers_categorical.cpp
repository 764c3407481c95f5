// Categorical preprocessing layers, built from the general tensor ops: CategoryEncoding
// (one_hot, multi_hot, count) compares each token with 0..num_tokens-1 and reduces over the
// tokens; Discretization counts the bin boundaries at or below each value (tf.raw_ops.Bucketize).
// Tokens are f32 values holding whole numbers; a token outside [0, num_tokens) matches nothing.
#include "core/check.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

Tensor row(const std::vector<float>& values) {
  Tensor t(DType::f32, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data_as<float>());
  return t;
}

// x[..., None] OP values: a new last axis, one entry per value.
ValueId compare_with_each(LayerContext& ctx, ValueId x, BinaryKind kind,
                          const std::vector<float>& values, const std::string& suffix) {
  Shape s = ctx.graph().values[x].shape;
  Shape target(s.begin() + 1, s.end());
  target.push_back(1);
  const ValueId expanded =
      ctx.emit(OpKind::reshape, ReshapeParams{target, false}, {x}, {}, suffix + "_expand");
  return ctx.emit(OpKind::binary, BinaryParams{kind, 2u}, {expanded}, {row(values)}, suffix);
}

// Keras 3 CategoryEncoding._encode: one_hot keeps one row per token (a trailing axis of 1 is
// replaced); multi_hot and count reduce over the last axis of a rank-2 input (rank 1: one token
// per sample).
ValueId encode(LayerContext& ctx, ValueId x, int64_t num_tokens, const std::string& mode) {
  if (num_tokens <= 0) ctx.error(str_cat("'num_tokens' must be positive, found ", num_tokens));
  Shape in = ctx.graph().values[x].shape;
  if (in.size() == 1) {
    x = ctx.emit(OpKind::reshape, ReshapeParams{{1}, false}, {x}, {}, "expand");
    in = ctx.graph().values[x].shape;
  }
  std::vector<float> tokens(num_tokens);
  for (int64_t i = 0; i < num_tokens; ++i) tokens[i] = static_cast<float>(i);
  if (mode == "one_hot") {
    const ValueId hot = compare_with_each(ctx, x, BinaryKind::equal, tokens, "one_hot");
    if (in.back() != 1) return hot;
    Shape target(in.begin() + 1, in.end() - 1);
    target.push_back(num_tokens);
    return ctx.emit(OpKind::reshape, ReshapeParams{target, false}, {hot}, {}, "squeeze");
  }
  if (mode != "multi_hot" && mode != "count")
    ctx.error(str_cat("output_mode '", mode, "' is not supported"), ErrorCode::unsupported);
  if (in.size() != 2)
    ctx.error(
        str_cat("multi_hot and count need an input of rank 1 or 2, got ", shape_to_string(in)),
        ErrorCode::unsupported);
  const ValueId hot = compare_with_each(ctx, x, BinaryKind::equal, tokens, "one_hot");
  const ReduceKind kind = mode == "count" ? ReduceKind::sum : ReduceKind::max;
  return ctx.emit(OpKind::reduce, ReduceParams{kind, {1}, false}, {hot});
}

std::vector<ValueId> import_category_encoding(LayerContext& ctx) {
  ctx.expect_inputs(1);
  if (ctx.config().get_bool("sparse", false))
    ctx.error("sparse outputs are not supported", ErrorCode::unsupported);
  if (!ctx.kwarg_values("count_weights").empty())
    ctx.error("count_weights are not supported", ErrorCode::unsupported);
  return {encode(ctx, ctx.input(), ctx.config().get_int("num_tokens"),
                 ctx.config().get_string("output_mode", "multi_hot"))};
}

std::vector<ValueId> import_discretization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const io::Json* b = ctx.config().find("bin_boundaries");
  if (!b || !b->is_array())
    ctx.error(
        "'bin_boundaries' is missing: kerasrt needs them in the config (an adapt()ed layer stores "
        "them there)");
  std::vector<float> bounds;
  for (const io::Json& v : b->items()) {
    if (!v.is_number()) ctx.error(str_cat("bin boundary ", v.dump(), " is not a number"));
    bounds.push_back(static_cast<float>(v.as_number()));
  }
  for (size_t i = 1; i < bounds.size(); ++i)
    if (bounds[i] < bounds[i - 1]) ctx.error("'bin_boundaries' must be sorted");
  ValueId bucket;
  if (bounds.empty()) {
    bucket = ctx.emit(OpKind::binary, BinaryParams{BinaryKind::multiply, 2u}, {ctx.input()},
                      {row({0.f})}, "zero");
  } else {
    const ValueId ge = compare_with_each(ctx, ctx.input(), BinaryKind::greater_equal, bounds, "ge");
    const int64_t last = static_cast<int64_t>(ctx.graph().values[ge].shape.size()) - 1;
    bucket =
        ctx.emit(OpKind::reduce, ReduceParams{ReduceKind::sum, {last}, false}, {ge}, {}, "bucket");
  }
  const std::string mode = ctx.config().get_string("output_mode", "int");
  if (mode == "int") return {bucket};
  if (ctx.config().get_bool("sparse", false))
    ctx.error("sparse outputs are not supported", ErrorCode::unsupported);
  return {encode(ctx, bucket, static_cast<int64_t>(bounds.size()) + 1, mode)};
}

}  // namespace

void register_categorical_layers(LayerRegistry& r) {
  r.add("CategoryEncoding", import_category_encoding,
        "one_hot, multi_hot, count; tokens outside [0, num_tokens) give zeros");
  r.add("Discretization", import_discretization,
        "bin_boundaries (given or adapted); output_mode int, one_hot, multi_hot, count");
}

}  // namespace krt::keras
