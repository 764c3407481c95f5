// Attention layers: Attention (Luong), AdditiveAttention (Bahdanau) and MultiHeadAttention,
// built from einsum, additive_score and masked_softmax nodes. Dropout is an inference no-op.
#include <cmath>

#include "core/check.h"
#include "keras/einsum_dense.h"
#include "keras/layer_importer.h"

namespace krt::keras {

namespace {

bool kwarg_bool(const LayerContext& ctx, const char* name) {
  const io::Json* kw = ctx.call_kwargs();
  const io::Json* v = kw && kw->kind() == io::Json::Kind::object ? kw->find(name) : nullptr;
  if (!v || v->is_null()) return false;
  if (v->kind() != io::Json::Kind::boolean)
    ctx.error(str_cat("call argument '", name, "' should be a boolean, found ", v->dump()));
  return v->as_bool();
}

bool is_tensor_json(const io::Json& j) {
  if (j.kind() != io::Json::Kind::object) return false;
  const io::Json* c = j.find("class_name");
  return c && c->kind() == io::Json::Kind::string && c->as_string() == "__keras_tensor__";
}

// Reshapes `v` to `shape` (batch axis first, kept); at most one other unknown dimension.
ValueId reshape_to(LayerContext& ctx, ValueId v, const Shape& shape, const std::string& suffix) {
  ReshapeParams p;
  int unknown = 0;
  for (size_t i = 1; i < shape.size(); ++i) {
    p.target.push_back(shape[i] < 0 ? -1 : shape[i]);
    unknown += shape[i] < 0;
  }
  if (unknown > 1)
    ctx.error("masks with several unknown dimensions are not supported", ErrorCode::unsupported);
  return ctx.emit(OpKind::reshape, p, {v}, {}, suffix);
}

// Inserts a 1 into v's shape as ops.expand_dims(v, axis) does (axis counted on the result).
ValueId expand_dims(LayerContext& ctx, ValueId v, int64_t axis, const std::string& suffix) {
  Shape s = ctx.graph().values[v].shape;
  const int64_t r = static_cast<int64_t>(s.size()) + 1;
  if (axis < 0) axis += r;
  if (axis <= 0 || axis >= r)
    ctx.error("cannot expand a mask over its batch axis", ErrorCode::unsupported);
  s.insert(s.begin() + axis, 1);
  return reshape_to(ctx, v, s, suffix);
}

ValueId multiply(LayerContext& ctx, ValueId a, ValueId b, const std::string& suffix) {
  return ctx.emit(OpKind::elementwise, ElementwiseParams{ElementwiseKind::multiply}, {a, b}, {},
                  suffix);
}

// A scalar variable (Attention's scale and concat_score_weight).
float scalar_weight(const LayerContext& ctx, int index, const char* name) {
  std::optional<Tensor> w = ctx.weights().find(index, name);
  if (!w)
    ctx.error(
        str_cat("weight '", name, "' (variable ", index, ") is missing from the weights file"));
  if (w->size() != 1)
    ctx.error(str_cat(name, " has shape ", shape_to_string(w->shape()), ", expected a scalar"));
  return w->cast(DType::f32).data_as<float>()[0];
}

// Attention on 2-D inputs (batch, features): Keras computes matmul(query, key^T), so every
// sample attends over the whole batch (real Keras 2 files do this). Only the plain dot form.
std::vector<ValueId> import_attention_2d(LayerContext& ctx, ValueId q, ValueId v, ValueId k) {
  const LayerConfig& c = ctx.config();
  if (c.get_string("score_mode", "dot") != "dot" || kwarg_bool(ctx, "use_causal_mask") ||
      c.get_bool("causal", false) || kwarg_bool(ctx, "return_attention_scores") ||
      (ctx.call_kwargs() && ctx.call_kwargs()->find("mask")))
    ctx.error(
        "on 2-D inputs only score_mode 'dot' without masks, causal masking or returned scores is "
        "supported",
        ErrorCode::unsupported);
  EinsumParams sp;
  sp.operands = {"bd", "cd"};
  sp.output = "bc";
  sp.scale = c.get_bool("use_scale", false) ? scalar_weight(ctx, 0, "scale") : 1.f;
  const ValueId scores = ctx.emit(OpKind::einsum, sp, {q, k}, {}, "scores");
  MaskedSoftmaxParams mp;
  mp.axes = {1};
  const ValueId weights = ctx.emit(OpKind::masked_softmax, mp, {scores}, {}, "weights");
  EinsumParams cp;
  cp.operands = {"bc", "cd"};
  cp.output = "bd";
  return {ctx.emit(OpKind::einsum, cp, {weights, v}, {}, "")};
}

// Attention and AdditiveAttention: [query, value(, key)], masks [query_mask, value_mask].
std::vector<ValueId> import_dot_or_additive(LayerContext& ctx, bool additive) {
  const size_t n = ctx.inputs().size();
  if (n < 2 || n > 3)
    ctx.error(str_cat("expects [query, value] or [query, value, key], got ", n, " inputs"));
  const ValueId q = ctx.input(0), v = ctx.input(1), k = n > 2 ? ctx.input(2) : v;
  bool all_2d = true;
  for (size_t i = 0; i < n; ++i) all_2d = all_2d && ctx.input_shape(i).size() == 2;
  if (all_2d && !additive) return import_attention_2d(ctx, q, v, k);
  for (size_t i = 0; i < n; ++i)
    if (ctx.input_shape(i).size() != 3)
      ctx.error(str_cat("input ", i, " has shape ", shape_to_string(ctx.input_shape(i)),
                        ", expected (batch, steps, features)"));
  const LayerConfig& c = ctx.config();
  const bool use_scale = c.get_bool("use_scale", additive);
  const bool causal =
      kwarg_bool(ctx, "use_causal_mask") || c.get_bool("causal", false);  // Keras 2 had `causal`
  const bool return_scores = kwarg_bool(ctx, "return_attention_scores");

  // Explicit masks (Keras 3 records mask=[query_mask, value_mask(, key_mask)] as a kwarg).
  std::optional<ValueId> q_mask, v_mask;
  const io::Json* kw = ctx.call_kwargs();
  const io::Json* mj = kw && kw->kind() == io::Json::Kind::object ? kw->find("mask") : nullptr;
  if (mj && mj->kind() == io::Json::Kind::array) {
    const std::vector<ValueId> masks = ctx.kwarg_values("mask");
    size_t used = 0;
    for (size_t i = 0; i < mj->size(); ++i) {
      if (!is_tensor_json((*mj)[i])) continue;
      if (used >= masks.size())
        ctx.error("the mask tensors are not available", ErrorCode::unsupported);
      if (i == 0) q_mask = masks[used];
      if (i == 1) v_mask = masks[used];
      ++used;
    }
  } else if (mj && !mj->is_null()) {
    ctx.error("'mask' should be a list [query_mask, value_mask]");
  }

  ValueId scores;
  if (additive) {
    AdditiveScoreParams p;
    std::vector<Tensor> w;
    if (use_scale) {
      p.has_weight = true;
      w.push_back(ctx.weight(0, "scale", {ctx.input_shape(0).back()}));
    }
    scores = ctx.emit(OpKind::additive_score, p, {q, k}, std::move(w), "scores");
  } else {
    const std::string mode = c.get_string("score_mode", "dot");
    const float scale = use_scale ? scalar_weight(ctx, 0, "scale") : 1.f;
    if (mode == "dot") {
      EinsumParams p;
      p.operands = {"abd", "acd"};
      p.output = "abc";
      p.scale = scale;
      scores = ctx.emit(OpKind::einsum, p, {q, k}, {}, "scores");
    } else if (mode == "concat") {
      AdditiveScoreParams p;
      p.inner_scale = scale;
      p.outer_scale = scalar_weight(ctx, use_scale ? 1 : 0, "concat_score_weight");
      scores = ctx.emit(OpKind::additive_score, p, {q, k}, {}, "scores");
    } else {
      ctx.error(str_cat("score_mode '", mode, "' is not one of 'dot', 'concat'"));
    }
  }
  MaskedSoftmaxParams sp;
  sp.axes = {2};
  sp.causal = causal;
  std::vector<ValueId> sm_inputs{scores};
  if (v_mask) sm_inputs.push_back(expand_dims(ctx, *v_mask, -2, "value_mask"));
  const ValueId weights = ctx.emit(OpKind::masked_softmax, sp, sm_inputs, {}, "weights");
  EinsumParams cp;
  cp.operands = {"abc", "acd"};
  cp.output = "abd";
  ValueId result = ctx.emit(OpKind::einsum, cp, {weights, v}, {}, q_mask ? "context" : "");
  if (q_mask) {
    result = multiply(ctx, result, expand_dims(ctx, *q_mask, -1, "query_mask"), "");
    ctx.set_output_mask(0, *q_mask);
  }
  if (return_scores) return {result, weights};
  return {result};
}

std::vector<ValueId> import_attention(LayerContext& ctx) {
  return import_dot_or_additive(ctx, false);
}
std::vector<ValueId> import_additive_attention(LayerContext& ctx) {
  return import_dot_or_additive(ctx, true);
}

std::string letters(size_t from, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += static_cast<char>('a' + from + i);
  return s;
}

// multi_head_attention._build_proj_equation: "<free><bound>,<bound><out>-><free><out>", bias <out>.
std::pair<std::string, std::string> proj_equation(size_t free_dims, size_t bound_dims,
                                                  size_t output_dims) {
  const std::string f = letters(0, free_dims), b = letters(free_dims, bound_dims),
                    o = letters(free_dims + bound_dims, output_dims);
  return {f + b + "," + b + o + "->" + f + o, o};
}

std::optional<ValueId> single_kwarg(const LayerContext& ctx, const char* name) {
  std::vector<ValueId> v = ctx.kwarg_values(name);
  if (v.size() > 1) ctx.error(str_cat("'", name, "' should be one tensor"));
  if (!v.empty()) return v[0];
  // A tensor the config names but the builder did not hand over must not be dropped silently.
  const io::Json* kw = ctx.call_kwargs();
  const io::Json* j = kw && kw->kind() == io::Json::Kind::object ? kw->find(name) : nullptr;
  if (j && is_tensor_json(*j))
    ctx.error(str_cat("the '", name, "' tensor argument is not available"), ErrorCode::unsupported);
  return std::nullopt;
}

// The first positional input, or the keyword argument of that name.
std::optional<ValueId> mha_input(const LayerContext& ctx, size_t position, const char* name) {
  if (ctx.inputs().size() > position) return ctx.inputs()[position];
  return single_kwarg(ctx, name);
}

std::vector<ValueId> import_multi_head_attention(LayerContext& ctx) {
  const LayerConfig& c = ctx.config();
  if (c.get_bool("use_gate", false))
    ctx.error("use_gate=True is not supported", ErrorCode::unsupported);
  if (c.has("sliding_window")) ctx.error("sliding_window is not supported", ErrorCode::unsupported);
  const int64_t heads = c.get_int("num_heads");
  const int64_t key_dim = c.get_int("key_dim");
  const int64_t value_dim =
      c.has("value_dim") && c.get_int("value_dim") > 0 ? c.get_int("value_dim") : key_dim;
  if (heads <= 0 || key_dim <= 0 || value_dim <= 0)
    ctx.error("num_heads, key_dim and value_dim must be positive");
  const bool use_bias = c.get_bool("use_bias", true);

  const std::optional<ValueId> query = mha_input(ctx, 0, "query");
  const std::optional<ValueId> value = mha_input(ctx, 1, "value");
  // Keras 2 configs pass `value=` in the node's kwargs; the builder reads its tensors too.
  if (!query || !value) ctx.error("expects query and value inputs", ErrorCode::unsupported);
  const ValueId key = mha_input(ctx, 2, "key").value_or(*value);
  const Shape qs = ctx.graph().values[*query].shape;
  const Shape vs = ctx.graph().values[*value].shape;
  const Shape ks = ctx.graph().values[key].shape;
  if (qs.size() < 3)
    ctx.error(str_cat("query has shape ", shape_to_string(qs), ", expected rank >= 3"));
  if (vs.size() != qs.size() || ks.size() != qs.size())
    ctx.error(str_cat("query, value and key of different ranks (", shape_to_string(qs), ", ",
                      shape_to_string(vs), ", ", shape_to_string(ks), ") are not supported"),
              ErrorCode::unsupported);
  for (size_t i = 1; i + 1 < vs.size(); ++i)
    if (vs[i] >= 0 && ks[i] >= 0 && vs[i] != ks[i])
      ctx.error(str_cat("value ", shape_to_string(vs), " and key ", shape_to_string(ks),
                        " differ on axes other than the last"));

  std::vector<int64_t> out_shape;
  if (const io::Json* os = c.find("output_shape"); os && !os->is_null())
    out_shape = os->kind() == io::Json::Kind::array
                    ? c.get_int_list("output_shape")
                    : std::vector<int64_t>{c.get_int("output_shape")};
  if (out_shape.empty()) out_shape = {qs.back()};

  const bool return_scores = kwarg_bool(ctx, "return_attention_scores");
  const bool causal = kwarg_bool(ctx, "use_causal_mask");
  const size_t rank = qs.size() + 1;  // of the projected query/key/value
  std::vector<int64_t> attn_axes;
  if (const io::Json* a = c.find("attention_axes"); a && !a->is_null()) {
    attn_axes = a->kind() == io::Json::Kind::array
                    ? c.get_int_list("attention_axes")
                    : std::vector<int64_t>{c.get_int("attention_axes")};
    for (int64_t& x : attn_axes) {
      if (x < 0) x += static_cast<int64_t>(rank) - 1;
      if (x < 1 || x >= static_cast<int64_t>(rank) - 2)
        ctx.error(str_cat("attention axis ", x, " is out of range"));
    }
  } else {
    for (size_t i = 1; i + 2 < rank; ++i) attn_axes.push_back(static_cast<int64_t>(i));
  }
  // Keras takes ops.dot_product_attention for 3-D inputs without returned scores: attention
  // over axis 1, and masked logits replaced by a large negative (a fully masked row averages).
  const bool fused = !return_scores && qs.size() == 3;
  if (fused) attn_axes = {1};

  // Projections: EinsumDense sublayers "query", "key", "value" and "attention_output".
  Activation linear;
  auto project = [&](ValueId x, const char* attr, const char* name, size_t bound, size_t outs) {
    auto [eq, bias] = proj_equation(ctx.graph().values[x].shape.size() - bound, bound, outs);
    std::unique_ptr<WeightScope> scope = ctx.weights().sub_layer(attr, name);
    return emit_einsum_dense(ctx, *scope, eq, use_bias ? &bias : nullptr, x, linear, name);
  };
  const ValueId qp = project(*query, "query_dense", "query", 1, 2);
  const ValueId kp = project(key, "key_dense", "key", 1, 2);
  const ValueId vp = project(*value, "value_dense", "value", 1, 2);
  for (auto [v, d, what] :
       {std::tuple{qp, key_dim, "query"}, {kp, key_dim, "key"}, {vp, value_dim, "value"}}) {
    const Shape& s = ctx.graph().values[v].shape;
    if (s[s.size() - 2] != heads || s.back() != d)
      ctx.error(str_cat(what, " projection gives ", shape_to_string(s), ", expected (..., ", heads,
                        ", ", d, ")"));
  }

  // _build_attention_equation: scores = einsum(key, query), context = einsum(scores, value).
  std::string target = letters(0, rank), source;
  size_t next = rank;
  auto is_attn = [&](size_t i) {
    return std::find(attn_axes.begin(), attn_axes.end(), static_cast<int64_t>(i)) !=
           attn_axes.end();
  };
  for (size_t i = 0; i < rank; ++i)
    source += is_attn(i) ? static_cast<char>('a' + next++) : target[i];
  std::string product;
  for (size_t i = 0; i < rank; ++i)
    if (!is_attn(i) && i != rank - 1) product += target[i];
  for (int64_t a : attn_axes) product += target[a];
  for (int64_t a : attn_axes) product += source[a];
  EinsumParams dp;
  dp.operands = {source, target};
  dp.output = product;
  dp.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(key_dim)));
  const ValueId scores = ctx.emit(OpKind::einsum, dp, {kp, qp}, {}, "scores");
  const size_t scores_rank = product.size();

