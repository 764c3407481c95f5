// krt::GraphBuilder: the public way to build a graph in code.
#include "kerasrt/graph_builder.h"

#include <map>

#include "core/check.h"
#include "graph/model_data.h"
#include "ops/shape_inference.h"

namespace krt {

struct GraphBuilder::State {
  std::string model_name;
  Graph graph;
  std::vector<LayerInfo> layers;
  std::vector<std::vector<ValueId>> layer_values;
  std::map<std::string, int> name_counts;

  std::string unique_name(const std::string& requested, const std::string& base) {
    if (!requested.empty()) {
      if (name_counts.count(requested))
        fail(ErrorCode::invalid_argument, "GraphBuilder: the name '", requested,
             "' is already used");
      name_counts[requested] = 1;
      return requested;
    }
    int n = name_counts[base]++;
    return n == 0 ? base : base + "_" + std::to_string(n);
  }

  ValueId check(Value v) const {
    if (v.id < 0 || v.id >= static_cast<int>(graph.values.size()))
      fail(ErrorCode::invalid_argument, "GraphBuilder: unknown value");
    return v.id;
  }

  Value add(OpKind kind, OpParams params, std::vector<Value> inputs, std::vector<Tensor> weights,
            const std::string& name, const std::string& base, const std::string& keras_class) {
    Node node;
    node.kind = kind;
    node.params = std::move(params);
    node.name = unique_name(name, base);
    node.keras_class = keras_class;
    std::vector<Shape> in_shapes;
    for (Value v : inputs) {
      node.inputs.push_back(check(v));
      in_shapes.push_back(graph.values[v.id].shape);
    }
    int64_t params_count = 0;
    for (Tensor& w : weights) {
      if (w.dtype() != DType::f32) w = w.cast(DType::f32);
      params_count += w.size();
    }
    node.weights = std::move(weights);
    std::vector<Shape> out = infer_output_shapes(node, in_shapes);
    ValueId y = graph.add_value(node.name, out.at(0));
    node.outputs.push_back(y);
    layers.push_back({node.name, keras_class, {out[0]}, params_count});
    layer_values.push_back({y});
    graph.add_node(std::move(node));
    return Value{y};
  }
};

namespace {

Activation make_activation(ActivationKind kind) {
  Activation a;
  a.kind = kind;
  // Keras's defaults for the parameterized activations.
  if (kind == ActivationKind::elu || kind == ActivationKind::celu) a.alpha = 1.f;
  if (kind == ActivationKind::leaky_relu) a.alpha = 0.2f;
  if (kind == ActivationKind::hard_shrink || kind == ActivationKind::soft_shrink) a.alpha = 0.5f;
  if (kind == ActivationKind::squareplus) a.alpha = 4.f;
  if (kind == ActivationKind::thresholded_relu) a.alpha = 1.f;
  return a;
}

void expect_shape(const Tensor& t, const Shape& expected, const char* what) {
  bool ok = t.rank() == static_cast<int>(expected.size());
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == t.shape()[i];
  if (!ok)
    fail(ErrorCode::invalid_argument, "GraphBuilder: ", what, " has shape ",
         shape_to_string(t.shape()), ", expected ", shape_to_string(expected));
}

}  // namespace

GraphBuilder::GraphBuilder(std::string model_name) : state_(std::make_unique<State>()) {
  state_->model_name = std::move(model_name);
}
GraphBuilder::~GraphBuilder() = default;

GraphBuilder::Value GraphBuilder::input(const std::string& name, Shape shape) {
  if (shape.empty())
    fail(ErrorCode::invalid_argument, "GraphBuilder: input '", name,
         "' needs a shape with a batch axis");
  for (int64_t d : shape)
    if (d < 0 && d != dynamic)
      fail(ErrorCode::invalid_argument, "GraphBuilder: input '", name,
           "' has a negative dimension");
  std::string unique = state_->unique_name(name, "input");
  ValueId v = state_->graph.add_value(unique, shape);
  state_->graph.inputs.push_back(v);
  state_->layers.push_back({unique, "InputLayer", {shape}, 0});
  state_->layer_values.push_back({v});
  return Value{v};
}

GraphBuilder::Value GraphBuilder::dense(Value x, Tensor kernel, Tensor bias,
                                        ActivationKind activation, const std::string& name) {
  const Shape& in = state_->graph.values[state_->check(x)].shape;
  expect_shape(kernel, {in.back(), -1}, "the Dense kernel");
  DenseParams p;
  p.has_bias = !bias.empty();
  p.activation = make_activation(activation);
  std::vector<Tensor> w{kernel};
  if (p.has_bias) {
    expect_shape(bias, {kernel.shape()[1]}, "the Dense bias");
    w.push_back(bias);
  }
  return state_->add(OpKind::dense, p, {x}, std::move(w), name, "dense", "Dense");
}

GraphBuilder::Value GraphBuilder::conv2d(Value x, Tensor kernel, Tensor bias,
                                         const Conv2DOptions& o, const std::string& name) {
  const Shape& in = state_->graph.values[state_->check(x)].shape;
  if (in.size() != 4)
    fail(ErrorCode::invalid_argument, "GraphBuilder: conv2d needs an NHWC input, got ",
         shape_to_string(in));
  if (o.groups <= 0)
    fail(ErrorCode::invalid_argument, "GraphBuilder: conv2d groups must be positive");
  expect_shape(kernel, {-1, -1, in[3] / o.groups, -1}, "the Conv2D kernel");
  ConvParams p;
  p.kernel_size = {kernel.shape()[0], kernel.shape()[1]};
  p.strides = {o.stride_h, o.stride_w};
  p.dilation = {o.dilation_h, o.dilation_w};
  p.padding = o.padding;
  p.groups = o.groups;
  p.filters = kernel.shape()[3];
  p.has_bias = !bias.empty();
  p.activation = make_activation(o.activation);
  std::vector<Tensor> w{kernel};
  if (p.has_bias) {
    expect_shape(bias, {p.filters}, "the Conv2D bias");
    w.push_back(bias);
  }
  return state_->add(OpKind::conv, p, {x}, std::move(w), name, "conv2d", "Conv2D");
}

GraphBuilder::Value GraphBuilder::conv2d_transpose(Value x, Tensor kernel, Tensor bias,
                                                   const Conv2DTransposeOptions& o,
                                                   const std::string& name) {
  const Shape& in = state_->graph.values[state_->check(x)].shape;
  if (in.size() != 4)
    fail(ErrorCode::invalid_argument, "GraphBuilder: conv2d_transpose needs an NHWC input, got ",
         shape_to_string(in));
  expect_shape(kernel, {-1, -1, -1, in[3]}, "the Conv2DTranspose kernel");
  ConvParams p;
  p.kernel_size = {kernel.shape()[0], kernel.shape()[1]};
  p.strides = {o.stride_h, o.stride_w};
  p.dilation = {o.dilation_h, o.dilation_w};
  p.padding = o.padding;
  p.filters = kernel.shape()[2];
  if (o.output_padding_h >= 0 || o.output_padding_w >= 0)
    p.output_padding = {std::max<int64_t>(o.output_padding_h, 0),
                        std::max<int64_t>(o.output_padding_w, 0)};
  p.has_bias = !bias.empty();
  p.activation = make_activation(o.activation);
  std::vector<Tensor> w{kernel};
  if (p.has_bias) {
    expect_shape(bias, {p.filters}, "the Conv2DTranspose bias");
    w.push_back(bias);
  }
  return state_->add(OpKind::conv_transpose, p, {x}, std::move(w), name, "conv2d_transpose",
                     "Conv2DTranspose");
}

GraphBuilder::Value GraphBuilder::reshape(Value x, Shape target, const std::string& name) {
  return state_->add(OpKind::reshape, ReshapeParams{std::move(target)}, {x}, {}, name, "reshape",
                     "Reshape");
}

GraphBuilder::Value GraphBuilder::flatten(Value x, const std::string& name) {
  return state_->add(OpKind::reshape, ReshapeParams{{-1}}, {x}, {}, name, "flatten", "Flatten");
}

GraphBuilder::Value GraphBuilder::permute(Value x, std::vector<int64_t> dims,
                                          const std::string& name) {
  size_t rank = state_->graph.values[state_->check(x)].shape.size();
  std::vector<bool> seen(rank, false);
  TransposeParams t{{0}};
  if (dims.size() + 1 != rank)
    fail(ErrorCode::invalid_argument, "GraphBuilder: permute needs ", rank - 1, " dims");
  for (int64_t d : dims) {
    if (d < 1 || d >= static_cast<int64_t>(rank) || seen[d])
      fail(ErrorCode::invalid_argument, "GraphBuilder: permute dims are not a permutation of 1..",
           rank - 1);
    seen[d] = true;
    t.perm.push_back(d);
  }
  return state_->add(OpKind::transpose, t, {x}, {}, name, "permute", "Permute");
}

GraphBuilder::Value GraphBuilder::activation(Value x, ActivationKind activation,
                                             const std::string& name) {
  return state_->add(OpKind::activation, ActivationParams{make_activation(activation)}, {x}, {},
                     name, "activation", "Activation");
}

GraphBuilder::Value GraphBuilder::softmax(Value x, const std::string& name) {
  int64_t rank = static_cast<int64_t>(state_->graph.values[state_->check(x)].shape.size());
  AxisActivationParams p{AxisActivationKind::softmax, {rank - 1}};
  return state_->add(OpKind::axis_activation, p, {x}, {}, name, "softmax", "Softmax");
}

GraphBuilder::Value GraphBuilder::add(std::vector<Value> xs, const std::string& name) {
  return state_->add(OpKind::elementwise, ElementwiseParams{ElementwiseKind::add}, std::move(xs),
                     {}, name, "add", "Add");
}

GraphBuilder::Value GraphBuilder::concatenate(std::vector<Value> xs, int64_t axis,
                                              const std::string& name) {
  if (xs.empty()) fail(ErrorCode::invalid_argument, "GraphBuilder: concatenate needs inputs");
  int64_t rank = static_cast<int64_t>(state_->graph.values[state_->check(xs[0])].shape.size());
  if (axis < 0) axis += rank;
  if (axis <= 0 || axis >= rank)
    fail(ErrorCode::invalid_argument, "GraphBuilder: concatenate axis out of range");
  return state_->add(OpKind::concat, ConcatParams{axis}, std::move(xs), {}, name, "concatenate",
                     "Concatenate");
}

Model GraphBuilder::build(std::vector<Value> outputs) const {
  if (outputs.empty())
    fail(ErrorCode::invalid_argument, "GraphBuilder: build needs at least one output");
  auto data = std::make_shared<ModelData>();
  data->name = state_->model_name;
  data->graph = state_->graph;
  for (Value v : outputs) data->graph.outputs.push_back(state_->check(v));
  for (ValueId v : data->graph.inputs)
    data->inputs.push_back({data->graph.values[v].name, data->graph.values[v].shape, DType::f32});
  for (ValueId v : data->graph.outputs)
    data->outputs.push_back({data->graph.values[v].name, data->graph.values[v].shape, DType::f32});
  data->layers = state_->layers;
  data->layer_values = state_->layer_values;
  for (const LayerInfo& l : data->layers) data->param_count += l.param_count;
  verify_graph(data->graph);
  return Model(data);
}

}  // namespace krt
