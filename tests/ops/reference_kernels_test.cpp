// The op-conformance suite: every single-layer fixture that tests/data/ops/extract_weights.py
// exported from Keras 3.15.1 is rebuilt as kerasrt nodes by hand, run on the fixture's input by
// the reference kernels and by every registered backend in every precision, and compared with
// Keras's output_0.npy within the fixture's tolerance (plus a reduced precision's allowance).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "backend_cases.h"
#include "backends/reference/reference_backend.h"
#include "ops/layer_cases.h"
#include "ops/shape_inference.h"

namespace krt {
namespace {

using test::LayerCase;

// Runs the case's nodes one after another; the first gets all fixture inputs.
Tensor run_case(const LayerCase& lc) {
  std::vector<Tensor> current = lc.inputs;
  for (const Node& node : lc.nodes) {
    std::vector<Shape> in_shapes;
    for (const Tensor& t : current) in_shapes.push_back(t.shape());
    const std::vector<Shape> out_shapes = infer_output_shapes(node, in_shapes);
    std::vector<Tensor> outs;
    for (const Shape& s : out_shapes) outs.emplace_back(DType::f32, s);
    reference::run_node(node, current, outs);
    current = std::move(outs);
  }
  return current.at(0);
}

class KerasLayerCase : public ::testing::TestWithParam<std::string> {};

// `got` against Keras's output within the case's tolerance, plus `extra` * max |Keras| (the
// stated allowance of a reduced precision).
void expect_close_to_keras(const LayerCase& lc, const Tensor& got, double extra,
                           const std::string& where) {
  ASSERT_EQ(shape_to_string(got.shape()), shape_to_string(lc.expected.shape())) << where;
  const double rtol = lc.meta["tolerance"]["rtol"];
  const float* g = got.data_as<float>();
  const float* w = lc.expected.data_as<float>();
  double max_ref = 0;
  for (int64_t i = 0; i < got.size(); ++i)
    max_ref = std::max(max_ref, static_cast<double>(std::fabs(w[i])));
  const double atol = static_cast<double>(lc.meta["tolerance"]["atol"]) + extra * max_ref;
  int64_t bad = 0, first_bad = -1;
  double worst = 0.0;
  for (int64_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - w[i]);
    worst = std::max(worst, err);
    if (!(err <= atol + rtol * std::fabs(w[i]))) {
      if (first_bad < 0) first_bad = i;
      ++bad;
    }
  }
  EXPECT_EQ(bad, 0) << where << ": " << bad << " of " << got.size()
                    << " elements off; first at flat index " << first_bad << ": got "
                    << g[std::max<int64_t>(first_bad, 0)] << ", Keras "
                    << w[std::max<int64_t>(first_bad, 0)] << "; max |error| " << worst << " (atol "
                    << atol << ", rtol " << rtol << ")";
}

// One case list, run on every registered backend in every precision it offers: the reference
// kernels called directly, then each backend through compile (its passes, placement, kernels).
TEST_P(KerasLayerCase, MatchesKerasOutput) {
  const LayerCase lc = test::load_case(GetParam());
  expect_close_to_keras(lc, run_case(lc), 0, "reference kernels");
  std::vector<Shape> shapes;
  for (const Tensor& t : lc.inputs) shapes.push_back(t.shape());
  for (const test::BackendCase& backend : test::backend_cases()) {
    auto compiled = test::compile_nodes(lc.nodes, shapes, backend.options);
    const Tensor got = test::run_compiled(*compiled, lc.inputs).at(0);
    expect_close_to_keras(lc, got, test::reduced_precision_tolerance(backend.options.precision),
                          backend.label);
  }
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Fixtures, KerasLayerCase, ::testing::ValuesIn(test::exported_cases()),
                         case_name);

// Guards against the parameterized suite silently shrinking (e.g. a missing CASES.txt).
TEST(KerasLayerCases, RequiredCasesAreExported) {
  const std::vector<std::string> cases = test::exported_cases();
  const std::vector<std::string> required = {"conv2d_valid",
                                             "conv2d_same_s2",
                                             "conv2d_groups2",
                                             "conv2d_dilation2",
                                             "conv1d_causal_dil2",
                                             "conv3d_same_s122",
                                             "conv2dT_same_s2",
                                             "conv2dT_valid_s2_outpad1",
                                             "conv2dT_same_dil2",
                                             "conv1dT_same_s3",
                                             "conv3dT_same_s2",
                                             "dwconv2d_m2_same",
                                             "maxpool2d_same_p3_s2",
                                             "avgpool2d_same_p3_s2",
                                             "avgpool1d_same_p3_s2",
                                             "gap3d_keepdims",
                                             "dense_4d_input",
                                             "prelu_shared_axes",
                                             "softmax_axis1",
                                             "permute_312",
                                             "upsampling2d_nearest",
                                             "zeropadding2d",
                                             "cropping2d",
                                             "concat_axis2_4d",
                                             "subtract"};
  for (const std::string& r : required)
    EXPECT_NE(std::find(cases.begin(), cases.end(), r), cases.end()) << r;
  // Every Activation-layer fixture is covered.
  for (const auto& entry :
       std::filesystem::directory_iterator(test::data_dir() + "/fixtures/layers")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("activation_", 0) == 0) {
      EXPECT_NE(std::find(cases.begin(), cases.end(), name), cases.end()) << name;
    }
  }
}

