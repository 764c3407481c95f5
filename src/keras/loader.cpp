// krt::load: recognizes the file format, reads config and weights, and builds the graph.
#include <cstring>

#include "core/check.h"
#include "graph/model_data.h"
#include "io/bytes.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "io/zip_reader.h"
#include "keras/legacy_config.h"
#include "keras/legacy_weights.h"
#include "keras/loader.h"
#include "keras/model_builder.h"
#include "keras/model_source.h"

namespace krt {

namespace {

using keras::FileInfo;

int major_version(const std::string& version) {
  if (version.empty() || version[0] < '0' || version[0] > '9') return 3;
  return version[0] - '0';
}

std::shared_ptr<ModelData> finish(const keras::ImportedModel& imported, Graph graph,
                                  const std::string& path) {
  auto data = std::make_shared<ModelData>();
  data->name = imported.name;
  data->source = path;
  graph.outputs = imported.outputs;
  for (size_t i = 0; i < imported.inputs.size(); ++i) {
    const Value& v = graph.values[imported.inputs[i]];
    data->inputs.push_back({imported.input_names[i], v.shape, v.dtype});
  }
  for (size_t i = 0; i < imported.outputs.size(); ++i) {
    const Value& v = graph.values[imported.outputs[i]];
    data->outputs.push_back({imported.output_names[i], v.shape, v.dtype});
  }
  data->layers = imported.layers;
  data->layer_values = imported.layer_values;
  for (const LayerInfo& l : data->layers) data->param_count += l.param_count;
  verify_graph(graph);
  data->graph = std::move(graph);
  return data;
}

std::shared_ptr<ModelData> load_keras_zip(const io::Bytes& bytes, const std::string& path,
                                          const LoadOptions& options) {
  const Limits& limits = options.limits;
  io::ZipReader zip(bytes, path, limits);
  const io::ZipEntry* config_entry = zip.find("config.json");
  if (!config_entry)
    fail(ErrorCode::invalid_file, path,
         ": the archive has no config.json, so it is not a Keras model file");
  const io::ZipEntry* weights_entry = zip.find("model.weights.h5");
  if (!weights_entry)
    fail(ErrorCode::invalid_file, path,
         ": the archive has no model.weights.h5 (the model's weights)");
  FileInfo file{path, "", 3, "", &options.custom_layers};
  if (const io::ZipEntry* meta = zip.find("metadata.json")) {
    io::Bytes text = zip.read(*meta);
    io::Json metadata = io::parse_json(text.as_string_view(), path + ": metadata.json", limits);
    if (const io::Json* v = metadata.find("keras_version");
        v && v->kind() == io::Json::Kind::string) {
      file.keras_version = v->as_string();
      file.keras_major = major_version(file.keras_version);
    }
  }
  io::Bytes config_text = zip.read(*config_entry);
  io::Json config = keras::normalize_model_config(
      io::parse_json(config_text.as_string_view(), path + ": config.json", limits), file);
  io::Bytes weights_bytes = zip.read(*weights_entry);
  // One budget per load: what the weights' datasets may allocate is what inflation left.
  Limits weight_limits = limits;
  weight_limits.max_total_bytes -= zip.inflated_bytes();
  auto weights = std::make_shared<io::Hdf5File>(std::move(weights_bytes),
                                                path + ": model.weights.h5", weight_limits);
  // tf.keras 2.12/2.13 wrote .keras files too, with its own weight layout.
  std::unique_ptr<keras::WeightScope> scope =
      keras::is_tf_keras_zip_weights(*weights) ? keras::tf_keras_zip_weight_scope(weights, config)
                                               : keras::keras3_weight_scope(weights);
  Graph graph;
  keras::ImportedModel imported = keras::import_model(graph, file, config, *scope, nullptr, limits);
  return finish(imported, std::move(graph), path);
}

std::shared_ptr<ModelData> load_source(keras::ModelSource src, const std::string& path,
                                       const LoadOptions& options) {
  const Limits& limits = options.limits;
  src.file.custom_layers = &options.custom_layers;
  Graph graph;
  keras::ImportedModel imported =
      keras::import_model(graph, src.file, src.config, *src.weights, nullptr, limits);
  return finish(imported, std::move(graph), path);
}

std::shared_ptr<ModelData> load_legacy_h5(const io::Bytes& bytes, const std::string& path,
                                          const LoadOptions& options) {
  const Limits& limits = options.limits;
  return load_source(
      keras::legacy_h5_source(std::make_shared<io::Hdf5File>(bytes, path, limits), path, limits),
      path, options);
}

// A JSON file: a TF.js layers model (model.json), or an architecture without its weights.
std::shared_ptr<ModelData> load_json(const io::Bytes& bytes, const std::string& path,
                                     const LoadOptions& options) {
  const Limits& limits = options.limits;
  io::Json json = io::parse_json(bytes.as_string_view(), path, limits);
  if (json.is_object() && json.find("modelTopology"))
    return load_source(keras::tfjs_source(json, path, limits), path, options);
  if (json.is_object() && json.find("class_name"))
    fail(ErrorCode::invalid_argument, path,
         ": an architecture JSON without weights; load it with its weights file "
         "(krt::load(json, weights), kerasrt run ARCH.json --weights W.h5)");
  fail(ErrorCode::invalid_file, path,
       ": a JSON file that is neither a TF.js model.json nor a Keras architecture");
}

bool looks_like_json(const io::Bytes& bytes) {
  for (size_t i = 0; i < bytes.size() && i < 4096; ++i) {
    char c = static_cast<char>(bytes.data()[i]);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

Model load_from_bytes(io::Bytes bytes, const std::string& name, const LoadOptions& options) {
  if (bytes.size() == 0) fail(ErrorCode::invalid_file, name, ": the file is empty");
  static const uint8_t kHdf5Magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK", 2) == 0)
    return Model(load_keras_zip(bytes, name, options));
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kHdf5Magic, 8) == 0)
    return Model(load_legacy_h5(bytes, name, options));
  if (looks_like_json(bytes)) return Model(load_json(bytes, name, options));
  fail(ErrorCode::invalid_file, name,
       ": not a Keras model file (expected a .keras zip archive, an HDF5 .h5 file or a TF.js "
       "model.json)");
}

Model load(const std::string& path, const LoadOptions& options) {
  return load_from_bytes(io::map_file(path), path, options);
}

Model load(const std::string& json_path, const std::string& weights_path,
           const LoadOptions& options) {
  return Model(load_source(keras::json_weights_source(json_path, weights_path, options.limits),
                           json_path, options));
}

}  // namespace krt
