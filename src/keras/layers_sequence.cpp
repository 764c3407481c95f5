// Sequence helpers: Embedding, Masking, RepeatVector, TimeDistributed
// (the operations Keras 3 writes into Functional configs to compute masks, NotEqual and Any, are
// op nodes: ops_math.cpp).
#include <algorithm>

#include "core/check.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

std::vector<ValueId> import_embedding(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const LayerConfig& c = ctx.config();
  const int64_t rows = c.get_int("input_dim");
  const int64_t dim = c.get_int("output_dim");
  if (rows <= 0 || dim <= 0) ctx.error("'input_dim' and 'output_dim' must be positive");
  if (rows > (int64_t{1} << 24))
    ctx.error("more than 2^24 rows: ids travel as float32 and would lose precision",
              ErrorCode::unsupported);
  Tensor table = ctx.weight(0, "embeddings", {rows, dim});
  ValueId y = ctx.emit(OpKind::embedding, EmbeddingParams{}, {ctx.input()}, {table});
  // Embedding.compute_mask: ids != 0. Keras 3 Functional configs record it as a NotEqual node;
  // elsewhere it travels implicitly to the next layers.
  if (c.get_bool("mask_zero", false))
    ctx.set_output_mask(0, ctx.emit(OpKind::compare, CompareParams{CompareKind::not_equal, 0.f},
                                    {ctx.input()}, {}, "mask"));
  return {y};
}

std::vector<ValueId> import_masking(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape in = ctx.input_shape();  // a copy: emitting nodes may move the graph's values
  if (in.size() < 2)
    ctx.error(str_cat("expects an input of rank 2 or more, got ", shape_to_string(in)));
  const float value = static_cast<float>(ctx.config().get_float("mask_value", 0.0));
  // Keras: keep = any(x != mask_value, axis=-1); y = x * keep.
  ValueId ne = ctx.emit(OpKind::compare, CompareParams{CompareKind::not_equal, value},
                        {ctx.input()}, {}, "not_equal");
  const int64_t last = static_cast<int64_t>(in.size()) - 1;
  ValueId keep =
      ctx.emit(OpKind::reduce, ReduceParams{ReduceKind::any, {last}, true}, {ne}, {}, "any");
  ValueId y = ctx.emit(OpKind::elementwise, ElementwiseParams{ElementwiseKind::multiply},
                       {ctx.input(), keep});
  // The same mask without the trailing 1, for layers that read it implicitly.
  Shape tail(in.begin() + 1, in.end() - 1);
  ctx.set_output_mask(0, ctx.emit(OpKind::reshape, ReshapeParams{tail}, {keep}, {}, "mask"));
  return {y};
}

std::vector<ValueId> import_repeat_vector(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape in = ctx.input_shape();  // a copy: emitting nodes may move the graph's values
  if (in.size() != 2)
    ctx.error(str_cat("expects an input of shape (batch, features), got ", shape_to_string(in)));
  const int64_t n = ctx.config().get_int("n");
  if (n <= 0) ctx.error(str_cat("'n' must be positive, found ", n));
  // (batch, f) -> (batch, 1, f) is a view; repeating the middle axis is a nearest upsample.
  ValueId x = ctx.emit(OpKind::reshape, ReshapeParams{{1, in[1]}}, {ctx.input()}, {}, "expand");
  return {ctx.emit(OpKind::upsample, UpsampleParams{{n}}, {x})};
}

// Layers whose result does not depend on how many leading axes the input has: TimeDistributed
// can apply them to (batch, time, ...) directly when the time axis has no fixed size.
bool acts_on_last_axis(std::string_view cls) {
  static const char* const names[] = {
      "Dense", "Activation", "Dropout", "GaussianNoise",   "GaussianDropout",       "AlphaDropout",
      "ReLU",  "LeakyReLU",  "ELU",     "ThresholdedReLU", "ActivityRegularization"};
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return cls == n; });
}

