// Recorded shape and indexing operations: reshape, transpose, expand_dims, squeeze,
// concatenate, stack, split, unstack, slicing (x[...]), take/gather, matmul, einsum and
// image resize. Keras 3 and TF write axes that include the batch axis; reshapes keep the batch
// dynamic where they leave it in place.
#include <algorithm>
#include <set>

#include "core/check.h"
#include "keras/op_importers.h"

namespace krt::keras {

namespace {

using Outputs = std::vector<ValueId>;

const Shape& shape_of(OpCall& c, ValueId v) { return c.ctx().graph().values[v].shape; }
int64_t rank_of(OpCall& c, ValueId v) { return static_cast<int64_t>(shape_of(c, v).size()); }

int64_t shape_elements_or_dynamic(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return dynamic;
    n *= d;
  }
  return n;
}

// One entry of a shape computed from tensor shapes (tf.reshape(x, [tf.shape(x)[0], -1, 8])):
// a number known at load, or dimension `axis` of value `of`, known only at run time.
struct TracedDim {
  int64_t known = -1;
  ValueId of = -1;
  int64_t axis = 0;
};

// The entries of a 1-D (or scalar) value computed from shapes alone: shape_of, then views,
// slices and concatenations of it. nullopt when the value depends on data.
std::optional<std::vector<TracedDim>> trace_shape_values(const Graph& g, ValueId v, int depth) {
  const int producer = g.values[v].producer;
  if (depth > 32 || producer < 0) return std::nullopt;
  const Node& n = g.nodes[producer];
  switch (n.kind) {
    case OpKind::shape_of: {
      std::vector<TracedDim> out;
      const Shape& s = g.values[n.inputs[0]].shape;
      for (size_t a = 0; a < s.size(); ++a)
        out.push_back(s[a] >= 0 ? TracedDim{s[a], -1, 0} : TracedDim{-1, n.inputs[0], int64_t(a)});
      return out;
    }
    case OpKind::reshape:
    case OpKind::identity:
      return trace_shape_values(g, n.inputs[0], depth + 1);
    case OpKind::strided_slice: {
      std::optional<std::vector<TracedDim>> in = trace_shape_values(g, n.inputs[0], depth + 1);
      const auto& p = n.get<StridedSliceParams>();
      if (!in || g.values[n.inputs[0]].shape.size() != 1) return std::nullopt;
      if (p.axes.empty()) return in;
      const ResolvedSlice r = resolve_slice(p.axes[0], static_cast<int64_t>(in->size()));
      std::vector<TracedDim> out;
      for (int64_t i = 0; i < r.length; ++i) out.push_back((*in)[r.start + i * r.step]);
      return out;
    }
    case OpKind::concat: {
      std::vector<TracedDim> out;
      for (ValueId part : n.inputs) {
        std::optional<std::vector<TracedDim>> t = trace_shape_values(g, part, depth + 1);
        if (!t) return std::nullopt;
        out.insert(out.end(), t->begin(), t->end());
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

// A reshape target: numbers written in the file, or (tf.keras) a list mixing numbers and
// tensors computed from shapes, or one such tensor.
std::vector<TracedDim> reshape_target(OpCall& c, const char* name) {
  const OpArg* a = c.find(name);
  if (!a || a->is_none()) c.error(str_cat("argument '", name, "' is missing"));
  if (a->kind == OpArg::Kind::literal) {
    std::vector<TracedDim> out;
    const std::vector<int64_t> dims = c.int_list(name).value_or(std::vector<int64_t>{});
    for (int64_t d : dims) out.push_back({d, -1, 0});
    return out;
  }
  std::vector<TracedDim> out;
  const std::vector<OpArg> single{*a};
  const std::vector<OpArg>& items = a->kind == OpArg::Kind::list ? a->items : single;
  for (const OpArg& item : items) {
    if (item.kind == OpArg::Kind::literal && item.json && item.json->is_number()) {
      out.push_back({json_int(*item.json, c.ctx().config().context()), -1, 0});
      continue;
    }
    std::optional<std::vector<TracedDim>> t =
        item.kind == OpArg::Kind::tensor ? trace_shape_values(c.ctx().graph(), item.tensor, 0)
                                         : std::nullopt;
    if (!t)
      c.error(
          "a reshape target computed from tensor values (not from tensor shapes) is not supported",
          ErrorCode::unsupported);
    out.insert(out.end(), t->begin(), t->end());
  }
  return out;
}

Outputs import_reshape(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  const std::vector<TracedDim> target = reshape_target(c, "newshape");
  // A dimension known only at run time becomes the one -1 of the target; the batch size
  // (dimension 0 of a tensor whose batch is dynamic) in first place keeps the batch instead.
  const bool batch_first =
      !target.empty() && target[0].of >= 0 && target[0].axis == 0 && !in.empty() && in[0] < 0;
  Shape newshape;
  int minus = 0;
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t d = target[i].of >= 0 ? -1 : target[i].known;
    if (d < -1) c.error(str_cat("newshape has a negative dimension ", d));
    if (!(batch_first && i == 0)) minus += d == -1;
    newshape.push_back(d);
  }
  if (minus > 1)
    c.error(
        str_cat("newshape ", shape_to_string(newshape), " has more than one dimension to infer"),
        ErrorCode::unsupported);
  if (batch_first)
    return {c.ctx().emit(OpKind::reshape,
                         ReshapeParams{Shape(newshape.begin() + 1, newshape.end()), false}, {x})};
  // (-1, rest...) on a tensor whose samples have as many elements as `rest`: a per-sample
  // reshape that keeps the batch dynamic. Anything else reshapes the whole tensor.
  int64_t rest = 1, per_sample = 1;
  bool rest_known = !newshape.empty() && newshape[0] == -1, in_known = !in.empty();
  for (size_t i = 1; i < newshape.size(); ++i) rest *= newshape[i];
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i] < 0)
      in_known = false;
    else
      per_sample *= in[i];
  }
  if (rest_known && in_known && rest == per_sample && minus == 1)
    return {c.ctx().emit(OpKind::reshape,
                         ReshapeParams{Shape(newshape.begin() + 1, newshape.end()), false}, {x})};
  return {c.ctx().emit(OpKind::reshape, ReshapeParams{newshape, true}, {x})};
}

// tf.shape(x): the shape as a tensor; reshape targets trace it back (trace_shape_values).
Outputs import_tf_shape(OpCall& c) {
  return {c.ctx().emit(OpKind::shape_of, ShapeOfParams{}, {c.tensor("x")})};
}

Outputs import_transpose(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  std::vector<int64_t> perm;
  if (std::optional<std::vector<int64_t>> axes = c.int_list("axes")) {
    for (int64_t a : *axes) perm.push_back(normalize_axis(c, a, rank));
  } else {
    for (int64_t a = rank - 1; a >= 0; --a) perm.push_back(a);  // None reverses the axes
  }
  if (c.get_bool("conjugate", false))
    c.error("conjugate transposes are not supported", ErrorCode::unsupported);
  return {c.ctx().emit(OpKind::transpose, TransposeParams{perm}, {x})};
}

// tf.linalg.matrix_transpose / keras.ops... swap the last two axes.
Outputs import_matrix_transpose(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  if (rank < 2) c.error("matrix_transpose needs a tensor of rank 2 or more");
  std::vector<int64_t> perm(rank);
  for (int64_t a = 0; a < rank; ++a) perm[a] = a;
  std::swap(perm[rank - 1], perm[rank - 2]);
  return {c.ctx().emit(OpKind::transpose, TransposeParams{perm}, {x})};
}

Outputs import_ravel(OpCall& c) {
  const ValueId x = c.tensor("x");
  return {reshape_to(c, x, Shape{shape_elements_or_dynamic(shape_of(c, x))}, false)};
}

Outputs import_expand_dims(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  std::optional<std::vector<int64_t>> axes = c.int_list("axis");
  if (!axes) c.error("argument 'axis' is missing");
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes->size());
  std::vector<bool> added(out_rank, false);
  for (int64_t a : *axes) {
    const int64_t n = normalize_axis(c, a, out_rank);
    if (added[n]) c.error("an axis is repeated");
    added[n] = true;
  }
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(added[i] ? 1 : in[k++]);
  return {reshape_to(c, x, out, !added[0])};
}

