// Test helper shared by the op tests: turns one exported Keras layer (tests/data/ops/<case>/,
// written by extract_weights.py from the Keras 3.15.1 fixtures) into kerasrt nodes built by
// hand, and reads the fixture's .npy inputs and outputs. Header-only so each *_test.cpp stays
// self-contained in the test glob.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/check.h"
#include "graph/graph.h"
#include "test_paths.h"

namespace krt::test {

// The fixtures' arrays, read with the project's .npy reader; float32 is all these tests use.
inline Tensor read_npy_f32(const std::string& path) {
  Tensor t = Tensor::from_npy(path);
  if (t.dtype() != DType::f32)
    fail(ErrorCode::unsupported, path, ": expected float32, found ", dtype_name(t.dtype()));
  return t;
}

inline std::string ops_data_dir() { return data_dir() + "/ops"; }
inline std::string fixture_dir(const std::string& c) {
  return data_dir() + "/fixtures/layers/" + c;
}

// The case names extract_weights.py exported (one per line in CASES.txt).
inline std::vector<std::string> exported_cases() {
  std::vector<std::string> cases;
  std::ifstream in(ops_data_dir() + "/CASES.txt");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) cases.push_back(line);
  return cases;
}

struct LayerCase {
  std::string name;
  nlohmann::json meta;         // the fixture's meta.json
  std::vector<Tensor> inputs;  // input_<i>.npy
  Tensor expected;             // output_0.npy
  std::vector<Node> nodes;     // applied in order; only the first may take several inputs
};

// Keras activation names -> our element-wise activations (with Keras's default parameters).
// Returns false for the ones that work along an axis (set into `axis_kind` instead).
inline bool parse_activation(const std::string& name, Activation& act,
                             AxisActivationKind& axis_kind) {
  using K = ActivationKind;
  static const std::vector<std::pair<std::string, Activation>> table = {
      {"linear", {K::linear}},
      {"relu", {K::relu}},
      {"sigmoid", {K::sigmoid}},
      {"hard_sigmoid", {K::hard_sigmoid}},
      {"tanh", {K::tanh}},
      {"elu", {K::elu, 1.f}},
      {"selu", {K::selu}},
      {"celu", {K::celu, 1.f}},
      {"softplus", {K::softplus}},
      {"softsign", {K::softsign}},
      {"exponential", {K::exponential}},
      {"silu", {K::silu}},
      {"swish", {K::silu}},
      {"hard_silu", {K::hard_silu}},
      {"hard_swish", {K::hard_silu}},
      {"gelu", {K::gelu}},
      {"leaky_relu", {K::leaky_relu, 0.2f}},
      {"relu6", {K::relu6}},
      {"mish", {K::mish}},
      {"hard_shrink", {K::hard_shrink, 0.5f}},
      {"soft_shrink", {K::soft_shrink, 0.5f}},
      {"hard_tanh", {K::hard_tanh}},
      {"log_sigmoid", {K::log_sigmoid}},
      {"sparse_plus", {K::sparse_plus}},
      {"sparse_sigmoid", {K::sparse_sigmoid}},
      {"squareplus", {K::squareplus, 4.f}},
      {"tanh_shrink", {K::tanh_shrink}},
  };
  for (const auto& [n, a] : table)
    if (n == name) {
      act = a;
      return true;
    }
  if (name == "softmax")
    axis_kind = AxisActivationKind::softmax;
  else if (name == "log_softmax")
    axis_kind = AxisActivationKind::log_softmax;
  else if (name == "sparsemax")
    axis_kind = AxisActivationKind::sparsemax;
  else if (name == "glu")
    axis_kind = AxisActivationKind::glu;
  else
    fail(ErrorCode::unsupported, "activation '", name, "' is not known to the test");
  return false;
}

inline std::vector<int64_t> ints(const nlohmann::json& j, size_t n) {
  if (j.is_number()) return std::vector<int64_t>(n, j.get<int64_t>());
  return j.get<std::vector<int64_t>>();
}

inline Padding padding_of(const nlohmann::json& j) {
  const std::string p = j.get<std::string>();
  return p == "same" ? Padding::same : p == "causal" ? Padding::causal : Padding::valid;
}

// Per-axis (before, after) amounts of ZeroPadding/Cropping: an int, a pair, or a list of pairs.
inline void amounts(const nlohmann::json& j, size_t spatial, std::vector<int64_t>& before,
                    std::vector<int64_t>& after) {
  before.assign(spatial + 2, 0);
  after.assign(spatial + 2, 0);
  for (size_t a = 0; a < spatial; ++a) {
    if (j.is_number()) {
      before[a + 1] = after[a + 1] = j.get<int64_t>();
    } else if (spatial == 1 && j.size() == 2 && j[0].is_number()) {
      before[1] = j[0].get<int64_t>();
      after[1] = j[1].get<int64_t>();
    } else if (j[a].is_number()) {
      before[a + 1] = after[a + 1] = j[a].get<int64_t>();
    } else {
      before[a + 1] = j[a][0].get<int64_t>();
      after[a + 1] = j[a][1].get<int64_t>();
    }
  }
}