std::vector<ValueId> import_time_distributed(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape in = ctx.input_shape();  // a copy: emitting nodes may move the graph's values
  if (in.size() < 3)
    ctx.error(str_cat("expects an input of rank 3 or more (batch, time, ...), got ",
                      shape_to_string(in)));
  const io::Json* layer = ctx.config().find("layer");
  const io::Json* cls = layer ? layer->find("class_name") : nullptr;
  const io::Json* config = layer ? layer->find("config") : nullptr;
  if (!cls || !cls->is_string() || !config || !config->is_object())
    ctx.error("config has no wrapped 'layer' with a class_name and config");
  const std::string class_name = cls->as_string();
  const LayerImporter* importer = layer_registry().find(class_name);
  if (!importer || class_name == "TimeDistributed" || class_name == "Bidirectional")
    ctx.error(str_cat("wrapping a ", class_name, " is not supported"), ErrorCode::unsupported);
  const io::Json* n = config->find("name");
  const std::string inner_name = n && n->is_string() ? n->as_string() : class_name;
  // .keras: the `layer` attribute; legacy .h5: "td/dense/kernel", or Keras 2's "td/kernel:0".
  std::unique_ptr<WeightScope> scope = ctx.weights().sub_layer("layer", inner_name);
  if (scope->total_elements() == 0 && ctx.weights().total_elements() > 0)
    scope = ctx.weights().attribute("layer");
  // A mask reaches the wrapped layer only if it reads one (Keras passes it along); the
  // supported wrapped layers do not, and the output keeps the input's mask.
  std::optional<ValueId> mask = ctx.input_mask();

  bool fixed = true;
  for (size_t i = 1; i < in.size(); ++i) fixed = fixed && in[i] >= 0;
  std::vector<ValueId> y;
  if (fixed) {
    // Fold time into the batch, run the layer, unfold: both reshapes are views.
    Shape folded{-1};
    folded.insert(folded.end(), in.begin() + 2, in.end());
    ValueId x = ctx.emit(OpKind::reshape, ReshapeParams{folded, true}, {ctx.input()}, {}, "fold");
    LayerContext inner(ctx.graph(), ctx.file(), *config, ctx.name() + "/" + inner_name, class_name,
                       {x}, *scope, nullptr);
    y = importer->import(inner);
    if (y.size() != 1)
      ctx.error(str_cat("the wrapped ", class_name, " must have one output"),
                ErrorCode::unsupported);
    const Shape out = ctx.graph().values[y[0]].shape;
    Shape unfolded{-1, in[1]};
    unfolded.insert(unfolded.end(), out.begin() + 1, out.end());
    y[0] = ctx.emit(OpKind::reshape, ReshapeParams{unfolded, true}, {y[0]}, {}, "unfold");
  } else if (acts_on_last_axis(class_name)) {
    LayerContext inner(ctx.graph(), ctx.file(), *config, ctx.name() + "/" + inner_name, class_name,
                       {ctx.input()}, *scope, nullptr);
    y = importer->import(inner);
    if (y.size() != 1)
      ctx.error(str_cat("the wrapped ", class_name, " must have one output"),
                ErrorCode::unsupported);
  } else {
    ctx.error(
        str_cat("wrapping a ", class_name,
                " needs a fixed number of time steps and sizes, got input ", shape_to_string(in)),
        ErrorCode::unsupported);
  }
  if (mask) ctx.set_output_mask(0, *mask);
  return y;
}

}  // namespace

void register_sequence_layers(LayerRegistry& r) {
  r.add("Embedding", import_embedding,
        "any id rank; mask_zero; ids outside [0, input_dim) fail at run time");
  r.add("Masking", import_masking, "mask_value; the mask reaches the next RNN");
  r.add("RepeatVector", import_repeat_vector, "");
  r.add("TimeDistributed", import_time_distributed,
        "any single-output layer (time folded into the batch by views); variable time steps for "
        "Dense and activations");
}

}  // namespace krt::keras
