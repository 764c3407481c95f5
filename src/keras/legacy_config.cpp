#include "keras/legacy_config.h"

#include <utility>

#include "core/check.h"
#include "keras/model_builder.h"

namespace krt::keras {

namespace {

using io::Json;
using Members = std::vector<std::pair<std::string, Json>>;

// Keras 1 layer classes that Keras 2 renamed; the options are renamed below.
const std::pair<const char*, const char*> kRenamedClasses[] = {
    {"Convolution1D", "Conv1D"},
    {"Convolution2D", "Conv2D"},
    {"Convolution3D", "Conv3D"},
    {"AtrousConvolution1D", "Conv1D"},
    {"AtrousConvolution2D", "Conv2D"},
    {"Deconvolution2D", "Conv2DTranspose"},
    {"Deconvolution3D", "Conv3DTranspose"},
    {"SeparableConvolution2D", "SeparableConv2D"},
    {"SeparableConvolution1D", "SeparableConv1D"},
};

// Keras 1 layers with no Keras 2 equivalent.
const char* const kRemovedClasses[] = {"Highway", "MaxoutDense", "TimeDistributedDense", "SReLU",
                                       "CosineDense"};

// Options renamed in place (value unchanged), when the new name is not already there.
const std::pair<const char*, const char*> kRenamedKeys[] = {
    {"input_dtype", "dtype"},         {"nb_filter", "filters"},
    {"subsample", "strides"},         {"border_mode", "padding"},
    {"atrous_rate", "dilation_rate"}, {"inner_activation", "recurrent_activation"},
    {"dropout_W", "dropout"},         {"dropout_U", "recurrent_dropout"},
    {"concat_axis", "axis"},          {"dot_axes", "axes"},
    {"init", "kernel_initializer"},   {"inner_init", "recurrent_initializer"},
};

// Options renamed in place when the value is a single number that becomes a 1-element list.
const std::pair<const char*, const char*> kRenamedScalarKeys[] = {{"filter_length", "kernel_size"},
                                                                  {"subsample_length", "strides"},
                                                                  {"pool_length", "pool_size"}};

bool is_recurrent(const std::string& c) { return c == "LSTM" || c == "GRU" || c == "SimpleRNN"; }

class Normalizer {
 public:
  explicit Normalizer(const FileInfo& file) : file_(file) {}

  Json model(const Json& m, int depth) {
    if (depth > 32)
      fail(ErrorCode::limit_exceeded, file_.display_name, ": models are nested too deeply");
    if (m.is_array()) return layer_list(m, depth);  // Keras <= 2.2 Sequential: a bare list
    if (!m.is_object()) return m;
    Members out;
    const Json* cls = m.find("class_name");
    bool sequential = cls && cls->is_string() && cls->as_string() == "Sequential";
    for (const auto& [key, value] : m.members()) {
      if (key != "config") {
        out.emplace_back(key, value);
      } else if (value.is_array()) {
        out.emplace_back(key, layer_list(value, depth, sequential));
      } else if (value.is_object()) {
        Members config;
        for (const auto& [k, v] : value.members())
          config.emplace_back(k,
                              k == "layers" && v.is_array() ? layer_list(v, depth, sequential) : v);
        out.emplace_back(key, Json::object(std::move(config)));
      } else {
        out.emplace_back(key, value);
      }
    }
    return Json::object(std::move(out));
  }

 private:
  Json layer_list(const Json& layers, int depth, bool sequential = true) {
    std::vector<Json> out;
    for (size_t i = 0; i < layers.size(); ++i)
      out.push_back(layer(layers[i], depth, sequential && i == 0));
    return Json::array(std::move(out));
  }

  std::string context(const Json& config, const std::string& cls) const {
    const Json* name = config.is_object() ? config.find("name") : nullptr;
    std::string version =
        file_.keras_version.empty() ? "" : " (written by Keras " + file_.keras_version + ")";
    return str_cat(file_.display_name, ": layer '",
                   name && name->is_string() ? name->as_string() : "?", "' (", cls, ")", version);
  }

