// tf.keras 2.12/2.13 `.keras` files. Their model.weights.h5 keeps each layer under
// `_layer_checkpoint_dependencies/<key>/vars/<i>` (nested models recurse the same way). The key
// is the snake_case class name plus a counter, taken over the values of the model's
// _layer_checkpoint_dependencies dict, which lists every layer with weights twice
// ("layer_with_weights-<i>" and "layer-<j>"): the second entry is skipped when saving but still
// takes a number, so Dense, Dense are stored as `dense` and `dense_2`.
#include <map>

#include "keras/legacy_weights.h"
#include "keras/model_builder.h"

namespace krt::keras {

namespace {

using io::Json;

using PathMap = std::map<std::string, std::string>;  // layer name -> its group in the file

bool holds_datasets(const io::Hdf5File& h5, const std::string& path, int depth) {
  if (depth > 16 || !h5.is_group(path)) return false;
  for (const std::string& child : h5.children(path)) {
    std::string p = path + "/" + child;
    if (h5.is_dataset(p) || holds_datasets(h5, p, depth + 1)) return true;
  }
  return false;
}

const Json* layers_of(const Json& model) {
  if (model.is_array()) return &model;
  const Json* config = model.find("config");
  if (!config) return nullptr;
  return config->is_array() ? config : config->find("layers");
}

void map_layers(const io::Hdf5File& h5, const Json& model, const std::string& base, PathMap& out,
                int depth) {
  const Json* layers = layers_of(model);
  if (!layers || !layers->is_array() || depth > 32) return;
  const Json* cls_json = model.is_object() ? model.find("class_name") : nullptr;
  // Sequential.layers leaves out the InputLayer its config lists; Functional.layers keeps it.
  const bool sequential = model.is_array() || (cls_json && cls_json->is_string() &&
                                               cls_json->as_string() == "Sequential");
  std::map<std::string, int> used;
  for (const Json& entry : layers->items()) {
    const Json* cls = entry.find("class_name");
    const Json* config = entry.find("config");
    const Json* name = entry.find("name");
    if (!name && config && config->is_object()) name = config->find("name");
    if (!cls || !cls->is_string() || !name || !name->is_string()) continue;
    if (sequential && cls->as_string() == "InputLayer") continue;
    std::string snake = keras_snake_case(cls->as_string());
    int& n = used[snake];
    std::string key = n == 0 ? snake : snake + "_" + std::to_string(n);
    std::string path = (base.empty() ? "" : base + "/") + "_layer_checkpoint_dependencies/" + key;
    n += holds_datasets(h5, path, 0) ? 2 : 1;
    out[name->as_string()] = path;
    if (is_model_class(cls->as_string())) map_layers(h5, entry, path, out, depth + 1);
  }
}

class TfKerasScope : public WeightScope {
 public:
  TfKerasScope(std::shared_ptr<const io::Hdf5File> h5, std::shared_ptr<const PathMap> paths,
               std::shared_ptr<const std::map<std::string, bool>> models)
      : h5_(std::move(h5)), paths_(std::move(paths)), models_(std::move(models)) {}
  std::optional<Tensor> find(int, std::string_view) const override { return std::nullopt; }
  std::unique_ptr<WeightScope> nested_layer(const std::string&,
                                            const std::string& layer_name) const override {
    auto it = paths_->find(layer_name);
    if (it == paths_->end()) return empty_weight_scope();
    if (models_->count(layer_name)) return std::make_unique<TfKerasScope>(h5_, paths_, models_);
    return keras3_weight_scope_at(h5_, it->second);
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
  std::shared_ptr<const PathMap> paths_;
  std::shared_ptr<const std::map<std::string, bool>> models_;
};

void collect_models(const Json& model, std::map<std::string, bool>& out, int depth) {
  const Json* layers = layers_of(model);
  if (!layers || !layers->is_array() || depth > 32) return;
  for (const Json& entry : layers->items()) {
    const Json* cls = entry.find("class_name");
    const Json* config = entry.find("config");
    const Json* name = entry.find("name");
    if (!name && config && config->is_object()) name = config->find("name");
    if (cls && cls->is_string() && name && name->is_string() && is_model_class(cls->as_string())) {
      out[name->as_string()] = true;
      collect_models(entry, out, depth + 1);
    }
  }
}

}  // namespace

bool is_tf_keras_zip_weights(const io::Hdf5File& h5) {
  return h5.is_group("_layer_checkpoint_dependencies");
}

std::unique_ptr<WeightScope> tf_keras_zip_weight_scope(std::shared_ptr<const io::Hdf5File> h5,
                                                       const io::Json& model) {
  auto paths = std::make_shared<PathMap>();
  map_layers(*h5, model, "", *paths, 0);
  auto models = std::make_shared<std::map<std::string, bool>>();
  collect_models(model, *models, 0);
  return std::make_unique<TfKerasScope>(std::move(h5), std::move(paths), std::move(models));
}

}  // namespace krt::keras