inline Node make_node(OpKind kind, OpParams params, const std::string& cls) {
  Node n;
  n.kind = kind;
  n.params = std::move(params);
  n.name = "layer";
  n.keras_class = cls;
  return n;
}

// The element-wise activation as a node, or an axis activation node over the last axis.
inline void append_activation(std::vector<Node>& nodes, const std::string& name, int64_t rank,
                              const std::string& cls) {
  Activation act;
  AxisActivationKind axis_kind{};
  if (parse_activation(name, act, axis_kind))
    nodes.push_back(make_node(OpKind::activation, ActivationParams{act}, cls));
  else
    nodes.push_back(
        make_node(OpKind::axis_activation, AxisActivationParams{axis_kind, {rank - 1}}, cls));
}

// Builds the nodes for the exported layer; `rank` is the (first) input's rank.
inline std::vector<Node> build_nodes(const nlohmann::json& layer,
                                     const std::vector<Tensor>& weights, int64_t rank) {
  const std::string cls = layer["class_name"];
  const nlohmann::json& c = layer["config"];
  const size_t spatial = static_cast<size_t>(rank - 2);
  auto starts = [&](const char* prefix) { return cls.rfind(prefix, 0) == 0; };
  std::vector<Node> nodes;
  auto fused = [&](Activation& act) {
    AxisActivationKind axis_kind{};
    const std::string name = c.value("activation", "linear");
    if (!parse_activation(name, act, axis_kind)) {
      act = Activation{};
      return name;  // appended as its own node after the layer
    }
    return std::string();
  };
  std::string tail_activation;
  if (cls == "Dense") {
    DenseParams p;
    p.has_bias = c["use_bias"];
    tail_activation = fused(p.activation);
    nodes.push_back(make_node(OpKind::dense, p, cls));
  } else if (starts("Conv") || starts("DepthwiseConv")) {
    ConvParams p;
    p.kernel_size = ints(c["kernel_size"], spatial);
    p.strides = ints(c["strides"], spatial);
    p.dilation = ints(c["dilation_rate"], spatial);
    p.padding = padding_of(c["padding"]);
    p.groups = c.value("groups", 1);
    p.filters = c.value("filters", 0);
    p.depth_multiplier = c.value("depth_multiplier", 1);
    if (c.contains("output_padding") && !c["output_padding"].is_null())
      p.output_padding = ints(c["output_padding"], spatial);
    p.has_bias = c["use_bias"];
    tail_activation = fused(p.activation);
    const OpKind kind = starts("DepthwiseConv")                      ? OpKind::depthwise_conv
                        : cls.find("Transpose") != std::string::npos ? OpKind::conv_transpose
                                                                     : OpKind::conv;
    nodes.push_back(make_node(kind, p, cls));
  } else if (starts("MaxPooling") || starts("AveragePooling")) {
    PoolParams p;
    p.kind = starts("Max") ? PoolKind::max : PoolKind::average;
    p.pool_size = ints(c["pool_size"], spatial);
    p.strides = c["strides"].is_null() ? p.pool_size : ints(c["strides"], spatial);
    p.padding = padding_of(c["padding"]);
    nodes.push_back(make_node(OpKind::pool, p, cls));
  } else if (starts("Global")) {
    GlobalPoolParams p;
    p.kind = starts("GlobalMax") ? PoolKind::max : PoolKind::average;
    p.keepdims = c.value("keepdims", false);
    nodes.push_back(make_node(OpKind::global_pool, p, cls));
  } else if (cls == "Activation") {
    append_activation(nodes, c["activation"], rank, cls);
  } else if (cls == "Softmax") {
    AxisActivationParams p{AxisActivationKind::softmax, {}};
    for (int64_t a : ints(c["axis"], 1)) p.axes.push_back(a < 0 ? a + rank : a);
    nodes.push_back(make_node(OpKind::axis_activation, p, cls));
  } else if (cls == "ReLU") {
    Activation a{ActivationKind::relu};
    a.max_value = c["max_value"].is_null() ? -1.f : c["max_value"].get<float>();
    a.negative_slope = c["negative_slope"];
    a.threshold = c["threshold"];
    nodes.push_back(make_node(OpKind::activation, ActivationParams{a}, cls));
  } else if (cls == "LeakyReLU") {
    nodes.push_back(make_node(
        OpKind::activation,
        ActivationParams{{ActivationKind::leaky_relu, c["negative_slope"].get<float>()}}, cls));
  } else if (cls == "ELU") {
    nodes.push_back(make_node(
        OpKind::activation, ActivationParams{{ActivationKind::elu, c["alpha"].get<float>()}}, cls));
  } else if (cls == "PReLU") {
    nodes.push_back(make_node(OpKind::prelu, PReluParams{}, cls));
  } else if (cls == "Permute") {
    TransposeParams p{{0}};
    for (int64_t d : c["dims"].get<std::vector<int64_t>>()) p.perm.push_back(d);
    nodes.push_back(make_node(OpKind::transpose, p, cls));
  } else if (cls == "Reshape" || cls == "Flatten") {
    ReshapeParams p;
    p.target =
        cls == "Flatten" ? std::vector<int64_t>{-1} : c["target_shape"].get<std::vector<int64_t>>();
    nodes.push_back(make_node(OpKind::reshape, p, cls));
  } else if (starts("UpSampling")) {
    nodes.push_back(make_node(OpKind::upsample, UpsampleParams{ints(c["size"], spatial)}, cls));
  } else if (starts("ZeroPadding")) {
    PadParams p;
    amounts(c["padding"], spatial, p.before, p.after);
    nodes.push_back(make_node(OpKind::pad, p, cls));
  } else if (starts("Cropping")) {
    SliceParams p;
    amounts(c["cropping"], spatial, p.crop_before, p.crop_after);
    nodes.push_back(make_node(OpKind::slice, p, cls));
  } else if (cls == "Concatenate") {
    const int64_t axis = c["axis"];
    nodes.push_back(make_node(OpKind::concat, ConcatParams{axis < 0 ? axis + rank : axis}, cls));
  } else if (cls == "Add" || cls == "Subtract" || cls == "Multiply" || cls == "Average" ||
             cls == "Maximum" || cls == "Minimum") {
    using E = ElementwiseKind;
    const E kind = cls == "Add"        ? E::add
                   : cls == "Subtract" ? E::subtract
                   : cls == "Multiply" ? E::multiply
                   : cls == "Average"  ? E::average
                   : cls == "Maximum"  ? E::maximum
                                       : E::minimum;
    nodes.push_back(make_node(OpKind::elementwise, ElementwiseParams{kind}, cls));
  } else if (cls == "Dropout") {
    nodes.push_back(make_node(OpKind::identity, IdentityParams{}, cls));
  } else if (cls == "BatchNormalization") {
    // Inference BN folded to y = x * scale + shift, in double: scale = gamma / sqrt(var + eps).
    int64_t axis = c["axis"].is_array() ? c["axis"][0].get<int64_t>() : c["axis"].get<int64_t>();
    axis = axis < 0 ? axis + rank : axis;
    const bool has_scale = c["scale"], has_center = c["center"];
    size_t w = 0;
    const Tensor* gamma = has_scale ? &weights[w++] : nullptr;
    const Tensor* beta = has_center ? &weights[w++] : nullptr;
    const Tensor& mean = weights[w++];
    const Tensor& var = weights[w++];
    const int64_t ch = mean.size();
    Tensor scale(DType::f32, {ch}), shift(DType::f32, {ch});
    for (int64_t i = 0; i < ch; ++i) {
      const double g = gamma ? gamma->data_as<float>()[i] : 1.0,
                   b = beta ? beta->data_as<float>()[i] : 0.0;
      const double s =
          g / std::sqrt(static_cast<double>(var.data_as<float>()[i]) + c["epsilon"].get<double>());
      scale.data_as<float>()[i] = static_cast<float>(s);
      shift.data_as<float>()[i] = static_cast<float>(b - mean.data_as<float>()[i] * s);
    }
    Node n = make_node(OpKind::scale_shift, ScaleShiftParams{axis, {}}, cls);
    n.weights = {scale, shift};
    return {n};
  } else {
    fail(ErrorCode::unsupported, "class ", cls, " is not known to the test");
  }
  nodes.front().weights = weights;
  if (!tail_activation.empty()) append_activation(nodes, tail_activation, rank, cls);
  return nodes;
}

inline LayerCase load_case(const std::string& name) {
  LayerCase lc;
  lc.name = name;
  const std::string dir = fixture_dir(name);
  lc.meta = nlohmann::json::parse(std::ifstream(dir + "/meta.json"));
  for (size_t i = 0; i < lc.meta["inputs"].size(); ++i)
    lc.inputs.push_back(read_npy_f32(dir + "/input_" + std::to_string(i) + ".npy"));
  lc.expected = read_npy_f32(dir + "/output_0.npy");
  const nlohmann::json layer =
      nlohmann::json::parse(std::ifstream(ops_data_dir() + "/" + name + "/layer.json"));
  std::vector<Tensor> weights;
  for (const auto& w : layer["weights"])
    weights.push_back(
        read_npy_f32(ops_data_dir() + "/" + name + "/" + w.get<std::string>() + ".npy"));
  lc.nodes = build_nodes(layer, weights, lc.inputs.at(0).rank());
  return lc;
}

}  // namespace krt::test
