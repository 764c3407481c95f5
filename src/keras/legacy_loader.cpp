// Legacy .h5 models (full-model files, and weights-only files plus architecture JSON).
#include "core/check.h"
#include "keras/legacy_config.h"
#include "keras/legacy_weights.h"
#include "keras/model_source.h"

namespace krt::keras {

namespace {

std::string optional_string_attribute(const io::Hdf5File& h5, const char* group, const char* name) {
  if (!h5.is_group(group) || !h5.has_attribute(group, name)) return "";
  std::vector<std::string> values = h5.string_attribute(group, name);
  return values.empty() ? "" : values[0];
}

// keras_version and backend as Keras wrote them: on the root, or on the weights group. Keras 2
// read a missing keras_version as "1": only Keras 1 wrote files without one.
FileInfo h5_file_info(const io::Hdf5File& h5, const std::string& path, const char* weights_group) {
  FileInfo file{path, "", 3, "", nullptr};
  file.keras_version = optional_string_attribute(h5, "/", "keras_version");
  if (file.keras_version.empty())
    file.keras_version = optional_string_attribute(h5, weights_group, "keras_version");
  file.keras_major = keras_major_of(file.keras_version, 1);
  file.backend = optional_string_attribute(h5, "/", "backend");
  if (file.backend.empty()) file.backend = optional_string_attribute(h5, weights_group, "backend");
  return file;
}

std::unique_ptr<WeightScope> weight_scope(std::shared_ptr<const io::Hdf5File> h5,
                                          const std::string& group, const io::Json& config,
                                          const FileInfo& file) {
  if (legacy_weights_need_conversion(file))
    return converting_model_weight_scope(std::move(h5), group, config, file);
  return legacy_model_weight_scope(std::move(h5), group);
}

}  // namespace

int keras_major_of(const std::string& version, int fallback) {
  if (version.rfind("tfjs", 0) == 0) return 2;  // TF.js layers follow Keras 2's semantics
  if (version.empty() || version[0] < '0' || version[0] > '9') return fallback;
  return version[0] - '0';
}

ModelSource legacy_h5_source(std::shared_ptr<const io::Hdf5File> h5, const std::string& path,
                             const Limits& limits) {
  if (!h5->has_attribute("/", "model_config")) {
    fail(ErrorCode::invalid_file, path,
         ": no 'model_config' attribute: this HDF5 file holds weights only (saved with "
         "save_weights), not a model; "
         "load it together with the model's architecture JSON (krt::load(json, weights), kerasrt "
         "run ARCH.json --weights W.h5)");
  }
  std::vector<std::string> config_text = h5->string_attribute("/", "model_config");
  if (config_text.size() != 1)
    fail(ErrorCode::invalid_file, path, ": 'model_config' should be one string");
  const char* group = h5->is_group("model_weights") ? "model_weights" : "/";
  ModelSource src;
  src.file = h5_file_info(*h5, path, group);
  src.config = normalize_model_config(
      io::parse_json(config_text[0], path + ": model_config", limits), src.file);
  src.weights = weight_scope(std::move(h5), group, src.config, src.file);
  return src;
}

ModelSource json_weights_source(const std::string& json_path, const std::string& weights_path,
                                const Limits& limits) {
  io::Bytes json_bytes = io::map_file(json_path);
  io::Json arch = io::parse_json(json_bytes.as_string_view(), json_path, limits);
  if (!arch.is_object() || !arch.find("class_name"))
    fail(ErrorCode::invalid_file, json_path,
         ": not a Keras architecture JSON (model.to_json() output has 'class_name' and 'config')");
  auto h5 = std::make_shared<io::Hdf5File>(io::map_file(weights_path), weights_path, limits);
  // save_weights writes the layer groups at the root; a full-model file keeps them in
  // model_weights.
  const char* group = h5->is_group("model_weights") ? "model_weights" : "/";
  ModelSource src;
  src.file = h5_file_info(*h5, json_path, group);
  if (src.file.keras_version.empty()) {
    // The weights do not say which Keras wrote them; to_json() does.
    if (const io::Json* v = arch.find("keras_version"); v && v->is_string())
      src.file.keras_version = v->as_string();
    src.file.keras_major = keras_major_of(src.file.keras_version, 1);
  }
  if (src.file.backend.empty())
    if (const io::Json* b = arch.find("backend"); b && b->is_string())
      src.file.backend = b->as_string();
  src.config = normalize_model_config(arch, src.file);
  src.weights = weight_scope(std::move(h5), group, src.config, src.file);
  return src;
}

}  // namespace krt::keras
