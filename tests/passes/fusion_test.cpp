// The CPU device's fusions: inference BatchNormalization folded into the convolution before it,
// activations run inside the Dense/Conv before them; never when another reader needs the
// unfused value, never on the reference device, and never touching the model's own weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "core/weight_storage.h"
#include "golden/fixture_case.h"
#include "graph/model_data.h"
#include "kerasrt/graph_builder.h"
#include "kerasrt/kerasrt.h"
#include "passes/passes.h"
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

// A copy of `t` in weight storage: memory of ours, as the loader's aligned copies are.
Tensor in_weight_storage_copy(const Tensor& t) {
  std::shared_ptr<void> storage = allocate_weight_storage(t.nbytes());
  std::memcpy(storage.get(), t.data(), t.nbytes());
  return Tensor::adopt(DType::f32, t.shape(), storage, storage.get());
}

const Node& node_named(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return g.nodes.front();
}

// A graph that alone holds its weights (`kerasrt run` lets go of the model) folds a kernel of
// ours in its own memory, to the same bits as the copy; a kernel another node also reads, or
// one that is not ours (a file's read-only map, a caller's tensor), is still copied.
TEST(Fusion, InPlaceOnlyForAKernelOfOursThatNoOtherNodeShares) {
  Model model = load(data_dir() + "/fixtures/models/mobilenetv2_blocks/model.keras");
  Graph copied = model.data().graph, owned = model.data().graph;
  ASSERT_EQ(fold_scale_shifts(copied), 9);
  int shared_node = -1, foreign_node = -1;
  for (size_t i = 0; i < owned.nodes.size(); ++i) {
    Node& n = owned.nodes[i];
    if (n.kind != OpKind::conv && n.kind != OpKind::depthwise_conv) continue;
    if (shared_node < 0) {
      shared_node = static_cast<int>(i);  // also read by the last node, below
    } else if (foreign_node < 0) {
      foreign_node = static_cast<int>(i);  // stays a plain heap tensor
      n.weights[0] = n.weights[0].clone();
      continue;
    }
    n.weights[0] = in_weight_storage_copy(n.weights[0]);
  }
  ASSERT_GE(foreign_node, 0);
  const Tensor shared = owned.nodes[shared_node].weights[0], shared_before = shared.clone();
  owned.nodes.back().weights.push_back(shared);
  const std::string shared_name = owned.nodes[shared_node].name,
                    foreign_name = owned.nodes[foreign_node].name;
  std::map<std::string, const void*> before;
  for (const Node& n : owned.nodes)
    if (!n.weights.empty()) before[n.name] = n.weights[0].data();
  ASSERT_EQ(fold_scale_shifts(owned, /*graph_owns_weights=*/true), 9);
  int in_place = 0;
  for (const Node& n : owned.nodes) {
    const size_t plus = n.name.find('+');
    if (plus == std::string::npos) continue;
    const std::string base = n.name.substr(0, plus);
    const Tensor& want = node_named(copied, n.name).weights[0];
    ASSERT_EQ(n.weights[0].nbytes(), want.nbytes()) << n.name;
    EXPECT_EQ(std::memcmp(n.weights[0].data(), want.data(), want.nbytes()), 0) << n.name;
    const bool same_bytes = n.weights[0].data() == before.at(base);
    EXPECT_EQ(same_bytes, base != shared_name && base != foreign_name) << n.name;
    in_place += same_bytes;
  }
  EXPECT_EQ(in_place, 7);
  EXPECT_EQ(std::memcmp(shared.data(), shared_before.data(), shared.nbytes()), 0);
}

}  // namespace
}  // namespace krt::test