Outputs import_squeeze(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> drop(rank, false);
  if (std::optional<std::vector<int64_t>> axes = c.int_list("axis")) {
    for (int64_t a : *axes) {
      const int64_t n = normalize_axis(c, a, rank);
      if (in[n] != 1)
        c.error(str_cat("cannot squeeze axis ", a, " of shape ", shape_to_string(in),
                        ": its size is not 1"));
      drop[n] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) drop[i] = in[i] == 1;
  }
  Shape out;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i]) out.push_back(in[i]);
  return {reshape_to(c, x, out, !drop[0])};
}

Outputs import_concatenate(OpCall& c, int64_t default_axis) {
  const std::vector<ValueId> xs = c.tensors("xs");
  if (!c.has("axis") && default_axis == INT64_MIN)
    c.error("concatenating flattened tensors (axis=None) is not supported", ErrorCode::unsupported);
  const int64_t axis = normalize_axis(c, c.get_int("axis", default_axis), rank_of(c, xs[0]));
  if (xs.size() == 1) return {c.ctx().emit(OpKind::identity, IdentityParams{}, {xs[0]})};
  return {c.ctx().emit(OpKind::concat, ConcatParams{axis}, xs)};
}

Outputs import_stack(OpCall& c) {
  const std::vector<ValueId> xs = c.tensors("x");
  const Shape in = shape_of(c, xs[0]);
  const int64_t axis = normalize_axis(c, c.get_int("axis", 0), static_cast<int64_t>(in.size()) + 1);
  Shape out = in;
  out.insert(out.begin() + axis, 1);
  std::vector<ValueId> expanded;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (shape_of(c, xs[i]).size() != in.size()) c.error("stacked tensors must have the same rank");
    Shape oi = shape_of(c, xs[i]);
    oi.insert(oi.begin() + axis, 1);
    expanded.push_back(reshape_to(c, xs[i], oi, axis != 0, str_cat("expand_", i)));
  }
  return {c.ctx().emit(OpKind::concat, ConcatParams{axis}, expanded)};
}