  // One layer entry {"class_name", "config", ...}: class and options renamed, wrapped layers
  // and nested models normalized too. `first` marks the first layer of a Sequential model,
  // which carries the model's input shape.
  Json layer(const Json& entry, int depth, bool first) {
    const Json* cls_json = entry.is_object() ? entry.find("class_name") : nullptr;
    const Json* config = entry.is_object() ? entry.find("config") : nullptr;
    if (!cls_json || !cls_json->is_string() || !config || !config->is_object()) return entry;
    const std::string cls = cls_json->as_string();
    if (is_model_class(cls)) return model(entry, depth + 1);
    for (const char* removed : kRemovedClasses)
      if (cls == removed)
        fail(ErrorCode::unsupported, context(*config, cls),
             ": a Keras 1 layer that Keras 2 removed; kerasrt does not implement it");
    std::string new_cls = modern_class_name(cls);
    Json new_config = options(cls, new_cls, *config, depth, first);
    Members out;
    for (const auto& [key, value] : entry.members()) {
      if (key == "class_name")
        out.emplace_back(key, Json::string(new_cls));
      else if (key == "config")
        out.emplace_back(key, new_config);
      else
        out.emplace_back(key, value);
    }
    return Json::object(std::move(out));
  }

  // A Keras 1 Merge layer becomes the Keras 2 merge layer of its mode.
  std::string merge_class(const Json& config, const std::string& cls) const {
    if (config.find("layers") && !config.find("layers")->is_null())
      fail(ErrorCode::unsupported, context(config, cls),
           ": a Keras 1 Merge of nested models inside a Sequential model is not supported; use the "
           "functional form");
    const Json* mode = config.find("mode");
    std::string m = mode && mode->is_string() ? mode->as_string() : "sum";
    const Json* mode_type = config.find("mode_type");
    if ((mode_type && mode_type->is_string() && mode_type->as_string() != "raw") ||
        (mode && !mode->is_string()))
      fail(ErrorCode::unsupported, context(config, cls),
           ": a Merge with a Python function as its mode holds code, which kerasrt never executes");
    if (m == "sum") return "Add";
    if (m == "mul") return "Multiply";
    if (m == "concat") return "Concatenate";
    if (m == "ave") return "Average";
    if (m == "max") return "Maximum";
    if (m == "dot" || m == "cos") return "Dot";
    fail(ErrorCode::unsupported, context(config, cls), ": Merge mode '", m, "' is not supported");
  }

