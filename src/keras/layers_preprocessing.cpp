// Preprocessing layers: Normalization, Rescaling, Resizing, CenterCrop, and the random
// augmentation layers, which Keras applies only in training (identities at inference).
#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "keras/layer_importer.h"
#include "keras/layout.h"

namespace krt::keras {

namespace {

// A number, a nested list of numbers, or a serialized numpy array/tensor from the config.
struct ConfigArray {
  Shape shape;
  std::vector<double> values;
};

void flatten_json(const LayerContext& ctx, const io::Json& v, size_t depth, ConfigArray& out,
                  const std::string& key) {
  if (v.is_number()) {
    if (depth != out.shape.size()) ctx.error(str_cat("'", key, "' is a ragged list"));
    out.values.push_back(v.as_number());
    return;
  }
  if (!v.is_array())
    ctx.error(str_cat("'", key, "' should be a number or a list of numbers, found ", v.dump()));
  if (depth == out.shape.size()) {
    if (!out.values.empty()) ctx.error(str_cat("'", key, "' is a ragged list"));
    out.shape.push_back(static_cast<int64_t>(v.size()));
  } else if (depth > out.shape.size() || out.shape[depth] != static_cast<int64_t>(v.size())) {
    ctx.error(str_cat("'", key, "' is a ragged list"));
  }
  for (const io::Json& item : v.items()) flatten_json(ctx, item, depth + 1, out, key);
}

ConfigArray config_array(const LayerContext& ctx, const std::string& key, double fallback) {
  const io::Json* v = ctx.config().find(key);
  ConfigArray out;
  if (!v || v->is_null()) {
    out.values.push_back(fallback);
    return out;
  }
  if (v->is_object()) {  // serialize_keras_object of a numpy array: {"class_name": "__numpy__",
                         // ...}
    const io::Json* config = v->find("config");
    const io::Json* value = config ? config->find("value") : nullptr;
    if (!value) ctx.error(str_cat("'", key, "' has an unexpected form: ", v->dump()));
    v = value;
  }
  flatten_json(ctx, *v, 0, out, key);
  return out;
}

// The element of `a` at full-rank `coords`, with `a` broadcast numpy-style (right-aligned).
double broadcast_at(const ConfigArray& a, const std::vector<int64_t>& coords) {
  const size_t lead = coords.size() - a.shape.size();
  int64_t index = 0;
  for (size_t i = 0; i < a.shape.size(); ++i)
    index = index * a.shape[i] + (a.shape[i] == 1 ? 0 : coords[lead + i]);
  return a.values[index];
}

// Emits y = x * scale[c] + shift[c], c running row-major over `axes`, from per-coordinate
// functions of the full coordinates (0 on the other axes).
template <class ScaleFn, class ShiftFn>
ValueId emit_affine(LayerContext& ctx, const std::vector<int64_t>& axes, ScaleFn scale,
                    ShiftFn shift) {
  const Shape& in = ctx.input_shape();
  std::vector<int64_t> coords(in.size(), 0);
  int64_t channels = 1;
  for (int64_t a : axes) {
    if (in[a] < 0) ctx.error(str_cat("axis ", a, " must have a known size"));
    channels *= in[a];
  }
  Tensor s(DType::f32, {channels}), t(DType::f32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    int64_t rest = c;
    for (size_t i = axes.size(); i-- > 0;) {
      coords[axes[i]] = rest % in[axes[i]];
      rest /= in[axes[i]];
    }
    s.data_as<float>()[c] = static_cast<float>(scale(coords));
    t.data_as<float>()[c] = static_cast<float>(shift(coords));
  }
  ScaleShiftParams p;
  p.axis =
      axes.empty() ? static_cast<int64_t>(in.size()) - 1 : axes[0];  // 1-element weights when empty
  if (axes.size() > 1) p.axes = axes;
  return ctx.emit(OpKind::scale_shift, p, {ctx.input()}, {s, t});
}

// Rescaling: x * scale + offset with numpy broadcasting (scalars or per-channel lists).
std::vector<ValueId> import_rescaling(LayerContext& ctx) {
  ctx.expect_inputs(1);
  ConfigArray scale = config_array(ctx, "scale", 1.0), offset = config_array(ctx, "offset", 0.0);
  const Shape& in = ctx.input_shape();
  const size_t rank = in.size();
  std::vector<int64_t> axes;
  for (const ConfigArray* a : {&scale, &offset}) {
    for (size_t i = 0; i < a->shape.size(); ++i) {
      const int64_t d = a->shape[i];
      if (d == 1) continue;
      const int64_t axis = static_cast<int64_t>(rank) - static_cast<int64_t>(a->shape.size() - i);
      if (axis <= 0)
        ctx.error("scale/offset would broadcast over the batch axis", ErrorCode::unsupported);
      if (in[axis] >= 0 && in[axis] != d)
        ctx.error(str_cat("scale/offset of shape ", shape_to_string(a->shape),
                          " does not broadcast to input ", shape_to_string(in)));
      axes.push_back(axis);
    }
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  auto at = [](const ConfigArray& a) {
    return [&a](const std::vector<int64_t>& c) { return broadcast_at(a, c); };
  };
  return {emit_affine(ctx, axes, at(scale), at(offset))};
}

// Normalization: (x - mean) / max(sqrt(var), 1e-7), or its inverse; mean and variance from the
// config or, after adapt(), from the weights (mean, variance, count).
std::vector<ValueId> import_normalization(LayerContext& ctx) {
  ctx.expect_inputs(1);
  const Shape& in = ctx.input_shape();
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> keep;
  if (ctx.config().has("axis")) {
    for (int64_t a : ctx.config().get_int_list("axis")) {
      if (a < -rank || a >= rank)
        ctx.error(str_cat("axis ", a, " is out of range for an input of rank ", rank));
      if (a < 0) a += rank;
      if (a == 0) ctx.error("keeping the batch axis is not supported", ErrorCode::unsupported);
      keep.push_back(a);
    }
  }
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  Shape kept;
  for (int64_t a : keep) {
    if (in[a] < 0) ctx.error(str_cat("axis ", a, " must have a known size"));
    kept.push_back(in[a]);
  }
  ConfigArray mean, variance;
  if (ctx.config().has("mean")) {
    mean = config_array(ctx, "mean", 0.0);
    variance = config_array(ctx, "variance", 1.0);
    if (mean.shape != variance.shape) ctx.error("mean and variance have different shapes");
    if (mean.shape.size() > keep.size()) ctx.error("mean has more axes than the layer keeps");
    // Keras aligns the mean's dims with the kept axes from the right, then broadcasts.
    for (size_t i = 1; i <= mean.shape.size(); ++i) {
      const int64_t d = mean.shape[mean.shape.size() - i], want = kept[kept.size() - i];
      if (d != 1 && d != want)
        ctx.error(str_cat("mean and variance of shape ", shape_to_string(mean.shape),
                          " do not broadcast to the kept axes, of shape ", shape_to_string(kept)));
    }
  } else {
    for (auto [index, name, out] :
         {std::tuple{0, "mean", &mean}, std::tuple{1, "variance", &variance}}) {
      Tensor w = ctx.weight(index, name, kept);
      out->shape = kept;
      out->values.assign(w.data_as<float>(), w.data_as<float>() + w.size());
    }
  }
  // The mean's dims line up with the kept axes from the right.
  auto value = [&](const ConfigArray& a, const std::vector<int64_t>& coords) {
    std::vector<int64_t> kc;
    for (int64_t k : keep) kc.push_back(coords[k]);
    return broadcast_at(a, kc);
  };
  auto divisor = [&](const std::vector<int64_t>& c) {
    return std::max(static_cast<double>(std::sqrt(static_cast<float>(value(variance, c)))), 1e-7);
  };
  if (ctx.config().get_bool("invert", false))
    return {emit_affine(ctx, keep, divisor,
                        [&](const std::vector<int64_t>& c) { return value(mean, c); })};
  return {emit_affine(
      ctx, keep, [&](const std::vector<int64_t>& c) { return 1.0 / divisor(c); },
      [&](const std::vector<int64_t>& c) { return -value(mean, c) / divisor(c); })};
}

ResizeMethod resize_method(const LayerContext& ctx, const std::string& name) {
  if (name == "bilinear") return ResizeMethod::linear;
  if (name == "nearest") return ResizeMethod::nearest;
  if (name == "bicubic") return ResizeMethod::cubic;
  if (name == "lanczos3") return ResizeMethod::lanczos3;
  if (name == "lanczos5") return ResizeMethod::lanczos5;
  ctx.error("interpolation '" + name + "' is not supported", ErrorCode::unsupported);
}

// Keras's crop_to_aspect_ratio / smart_resize crop: the largest centred window with the
// target's aspect ratio (integer arithmetic as Keras's int(float(...))).
ValueId crop_to_aspect(LayerContext& ctx, ValueId x, int64_t target_h, int64_t target_w) {
  const Shape& s = ctx.graph().values[x].shape;
  const int64_t h = s[1], w = s[2];
  int64_t crop_h =
      static_cast<int64_t>(static_cast<double>(w * target_h) / static_cast<double>(target_w));
  crop_h = std::max<int64_t>(std::min(h, crop_h), 1);
  int64_t crop_w =
      static_cast<int64_t>(static_cast<double>(h * target_w) / static_cast<double>(target_h));
  crop_w = std::max<int64_t>(std::min(w, crop_w), 1);
  const int64_t h0 = (h - crop_h) / 2, w0 = (w - crop_w) / 2;
  if (crop_h == h && crop_w == w) return x;
  SliceParams p{{0, h0, w0, 0}, {0, h - h0 - crop_h, w - w0 - crop_w, 0}};
  return ctx.emit(OpKind::slice, p, {x}, {}, "crop");
}

ValueId emit_resize(LayerContext& ctx, ValueId x, int64_t h, int64_t w, ResizeMethod method,
                    bool antialias) {
  const Shape& s = ctx.graph().values[x].shape;
  if (s[1] == h && s[2] == w) return x;  // jax returns the image untouched
  ResizeParams p;
  p.method = method;
  p.size = {h, w};
  p.antialias = antialias;
  return ctx.emit(OpKind::resize, p, {x});
}

// Image layers take (batch, h, w, c) or channels_first; returns the NHWC input and whether the
// output must go back to channels_first. H and W must be known where `static_hw`.
ValueId image_input(LayerContext& ctx, bool cf, bool static_hw) {
  ctx.expect_inputs(1);
  if (ctx.input_shape().size() != 4)
    ctx.error(str_cat("expects a batch of images (rank 4), got shape ",
                      shape_to_string(ctx.input_shape())),
              ErrorCode::unsupported);
  ValueId x = cf ? to_channels_last(ctx, ctx.input()) : ctx.input();
  const Shape& s = ctx.graph().values[x].shape;
  if (static_hw && (s[1] < 0 || s[2] < 0))
    ctx.error("needs images of a known height and width", ErrorCode::unsupported);
  return x;
}

std::vector<ValueId> import_resizing(LayerContext& ctx) {
  const int64_t h = ctx.config().get_int("height"), w = ctx.config().get_int("width");
  if (h <= 0 || w <= 0) ctx.error("height and width must be positive");
  const ResizeMethod method =
      resize_method(ctx, ctx.config().get_string("interpolation", "bilinear"));
  const bool crop = ctx.config().get_bool("crop_to_aspect_ratio", false);
  const bool pad = ctx.config().get_bool("pad_to_aspect_ratio", false);
  if (crop && pad) ctx.error("crop_to_aspect_ratio and pad_to_aspect_ratio are both set");
  const std::string fill_mode = ctx.config().get_string("fill_mode", "constant");
  if (pad && fill_mode != "constant")
    ctx.error("fill_mode '" + fill_mode + "' is not supported", ErrorCode::unsupported);
  const bool cf = is_channels_first(ctx);
  ValueId x = image_input(ctx, cf, crop || pad);
  if (crop) x = crop_to_aspect(ctx, x, h, w);
  if (pad) {
    // Keras pads int((pad - size) / 2) on both sides of one axis, height first.
    const Shape& s = ctx.graph().values[x].shape;
    const int64_t pad_h = std::max(
        s[1], static_cast<int64_t>(static_cast<double>(s[2] * h) / static_cast<double>(w)));
    const int64_t pad_w = std::max(
        s[2], static_cast<int64_t>(static_cast<double>(s[1] * w) / static_cast<double>(h)));
    const int64_t h0 = (pad_h - s[1]) / 2, w0 = (pad_w - s[2]) / 2;
    if (h0 > 0 || w0 > 0) {
      PadParams p{{0, h0, h0 > 0 ? 0 : w0, 0},
                  {0, h0, h0 > 0 ? 0 : w0, 0},
                  static_cast<float>(ctx.config().get_float("fill_value", 0.0))};
      x = ctx.emit(OpKind::pad, p, {x}, {}, "pad");
    }
  }
  x = emit_resize(ctx, x, h, w, method, ctx.config().get_bool("antialias", false));
  if (x == ctx.input()) return {ctx.emit(OpKind::identity, IdentityParams{}, {x})};
  return {cf ? to_channels_first(ctx, x) : x};
}

// CenterCrop: a centred slice, or (when the input is smaller on an axis) Keras's smart_resize:
// the largest centred window of the target's aspect ratio, resized bilinearly.
std::vector<ValueId> import_center_crop(LayerContext& ctx) {
  const int64_t h = ctx.config().get_int("height"), w = ctx.config().get_int("width");
  if (h <= 0 || w <= 0) ctx.error("height and width must be positive");
  const bool cf = is_channels_first(ctx);
  ValueId x = image_input(ctx, cf, true);
  const Shape& s = ctx.graph().values[x].shape;
  const int64_t dh = s[1] - h, dw = s[2] - w;
  if (dh >= 0 && dw >= 0) {
    if (dh > 0 || dw > 0) {
      SliceParams p{{0, dh / 2, dw / 2, 0}, {0, dh - dh / 2, dw - dw / 2, 0}};
      x = ctx.emit(OpKind::slice, p, {x}, {}, "crop");
    }
  } else {
    x = crop_to_aspect(ctx, x, h, w);
    x = emit_resize(ctx, x, h, w, ResizeMethod::linear, false);
  }
  if (x == ctx.input()) return {ctx.emit(OpKind::identity, IdentityParams{}, {x})};
  return {cf ? to_channels_first(ctx, x) : x};
}

// RandomCrop at inference: Keras 3 returns the input, as its other augmentation layers do;
// tf.keras 2.x took the largest centred window with the target's aspect ratio and resized it
// bilinearly to the target (smart_resize), as Resizing with crop_to_aspect_ratio does.
std::vector<ValueId> import_random_crop(LayerContext& ctx) {
  if (ctx.file().keras_major >= 3)
    return {ctx.emit(OpKind::identity, IdentityParams{}, {ctx.input()})};
  const int64_t h = ctx.config().get_int("height"), w = ctx.config().get_int("width");
  if (h <= 0 || w <= 0) ctx.error("height and width must be positive");
  const bool cf = is_channels_first(ctx);
  ValueId x = image_input(ctx, cf, true);
  x = emit_resize(ctx, crop_to_aspect(ctx, x, h, w), h, w, ResizeMethod::linear, false);
  if (x == ctx.input()) return {ctx.emit(OpKind::identity, IdentityParams{}, {x})};
  return {cf ? to_channels_first(ctx, x) : x};
}

std::vector<ValueId> import_inference_identity(LayerContext& ctx) {
  ctx.expect_inputs(1);
  return {ctx.emit(OpKind::identity, IdentityParams{}, {ctx.input()})};
}

}  // namespace

void register_preprocessing_layers(LayerRegistry& r) {
  r.add("Rescaling", import_rescaling,
        "scale and offset: scalars, lists or arrays, numpy broadcasting");
  r.add("Normalization", import_normalization,
        "mean/variance from the config or adapt() weights; axis int, list or None; invert");
  r.add("Resizing", import_resizing,
        "bilinear, nearest, bicubic, lanczos3, lanczos5 (jax.image.resize); antialias, "
        "crop_to_aspect_ratio, "
        "pad_to_aspect_ratio (constant fill), channels_first");
  r.add("CenterCrop", import_center_crop,
        "crop, or smart_resize when the input is smaller; channels_first");
  r.add("RandomCrop", import_random_crop,
        "identity at inference in Keras 3; Keras 2 files: smart_resize to (height, width)");
  // Keras 3 transforms images only when training=True: at inference they return the input.
  for (const char* identity : {"RandomFlip",
                               "RandomRotation",
                               "RandomZoom",
                               "RandomTranslation",
                               "RandomContrast",
                               "RandomBrightness",
                               "RandomHue",
                               "RandomSaturation",
                               "RandomSharpness",
                               "RandomShear",
                               "RandomGrayscale",
                               "RandomColorJitter",
                               "RandomColorDegeneration",
                               "RandomInvert",
                               "RandomPerspective",
                               "RandomPosterization",
                               "RandomErasing",
                               "RandomGaussianBlur",
                               "RandomElasticTransform",
                               "Solarization",
                               "AugMix",
                               "RandAugment",
                               "MixUp",
                               "CutMix"})
    r.add(identity, import_inference_identity,
          "identity at inference (Keras applies it only in training)");
}

}  // namespace krt::keras