// One StridedSliceParams keeping axis `axis` from `start` to `stop` (step 1), others whole.
StridedSliceParams range_on_axis(int64_t axis, int64_t start, int64_t stop) {
  StridedSliceParams p;
  p.axes.resize(axis + 1);
  p.axes[axis] = SliceSpec{true, true, start, stop, 1};
  return p;
}

Outputs import_split(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  const int64_t axis = normalize_axis(c, c.get_int("axis", 0), static_cast<int64_t>(in.size()));
  const int64_t dim = in[axis];
  std::vector<int64_t> bounds{0};
  const io::Json& spec = c.literal("indices_or_sections");
  if (spec.is_number()) {
    const int64_t n = c.get_int("indices_or_sections");
    if (dim < 0)
      c.error("splitting an axis whose size is known only at run time is not supported",
              ErrorCode::unsupported);
    if (n <= 0 || dim % n != 0)
      c.error(
          str_cat("axis ", axis, " of size ", dim, " cannot be split into ", n, " equal sections"));
    for (int64_t i = 1; i <= n; ++i) bounds.push_back(i * dim / n);
  } else {
    const std::vector<int64_t> indices =
        c.int_list("indices_or_sections").value_or(std::vector<int64_t>{});
    bounds.insert(bounds.end(), indices.begin(), indices.end());
    bounds.push_back(dim < 0 ? INT64_MAX : dim);
  }
  Outputs out;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    StridedSliceParams p = range_on_axis(axis, bounds[i], bounds[i + 1]);
    if (bounds[i + 1] == INT64_MAX) p.axes[axis].has_stop = false;
    out.push_back(c.ctx().emit(OpKind::strided_slice, p, {x}, {}, str_cat("part_", i)));
  }
  return out;
}

