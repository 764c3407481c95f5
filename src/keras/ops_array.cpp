// More recorded array operations, built from the existing ops: tile, repeat, flip, slice, pad,
// zeros_like / ones_like / full_like, argmax / argmin, one_hot, triu / tril, swapaxes /
// moveaxis, normalize, dot, average and dot_product_attention.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "keras/op_importers.h"

namespace krt::keras {

namespace {

using Outputs = std::vector<ValueId>;

const Shape& shape_of(OpCall& c, ValueId v) { return c.ctx().graph().values[v].shape; }
int64_t rank_of(OpCall& c, ValueId v) { return static_cast<int64_t>(shape_of(c, v).size()); }

Tensor scalar(float v) {
  Tensor t(DType::f32, {});
  t.data_as<float>()[0] = v;
  return t;
}

// Per-axis values given for every axis (an int repeats for all, a shorter list aligns right as
// numpy.tile does for reps).
std::vector<int64_t> per_axis(OpCall& c, const char* name, int64_t rank, int64_t fill) {
  std::optional<std::vector<int64_t>> v = c.int_list(name);
  if (!v) c.error(str_cat("argument '", name, "' is missing"));
  if (static_cast<int64_t>(v->size()) > rank)
    c.error(str_cat("'", name, "' has ", v->size(), " entries for a tensor of rank ", rank),
            ErrorCode::unsupported);
  std::vector<int64_t> out(rank - v->size(), fill);
  out.insert(out.end(), v->begin(), v->end());
  return out;
}

ValueId concat_copies(OpCall& c, ValueId x, int64_t axis, int64_t n, const std::string& suffix) {
  if (n == 1) return x;
  return c.ctx().emit(OpKind::concat, ConcatParams{axis}, std::vector<ValueId>(n, x), {}, suffix);
}

// numpy.tile: the whole tensor repeated along each axis.
Outputs import_tile(OpCall& c) {
  ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  const std::vector<int64_t> reps = per_axis(c, "repeats", rank, 1);
  for (int64_t a = 0; a < rank; ++a) {
    if (reps[a] < 1)
      c.error(str_cat("tile repeats must be positive, found ", reps[a]), ErrorCode::unsupported);
    x = concat_copies(c, x, a, reps[a], str_cat("tile_", a));
  }
  return {x == c.tensor("x") ? c.ctx().emit(OpKind::identity, IdentityParams{}, {x}) : x};
}

// numpy.repeat(x, r, axis): each element r times in a row (x[..., None, ...] copied r times on
// the new axis, then merged into the axis). axis None flattens first.
Outputs import_repeat(OpCall& c) {
  ValueId x = c.tensor("x");
  const int64_t r = c.get_int("repeats");
  if (r < 1)
    c.error(str_cat("repeats must be a positive number, found ", r), ErrorCode::unsupported);
  std::optional<int64_t> axis_arg;
  if (c.has("axis")) axis_arg = c.get_int("axis");
  if (!axis_arg) {
    x = reshape_to(c, x, Shape{dynamic}, false, "flatten");
    axis_arg = 0;
  }
  const int64_t axis = normalize_axis(c, *axis_arg, rank_of(c, x));
  Shape in = shape_of(c, x);
  Shape expanded = in;
  expanded.insert(expanded.begin() + axis + 1, 1);
  const ValueId e = reshape_to(c, x, expanded, true, "expand");
  const ValueId copies = concat_copies(c, e, axis + 1, r, "copies");
  Shape out = in;
  out[axis] = in[axis] >= 0 ? in[axis] * r : dynamic;
  return {reshape_to(c, copies, out, axis > 0, "merge")};
}

Outputs import_flip(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  std::vector<int64_t> axes;
  if (std::optional<std::vector<int64_t>> given = c.int_list("axis")) {
    for (int64_t a : *given) axes.push_back(normalize_axis(c, a, rank));
  } else {
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  StridedSliceParams p;
  p.axes.resize(rank);
  for (int64_t a : axes) p.axes[a].step = -1;
  return {c.ctx().emit(OpKind::strided_slice, p, {x})};
}

// keras.ops.slice(x, start_indices, shape) / tf.slice(input_, begin, size): size -1 = to the end.
Outputs import_slice(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  std::optional<std::vector<int64_t>> start = c.int_list("start_indices"),
                                      size = c.int_list("shape");
  if (!start || !size || static_cast<int64_t>(start->size()) != rank ||
      static_cast<int64_t>(size->size()) != rank)
    c.error(str_cat("slice needs a start and a size for each of the ", rank,
                    " axes (values written in the file)"));
  StridedSliceParams p;
  for (int64_t a = 0; a < rank; ++a) {
    if ((*start)[a] < 0) c.error("slice starts must not be negative");
    p.axes.push_back(SliceSpec{true, (*size)[a] >= 0, (*start)[a], (*start)[a] + (*size)[a], 1});
  }
  return {c.ctx().emit(OpKind::strided_slice, p, {x})};
}

// numpy.pad / tf.pad with constant values: pad_width per axis ([before, after], or one pair or
// one number for every axis).
Outputs import_pad(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  const std::string mode = c.get_string("mode", "constant");
  if (mode != "constant" && mode != "CONSTANT")
    c.error(str_cat("pad mode '", mode, "' is not supported"), ErrorCode::unsupported);
  const io::Json& w = c.literal("pad_width");
  PadParams p;
  p.value = static_cast<float>(c.get_float("constant_values", 0.0));
  const std::string context = c.ctx().config().context();
  for (int64_t a = 0; a < rank; ++a) {
    const io::Json* pair = &w;
    if (w.is_array() && w.size() == static_cast<size_t>(rank) && w[0].is_array())
      pair = &w[a];
    else if (w.is_array() && w.size() == 1 && w[0].is_array())
      pair = &w[0];
    if (pair->is_number()) {
      p.before.push_back(json_int(*pair, context));
      p.after.push_back(p.before.back());
    } else if (pair->is_array() && pair->size() == 2) {
      p.before.push_back(json_int((*pair)[0], context));
      p.after.push_back(json_int((*pair)[1], context));
    } else {
      c.error(str_cat("pad_width ", w.dump(), " does not fit a tensor of rank ", rank));
    }
  }
  return {c.ctx().emit(OpKind::pad, p, {x})};
}

// zeros_like / ones_like / full_like: where(true, value, x) broadcasts the value to x's shape
// (multiplying by zero would turn infinities into NaN).
OpImportFn fill_like(std::optional<float> value) {
  return [value](OpCall& c) -> Outputs {
    const float v = value ? *value : static_cast<float>(c.get_float("fill_value"));
    return {
        c.ctx().emit(OpKind::where, WhereParams{3u}, {c.tensor("x")}, {scalar(1.f), scalar(v)})};
  };
}

// argmax / argmin over one axis (tf.math.argmax's default axis is 0, numpy's None flattens).
OpImportFn arg_reduce(ReduceKind kind, std::optional<int64_t> default_axis) {
  return [kind, default_axis](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    std::optional<int64_t> axis = default_axis;
    if (c.has("axis")) axis = c.get_int("axis");
    if (!axis)
      c.error("argmax/argmin over the flattened tensor (axis None) is not supported",
              ErrorCode::unsupported);
    const int64_t a = normalize_axis(c, *axis, rank_of(c, x));
    const bool keepdims = c.get_bool("keepdims", false);
    return {c.ctx().emit(OpKind::reduce, ReduceParams{kind, {a}, keepdims}, {x})};
  };
}

// one_hot(x, num_classes): x[..., None] == 0..num_classes-1 (axis -1 only); tf.one_hot's
// on_value / off_value scale and shift the result.
Outputs import_one_hot(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t n = c.get_int("num_classes");
  if (n <= 0) c.error("num_classes must be positive");
  if (c.get_int("axis", -1) != -1)
    c.error("one_hot with an axis other than -1 is not supported", ErrorCode::unsupported);
  if (c.get_bool("sparse", false))
    c.error("sparse one_hot is not supported", ErrorCode::unsupported);
  Shape expanded = shape_of(c, x);
  expanded.push_back(1);
  const ValueId e = reshape_to(c, x, expanded, true, "expand");
  Tensor classes(DType::f32, {n});
  for (int64_t i = 0; i < n; ++i) classes.data_as<float>()[i] = static_cast<float>(i);
  ValueId y =
      c.ctx().emit(OpKind::binary, BinaryParams{BinaryKind::equal, 2u}, {e}, {classes}, "one_hot");
  const float on = static_cast<float>(c.get_float("on_value", 1.0)),
              off = static_cast<float>(c.get_float("off_value", 0.0));
  if (on != 1.f || off != 0.f)
    y = c.ctx().emit(OpKind::where, WhereParams{6u}, {y}, {scalar(on), scalar(off)}, "values");
  return {y};
}

// triu / tril(x, k): x where the (row, col) of its last two axes lies on or above (below) the
// k-th diagonal, else 0.
OpImportFn triangle(bool upper) {
  return [upper](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    const Shape s = shape_of(c, x);
    if (s.size() < 2 || s[s.size() - 1] < 0 || s[s.size() - 2] < 0)
      c.error("triu/tril need the last two sizes known at load", ErrorCode::unsupported);
    const int64_t k = c.get_int("k", 0), rows = s[s.size() - 2], cols = s.back();
    Tensor keep(DType::f32, {rows, cols});
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        keep.data_as<float>()[i * cols + j] = (upper ? j - i >= k : j - i <= k) ? 1.f : 0.f;
    return {c.ctx().emit(OpKind::where, WhereParams{5u}, {x}, {keep, scalar(0.f)})};
  };
}

Outputs import_swapaxes(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  std::vector<int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis(c, c.get_int("axis1"), rank)],
            perm[normalize_axis(c, c.get_int("axis2"), rank)]);
  return {c.ctx().emit(OpKind::transpose, TransposeParams{perm}, {x})};
}

Outputs import_moveaxis(OpCall& c) {
  const ValueId x = c.tensor("x");
  const int64_t rank = rank_of(c, x);
  std::optional<std::vector<int64_t>> src = c.int_list("source"), dst = c.int_list("destination");
  if (!src || !dst || src->size() != dst->size())
    c.error("source and destination must have the same length");
  std::vector<int64_t> perm(rank, -1), rest;
  std::vector<bool> moved(rank, false);
  for (size_t i = 0; i < src->size(); ++i) {
    const int64_t s = normalize_axis(c, (*src)[i], rank), d = normalize_axis(c, (*dst)[i], rank);
    if (perm[d] >= 0 || moved[s]) c.error("repeated axes in moveaxis");
    perm[d] = s;
    moved[s] = true;
  }
  for (int64_t a = 0; a < rank; ++a)
    if (!moved[a]) rest.push_back(a);
  size_t k = 0;
  for (int64_t& p : perm)
    if (p < 0) p = rest[k++];
  return {c.ctx().emit(OpKind::transpose, TransposeParams{perm}, {x})};
}

// keras.ops.normalize (order 2): x * min(rsqrt(sum(x^2)), 1/eps) = x / sqrt(max(sum, eps^2));
// tf.math.l2_normalize: x * rsqrt(max(sum, epsilon)).
OpImportFn l2_normalize(bool keras) {
  return [keras](OpCall& c) -> Outputs {
    const ValueId x = c.tensor("x");
    if (keras && c.get_int("order", 2) != 2)
      c.error("only order 2 is supported", ErrorCode::unsupported);
    const int64_t rank = rank_of(c, x);
    NormalizeParams p;
    p.kind = NormalizeKind::l2;
    std::optional<std::vector<int64_t>> axes = c.int_list("axis");
    if (!axes) axes = std::vector<int64_t>{-1};
    for (int64_t a : *axes) p.axes.push_back(normalize_axis(c, a, rank));
    std::sort(p.axes.begin(), p.axes.end());
    const double eps = c.get_float("epsilon", keras ? 1e-7 : 1e-12);
    p.epsilon = static_cast<float>(keras ? eps * eps : eps);
    return {c.ctx().emit(OpKind::normalize, p, {x})};
  };
}

// numpy.dot equals matmul when the second operand has rank 1 or 2.
Outputs import_dot(OpCall& c) {
  const OpCall::Operand b = c.operand("x2");
  const int64_t rb = b.value ? rank_of(c, *b.value) : b.constant.rank();
  if (rb > 2)
    c.error("dot with a second operand of rank > 2 is not supported", ErrorCode::unsupported);
  const LayerImporter* matmul = keras3_op_registry().find("Matmul");
  return matmul->import(c.ctx());
}

Outputs import_average(OpCall& c) {
  if (c.has("weights")) c.error("average with weights is not supported", ErrorCode::unsupported);
  const LayerImporter* mean = keras3_op_registry().find("Mean");
  return mean->import(c.ctx());
}

// keras.ops.nn.dot_product_attention(query, key, value, bias, mask, scale, is_causal) on
// (batch, time, heads, dim) tensors: softmax(q k^T * scale) v over the key axis, masked
// logits replaced by a large negative as Keras does.
Outputs import_dot_product_attention(OpCall& c) {
  const ValueId q = c.tensor("query"), k = c.tensor("key"), v = c.tensor("value");
  for (ValueId t : {q, k, v})
    if (rank_of(c, t) != 4)
      c.error("dot_product_attention needs (batch, time, heads, dim) tensors",
              ErrorCode::unsupported);
  if (c.has("bias")) c.error("an attention bias is not supported", ErrorCode::unsupported);
  const int64_t dim = shape_of(c, q).back();
  EinsumParams sp;
  sp.operands = {"btnh", "bsnh"};
  sp.output = "bnts";
  sp.scale = static_cast<float>(c.has("scale") ? c.get_float("scale")
                                               : 1.0 / std::sqrt(static_cast<double>(dim)));
  const ValueId scores = c.ctx().emit(OpKind::einsum, sp, {q, k}, {}, "scores");
  MaskedSoftmaxParams mp;
  mp.axes = {3};
  mp.causal = c.get_bool("is_causal", false);
  mp.fill = MaskFill::replace_large_negative;
  std::vector<ValueId> inputs{scores};
  if (c.has("mask")) {
    ValueId m = c.tensor("mask");
    while (rank_of(c, m) < 4) {
      Shape s = shape_of(c, m);
      s.insert(s.begin() + 1, 1);
      m = reshape_to(c, m, s, true, "mask_expand");
    }
    inputs.push_back(m);
  }
  const ValueId probs = c.ctx().emit(OpKind::masked_softmax, mp, inputs, {}, "softmax");
  EinsumParams cp;
  cp.operands = {"bnts", "bsnh"};
  cp.output = "btnh";
  return {c.ctx().emit(OpKind::einsum, cp, {probs, v})};
}

// keras.ops.image.extract_patches (2-D, channels_last): a convolution whose kernel copies
// each (row, col, channel) of the window to output channel (row * cols + col) * C + channel,
// the order tf.image.extract_patches uses.
Outputs import_extract_patches(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  if (in.size() != 4 || in[3] < 0)
    c.error("extract_patches needs (batch, height, width, channels) images",
            ErrorCode::unsupported);
  if (c.get_string("data_format", "channels_last") != "channels_last")
    c.error("channels_first is not supported", ErrorCode::unsupported);
  std::optional<std::vector<int64_t>> size = c.int_list("size");
  if (!size || size->empty() || size->size() > 2)
    c.error("'size' should be a number or (height, width)");
  if (size->size() == 1) size->push_back((*size)[0]);
  std::vector<int64_t> strides = c.int_list("strides").value_or(*size);
  if (strides.size() == 1) strides.push_back(strides[0]);
  std::vector<int64_t> dilation = c.int_list("dilation_rate").value_or(std::vector<int64_t>{1});
  if (dilation.size() == 1) dilation.push_back(dilation[0]);
  const std::string padding = c.get_string("padding", "valid");
  if (padding != "valid" && padding != "same")
    c.error(str_cat("padding '", padding, "' is not supported"), ErrorCode::unsupported);
  const int64_t ph = (*size)[0], pw = (*size)[1], ch = in[3], out = ph * pw * ch;
  Tensor kernel(DType::f32, {ph, pw, ch, out});
  for (int64_t i = 0; i < ph; ++i)
    for (int64_t j = 0; j < pw; ++j)
      for (int64_t k = 0; k < ch; ++k)
        kernel.data_as<float>()[((i * pw + j) * ch + k) * out + (i * pw + j) * ch + k] = 1.f;
  ConvParams p;
  p.kernel_size = {ph, pw};
  p.strides = strides;
  p.dilation = dilation;
  p.padding = padding == "same" ? Padding::same : Padding::valid;
  p.filters = out;
  p.has_bias = false;
  return {c.ctx().emit(OpKind::conv, p, {x}, {kernel})};
}

// keras.ops.image.rgb_to_grayscale: 0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis.
Outputs import_rgb_to_grayscale(OpCall& c) {
  const ValueId x = c.tensor("x");
  const Shape in = shape_of(c, x);
  if (in.empty() || in.back() != 3 ||
      c.get_string("data_format", "channels_last") != "channels_last")
    c.error("rgb_to_grayscale needs channels_last images with 3 channels", ErrorCode::unsupported);
  Tensor w(DType::f32, {3, 1});
  w.data_as<float>()[0] = 0.2989f;
  w.data_as<float>()[1] = 0.5870f;
  w.data_as<float>()[2] = 0.1140f;
  DenseParams p;
  p.has_bias = false;
  return {c.ctx().emit(OpKind::dense, p, {x}, {w})};
}

}  // namespace