// Reshape and identity must not touch the bytes when the executor aliases input and output.
TEST(ReferenceKernels, ReshapeInPlaceIsANoOp) {
  Tensor x(DType::f32, {2, 6});
  for (int i = 0; i < 12; ++i) x.data_as<float>()[i] = static_cast<float>(i);
  Node node;
  node.kind = OpKind::reshape;
  node.params = ReshapeParams{{3, 2}};
  std::vector<Tensor> in{x};
  std::vector<Tensor> out{x.reshaped({2, 3, 2})};
  reference::run_node(node, in, out);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(out[0].data_as<float>()[i], static_cast<float>(i));
}

// Activations at extreme inputs: no overflow to inf/nan where the true value is finite.
TEST(Activations, StableAtLargeMagnitudes) {
  using K = ActivationKind;
  for (K k : {K::softplus, K::log_sigmoid, K::sigmoid, K::silu, K::mish, K::gelu, K::gelu_tanh,
              K::selu, K::elu}) {
    Activation a{k, 1.f};
    for (float x : {-1e4f, -100.f, -30.f, 30.f, 100.f, 1e4f})
      EXPECT_TRUE(std::isfinite(apply_activation(a, x))) << activation_name(k) << " at " << x;
  }
  EXPECT_FLOAT_EQ(apply_activation({K::softplus}, 100.f), 100.f);
  EXPECT_FLOAT_EQ(apply_activation({K::log_sigmoid}, -100.f), -100.f);
  EXPECT_FLOAT_EQ(apply_activation({K::sigmoid}, -200.f), 0.f);
}

// Keras 2's hard_sigmoid differs from Keras 3's: 0.2x + 0.5 against x/6 + 0.5.
TEST(Activations, HardSigmoidVersions) {
  EXPECT_FLOAT_EQ(apply_activation({ActivationKind::hard_sigmoid_keras2}, 1.f), 0.7f);
  EXPECT_FLOAT_EQ(apply_activation({ActivationKind::hard_sigmoid_keras2}, 2.5f), 1.f);
  EXPECT_FLOAT_EQ(apply_activation({ActivationKind::hard_sigmoid}, 1.5f), 0.75f);
  EXPECT_FLOAT_EQ(apply_activation({ActivationKind::hard_sigmoid}, 3.f), 1.f);
}

}  // namespace
}  // namespace krt
