// Shape inference against the shapes Keras 3.15.1 computed (the fixtures' meta.json), the
// Keras length formulas for conv/pool/transposed conv, and the error messages for bad inputs.
#include "ops/shape_inference.h"

#include <gtest/gtest.h>

#include "ops/layer_cases.h"

namespace krt {
namespace {

std::vector<Shape> chain_shapes(const std::vector<Node>& nodes, std::vector<Shape> shapes) {
  for (const Node& n : nodes) shapes = infer_output_shapes(n, shapes);
  return shapes;
}

Shape json_shape(const nlohmann::json& j) {
  Shape s;
  for (const auto& d : j) s.push_back(d.is_null() ? dynamic : d.get<int64_t>());
  return s;
}

class KerasShapeCase : public ::testing::TestWithParam<std::string> {};

// With the model's symbolic input shapes (batch None) and with every concrete input set Keras ran.
TEST_P(KerasShapeCase, MatchesKerasShapes) {
  const test::LayerCase lc = test::load_case(GetParam());
  std::vector<Shape> symbolic;
  for (const auto& in : lc.meta["inputs"]) symbolic.push_back(json_shape(in["model_shape"]));
  Shape want = json_shape(lc.meta["outputs"][0]["shape"]);
  want[0] = dynamic;
  EXPECT_EQ(shape_to_string(chain_shapes(lc.nodes, symbolic).at(0)), shape_to_string(want));

  std::vector<std::pair<nlohmann::json, nlohmann::json>> sets;  // (input shapes, output shapes)
  nlohmann::json main_in = nlohmann::json::array(), main_out = nlohmann::json::array();
  for (const auto& in : lc.meta["inputs"]) main_in.push_back(in["shape"]);
  for (const auto& out : lc.meta["outputs"]) main_out.push_back(out["shape"]);
  sets.emplace_back(main_in, main_out);
  const nlohmann::json extra = lc.meta.value("extra_sets", nlohmann::json::object());
  for (const auto& set : extra) sets.emplace_back(set["input_shapes"], set["output_shapes"]);
  for (const auto& [ins, outs] : sets) {
    std::vector<Shape> concrete;
    for (const auto& s : ins) concrete.push_back(json_shape(s));
    EXPECT_EQ(shape_to_string(chain_shapes(lc.nodes, concrete).at(0)),
              shape_to_string(json_shape(outs[0])));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KerasShapeCase, ::testing::ValuesIn(test::exported_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Lengths from the Keras fixtures (meta.json): input length -> Keras output length.
TEST(ConvLengths, MatchKeras) {
  // conv2d_same_s2_even_k4: 8 -> 4; conv2d_same_s2: 9 -> 5; conv2d_dilation2 (valid, d2): 9 -> 5;
  // conv1d_causal_dil2: 12 -> 12; conv3d_same_s122: 6 -> 3, 7 -> 4.
  EXPECT_EQ(conv_output_length(8, 4, 2, 1, Padding::same), 4);
  EXPECT_EQ(conv_output_length(9, 3, 2, 1, Padding::same), 5);
  EXPECT_EQ(conv_output_length(9, 3, 1, 2, Padding::valid), 5);
  EXPECT_EQ(conv_output_length(12, 3, 1, 2, Padding::causal), 12);
  EXPECT_EQ(conv_output_length(7, 3, 2, 1, Padding::same), 4);
  EXPECT_EQ(conv_output_length(dynamic, 3, 2, 1, Padding::same), dynamic);
  // Padding before: 'same' puts the odd element after; 'causal' pads (k-1)*d before.
  EXPECT_EQ(conv_pad_before(8, 4, 2, 1, Padding::same), 1);  // total 2
  EXPECT_EQ(conv_pad_before(9, 3, 2, 1, Padding::same), 1);  // total 2
  EXPECT_EQ(conv_pad_before(8, 3, 2, 1, Padding::same), 0);  // total 1, after
  EXPECT_EQ(conv_pad_before(12, 3, 1, 2, Padding::causal), 4);
  EXPECT_EQ(conv_pad_before(12, 3, 1, 2, Padding::valid), 0);
}

TEST(ConvTransposeLengths, MatchKeras) {
  // conv2dT_valid_s2_outpad1: 4 -> 10, 5 -> 12; conv2dT_nobias_relu_s2_same_outpad1: 3 -> 6;
  // conv2dT_same_s2_k4: 4 -> 8; conv2dT_same_dil2: 5 -> 5; conv1dT_valid_s2: 5 -> 11.
  EXPECT_EQ(conv_transpose_output_length(4, 3, 2, 1, Padding::valid, 1), 10);
  EXPECT_EQ(conv_transpose_output_length(5, 3, 2, 1, Padding::valid, 1), 12);
  EXPECT_EQ(conv_transpose_output_length(3, 3, 2, 1, Padding::same, 1), 6);
  EXPECT_EQ(conv_transpose_output_length(4, 4, 2, 1, Padding::same, -1), 8);
  EXPECT_EQ(conv_transpose_output_length(5, 3, 1, 2, Padding::same, -1), 5);
  EXPECT_EQ(conv_transpose_output_length(5, 3, 2, 1, Padding::valid, -1), 11);
  EXPECT_EQ(conv_transpose_output_length(dynamic, 3, 2, 1, Padding::valid, -1), dynamic);
  // Scatter pads from Keras's jax padding (left = kd - 1 - pad): valid never crops; 'same' with
  // k3 s2 gives jax left pad 2 (pad_len 3), so pad 0; k4 s2: pad_len 4, left 2, pad 1; with
  // output_padding 1 and k3 s2, pad_len = 3 + 1 - 2 + 1 = 3, left 2, pad 0.
  EXPECT_EQ(conv_transpose_pad(3, 2, 1, Padding::valid, -1), 0);
  EXPECT_EQ(conv_transpose_pad(3, 2, 1, Padding::same, -1), 0);
  EXPECT_EQ(conv_transpose_pad(4, 2, 1, Padding::same, -1), 1);
  EXPECT_EQ(conv_transpose_pad(3, 1, 2, Padding::same, -1), 2);
  EXPECT_EQ(conv_transpose_pad(3, 2, 1, Padding::same, 1), 0);
  EXPECT_EQ(conv_transpose_pad(4, 2, 1, Padding::same, 1), 1);  // pad_len 4 + 0 - 2 + 1 = 3, left 2
}

// --- Errors: invalid_file, message starting with the layer label, expected vs found. ---

Node node_of(OpKind kind, OpParams params, std::string name, std::string cls,
             std::vector<Tensor> weights = {}) {
  Node n;
  n.kind = kind;
  n.params = std::move(params);
  n.name = std::move(name);
  n.keras_class = std::move(cls);
  n.weights = std::move(weights);
  return n;
}

std::string error_of(const Node& n, const std::vector<Shape>& inputs) {
  try {
    infer_output_shapes(n, inputs);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
    return e.what();
  }
  return "no error";
}

TEST(ShapeErrors, DenseFeatureMismatch) {
  const Node n = node_of(OpKind::dense, DenseParams{}, "fc2", "Dense",
                         {Tensor(DType::f32, {16, 4}), Tensor(DType::f32, {4})});
  EXPECT_EQ(error_of(n, {{dynamic, 12}}),
            "layer 'fc2' (Dense): input has 12 features on its last axis, the kernel expects 16");
  EXPECT_EQ(shape_to_string(infer_output_shapes(n, {{dynamic, 3, 16}})[0]), "(None, 3, 4)");
}

TEST(ShapeErrors, ConvChannelMismatch) {
  ConvParams p;
  p.kernel_size = {3, 3};
  const Node n = node_of(OpKind::conv, p, "c1", "Conv2D",
                         {Tensor(DType::f32, {3, 3, 3, 8}), Tensor(DType::f32, {8})});
  EXPECT_EQ(error_of(n, {{dynamic, 7, 7, 4}}),
            "layer 'c1' (Conv2D): input has 4 channels, the kernel (3, 3, 3, 8) with 1 group(s) "
            "expects 3");
  EXPECT_NE(error_of(n, {{dynamic, 7, 3}}).find("expected rank 4"), std::string::npos);
  EXPECT_NE(error_of(n, {{dynamic, 2, 7, 3}}).find("empty output"), std::string::npos);
}

TEST(ShapeErrors, ReshapeCountMismatch) {
  const Node n = node_of(OpKind::reshape, ReshapeParams{{4, 4, 512}}, "r", "Reshape");
  EXPECT_EQ(error_of(n, {{dynamic, 128}}),
            "layer 'r' (Reshape): cannot reshape (128,) (128 elements per sample) to (4, 4, 512) "
            "(8192 elements)");
  const Node m = node_of(OpKind::reshape, ReshapeParams{{-1, 5}}, "r", "Reshape");
  EXPECT_NE(error_of(m, {{2, 12}}).find("cannot reshape (12,)"), std::string::npos);
  const Node two = node_of(OpKind::reshape, ReshapeParams{{-1, -1}}, "r", "Reshape");
  EXPECT_NE(error_of(two, {{2, 12}}).find("more than one -1"), std::string::npos);
  // An unknown input dimension leaves the -1 unknown.
  EXPECT_EQ(shape_to_string(infer_output_shapes(m, {{dynamic, dynamic, 5}})[0]), "(None, None, 5)");
}

TEST(ShapeErrors, ConcatAndBroadcast) {
  const Node c = node_of(OpKind::concat, ConcatParams{2}, "cat", "Concatenate");
  EXPECT_EQ(shape_to_string(infer_output_shapes(c, {{dynamic, 3, 2, 4}, {dynamic, 3, 5, 4}})[0]),
            "(None, 3, 7, 4)");
  EXPECT_EQ(error_of(c, {{dynamic, 3, 2, 4}, {dynamic, 2, 5, 4}}),
            "layer 'cat' (Concatenate): input 1 has shape (None, 2, 5, 4), which does not match "
            "(None, 3, 2, 4) on the axes "
            "other than 2");
  const Node add =
      node_of(OpKind::elementwise, ElementwiseParams{ElementwiseKind::add}, "add", "Add");
  EXPECT_EQ(shape_to_string(infer_output_shapes(add, {{dynamic, 1, 6}, {dynamic, 4, 1}, {6}})[0]),
            "(None, 4, 6)");
  EXPECT_EQ(error_of(add, {{dynamic, 5}, {dynamic, 6}}),
            "layer 'add' (Add): input shapes (None, 5), (None, 6) cannot be broadcast together");
  const Node sub =
      node_of(OpKind::elementwise, ElementwiseParams{ElementwiseKind::subtract}, "sub", "Subtract");
  EXPECT_NE(error_of(sub, {{2, 5}, {2, 5}, {2, 5}}).find("exactly 2"), std::string::npos);
}

TEST(ShapeErrors, OtherOps) {
  const Node glu = node_of(OpKind::axis_activation,
                           AxisActivationParams{AxisActivationKind::glu, {2}}, "g", "Activation");
  EXPECT_EQ(shape_to_string(infer_output_shapes(glu, {{dynamic, 4, 6}})[0]), "(None, 4, 3)");
  EXPECT_NE(error_of(glu, {{dynamic, 4, 5}}).find("odd size 5"), std::string::npos);
  const Node perm = node_of(OpKind::transpose, TransposeParams{{0, 1, 1}}, "p", "Permute");
  EXPECT_NE(error_of(perm, {{2, 3, 4}}).find("is not a permutation"), std::string::npos);
  const Node crop = node_of(OpKind::slice, SliceParams{{0, 3, 0}, {0, 3, 0}}, "crop", "Cropping1D");
  EXPECT_NE(error_of(crop, {{2, 6, 3}}).find("leaves nothing"), std::string::npos);
  const Node id = node_of(OpKind::identity, IdentityParams{}, "d", "Dropout");
  EXPECT_EQ(error_of(id, {{2, 3}, {2, 3}}), "layer 'd' (Dropout): expects 1 input, found 2");
  const Node pool = node_of(OpKind::pool, PoolParams{PoolKind::max, {3, 3}, {2, 2}, Padding::valid},
                            "mp", "MaxPooling2D");
  EXPECT_EQ(shape_to_string(infer_output_shapes(pool, {{dynamic, dynamic, 7, 2}})[0]),
            "(None, None, 3, 2)");
  // Strides left empty default to the pool size, as in Keras.
  const Node pool2 = node_of(OpKind::pool, PoolParams{PoolKind::max, {2, 2}, {}, Padding::valid},
                             "mp", "MaxPooling2D");
  EXPECT_EQ(shape_to_string(infer_output_shapes(pool2, {{dynamic, 8, 7, 2}})[0]),
            "(None, 4, 3, 2)");
}

}  // namespace
}  // namespace krt
