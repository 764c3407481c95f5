// Inputs and outputs by name: a model built with named inputs or outputs
// (keras.Model({"features": x, "extra": y}, {"score": s, "logits": l})) takes and returns them
// in Keras's flattened order, sorted by key; these helpers map between that order and names.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kerasrt/model.h"

namespace krt {

// The inputs in `model.inputs()` order, taken from `named` by input name. Throws krt::Error
// (invalid_argument) naming a missing or unknown input.
std::vector<Tensor> inputs_by_name(const Model& model, const std::map<std::string, Tensor>& named);
// The outputs of a run, keyed by output name (the dict keys, or the output layers' names).
std::map<std::string, Tensor> outputs_by_name(const Model& model,
                                              const std::vector<Tensor>& outputs);

}  // namespace krt
