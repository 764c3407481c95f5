// The tensor operations kerasrt imports besides layers: Keras 3 op nodes (what keras.ops
// functions and operators such as `x + 3.0` or `x[:, 1:]` record in a Functional config) and the
// TF functions tf.keras 2.x records as TFOpLambda / SlicingOpLambda layers.
#pragma once

#include <string>
#include <vector>

namespace krt {

struct SupportedOperation {
  std::string name;   // Keras 3: the op class ("Add", "GetItem"); TF: the function ("math.add")
  std::string notes;  // options supported, for docs/layers.md
};
// Keras 3 op node classes (module keras.src.ops.*), sorted by name.
std::vector<SupportedOperation> supported_keras_operations();
// TF functions of TFOpLambda / SlicingOpLambda layers (config.function, without "tf."), sorted.
std::vector<SupportedOperation> supported_tf_functions();

}  // namespace krt