// tf.split(value, num_or_size_splits, axis=0): a number of equal parts, or the sizes (one -1).
Outputs import_tf_split(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  const int64_t axis = normalize_axis(c, c.get_int("axis", 0), static_cast<int64_t>(in.size()));
  const int64_t dim = in[axis];
  if (dim < 0)
    c.error("splitting an axis whose size is known only at run time is not supported",
            ErrorCode::unsupported);
  std::vector<int64_t> sizes;
  if (c.literal("num_or_size_splits").is_number()) {
    const int64_t n = c.get_int("num_or_size_splits");
    if (n <= 0 || dim % n != 0)
      c.error(
          str_cat("axis ", axis, " of size ", dim, " cannot be split into ", n, " equal parts"));
    sizes.assign(n, dim / n);
  } else {
    sizes = c.int_list("num_or_size_splits").value_or(std::vector<int64_t>{});
    int64_t known = 0, unknown_at = -1;
    for (size_t i = 0; i < sizes.size(); ++i)
      if (sizes[i] == -1)
        unknown_at = static_cast<int64_t>(i);
      else
        known += sizes[i];
    if (unknown_at >= 0) sizes[unknown_at] = dim - known;
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    if (total != dim)
      c.error(str_cat("split sizes ", shape_to_string(sizes), " do not add up to ", dim));
  }
  Outputs out;
  int64_t start = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    out.push_back(c.ctx().emit(OpKind::strided_slice, range_on_axis(axis, start, start + sizes[i]),
                               {x}, {}, str_cat("part_", i)));
    start += sizes[i];
  }
  return out;
}

Outputs import_unstack(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  const int64_t axis = normalize_axis(c, c.get_int("axis", 0), static_cast<int64_t>(in.size()));
  if (in[axis] < 0)
    c.error("unstacking an axis whose size is known only at run time is not supported",
            ErrorCode::unsupported);
  Shape out = in;
  out.erase(out.begin() + axis);
  Outputs parts;
  for (int64_t i = 0; i < in[axis]; ++i) {
    ValueId s = c.ctx().emit(OpKind::strided_slice, range_on_axis(axis, i, i + 1), {x}, {},
                             str_cat("part_", i));
    parts.push_back(reshape_to(c, s, out, axis != 0, str_cat("squeeze_", i)));
  }
  return parts;
}

// --- Indexing: x[key] -------------------------------------------------------------------

enum class KeyKind { slice, index, newaxis, ellipsis };
struct KeyItem {
  KeyKind kind = KeyKind::slice;
  SliceSpec slice;
  int64_t index = 0;
};

std::optional<int64_t> optional_int(const OpCall& c, const io::Json* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number())
    c.error(str_cat("slice bound ", v->dump(),
                    " is not a number (slicing by a tensor is not supported)"),
            ErrorCode::unsupported);
  return json_int(*v, c.ctx().config().context());
}

KeyItem parse_key_item(const OpCall& c, const io::Json& v) {
  KeyItem k;
  if (v.is_null()) {
    k.kind = KeyKind::newaxis;
  } else if (v.is_number()) {
    k.kind = KeyKind::index;
    k.index = json_int(v, c.ctx().config().context());
  } else if (v.is_object()) {
    const io::Json* cls = v.find("class_name");
    const std::string name = cls && cls->is_string() ? cls->as_string() : "";
    if (name == "__ellipsis__") {
      k.kind = KeyKind::ellipsis;
      return k;
    }
    // Keras 3: {"class_name": "__slice__", "config": {...}}; tf.keras: {"start", "stop", "step"}.
    const io::Json* s = name == "__slice__" ? v.find("config") : (cls ? nullptr : &v);
    if (!s || !s->is_object())
      c.error(str_cat("index ", v.dump(), " is not supported"), ErrorCode::unsupported);
    std::optional<int64_t> start = optional_int(c, s->find("start")),
                           stop = optional_int(c, s->find("stop")),
                           step = optional_int(c, s->find("step"));
    k.slice = SliceSpec{start.has_value(), stop.has_value(), start.value_or(0), stop.value_or(0),
                        step.value_or(1)};
    if (k.slice.step == 0) c.error("slice step cannot be zero");
  } else {
    c.error(str_cat("index ", v.dump(), " is not supported"), ErrorCode::unsupported);
  }
  return k;
}

