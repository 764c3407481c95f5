// Builds the graph of a Keras Sequential or Functional model config, recursively for models
// used as layers.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "io/json.h"
#include "keras/layer_importer.h"
#include "kerasrt/limits.h"
#include "kerasrt/model.h"

namespace krt::keras {

struct ImportedModel {
  std::string name;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  std::vector<LayerInfo> layers;                   // top-level layers, for the summary
  std::vector<std::vector<ValueId>> layer_values;  // per entry of `layers`: its outputs
};

// `model` is {"class_name": "Sequential"|"Functional"|"Model", "config": ...} (or a Keras <= 2.2
// Sequential whose config is a bare list of layers). `scope` is the weight scope of the
// container; `given_inputs` is null for the top-level model, else the values feeding a nested one.
ImportedModel import_model(Graph& graph, const FileInfo& file, const io::Json& model,
                           const WeightScope& scope, const std::vector<ValueId>* given_inputs,
                           const Limits& limits, int depth = 0);

bool is_model_class(std::string_view class_name);

}  // namespace krt::keras
