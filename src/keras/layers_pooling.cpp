// Pooling, global pooling, zero padding, cropping and up-sampling layers (1D, 2D, 3D).
#include "core/check.h"
#include "keras/layer_importer.h"
#include "keras/layout.h"

namespace krt::keras {

namespace {

void expect_rank(const LayerContext& ctx, size_t spatial_rank) {
  ctx.expect_inputs(1);
  if (ctx.input_shape().size() != spatial_rank + 2)
    ctx.error(str_cat("expects an input of rank ", spatial_rank + 2, ", got shape ",
                      shape_to_string(ctx.input_shape())));
}

LayerImportFn pooling(size_t rank, PoolKind kind) {
  return [rank, kind](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    PoolParams p;
    p.kind = kind;
    // Keras 1 wrote pool_length/stride for 1D pooling.
    const char* size_key = ctx.config().has("pool_length") ? "pool_length" : "pool_size";
    p.pool_size = ctx.config().get_ints(size_key, rank);
    const char* stride_key = ctx.config().has("stride") ? "stride" : "strides";
    p.strides =
        ctx.config().has(stride_key) ? ctx.config().get_ints(stride_key, rank) : p.pool_size;
    for (size_t i = 0; i < rank; ++i)
      if (p.pool_size[i] <= 0 || p.strides[i] <= 0)
        ctx.error("pool_size and strides must be positive");
    std::string padding =
        ctx.config().get_string("padding", ctx.config().get_string("border_mode", "valid"));
    if (padding == "same")
      p.padding = Padding::same;
    else if (padding != "valid")
      ctx.error("padding '" + padding + "' is not supported", ErrorCode::unsupported);
    bool cf = is_channels_first(ctx);
    ValueId x = cf ? to_channels_last(ctx, ctx.input()) : ctx.input();
    ValueId y = ctx.emit(OpKind::pool, p, {x});
    return {cf ? to_channels_first(ctx, y) : y};
  };
}

LayerImportFn global_pooling(size_t rank, PoolKind kind) {
  return [rank, kind](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    GlobalPoolParams p{kind, ctx.config().get_bool("keepdims", false)};
    bool cf = is_channels_first(ctx);
    ValueId x = cf ? to_channels_last(ctx, ctx.input()) : ctx.input();
    ValueId y = ctx.emit(OpKind::global_pool, p, {x});
    return {cf && p.keepdims ? to_channels_first(ctx, y) : y};
  };
}

// Keras's padding/cropping argument: an int, one int per spatial axis (symmetric), or a
// (before, after) pair per spatial axis. 1D layers take an int or one (before, after) pair.
std::vector<std::pair<int64_t, int64_t>> parse_amounts(const LayerContext& ctx, const char* key,
                                                       size_t rank) {
  const io::Json* v = ctx.config().find(key);
  if (!v) ctx.error(str_cat("config has no '", key, "'"));
  std::string where = ctx.config().context() + ": '" + key + "'";
  std::vector<std::pair<int64_t, int64_t>> out;
  if (v->kind() == io::Json::Kind::number) {
    int64_t n = json_int(*v, where);
    out.assign(rank, {n, n});
  } else if (v->kind() == io::Json::Kind::array && rank == 1 && v->size() == 2 &&
             (*v)[0].kind() == io::Json::Kind::number) {
    out.push_back({json_int((*v)[0], where), json_int((*v)[1], where)});
  } else if (v->kind() == io::Json::Kind::array && v->size() == rank) {
    for (const io::Json& item : v->items()) {
      if (item.kind() == io::Json::Kind::number) {
        int64_t n = json_int(item, where);
        out.push_back({n, n});
      } else if (item.kind() == io::Json::Kind::array && item.size() == 2) {
        out.push_back({json_int(item[0], where), json_int(item[1], where)});
      } else {
        ctx.error(str_cat("'", key, "' has an unexpected form: ", v->dump()));
      }
    }
  } else {
    ctx.error(str_cat("'", key, "' has an unexpected form: ", v->dump()));
  }
  for (auto [a, b] : out)
    if (a < 0 || b < 0) ctx.error(str_cat("'", key, "' must not be negative: ", v->dump()));
  return out;
}

// Padding or cropping amounts as full-rank (before, after) vectors: zero on the batch and
// channel axes, the config's amounts on the spatial axes of the layer's data format.
std::pair<std::vector<int64_t>, std::vector<int64_t>> spatial_amounts(const LayerContext& ctx,
                                                                      const char* key,
                                                                      size_t rank) {
  auto amounts = parse_amounts(ctx, key, rank);
  std::vector<int64_t> before(rank + 2, 0), after(rank + 2, 0);
  size_t first = is_channels_first(ctx) ? 2 : 1;
  for (size_t i = 0; i < rank; ++i) {
    before[first + i] = amounts[i].first;
    after[first + i] = amounts[i].second;
  }
  return {before, after};
}

LayerImportFn zero_padding(size_t rank) {
  return [rank](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    auto [before, after] = spatial_amounts(ctx, "padding", rank);
    return {ctx.emit(OpKind::pad, PadParams{before, after, 0.f}, {ctx.input()})};
  };
}

LayerImportFn cropping(size_t rank) {
  return [rank](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    auto [before, after] = spatial_amounts(ctx, "cropping", rank);
    return {ctx.emit(OpKind::slice, SliceParams{before, after}, {ctx.input()})};
  };
}

LayerImportFn upsampling(size_t rank) {
  return [rank](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    std::string interpolation = ctx.config().get_string("interpolation", "nearest");
    const char* key = ctx.config().has("length") ? "length" : "size";  // Keras 1 UpSampling1D
    UpsampleParams p{ctx.config().get_ints(key, rank)};
    for (int64_t f : p.factors)
      if (f <= 0) ctx.error("up-sampling factors must be positive");
    bool cf = is_channels_first(ctx);
    ValueId x = cf ? to_channels_last(ctx, ctx.input()) : ctx.input();
    ValueId y;
    if (interpolation == "nearest") {
      y = ctx.emit(OpKind::upsample, p, {x});
    } else {
      // Keras 3 calls ops.image.resize (jax.image.resize: half-pixel centres, no antialias).
      ResizeParams rp;
      if (interpolation == "bilinear")
        rp.method = ResizeMethod::linear;
      else if (interpolation == "bicubic")
        rp.method = ResizeMethod::cubic;
      else if (interpolation == "lanczos3")
        rp.method = ResizeMethod::lanczos3;
      else if (interpolation == "lanczos5")
        rp.method = ResizeMethod::lanczos5;
      else
        ctx.error("interpolation '" + interpolation + "' is not supported", ErrorCode::unsupported);
      rp.factors = p.factors;
      y = ctx.emit(OpKind::resize, rp, {x});
    }
    return {cf ? to_channels_first(ctx, y) : y};
  };
}

// Adaptive pooling: output cell i of a spatial axis of length L pools input [floor(i*L/n),
// ceil((i+1)*L/n)) (PyTorch's windows, which Keras follows). Max and mean over a box are both
// separable, so each spatial axis is pooled in turn: one slice and one reduction per output
// cell, concatenated.
LayerImportFn adaptive_pooling(size_t rank, ReduceKind kind) {
  return [rank, kind](LayerContext& ctx) -> std::vector<ValueId> {
    expect_rank(ctx, rank);
    const std::vector<int64_t> out = ctx.config().get_ints("output_size", rank);
    const bool cf = is_channels_first(ctx);
    ValueId x = cf ? to_channels_last(ctx, ctx.input()) : ctx.input();
    for (size_t a = 0; a < rank; ++a) {
      const int64_t axis = static_cast<int64_t>(a) + 1;
      const int64_t len = ctx.graph().values[x].shape[axis];
      const int64_t n = out[a];
      if (n <= 0) ctx.error(str_cat("output_size must be positive, found ", n));
      if (len < 0)
        ctx.error("adaptive pooling needs spatial sizes known at load time",
                  ErrorCode::unsupported);
      if (len == n) continue;  // windows of one cell
      std::vector<ValueId> cells;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t start = i * len / n, end = ((i + 1) * len + n - 1) / n;
        std::vector<int64_t> before(rank + 2, 0), after(rank + 2, 0);
        before[axis] = start;
        after[axis] = len - end;
        const std::string cell = str_cat("axis", axis, "_", i);
        ValueId w = start == 0 && end == len ? x
                                             : ctx.emit(OpKind::slice, SliceParams{before, after},
                                                        {x}, {}, cell + "_window");
        cells.push_back(ctx.emit(OpKind::reduce, ReduceParams{kind, {axis}, true}, {w}, {}, cell));
      }
      x = cells.size() == 1
              ? cells[0]
              : ctx.emit(OpKind::concat, ConcatParams{axis}, cells, {}, str_cat("axis", axis));
    }
    if (x == ctx.input()) return {ctx.emit(OpKind::identity, IdentityParams{}, {x})};
    return {cf ? to_channels_first(ctx, x) : x};
  };
}

}  // namespace