ValueId emit_getitem(OpCall& c, ValueId x, const io::Json& key) {
  const Shape in = shape_of(c, x);
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<KeyItem> items;
  const io::Json* list = key.is_array() ? &key : nullptr;
  if (key.is_object())
    if (const io::Json* it = key.find("items"); it && it->is_array())
      list = it;  // a serialized tuple
  if (list) {
    for (const io::Json& v : list->items()) items.push_back(parse_key_item(c, v));
  } else {
    items.push_back(parse_key_item(c, key));
  }
  int64_t consuming = 0, ellipses = 0;
  for (const KeyItem& k : items) {
    consuming += k.kind == KeyKind::slice || k.kind == KeyKind::index;
    ellipses += k.kind == KeyKind::ellipsis;
  }
  if (ellipses > 1) c.error("an index can only have a single ellipsis");
  if (consuming > rank)
    c.error(str_cat("too many indices (", consuming, ") for a tensor of rank ", rank));
  // Expand the ellipsis (or pad at the end) with whole slices.
  std::vector<KeyItem> full;
  for (const KeyItem& k : items) {
    if (k.kind == KeyKind::ellipsis)
      full.insert(full.end(), rank - consuming, KeyItem{});
    else
      full.push_back(k);
  }
  if (ellipses == 0) full.insert(full.end(), rank - consuming, KeyItem{});

  StridedSliceParams p;
  Shape out;
  bool slices = false;
  int64_t batch_at = -1;  // where input axis 0 lands in the output, -1 when indexed away
  int64_t axis = 0;
  for (const KeyItem& k : full) {
    if (k.kind == KeyKind::newaxis) {
      out.push_back(1);
      continue;
    }
    const int64_t dim = in[axis];
    SliceSpec s = k.slice;
    if (k.kind == KeyKind::index) {
      if (dim >= 0 && (k.index < -dim || k.index >= dim))
        c.error(str_cat("index ", k.index, " is out of range for axis ", axis, " of size ", dim));
      if (dim < 0 && k.index < 0)
        c.error(str_cat("a negative index on axis ", axis,
                        ", whose size is known only at run time, is not supported"),
                ErrorCode::unsupported);
      s = SliceSpec{true, k.index != -1, k.index, k.index + 1, 1};
    } else {
      if (axis == 0) batch_at = static_cast<int64_t>(out.size());
      out.push_back(dim >= 0 ? resolve_slice(s, dim).length : dynamic);
    }
    slices = slices || s.has_start || s.has_stop || s.step != 1;
    p.axes.push_back(s);
    ++axis;
  }
  ValueId y = x;
  if (slices) y = c.ctx().emit(OpKind::strided_slice, p, {x}, {}, "slice");
  if (shape_of(c, y) == out)
    return y == x ? c.ctx().emit(OpKind::identity, IdentityParams{}, {x}) : y;
  // A per-sample reshape when the batch axis stays first; otherwise the whole tensor's.
  return reshape_to(c, y, out, batch_at == 0);
}

Outputs import_getitem(OpCall& c) {
  const OpArg* key = c.find("key");
  if (!key || key->kind != OpArg::Kind::literal || !key->json)
    c.error("indexing with a tensor is not supported, only with numbers, slices, None and ...",
            ErrorCode::unsupported);
  return {emit_getitem(c, c.tensor("x"), *key->json)};
}

