// Where a model's config and weights come from, per file format, before the graph is built:
// legacy full-model .h5, architecture JSON plus weights-only .h5, and TF.js layers models.
// Each reader fills a ModelSource; the loader imports it the same way for all of them.
#pragma once

#include <memory>
#include <string>

#include "io/bytes.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "keras/layer_importer.h"
#include "keras/weights.h"
#include "kerasrt/limits.h"

namespace krt::keras {

struct ModelSource {
  FileInfo file;
  io::Json config;  // the model config, normalized to Keras 2/3 spelling (legacy_config.h)
  std::unique_ptr<WeightScope> weights;
};

// The Keras major version a `keras_version` string names: "2.2.4-tf" -> 2, "1.2.2" -> 1.
// TF.js ("tfjs-layers 4.0.0") computes as Keras 2 does. `fallback` when it names none.
int keras_major_of(const std::string& version, int fallback);

// A legacy full-model .h5 (Keras 1.x to 3.x): model_config, keras_version and backend
// attributes, weights under model_weights/.
ModelSource legacy_h5_source(std::shared_ptr<const io::Hdf5File> h5, const std::string& path,
                             const Limits& limits);

// `model.to_json()` output plus a `save_weights` .h5 (layer groups at the root).
ModelSource json_weights_source(const std::string& json_path, const std::string& weights_path,
                                const Limits& limits);

// A TF.js layers model: model.json (modelTopology + weightsManifest) and its binary shards,
// which are read from the directory of `json_path`.
ModelSource tfjs_source(const io::Json& model_json, const std::string& json_path,
                        const Limits& limits);

}  // namespace krt::keras