void register_pooling_layers(LayerRegistry& r) {
  const char* pool_notes = "pool_size, strides, valid/same, channels_first";
  for (size_t rank = 1; rank <= 3; ++rank) {
    std::string d = std::to_string(rank) + "D";
    r.add("MaxPooling" + d, pooling(rank, PoolKind::max), pool_notes);
    r.add("AveragePooling" + d, pooling(rank, PoolKind::average), pool_notes);
    r.alias("MaxPool" + d, "MaxPooling" + d);
    r.alias("AvgPool" + d, "AveragePooling" + d);
    r.add("GlobalMaxPooling" + d, global_pooling(rank, PoolKind::max), "keepdims, channels_first");
    r.add("GlobalAveragePooling" + d, global_pooling(rank, PoolKind::average),
          "keepdims, channels_first");
    r.alias("GlobalMaxPool" + d, "GlobalMaxPooling" + d);
    r.alias("GlobalAvgPool" + d, "GlobalAveragePooling" + d);
    r.add("ZeroPadding" + d, zero_padding(rank), "symmetric or per-side padding, channels_first");
    r.add("Cropping" + d, cropping(rank), "symmetric or per-side cropping, channels_first");
    r.add("AdaptiveAveragePooling" + d, adaptive_pooling(rank, ReduceKind::mean),
          "output_size, channels_first");
    r.add("AdaptiveMaxPooling" + d, adaptive_pooling(rank, ReduceKind::max),
          "output_size, channels_first");
    r.add("UpSampling" + d, upsampling(rank),
          "nearest; 2D also bilinear, bicubic, lanczos3/5; channels_first");
  }
}

}  // namespace krt::keras