  // The attention mask: attention_mask & query/value/key masks & causal (_compute_attention_mask).
  std::optional<ValueId> mask = single_kwarg(ctx, "attention_mask");
  const std::optional<ValueId> q_mask = single_kwarg(ctx, "query_mask");
  std::optional<ValueId> auto_mask;
  auto merge = [&](std::optional<ValueId>& into, ValueId m, const std::string& suffix) {
    into = into ? multiply(ctx, *into, m, suffix) : m;
  };
  if ((q_mask || single_kwarg(ctx, "value_mask") || single_kwarg(ctx, "key_mask") || causal) &&
      attn_axes.size() != 1)
    ctx.error(
        "query/value/key masks and use_causal_mask with several attention axes are not supported",
        ErrorCode::unsupported);
  if (q_mask) merge(auto_mask, expand_dims(ctx, *q_mask, -1, "query_mask"), "auto_mask");
  if (auto m = single_kwarg(ctx, "value_mask"))
    merge(auto_mask, expand_dims(ctx, *m, -2, "value_mask"), "auto_mask_v");
  if (auto m = single_kwarg(ctx, "key_mask"))
    merge(auto_mask, expand_dims(ctx, *m, -2, "key_mask"), "auto_mask_k");
  if (auto_mask) merge(mask, *auto_mask, "mask");
  MaskedSoftmaxParams sp;
  for (size_t i = scores_rank - attn_axes.size(); i < scores_rank; ++i)
    sp.axes.push_back(static_cast<int64_t>(i));
  sp.causal = causal;
  sp.fill = fused ? MaskFill::replace_large_negative : MaskFill::add_large_negative;
  sp.zero_masked = !fused;  // the Softmax layer multiplies by the mask
  std::vector<ValueId> sm_inputs{scores};
  if (mask) {
    ValueId m = *mask;
    const int64_t axis = -static_cast<int64_t>(attn_axes.size()) * 2 - 1;
    for (size_t r = ctx.graph().values[m].shape.size(); r < scores_rank; ++r)
      m = expand_dims(ctx, m, axis, "mask_" + std::to_string(r));
    sm_inputs.push_back(m);
  }
  const ValueId probs = ctx.emit(OpKind::masked_softmax, sp, sm_inputs, {}, "softmax");
  EinsumParams cp;
  cp.operands = {product, source};
  cp.output = target;
  const ValueId context = ctx.emit(OpKind::einsum, cp, {probs, vp}, {}, "context");
  const ValueId out = project(context, "output_dense", "attention_output", 2, out_shape.size());
  if (q_mask) ctx.set_output_mask(0, *q_mask);
  if (return_scores) return {out, probs};
  return {out};
}