void register_array_ops(OpTables& t) {
  t.keras("Tile", {"x", "repeats"}, import_tile);
  t.tf({"tile"}, {"x=input", "repeats=multiples"}, import_tile);
  t.keras("Repeat", {"x", "repeats", "axis"}, import_repeat,
          "repeats a number; axis None flattens");
  t.tf({"repeat"}, {"x=input", "repeats", "axis"}, import_repeat);
  t.keras("Flip", {"x", "axis"}, import_flip);
  t.tf({"reverse"}, {"x=tensor", "axis"}, import_flip);
  t.keras("Slice", {"x", "start_indices", "shape"}, import_slice,
          "start and shape written in the file");
  t.tf({"slice"}, {"x=input_", "start_indices=begin", "shape=size"}, import_slice);
  t.keras("Pad", {"x", "pad_width", "mode", "constant_values"}, import_pad, "constant mode");
  t.tf({"pad", "compat.v1.pad"}, {"x=tensor", "pad_width=paddings", "mode", "constant_values"},
       import_pad);
  t.keras("ZerosLike", {"x"}, fill_like(0.f));
  t.keras("OnesLike", {"x"}, fill_like(1.f));
  t.keras("FullLike", {"x", "fill_value"}, fill_like(std::nullopt));
  t.tf({"zeros_like"}, {"x=input"}, fill_like(0.f));
  t.tf({"ones_like"}, {"x=input"}, fill_like(1.f));
  t.keras("Argmax", {"x", "axis", "keepdims"}, arg_reduce(ReduceKind::argmax, std::nullopt),
          "one axis");
  t.keras("Argmin", {"x", "axis", "keepdims"}, arg_reduce(ReduceKind::argmin, std::nullopt),
          "one axis");
  t.tf({"math.argmax", "argmax"}, {"x=input", "axis"}, arg_reduce(ReduceKind::argmax, 0));
  t.tf({"math.argmin", "argmin"}, {"x=input", "axis"}, arg_reduce(ReduceKind::argmin, 0));
  t.keras("OneHot", {"x", "num_classes", "axis"}, import_one_hot, "axis -1");
  t.tf({"one_hot"}, {"x=indices", "num_classes=depth", "on_value", "off_value", "axis"},
       import_one_hot);
  t.keras("Triu", {"x", "k"}, triangle(true));
  t.keras("Tril", {"x", "k"}, triangle(false));
  t.keras("Swapaxes", {"x", "axis1", "axis2"}, import_swapaxes);
  t.keras("Moveaxis", {"x", "source", "destination"}, import_moveaxis);
  t.keras("Normalize", {"x", "axis", "order", "epsilon"}, l2_normalize(true), "order 2");
  t.tf({"math.l2_normalize", "nn.l2_normalize"}, {"x", "axis", "epsilon"}, l2_normalize(false));
  t.keras("Dot", {"x1", "x2"}, import_dot, "second operand of rank 1 or 2");
  t.keras("Average", {"x", "axis", "weights"}, import_average, "without weights");
  t.keras("ExtractPatches", {"x", "size", "strides", "dilation_rate", "padding"},
          import_extract_patches, "2-D, channels_last; valid/same");
  t.keras("RGBToGrayscale", {"x"}, import_rgb_to_grayscale, "channels_last");
  t.keras("DotProductAttention", {"query", "key", "value", "bias", "mask", "scale", "is_causal"},
          import_dot_product_attention,
          "(batch, time, heads, dim); mask, scale, is_causal; no bias");
}

}  // namespace krt::keras
