// What a loaded or built model is, behind krt::Model.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "kerasrt/model.h"

namespace krt {

struct ModelData {
  std::string name;
  std::string source;  // the file it came from, or "" when built in code
  Graph graph;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<LayerInfo> layers;
  std::vector<std::vector<ValueId>> layer_values;  // per entry of `layers`: its output values
  int64_t param_count = 0;
};

}  // namespace krt