// numpy.take(x, indices, axis=None): indices a tensor or a constant; None flattens x first.
Outputs import_take(OpCall& c) {
  // A constant table indexed by a tensor (ops.take(matrix, ids)): an embedding lookup.
  if (const OpArg* table = c.find("x"); table && table->kind == OpArg::Kind::literal) {
    OpCall::Operand t = c.operand("x");
    OpCall::Operand idx = c.operand("indices");
    const int64_t axis = c.has("axis") ? c.get_int("axis") : 0;
    if (!idx.value || t.constant.rank() < 1 || t.constant.rank() > 2 ||
        (axis != 0 && axis != -t.constant.rank()))
      c.error(
          "take from a constant is supported along its first axis, with tensor indices, for tables "
          "of rank 1 or 2",
          ErrorCode::unsupported);
    if (t.constant.rank() == 2)
      return {c.ctx().emit(OpKind::embedding, EmbeddingParams{}, {*idx.value}, {t.constant})};
    Shape out = shape_of(c, *idx.value);
    const ValueId e = c.ctx().emit(OpKind::embedding, EmbeddingParams{}, {*idx.value},
                                   {t.constant.reshaped({t.constant.dim(0), 1})}, "lookup");
    return {reshape_to(c, e, out, true)};
  }
  ValueId x = c.tensor("x");
  std::optional<int64_t> axis;
  if (c.has("axis")) axis = c.get_int("axis");
  if (!axis) {
    x = reshape_to(c, x, Shape{shape_elements_or_dynamic(shape_of(c, x))}, false, "flatten");
    axis = 0;
  }
  const int64_t a = normalize_axis(c, *axis, rank_of(c, x));
  if (c.get_int("batch_dims", 0) != 0)
    c.error("gather with batch_dims is not supported", ErrorCode::unsupported);
  OpCall::Operand idx = c.operand("indices");
  if (idx.value) return {c.ctx().emit(OpKind::gather, GatherParams{a}, {x, *idx.value})};
  return {c.ctx().emit(OpKind::gather, GatherParams{a}, {x}, {idx.constant})};
}

// matmul as an einsum: batch axes broadcast (right-aligned), 1-D operands as numpy treats them.
Outputs import_matmul(OpCall& c) {
  const OpCall::Operand a = c.operand("x1"), b = c.operand("x2");
  if (!a.value)
    c.error("matmul with a constant first operand is not supported", ErrorCode::unsupported);
  if (c.get_bool("transpose_a", false) || c.get_bool("transpose_b", false) ||
      c.get_bool("adjoint_a", false) || c.get_bool("adjoint_b", false))
    c.error("matmul with transposed operands is not supported", ErrorCode::unsupported);
  const int64_t ra = rank_of(c, *a.value);
  const int64_t rb = b.value ? rank_of(c, *b.value) : b.constant.rank();
  if (ra == 0 || rb == 0) c.error("matmul operands must have rank 1 or more");
  const std::string batch_letters = "abcdefghijklmnopqrstuvw";
  const int64_t nb = std::max<int64_t>({ra - 2, rb - 2, 0});
  if (nb > static_cast<int64_t>(batch_letters.size()))
    c.error("matmul operands have too many axes", ErrorCode::unsupported);
  const std::string batch = batch_letters.substr(0, nb);
  auto batch_of = [&](int64_t r) { return r > 2 ? batch.substr(nb - (r - 2)) : std::string(); };
  EinsumParams p;
  p.operands.push_back(ra == 1 ? "Y" : batch_of(ra) + "XY");
  p.operands.push_back(rb == 1 ? "Y" : batch_of(rb) + "YZ");
  p.output = batch + (ra > 1 ? "X" : "") + (rb > 1 ? "Z" : "");
  if (b.value) return {c.ctx().emit(OpKind::einsum, p, {*a.value, *b.value})};
  return {c.ctx().emit(OpKind::einsum, p, {*a.value}, {b.constant})};
}

