// The CPU device's fusions: inference BatchNormalization folded into the convolution before it,
// activations run inside the Dense/Conv before them; never when another reader needs the
// unfused value, never on the reference device, and never touching the model's own weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "golden/fixture_case.h"
#include "kerasrt/graph_builder.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"

namespace krt::test {
namespace {

Tensor filled(Shape shape, float scale) {
  Tensor t(DType::f32, shape);
  for (int64_t i = 0; i < t.size(); ++i)
    t.data_as<float>()[i] = scale * static_cast<float>((i * 37) % 11 - 5);
  return t;
}

TEST(Fusion, BatchNormAndReluFoldIntoTheConvolutions) {
  const std::string dir = data_dir() + "/fixtures/models/mobilenetv2_blocks";
  Model model = load(dir + "/model.keras");
  int bns = 0, relus = 0;
  for (const LayerInfo& l : model.layers()) {
    bns += l.class_name == "BatchNormalization";
    relus += l.class_name == "ReLU";
  }
  ASSERT_EQ(bns, 9);
  CompiledModel cpu = model.compile();
  EXPECT_EQ(cpu.report().scale_shifts_folded, bns);  // every BN here follows a conv
  EXPECT_EQ(cpu.report().activations_fused, relus);  // every ReLU here follows a BN
  CompiledModel ref = model.compile({Device::reference()});
  EXPECT_EQ(ref.report().scale_shifts_folded, 0);
  EXPECT_EQ(ref.report().activations_fused, 0);
  // Both still match Keras (folding changes rounding only).
  const std::vector<Tensor> inputs = read_numbered(dir, "input_");
  const Tensor expected = Tensor::from_npy(dir + "/output_0.npy");
  for (CompiledModel* exe : {&cpu, &ref}) {
    std::string diff = compare_tensors(exe->run(inputs)[0], expected, read_tolerance(dir));
    EXPECT_TRUE(diff.empty()) << diff;
  }
}

TEST(Fusion, TheModelsWeightsStayUntouched) {
  Model model = load(data_dir() + "/fixtures/models/mobilenetv2_blocks/model.keras");
  const Tensor before = model.layer_weights("stem")[0].clone();
  CompiledModel cpu = model.compile();
  cpu.run(read_numbered(data_dir() + "/fixtures/models/mobilenetv2_blocks", "input_"));
  const Tensor after = model.layer_weights("stem")[0];
  ASSERT_EQ(before.nbytes(), after.nbytes());
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.nbytes()), 0);
}

TEST(Fusion, OnlyWhenNothingElseReadsTheUnfusedValue) {
  Conv2DOptions same;
  same.padding = Padding::same;
  {  // the conv's own output is also a model output: its activation must stay separate
    GraphBuilder g("two_readers");
    auto x = g.input("x", {dynamic, 5, 5, 2});
    auto h = g.conv2d(x, filled({3, 3, 2, 4}, 0.1f), filled({4}, 0.05f), same);
    Model model = g.build({h, g.activation(h, ActivationKind::relu)});
    EXPECT_EQ(model.compile().report().activations_fused, 0);
  }
  {  // the conv already has an activation: tanh(relu(.)) stays two steps
    GraphBuilder g("stacked");
    auto x = g.input("x", {dynamic, 5, 5, 2});
    Conv2DOptions relu = same;
    relu.activation = ActivationKind::relu;
    auto h = g.conv2d(x, filled({3, 3, 2, 4}, 0.1f), filled({4}, 0.05f), relu);
    Model model = g.build({g.activation(h, ActivationKind::tanh)});
    EXPECT_EQ(model.compile().report().activations_fused, 0);
  }
  {  // dense then sigmoid: fused, and the same numbers as the reference device
    GraphBuilder g("dense_sigmoid");
    auto x = g.input("x", {dynamic, 6});
    Model model = g.build({g.activation(g.dense(x, filled({6, 3}, 0.2f), filled({3}, 0.1f)),
                                        ActivationKind::sigmoid)});
    CompiledModel cpu = model.compile();
    EXPECT_EQ(cpu.report().activations_fused, 1);
    Tensor in = filled({2, 6}, 0.3f);
    Tensor a = cpu.run({in})[0], b = model.compile({Device::reference()}).run({in})[0];
    for (int64_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a.data_as<float>()[i], b.data_as<float>()[i], 1e-6f);
  }
}

}  // namespace
}  // namespace krt::test
