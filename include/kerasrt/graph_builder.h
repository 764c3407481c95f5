// Building a model in code, the MPSNNGraph way: every layer, Reshape included, is a node of
// one graph, and the result compiles and runs exactly like a loaded model.
//
//   krt::GraphBuilder g("seed");
//   auto x = g.input("image", {krt::dynamic, 8, 8, 3});
//   auto h = g.conv2d(x, kernel, bias, {.activation = krt::ActivationKind::relu});
//   h = g.reshape(h, {128});                    // a view: no bytes move
//   krt::Model model = g.build({h});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kerasrt/model.h"
#include "kerasrt/op_types.h"
#include "kerasrt/tensor.h"

namespace krt {

struct Conv2DOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::valid;
  int64_t groups = 1;
  ActivationKind activation = ActivationKind::linear;
};

struct Conv2DTransposeOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::valid;                      // valid or same
  int64_t output_padding_h = -1, output_padding_w = -1;  // -1: not given (Keras's None)
  ActivationKind activation = ActivationKind::linear;
};

class GraphBuilder {
 public:
  // A value in the graph under construction.
  struct Value {
    int id = -1;
  };

  explicit GraphBuilder(std::string model_name = "model");
  ~GraphBuilder();
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  // A model input; `shape` includes the batch axis (use krt::dynamic for it).
  Value input(const std::string& name, Shape shape);
  // y = act(x @ kernel + bias) over the last axis; kernel (in, units), bias (units) or empty.
  Value dense(Value x, Tensor kernel, Tensor bias = {},
              ActivationKind activation = ActivationKind::linear, const std::string& name = "");
  // NHWC convolution; kernel (kh, kw, in / groups, filters) as Keras stores it; bias or empty.
  Value conv2d(Value x, Tensor kernel, Tensor bias, const Conv2DOptions& options = {},
               const std::string& name = "");
  // NHWC transposed convolution; kernel (kh, kw, filters, in) as Keras stores it.
  Value conv2d_transpose(Value x, Tensor kernel, Tensor bias,
                         const Conv2DTransposeOptions& options = {}, const std::string& name = "");
  // New shape for the same bytes; `target` excludes the batch axis and may hold one -1.
  Value reshape(Value x, Shape target, const std::string& name = "");
  Value flatten(Value x, const std::string& name = "");
  // Keras Permute: `dims` are 1-based axes excluding the batch.
  Value permute(Value x, std::vector<int64_t> dims, const std::string& name = "");
  Value activation(Value x, ActivationKind activation, const std::string& name = "");
  Value softmax(Value x, const std::string& name = "");
  Value add(std::vector<Value> xs, const std::string& name = "");
  Value concatenate(std::vector<Value> xs, int64_t axis = -1, const std::string& name = "");

  // Finishes the graph with these outputs. The builder can be used again afterwards.
  Model build(std::vector<Value> outputs) const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace krt