// einsum(subscripts, *operands), with ellipses and the implicit output (labels seen once, sorted).
Outputs import_einsum(OpCall& c) {
  std::string eq;
  for (char ch : c.get_string("subscripts", ""))
    if (ch != ' ') eq += ch;
  if (eq.empty()) c.error("einsum without subscripts");
  std::vector<ValueId> xs = c.ctx().inputs();
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != xs.size())
    c.error(str_cat("einsum '", eq, "' names ", terms.size(), " operands, the call has ", xs.size(),
                    " tensors"));
  std::string used;
  for (char ch : eq)
    if (std::isalpha(static_cast<unsigned char>(ch))) used += ch;
  std::string fresh;
  for (char ch : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    if (used.find(ch) == std::string::npos) fresh += ch;
  size_t n_ell = 0;
  std::vector<size_t> ell_of(terms.size(), 0);
  for (size_t i = 0; i < terms.size(); ++i) {
    const size_t dots = terms[i].find("...");
    const int64_t rank = rank_of(c, xs[i]);
    const int64_t explicit_labels =
        static_cast<int64_t>(terms[i].size()) - (dots == std::string::npos ? 0 : 3);
    if (dots == std::string::npos ? explicit_labels != rank : explicit_labels > rank)
      c.error(str_cat("einsum operand '", terms[i], "' does not fit a tensor of rank ", rank));
    if (dots != std::string::npos) ell_of[i] = static_cast<size_t>(rank - explicit_labels);
    n_ell = std::max(n_ell, ell_of[i]);
  }
  if (n_ell > fresh.size()) c.error("einsum ellipsis covers too many axes", ErrorCode::unsupported);
  const std::string ell = fresh.substr(0, n_ell);
  EinsumParams p;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string t = terms[i];
    if (const size_t dots = t.find("..."); dots != std::string::npos)
      t.replace(dots, 3, ell.substr(n_ell - ell_of[i]));
    p.operands.push_back(t);
  }
  if (arrow != std::string::npos) {
    std::string out = eq.substr(arrow + 2);
    if (const size_t dots = out.find("..."); dots != std::string::npos) out.replace(dots, 3, ell);
    p.output = out;
  } else {
    std::string once;
    for (char ch : std::set<char>(used.begin(), used.end()))
      if (std::count(used.begin(), used.end(), ch) == 1) once += ch;
    p.output = ell + once;
  }
  return {c.ctx().emit(OpKind::einsum, p, xs)};
}

// keras.ops.image.resize / tf.image.resize: the Resizing layer's importer on an equivalent config.
Outputs resize_with(OpCall& c, int64_t h, int64_t w, const std::string& interpolation,
                    bool antialias, bool crop, bool pad, const std::string& fill_mode,
                    double fill_value, const std::string& data_format) {
  using io::Json;
  const Json config = Json::object({{"name", Json::string(c.ctx().name())},
                                    {"height", Json::integer(h)},
                                    {"width", Json::integer(w)},
                                    {"interpolation", Json::string(interpolation)},
                                    {"crop_to_aspect_ratio", Json::boolean(crop)},
                                    {"pad_to_aspect_ratio", Json::boolean(pad)},
                                    {"fill_mode", Json::string(fill_mode)},
                                    {"fill_value", Json::number(fill_value)},
                                    {"antialias", Json::boolean(antialias)},
                                    {"data_format", Json::string(data_format)}});
  const ValueId x = c.tensor("x");
  if (shape_of(c, x).size() != 4)
    c.error("resizing supports batched images (rank 4)", ErrorCode::unsupported);
  LayerContext inner(c.ctx().graph(), c.ctx().file(), config, c.ctx().name(), c.ctx().class_name(),
                     {x}, c.ctx().weights(), nullptr);
  return layer_registry().find("Resizing")->import(inner);
}

std::pair<int64_t, int64_t> size_arg(OpCall& c) {
  std::optional<std::vector<int64_t>> size = c.int_list("size");
  if (!size || size->size() != 2) c.error("'size' should be (height, width)");
  return {(*size)[0], (*size)[1]};
}

Outputs import_resize(OpCall& c) {
  const auto [h, w] = size_arg(c);
  return resize_with(c, h, w, c.get_string("interpolation", "bilinear"),
                     c.get_bool("antialias", false), c.get_bool("crop_to_aspect_ratio", false),
                     c.get_bool("pad_to_aspect_ratio", false),
                     c.get_string("fill_mode", "constant"), c.get_float("fill_value", 0.0),
                     c.get_string("data_format", "channels_last"));
}