// keras.layers.GroupQueryAttention (grouped_query_attention.py): num_query_heads query heads
// share num_key_value_heads key/value heads, query head u reading kv head u / R (ops.repeat of
// the key and value, R = query heads per kv head). Instead of repeating, the projected query
// (b, q, U, h) is viewed as (b, q, V, R, h) and the einsums broadcast the kv heads over R.
std::vector<ValueId> import_group_query_attention(LayerContext& ctx) {
  const LayerConfig& c = ctx.config();
  if (c.get_bool("use_gate", false))
    ctx.error("use_gate=True is not supported", ErrorCode::unsupported);
  if (c.has("sliding_window")) ctx.error("sliding_window is not supported", ErrorCode::unsupported);
  const int64_t head_dim = c.get_int("head_dim"), q_heads = c.get_int("num_query_heads"),
                kv_heads = c.get_int("num_key_value_heads");
  if (head_dim <= 0 || q_heads <= 0 || kv_heads <= 0 || q_heads % kv_heads != 0)
    ctx.error(str_cat("num_query_heads (", q_heads,
                      ") must be a positive multiple of num_key_value_heads (", kv_heads, ")"));
  const int64_t reps = q_heads / kv_heads;
  const bool use_bias = c.get_bool("use_bias", true);
  const std::optional<ValueId> query = mha_input(ctx, 0, "query");
  const std::optional<ValueId> value = mha_input(ctx, 1, "value");
  if (!query || !value) ctx.error("expects query and value inputs");
  const ValueId key = mha_input(ctx, 2, "key").value_or(*value);
  for (ValueId v : {*query, *value, key})
    if (ctx.graph().values[v].shape.size() != 3)
      ctx.error(str_cat("inputs must have shape (batch, sequence, features), got ",
                        shape_to_string(ctx.graph().values[v].shape)));
  if (single_kwarg(ctx, "attention_mask") || single_kwarg(ctx, "query_mask") ||
      single_kwarg(ctx, "value_mask") || single_kwarg(ctx, "key_mask"))
    ctx.error("masks are not supported for GroupQueryAttention", ErrorCode::unsupported);
  const bool causal = kwarg_bool(ctx, "use_causal_mask");
  const bool return_scores = kwarg_bool(ctx, "return_attention_scores");
  Activation linear;
  const std::string uh = "uh", vh = "vh", m = "m";
  auto project = [&](ValueId x, const char* attr, const char* name, const char* eq,
                     const std::string& bias) {
    std::unique_ptr<WeightScope> scope = ctx.weights().sub_layer(attr, name);
    return emit_einsum_dense(ctx, *scope, eq, use_bias ? &bias : nullptr, x, linear, name);
  };
  const ValueId qp = project(*query, "_query_dense", "query", "bqm,muh->bquh", uh);
  const ValueId kp = project(key, "_key_dense", "key", "bkm,mvh->bkvh", vh);
  const ValueId vp = project(*value, "_value_dense", "value", "bkm,mvh->bkvh", vh);
  if (ctx.graph().values[qp].shape[2] != q_heads || ctx.graph().values[kp].shape[2] != kv_heads ||
      ctx.graph().values[vp].shape[2] != kv_heads)
    ctx.error("the projection kernels do not match num_query_heads / num_key_value_heads");
  const ValueId qg = ctx.emit(OpKind::reshape, ReshapeParams{{-1, kv_heads, reps, head_dim}, false},
                              {qp}, {}, "group");
  EinsumParams sp;
  sp.operands = {"bqvrh", "bkvh"};
  sp.output = "bvrqk";
  sp.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const ValueId scores = ctx.emit(OpKind::einsum, sp, {qg, kp}, {}, "scores");
  MaskedSoftmaxParams mp;
  mp.axes = {4};
  mp.causal = causal;
  const ValueId probs = ctx.emit(OpKind::masked_softmax, mp, {scores}, {}, "softmax");
  EinsumParams cp;
  cp.operands = {"bvrqk", "bkvh"};
  cp.output = "bqvrh";
  const ValueId context = ctx.emit(OpKind::einsum, cp, {probs, vp}, {}, "context");
  const ValueId heads = ctx.emit(OpKind::reshape, ReshapeParams{{-1, q_heads, head_dim}, false},
                                 {context}, {}, "heads");
  const ValueId out = project(heads, "_output_dense", "attention_output", "bquh,uhm->bqm", m);
  if (!return_scores) return {out};
  const Shape ps = ctx.graph().values[probs].shape;
  return {out, ctx.emit(OpKind::reshape, ReshapeParams{{q_heads, ps[3], ps[4]}, false}, {probs}, {},
                        "scores_out")};
}

}  // namespace

void register_attention_layers(LayerRegistry& r) {
  r.add("Attention", import_attention,
        "[query, value(, key)], rank 3; use_scale, score_mode dot/concat, use_causal_mask (or "
        "Keras 2 causal), "
        "return_attention_scores, mask=[query_mask, value_mask]; dropout is an inference no-op");
  r.add("AdditiveAttention", import_additive_attention,
        "[query, value(, key)], rank 3; use_scale, use_causal_mask, return_attention_scores, "
        "mask=[query_mask, value_mask]");
  r.add("GroupQueryAttention", import_group_query_attention,
        "query, value, key; use_bias, use_causal_mask, return_attention_scores; no masks, use_gate "
        "or sliding_window");
  r.alias("GroupedQueryAttention",
          "GroupQueryAttention");  // the class name legacy .h5 configs keep
  r.add("MultiHeadAttention", import_multi_head_attention,
        "self and cross attention, key optional, value_dim, use_bias, output_shape, attention_axes "
        "(any rank), "
        "attention_mask input, query/value/key masks, use_causal_mask, return_attention_scores; "
        "use_gate and sliding_window are not supported");
}

}  // namespace krt::keras
