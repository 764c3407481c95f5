// Reshape and Flatten are views (no bytes move), identities disappear, and the memory plan
// reuses buffers whose lifetimes do not overlap.
#include <gtest/gtest.h>

#include <filesystem>

#include "graph/model_data.h"
#include "kerasrt/kerasrt.h"
#include "passes/passes.h"
#include "runtime/memory_plan.h"
#include "test_paths.h"

namespace krt::test {
namespace {

std::string fixture(const std::string& rel) { return data_dir() + "/fixtures/" + rel; }

Graph optimized_graph(const Model& model) {
  Graph g = model.data().graph;
  run_inference_passes(g);
  return g;
}

TEST(MemoryPlan, ReshapesOfTheFoundingModelShareTheirInputBytes) {
  Model model = load(fixture("seed/seed_small_functional/model.keras"));
  Graph g = optimized_graph(model);
  MemoryPlan plan = plan_memory(g, {{2, 8, 8, 3}});
  int reshapes = 0;
  for (const Node& n : g.nodes) {
    if (n.kind != OpKind::reshape) continue;
    ++reshapes;
    EXPECT_EQ(plan.root[n.outputs[0]], plan.root[n.inputs[0]]) << n.name;
    EXPECT_EQ(plan.offset[n.outputs[0]], plan.offset[n.inputs[0]]) << n.name;
  }
  EXPECT_EQ(reshapes, 2);
  EXPECT_EQ(plan.views, 2);
  // Peak memory: conv out (2x1x1x16) aliases flat; fc1 (2x128) and fc2 (2x1024) live together,
  // then fc2 (aliased by unflat) and the output (2x8x8x32) live together.
  EXPECT_EQ(plan.arena_bytes, 2 * 1024 * 4 + 2 * 8 * 8 * 32 * 4);
  EXPECT_LT(plan.arena_bytes, plan.naive_bytes);
}

TEST(MemoryPlan, CompiledRunMovesNoBytesForReshapes) {
  Model model = load(fixture("seed/seed_small_functional/model.keras"));
  CompiledModel exe = model.compile();
  CompileReport report = exe.plan_for({{2, 8, 8, 3}});
  EXPECT_EQ(report.zero_copy_views, 2);
  EXPECT_EQ(report.nodes, 6);  // conv, reshape, dense, dense, reshape, conv_transpose
  EXPECT_GT(report.peak_intermediate_bytes, 0);
}

TEST(MemoryPlan, IdentitiesAreRemoved) {
  Model model = load(fixture("layers/dropout/model.keras"));
  CompiledModel exe = model.compile();
  EXPECT_GE(exe.report().identities_removed, 1);
  for (const Node& n : optimized_graph(model).nodes) EXPECT_NE(n.kind, OpKind::identity);
}

TEST(MemoryPlan, BuffersAreReusedAcrossADeepChain) {
  // resnet_blocks: many intermediates, few alive at once.
  Model model = load(fixture("models/resnet_blocks/model.keras"));
  Graph g = optimized_graph(model);
  Shape in = model.inputs()[0].shape;
  in[0] = 2;
  MemoryPlan plan = plan_memory(g, {in});
  EXPECT_LT(plan.arena_bytes * 2, plan.naive_bytes);
  // No two values alive at the same time overlap in the arena.
  std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (ValueId v : g.nodes[i].outputs)
      if (first[plan.root[v]] < 0) first[plan.root[v]] = static_cast<int>(i);
    for (ValueId v : g.nodes[i].inputs) last[plan.root[v]] = static_cast<int>(i);
  }
  for (ValueId v : g.outputs) last[plan.root[v]] = static_cast<int>(g.nodes.size());
  for (size_t a = 0; a < g.values.size(); ++a) {
    for (size_t b = a + 1; b < g.values.size(); ++b) {
      if (plan.root[a] != static_cast<ValueId>(a) || plan.root[b] != static_cast<ValueId>(b))
        continue;
      if (plan.offset[a] < 0 || plan.offset[b] < 0) continue;
      bool live_together =
          first[a] <= std::max(last[b], first[b]) && first[b] <= std::max(last[a], first[a]);
      int64_t size_a = shape_elements(plan.shapes[a]) * 4,
              size_b = shape_elements(plan.shapes[b]) * 4;
      bool overlap =
          plan.offset[a] < plan.offset[b] + size_b && plan.offset[b] < plan.offset[a] + size_a;
      EXPECT_FALSE(live_together && overlap) << g.values[a].name << " and " << g.values[b].name;
    }
  }
}

}  // namespace
}  // namespace krt::test
