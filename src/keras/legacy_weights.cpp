#include "keras/legacy_weights.h"

#include <map>
#include <numeric>

#include "core/check.h"
#include "keras/model_builder.h"

namespace krt::keras {

namespace {

using io::Json;

std::string last_component(const std::string& name) {
  size_t slash = name.rfind('/');
  std::string s = slash == std::string::npos ? name : name.substr(slash + 1);
  size_t colon = s.rfind(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

bool has_component(const std::string& name, const std::string& component) {
  size_t start = 0;
  while (start < name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) return false;  // the last component is the variable itself
    if (name.compare(start, slash - start, component) == 0 && slash - start == component.size())
      return true;
    start = slash + 1;
  }
  return false;
}

// out.shape[i] = t.shape[perm[i]], for float tensors of rank <= 5.
Tensor permuted(const Tensor& t_any, const std::vector<int>& perm) {
  Tensor t = t_any.cast(DType::f32);
  const int rank = t.rank();
  Shape out_shape(rank);
  for (int i = 0; i < rank; ++i) out_shape[i] = t.shape()[perm[i]];
  Tensor out(DType::f32, out_shape);
  std::vector<int64_t> in_strides(rank, 1);
  for (int i = rank - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * t.shape()[i + 1];
  std::vector<int64_t> index(rank, 0);
  const float* src = t.data_as<float>();
  float* dst = out.data_as<float>();
  for (int64_t n = 0; n < out.size(); ++n) {
    int64_t offset = 0;
    for (int i = 0; i < rank; ++i) offset += index[i] * in_strides[perm[i]];
    dst[n] = src[offset];
    for (int i = rank - 1; i >= 0; --i) {
      if (++index[i] < out_shape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

// Keras 2's conv_utils.convert_kernel: reverses every axis but the last two (the spatial ones).
Tensor spatially_flipped(const Tensor& t_any) {
  Tensor t = t_any.cast(DType::f32);
  const int rank = t.rank();
  Tensor out(DType::f32, t.shape());
  const Shape& s = t.shape();
  std::vector<int64_t> strides(rank, 1);
  for (int i = rank - 2; i >= 0; --i) strides[i] = strides[i + 1] * s[i + 1];
  std::vector<int64_t> index(rank, 0);
  const float* src = t.data_as<float>();
  float* dst = out.data_as<float>();
  for (int64_t n = 0; n < t.size(); ++n) {
    int64_t offset = 0;
    for (int i = 0; i < rank; ++i)
      offset += (i < rank - 2 ? s[i] - 1 - index[i] : index[i]) * strides[i];
    dst[n] = src[offset];
    for (int i = rank - 1; i >= 0; --i) {
      if (++index[i] < s[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

// Joins tensors that agree on all but the last axis along the last axis.
Tensor concat_last(const std::vector<Tensor>& parts_any, const std::string& context) {
  std::vector<Tensor> parts;
  for (const Tensor& p : parts_any) parts.push_back(p.cast(DType::f32));
  Shape shape = parts.at(0).shape();
  if (shape.empty()) fail(ErrorCode::invalid_file, context, ": a gate weight is a scalar");
  int64_t last = 0;
  for (const Tensor& p : parts) {
    Shape lead(p.shape().begin(), p.shape().end() - (p.rank() ? 1 : 0));
    if (p.rank() != static_cast<int>(shape.size()) || lead != Shape(shape.begin(), shape.end() - 1))
      fail(ErrorCode::invalid_file, context, ": gate weights of shapes ", shape_to_string(shape),
           " and ", shape_to_string(p.shape()), " cannot be joined");
    last += p.shape().back();
  }
  const int64_t rows = shape_elements(shape) / shape.back();
  shape.back() = last;
  Tensor out(DType::f32, shape);
  float* dst = out.data_as<float>();
  int64_t col = 0;
  for (const Tensor& p : parts) {
    const int64_t w = p.shape().back();
    const float* src = p.data_as<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < w; ++j) dst[r * last + col + j] = src[r * w + j];
    col += w;
  }
  return out;
}

struct LayerDesc {
  std::string cls;
  const Json* config = nullptr;
};

// What the converter knows of the file: each layer's class and options, by layer name.
class Converter {
 public:
  Converter(const Json& model, FileInfo file) : model_(model), file_(std::move(file)) {
    index_model(model_, 0);
  }

  const FileInfo& file() const { return file_; }

  std::vector<NamedArray> convert(const std::string& layer_name,
                                  std::vector<NamedArray> arrays) const {
    auto it = layers_.find(layer_name);
    if (it == layers_.end() || arrays.empty()) return arrays;
    const LayerDesc& d = it->second;
    if (is_model_class(d.cls)) return arrays;  // its layers are converted when reached
    if (d.cls == "Bidirectional" && keras1())
      return convert_bidirectional(layer_name, d, std::move(arrays));
    if (d.cls == "TimeDistributed" || d.cls == "Bidirectional") {
      const Json* inner = d.config->find("layer");
      LayerDesc inner_desc = describe(inner);
      if (inner_desc.config)
        return convert_as(inner_desc, name_of(*inner, ""), std::move(arrays), layer_name);
      return arrays;
    }
    return convert_as(d, layer_name, std::move(arrays), layer_name);
  }

 private:
  bool keras1() const { return file_.keras_major <= 1; }

  static std::string name_of(const Json& entry, const std::string& fallback) {
    const Json* n = entry.find("name");
    if (!n || !n->is_string()) {
      const Json* c = entry.find("config");
      n = c && c->is_object() ? c->find("name") : nullptr;
    }
    return n && n->is_string() ? n->as_string() : fallback;
  }

  static LayerDesc describe(const Json* entry) {
    LayerDesc d;
    if (!entry || !entry->is_object()) return d;
    const Json* cls = entry->find("class_name");
    const Json* config = entry->find("config");
    if (cls && cls->is_string()) d.cls = cls->as_string();
    if (config && (config->is_object() || config->is_array())) d.config = config;
    return d;
  }

  void index_model(const Json& model, int depth) {
    if (depth > 32) return;
    const Json* layers = &model;
    if (model.is_object()) {
      const Json* config = model.find("config");
      if (!config) return;
      layers = config->is_array() ? config : config->find("layers");
    }
    if (!layers || !layers->is_array()) return;
    for (const Json& entry : layers->items()) {
      LayerDesc d = describe(&entry);
      if (!d.config) continue;
      layers_[name_of(entry, "")] = d;
      if (is_model_class(d.cls)) index_model(entry, depth + 1);
    }
  }

  std::vector<NamedArray> convert_bidirectional(const std::string& layer_name, const LayerDesc& d,
                                                std::vector<NamedArray> arrays) const {
    const Json* inner = d.config->find("layer");
    const Json* backward = d.config->find("backward_layer");
    LayerDesc fwd = describe(inner),
              bwd = describe(backward && backward->is_object() ? backward : inner);
    if (!fwd.config || arrays.size() % 2 != 0) return arrays;
    std::string base = name_of(*inner, "rnn");
    const size_t half = arrays.size() / 2;
    std::vector<NamedArray> f(arrays.begin(), arrays.begin() + half),
        b(arrays.begin() + half, arrays.end());
    // Keras 1 names the copies "forward_<name>" and "backward_<name>"; the importer finds
    // them as path components.
    std::vector<NamedArray> out;
    for (auto& [prefix, desc, part] :
         {std::tuple{"forward_", fwd, f}, std::tuple{"backward_", bwd, b}}) {
      std::string sub = prefix + base;
      for (NamedArray& a : convert_as(desc, sub, part, layer_name))
        out.push_back({sub + "/" + a.name, a.value});
    }
    return out;
  }

  // Converts the arrays of one layer of class d.cls whose Keras 1 weight names start with
  // `prefix` + "_".
  std::vector<NamedArray> convert_as(const LayerDesc& d, const std::string& prefix,
                                     std::vector<NamedArray> arrays,
                                     const std::string& layer_name) const {
    const std::string context =
        str_cat(file_.display_name, ": layer '", layer_name, "' (", d.cls, ", written by Keras ",
                file_.keras_version.empty() ? "?" : file_.keras_version, ")");
    LayerConfig config(*d.config, context);
    if (keras1()) {
      for (NamedArray& a : arrays) a.name = keras2_name(d.cls, prefix, a.name);
      if (d.cls == "LSTM" && arrays.size() == 12)
        arrays = join_gates(arrays, {0, 6, 3, 9}, context);  // i,c,f,o -> i,f,c,o
      if (d.cls == "GRU" && arrays.size() == 9) arrays = join_gates(arrays, {0, 3, 6}, context);
      if (d.cls == "SimpleRNN" && arrays.size() == 3)
        arrays = {{"kernel", arrays[0].value},
                  {"recurrent_kernel", arrays[1].value},
                  {"bias", arrays[2].value}};
      bool channels_first = config.get_string("data_format", "channels_last") == "channels_first";
      Tensor& k = arrays[0].value;
      if (d.cls == "Conv1D" && k.rank() == 4) {
        // (length, 1, channels, filters); Keras 1.1 wrote (filters, channels, length, 1).
        if (k.shape()[1] != 1 && k.shape()[3] == 1) k = permuted(k, {2, 3, 1, 0});
        if (k.shape()[1] != 1)
          fail(ErrorCode::invalid_file, context, ": kernel has shape ", shape_to_string(k.shape()),
               ", expected (length, 1, channels, filters)");
        k = k.cast(DType::f32).reshaped({k.shape()[0], k.shape()[2], k.shape()[3]});
      }
      if (d.cls == "Conv2D" && channels_first && k.rank() == 4) k = permuted(k, {2, 3, 1, 0});
      if (d.cls == "Conv2DTranspose" && k.rank() == 4)
        k = permuted(k,
                     channels_first ? std::vector<int>{2, 3, 0, 1} : std::vector<int>{0, 1, 3, 2});
      if (d.cls == "Conv3D" && channels_first && k.rank() == 5) k = permuted(k, {2, 3, 4, 1, 0});
    }
    if (file_.backend == "theano") {
      static const char* const flipped[] = {"Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose",
                                            "ConvLSTM2D"};
      for (const char* c : flipped)
        if (d.cls == c && arrays[0].value.rank() >= 3) {
          arrays[0].value = spatially_flipped(arrays[0].value);
          if (d.cls == "ConvLSTM2D" && arrays.size() > 1)
            arrays[1].value = spatially_flipped(arrays[1].value);
        }
    }
    return arrays;
  }

  // "dense_1_W:0" -> "kernel"; gate arrays ("lstm_1_W_i") keep their Keras 1 suffix.
  static std::string keras2_name(const std::string& cls, const std::string& prefix,
                                 const std::string& stored) {
    std::string base = last_component(stored);
    if (base.rfind(prefix + "_", 0) != 0) return stored;
    std::string suffix = base.substr(prefix.size() + 1);
    if (suffix == "W") return cls == "Embedding" ? "embeddings" : "kernel";
    if (suffix == "U") return "recurrent_kernel";
    if (suffix == "b") return "bias";
    if (suffix == "running_mean") return "moving_mean";
    if (suffix == "running_std")
      return "moving_variance";  // Keras 1 kept the variance under this name
    if (suffix == "alphas") return "alpha";
    return suffix;
  }

  // Keras 1 gate triples (W, U, b per gate) joined in the order `gates` gives (the position of
  // each gate's W in the stored list).
  static std::vector<NamedArray> join_gates(const std::vector<NamedArray>& a,
                                            std::vector<size_t> gates, const std::string& context) {
    std::vector<Tensor> w, u, b;
    for (size_t g : gates) {
      w.push_back(a[g].value);
      u.push_back(a[g + 1].value);
      b.push_back(a[g + 2].value);
    }
    return {{"kernel", concat_last(w, context)},
            {"recurrent_kernel", concat_last(u, context)},
            {"bias", concat_last(b, context)}};
  }

  Json model_;
  FileInfo file_;
  std::map<std::string, LayerDesc> layers_;
};

// A layer's arrays, converted and held in memory.
class ConvertedScope : public WeightScope {
 public:
  ConvertedScope(std::shared_ptr<const Converter> converter, std::vector<NamedArray> arrays)
      : converter_(std::move(converter)), arrays_(std::move(arrays)) {}

  std::optional<Tensor> find(int index, std::string_view name) const override {
    for (const NamedArray& a : arrays_)
      if (last_component(a.name) == name) return a.value;
    // Names nobody knows ("param_0"): by position, as Keras's loader did.
    if (index >= 0 && index < static_cast<int>(arrays_.size()) && !any_name_known())
      return arrays_[index].value;
    return std::nullopt;
  }
  std::unique_ptr<WeightScope> nested_layer(const std::string&,
                                            const std::string& layer_name) const override {
    std::vector<NamedArray> mine;
    for (const NamedArray& a : arrays_)
      if (has_component(a.name, layer_name) ||
          last_component(a.name).rfind(layer_name + "_", 0) == 0)
        mine.push_back(a);
    return std::make_unique<ConvertedScope>(converter_,
                                            converter_->convert(layer_name, std::move(mine)));
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return std::make_unique<ConvertedScope>(converter_, arrays_);
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&,
                                         const std::string& layer_name) const override {
    std::vector<NamedArray> mine;
    for (const NamedArray& a : arrays_)
      if (has_component(a.name, layer_name)) mine.push_back(a);
    return std::make_unique<ConvertedScope>(converter_, std::move(mine));
  }
  int64_t total_elements() const override {
    int64_t total = 0;
    for (const NamedArray& a : arrays_) total += a.value.size();
    return total;
  }

 private:
  bool any_name_known() const {
    static const char* const known[] = {"kernel",
                                        "bias",
                                        "gamma",
                                        "beta",
                                        "moving_mean",
                                        "moving_variance",
                                        "alpha",
                                        "embeddings",
                                        "recurrent_kernel",
                                        "depthwise_kernel",
                                        "pointwise_kernel"};
    for (const NamedArray& a : arrays_)
      for (const char* k : known)
        if (last_component(a.name) == k) return true;
    return false;
  }
  std::shared_ptr<const Converter> converter_;
  std::vector<NamedArray> arrays_;
};

class ConvertingModelScope : public WeightScope {
 public:
  ConvertingModelScope(std::shared_ptr<const io::Hdf5File> h5, std::string group,
                       std::shared_ptr<const Converter> converter)
      : h5_(std::move(h5)), group_(std::move(group)), converter_(std::move(converter)) {}
  std::optional<Tensor> find(int, std::string_view) const override { return std::nullopt; }
  std::unique_ptr<WeightScope> nested_layer(const std::string&,
                                            const std::string& layer_name) const override {
    std::string path = group_ == "/" || group_.empty() ? layer_name : group_ + "/" + layer_name;
    std::vector<NamedArray> arrays;
    for (const auto& [name, dataset] : legacy_layer_weight_entries(*h5_, path))
      arrays.push_back({name, h5_->read_dataset(dataset)});
    return std::make_unique<ConvertedScope>(converter_,
                                            converter_->convert(layer_name, std::move(arrays)));
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return empty_weight_scope();
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&, const std::string&) const override {
    return empty_weight_scope();
  }
  int64_t total_elements() const override { return 0; }

 private:
  std::shared_ptr<const io::Hdf5File> h5_;
  std::string group_;
  std::shared_ptr<const Converter> converter_;
};

// The root of a set of in-memory variables: each layer takes those naming it.
class NamedArraysModelScope : public WeightScope {
 public:
  NamedArraysModelScope(std::vector<NamedArray> arrays, std::shared_ptr<const Converter> converter)
      : root_(std::move(converter), std::move(arrays)) {}
  std::optional<Tensor> find(int, std::string_view) const override { return std::nullopt; }
  std::unique_ptr<WeightScope> nested_layer(const std::string& key,
                                            const std::string& layer_name) const override {
    return root_.nested_layer(key, layer_name);
  }
  std::unique_ptr<WeightScope> attribute(const std::string&) const override {
    return empty_weight_scope();
  }
  std::unique_ptr<WeightScope> sub_layer(const std::string&, const std::string&) const override {
    return empty_weight_scope();
  }
  int64_t total_elements() const override { return root_.total_elements(); }

 private:
  ConvertedScope root_;
};

}  // namespace

std::unique_ptr<WeightScope> named_arrays_weight_scope(std::vector<NamedArray> arrays,
                                                       const io::Json& normalized_model,
                                                       const FileInfo& file) {
  return std::make_unique<NamedArraysModelScope>(
      std::move(arrays), std::make_shared<const Converter>(normalized_model, file));
}

bool legacy_weights_need_conversion(const FileInfo& file) {
  return file.keras_major <= 1 || file.backend == "theano";
}

std::unique_ptr<WeightScope> converting_model_weight_scope(std::shared_ptr<const io::Hdf5File> h5,
                                                           const std::string& group,
                                                           const io::Json& normalized_model,
                                                           const FileInfo& file) {
  return std::make_unique<ConvertingModelScope>(
      std::move(h5), group, std::make_shared<const Converter>(normalized_model, file));
}

}  // namespace krt::keras