  Json options(const std::string& old_cls, std::string& cls, const Json& config, int depth,
               bool first) {
    if (cls == "Merge") cls = merge_class(config, old_cls);
    Members out;
    auto has = [&](std::string_view key) {
      for (const auto& m : out)
        if (m.first == key) return true;
      return config.find(key) != nullptr;
    };
    const Json* nb_row = config.find("nb_row");
    const Json* nb_col = config.find("nb_col");
    for (const auto& [key, value] : config.members()) {
      std::string k = key;
      Json v = value;
      for (const auto& [from, to] : kRenamedKeys)
        if (key == from && !config.find(to)) k = to;
      for (const auto& [from, to] : kRenamedScalarKeys)
        if (key == from && !config.find(to)) {
          k = to;
          if (value.is_number()) v = Json::array({value});
        }
      if (key == "output_dim" && (cls == "Dense" || is_recurrent(cls)) && !config.find("units"))
        k = "units";
      if (key == "bias" && value.is_bool() && !config.find("use_bias")) k = "use_bias";
      if (key == "p" && (cls.find("Dropout") != std::string::npos) && !config.find("rate"))
        k = "rate";
      if (key == "sigma" && cls == "GaussianNoise" && !config.find("stddev")) k = "stddev";
      if (key == "length" && cls == "UpSampling1D" && !config.find("size")) k = "size";
      if (key == "stride" && cls.find("Pooling1D") != std::string::npos &&
          !config.find("strides")) {
        k = "strides";
        if (value.is_number()) v = Json::array({value});
      }
      if (key == "mode" && old_cls == "Merge") {
        if (value.is_string() && value.as_string() == "cos")
          out.emplace_back("normalize", Json::boolean(true));
        continue;
      }
      if (key == "dim_ordering") {
        if (config.find("data_format")) continue;
        k = "data_format";
        std::string d = value.is_string() ? value.as_string() : "tf";
        if (d == "th")
          v = Json::string("channels_first");
        else if (d == "tf" || d == "default")
          v = Json::string("channels_last");
        else
          fail(ErrorCode::unsupported, context(config, old_cls), ": dim_ordering '", d,
               "' is not supported");
      }
      if (k == "padding" && value.is_string() && value.as_string() == "full")
        fail(ErrorCode::unsupported, context(config, old_cls),
             ": border_mode 'full' (Keras 1) is not supported");
      if (key == "mode" && cls == "BatchNormalization") {
        if (value.is_number() && value.as_number() == 0) continue;
        fail(ErrorCode::unsupported, context(config, old_cls), ": BatchNormalization mode ",
             value.dump(),
             " (Keras 1) normalizes with the statistics of each batch or sample, which kerasrt "
             "does not implement; only mode 0 is supported");
      }
      if ((key == "nb_row" || key == "nb_col") && !config.find("kernel_size")) {
        if (key == "nb_row" && nb_col)
          out.emplace_back("kernel_size", Json::array({*nb_row, *nb_col}));
        continue;
      }
      if ((key == "layer" || key == "backward_layer") && value.is_object())
        v = layer(value, depth, false);
      out.emplace_back(std::move(k), std::move(v));
    }
    // Keras 1 Conv3D: kernel_dim1..3.
    if (const Json* d1 = config.find("kernel_dim1"); d1 && !has("kernel_size")) {
      const Json* d2 = config.find("kernel_dim2");
      const Json* d3 = config.find("kernel_dim3");
      if (d2 && d3) out.emplace_back("kernel_size", Json::array({*d1, *d2, *d3}));
    }
    if (first && !config.find("batch_input_shape") && !config.find("batch_shape")) {
      if (std::optional<Json> shape = input_shape_of(config))
        out.emplace_back("batch_input_shape", *shape);
    }
    return Json::object(std::move(out));
  }

  // The first layer of an old Sequential may give its input as input_shape, or as Keras 1's
  // input_dim (+ input_length) instead of batch_input_shape.
  static std::optional<Json> input_shape_of(const Json& config) {
    std::vector<Json> dims{Json()};
    if (const Json* s = config.find("input_shape"); s && s->is_array()) {
      for (const Json& d : s->items()) dims.push_back(d);
      return Json::array(std::move(dims));
    }
    const Json* input_dim = config.find("input_dim");
    const Json* input_length = config.find("input_length");
    const Json* cls_units = config.find("output_dim");
    if (!input_dim || !input_dim->is_number()) return std::nullopt;
    bool embedding = cls_units && config.find("mask_zero");
    if (embedding) {  // Embedding: input_dim is the vocabulary, the input is (batch, length)
      dims.push_back(input_length ? *input_length : Json());
      return Json::array(std::move(dims));
    }
    if (input_length) dims.push_back(*input_length);
    dims.push_back(*input_dim);
    return Json::array(std::move(dims));
  }

  const FileInfo& file_;
};

}  // namespace

std::string modern_class_name(const std::string& class_name) {
  for (const auto& [from, to] : kRenamedClasses)
    if (class_name == from) return to;
  return class_name;
}

io::Json normalize_model_config(io::Json model, const FileInfo& file) {
  if (file.keras_major >= 3) return model;  // Keras 3 writes only the current spelling
  return Normalizer(file).model(model, 0);
}

}  // namespace krt::keras