Outputs import_tf_resize(OpCall& c) {
  const auto [h, w] = size_arg(c);
  if (c.get_bool("preserve_aspect_ratio", false))
    c.error("preserve_aspect_ratio is not supported", ErrorCode::unsupported);
  std::string method = c.get_string("method", "bilinear");
  if (method != "bicubic" && method != "bilinear" && method != "nearest" && method != "lanczos3" &&
      method != "lanczos5")
    c.error(str_cat("resize method '", method, "' is not supported"), ErrorCode::unsupported);
  return resize_with(c, h, w, method, c.get_bool("antialias", false), false, false, "constant", 0.0,
                     "channels_last");
}

}  // namespace

void register_shape_ops(OpTables& t) {
  t.keras("Reshape", {"x", "newshape"}, import_reshape, "newshape with the batch axis; one -1");
  t.tf({"reshape", "compat.v1.reshape"}, {"x=tensor", "newshape=shape"}, import_reshape,
       "shape: numbers, or tensors computed from tf.shape (the batch size keeps the batch)");
  t.tf({"shape", "compat.v1.shape"}, {"x=input", "out_type"}, import_tf_shape,
       "a tensor; reshape targets read it at load");
  t.keras("Transpose", {"x", "axes"}, import_transpose, "axes None reverses");
  t.tf({"compat.v1.transpose", "transpose", "linalg.transpose"}, {"x=a", "axes=perm", "conjugate"},
       import_transpose);
  t.tf({"linalg.matrix_transpose"}, {"x=a"}, import_matrix_transpose);
  t.keras("Ravel", {"x"}, import_ravel, "the whole tensor, batch included");
  t.keras("ExpandDims", {"x", "axis"}, import_expand_dims, "axis int or tuple");
  t.tf({"expand_dims", "compat.v1.expand_dims"}, {"x=input", "axis"}, import_expand_dims);
  t.keras("Squeeze", {"x", "axis"}, import_squeeze, "axis None, int or tuple");
  t.tf({"compat.v1.squeeze", "squeeze"}, {"x=input", "axis"}, import_squeeze);
  t.keras(
      "Concatenate", {"xs", "axis"}, [](OpCall& c) { return import_concatenate(c, 0); },
      "axis None not supported");
  t.tf({"concat"}, {"xs=values", "axis"},
       [](OpCall& c) { return import_concatenate(c, INT64_MIN); });
  t.keras("Stack", {"x", "axis"}, import_stack);
  t.tf({"stack"}, {"x=values", "axis"}, import_stack);
  t.keras("Split", {"x", "indices_or_sections", "axis"}, import_split,
          "sections or indices; several outputs");
  t.tf({"split"}, {"x=value", "num_or_size_splits", "axis"}, import_tf_split);
  t.keras("Unstack", {"x", "num", "axis"}, import_unstack);
  t.tf({"unstack"}, {"x=value", "num", "axis"}, import_unstack);
  t.keras("GetItem", {"x", "key"}, import_getitem,
          "ints (negative too), slices with steps and None bounds, None, ...");
  t.tf({"__operators__.getitem"}, {"x=tensor", "key=slice_spec"}, import_getitem);
  t.keras("Take", {"x", "indices", "axis"}, import_take,
          "indices a tensor or a constant; negative indices");
  t.tf({"compat.v1.gather", "gather"},
       {"x=params", "indices", "validate_indices", "axis", "batch_dims"}, import_take);
  t.keras("Matmul", {"x1", "x2"}, import_matmul, "batch axes broadcast; 1-D operands");
  t.tf({"linalg.matmul", "matmul"}, {"x1=a", "x2=b"}, import_matmul, "without transposes");
  t.keras("Einsum", {}, import_einsum, "ellipses; implicit output");
  t.keras("Resize", {"x", "size"}, import_resize, "as the Resizing layer");
  t.tf({"image.resize"}, {"x=images", "size", "method"}, import_tf_resize,
       "bilinear, nearest, bicubic, lanczos3/5");
}

}  // namespace krt::keras
