// krt::load: recognizes the file format, reads config and weights, and builds the graph.
#include <cstring>

#include "core/check.h"
#include "graph/model_data.h"
#include "io/bytes.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "io/zip_reader.h"
#include "keras/model_builder.h"

namespace krt {

namespace {

using keras::FileInfo;

int major_version(const std::string& version) {
  if (version.empty() || version[0] < '0' || version[0] > '9') return 3;
  return version[0] - '0';
}

std::shared_ptr<ModelData> finish(const keras::ImportedModel& imported, Graph graph, const std::string& path) {
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

std::shared_ptr<ModelData> load_keras_zip(const io::Bytes& bytes, const std::string& path, const Limits& limits) {
  io::ZipReader zip(bytes, path, limits);
  const io::ZipEntry* config_entry = zip.find("config.json");
  if (!config_entry) fail(ErrorCode::invalid_file, path, ": the archive has no config.json, so it is not a Keras model file");
  const io::ZipEntry* weights_entry = zip.find("model.weights.h5");
  if (!weights_entry) fail(ErrorCode::invalid_file, path, ": the archive has no model.weights.h5 (the model's weights)");
  FileInfo file{path, "", 3, ""};
  if (const io::ZipEntry* meta = zip.find("metadata.json")) {
    io::Bytes text = zip.read(*meta);
    io::Json metadata = io::parse_json(text.as_string_view(), path + ": metadata.json", limits);
    if (const io::Json* v = metadata.find("keras_version"); v && v->kind() == io::Json::Kind::string) {
      file.keras_version = v->as_string();
      file.keras_major = major_version(file.keras_version);
    }
  }
  io::Bytes config_text = zip.read(*config_entry);
  io::Json config = io::parse_json(config_text.as_string_view(), path + ": config.json", limits);
  auto weights = std::make_shared<io::Hdf5File>(zip.read(*weights_entry), path + ": model.weights.h5", limits);
  std::unique_ptr<keras::WeightScope> scope = keras::keras3_weight_scope(weights);
  Graph graph;
  keras::ImportedModel imported = keras::import_model(graph, file, config, *scope, nullptr, limits);
  return finish(imported, std::move(graph), path);
}

std::string optional_string_attribute(const io::Hdf5File& h5, const char* group, const char* name) {
  if (!h5.is_group(group) || !h5.has_attribute(group, name)) return "";
  std::vector<std::string> values = h5.string_attribute(group, name);
  return values.empty() ? "" : values[0];
}

std::shared_ptr<ModelData> load_legacy_h5(const io::Bytes& bytes, const std::string& path, const Limits& limits) {
  auto h5 = std::make_shared<io::Hdf5File>(bytes, path, limits);
  if (!h5->has_attribute("/", "model_config")) {
    fail(ErrorCode::invalid_file, path,
         ": no 'model_config' attribute: this HDF5 file holds weights only (saved with save_weights), "
         "not a model; load it together with the model's architecture");
  }
  std::vector<std::string> config_text = h5->string_attribute("/", "model_config");
  if (config_text.size() != 1) fail(ErrorCode::invalid_file, path, ": 'model_config' should be one string");
  FileInfo file{path, "", 3, ""};
  file.keras_version = optional_string_attribute(*h5, "/", "keras_version");
  if (file.keras_version.empty()) file.keras_version = optional_string_attribute(*h5, "model_weights", "keras_version");
  file.keras_major = major_version(file.keras_version);
  file.backend = optional_string_attribute(*h5, "/", "backend");
  if (file.backend.empty()) file.backend = optional_string_attribute(*h5, "model_weights", "backend");
  io::Json config = io::parse_json(config_text[0], path + ": model_config", limits);
  const char* group = h5->is_group("model_weights") ? "model_weights" : "/";
  std::unique_ptr<keras::WeightScope> scope = keras::legacy_model_weight_scope(h5, group);
  Graph graph;
  keras::ImportedModel imported = keras::import_model(graph, file, config, *scope, nullptr, limits);
  return finish(imported, std::move(graph), path);
}

}  // namespace

Model load(const std::string& path, const LoadOptions& options) {
  io::Bytes bytes = io::map_file(path);
  if (bytes.size() == 0) fail(ErrorCode::invalid_file, path, ": the file is empty");
  static const uint8_t kHdf5Magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK", 2) == 0) return Model(load_keras_zip(bytes, path, options.limits));
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kHdf5Magic, 8) == 0) return Model(load_legacy_h5(bytes, path, options.limits));
  fail(ErrorCode::invalid_file, path, ": not a Keras model file (expected a .keras zip archive or an HDF5 .h5 file)");
}

}  // namespace krt
