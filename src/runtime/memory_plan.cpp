#include "runtime/memory_plan.h"

#include <algorithm>

#include "core/check.h"
#include "ops/shape_inference.h"

namespace krt {

bool is_view_op(OpKind kind) { return kind == OpKind::reshape || kind == OpKind::identity; }

namespace {

constexpr int64_t kAlignment = 64;

int64_t align_up(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

MemoryPlan plan_memory(const Graph& graph, const std::vector<Shape>& input_shapes,
                       const std::vector<int>& value_space) {
  MemoryPlan plan;
  size_t n_values = graph.values.size();
  plan.space = value_space.empty() ? std::vector<int>(n_values, 0) : value_space;
  if (plan.space.size() != n_values)
    fail(ErrorCode::internal, "memory plan: ", plan.space.size(), " spaces for ", n_values,
         " values");
  int n_spaces = 1;
  for (int s : plan.space) n_spaces = std::max(n_spaces, s + 1);
  plan.space_bytes.assign(n_spaces, 0);
  plan.shapes.resize(n_values);
  plan.root.resize(n_values);
  plan.offset.assign(n_values, -1);
  for (size_t v = 0; v < n_values; ++v) plan.root[v] = static_cast<ValueId>(v);
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    plan.shapes[graph.inputs[i]] = input_shapes.at(i);

  for (const Node& node : graph.nodes) {
    std::vector<Shape> in;
    for (ValueId v : node.inputs) in.push_back(plan.shapes[v]);
    std::vector<Shape> out = infer_output_shapes(node, in);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      for (int64_t d : out[k])
        if (d < 0)
          fail(ErrorCode::internal, node.label(), ": output shape ", shape_to_string(out[k]),
               " is not concrete");
      plan.shapes[node.outputs[k]] = out[k];
    }
    if (is_view_op(node.kind)) {
      plan.root[node.outputs[0]] = plan.root[node.inputs[0]];
      ++plan.views;
    }
  }

  // Lifetimes of computed roots, in node steps: [first write, last read]. Graph outputs live
  // to the end, when they are copied out.
  int n_nodes = static_cast<int>(graph.nodes.size());
  std::vector<int> first(n_values, -1), last(n_values, -1);
  for (int i = 0; i < n_nodes; ++i) {
    const Node& node = graph.nodes[i];
    for (ValueId v : node.outputs)
      if (first[plan.root[v]] < 0) first[plan.root[v]] = i;
    for (ValueId v : node.inputs) last[plan.root[v]] = std::max(last[plan.root[v]], i);
  }
  for (ValueId v : graph.outputs) last[plan.root[v]] = n_nodes;

  struct Block {
    ValueId root;
    int64_t size;
    int begin, end;
    int64_t offset = -1;
  };
  std::vector<Block> blocks;
  std::vector<bool> is_input(n_values, false);
  for (ValueId v : graph.inputs) is_input[v] = true;
  for (size_t v = 0; v < n_values; ++v) {
    if (plan.root[v] != static_cast<ValueId>(v) || is_input[v] || first[v] < 0) continue;
    int64_t bytes = align_up(shape_elements(plan.shapes[v]) *
                             static_cast<int64_t>(dtype_size(graph.values[v].dtype)));
    blocks.push_back({static_cast<ValueId>(v), bytes, first[v], std::max(last[v], first[v])});
    plan.naive_bytes += bytes;
  }
  // Largest first; each block takes the lowest offset of its space's arena free of blocks of
  // that space alive at the same time.
  std::vector<size_t> order(blocks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return blocks[a].size > blocks[b].size; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    Block& b = blocks[i];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const Block& o = blocks[j];
      if (plan.space[o.root] != plan.space[b.root]) continue;
      if (o.begin <= b.end && b.begin <= o.end) busy.push_back({o.offset, o.offset + o.size});
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + b.size <= lo) break;
      offset = std::max(offset, hi);
    }
    b.offset = offset;
    int64_t& arena = plan.space_bytes[plan.space[b.root]];
    arena = std::max(arena, offset + b.size);
    placed.push_back(i);
  }
  for (int64_t bytes : plan.space_bytes) plan.arena_bytes += bytes;
  for (const Block& b : blocks) plan.offset[b.root] = b.offset;
  for (size_t v = 0; v < n_values; ++v) plan.offset[v] = plan.offset[plan.root[v]];
  return plan;
}

}  // namespace krt
