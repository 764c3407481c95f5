// The extension point for custom Keras layers: a program registers a C++ implementation for a
// class name, and models that use that class load and run with it. Without a registration a
// custom class is refused with an error naming it; code stored in a file is never executed.
//
//   struct Scale : krt::CustomLayer {
//     float factor;
//     std::vector<krt::Shape> output_shapes(const std::vector<krt::Shape>& in) const override {
//     return in; } void run(const std::vector<krt::Tensor>& in, std::vector<krt::Tensor>& out)
//     const override { ... }
//   };
//   krt::LoadOptions options;
//   options.custom_layers["MyPkg>Scale"] = [](const krt::CustomLayerInfo& info) {
//     return std::make_shared<Scale>(...parse info.config_json...);
//   };
//   krt::Model model = krt::load("model.keras", options);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kerasrt/tensor.h"

namespace krt {

// What an implementation is given for each layer of its class when a model is loaded.
struct CustomLayerInfo {
  std::string name;                 // the layer's name in the model
  std::string class_name;           // the saved class name ("ScaleShift")
  std::string registered_name;      // Keras's registered name ("MyPkg>ScaleShift"), or ""
  std::string config_json;          // the layer's config, as JSON text
  std::vector<Shape> input_shapes;  // the batch axis (and other unknown dims) are krt::dynamic
  std::vector<Tensor> weights;      // the layer's stored variables, in Keras's creation order
};

class CustomLayer {
 public:
  virtual ~CustomLayer() = default;
  // Output shapes for the given input shapes; dims may be krt::dynamic at load time and are
  // concrete at run time. Throw krt::Error for inputs the layer cannot take.
  virtual std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const = 0;
  // Computes the outputs. Inputs and outputs are float32 and dense; outputs are preallocated
  // with the shapes output_shapes() gave. Called from several threads at once for concurrent
  // runs, so keep it free of mutable state.
  virtual void run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const = 0;
};

// Makes the implementation for one layer; returning nullptr refuses the layer.
using CustomLayerFactory =
    std::function<std::shared_ptr<const CustomLayer>(const CustomLayerInfo&)>;

}  // namespace krt
