// A model compiled for a device: the optimized graph, a kernel per node, cached memory plans
// per input shape, and a pool of arenas so concurrent runs never share scratch memory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/graph.h"
#include "kerasrt/model.h"
#include "runtime/memory_plan.h"

namespace krt {

struct ExecutionPlan {
  Graph graph;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  // Per node, for the CPU device (which also sets its thread count at the start of run());
  // empty for the reference device, whose nodes all run reference::run_node.
  std::vector<std::unique_ptr<cpu::NodeRunner>> cpu_runners;
  int threads = 0;
  CompileReport report;

  // The memory plan for these input shapes (computed once, then cached).
  std::shared_ptr<const MemoryPlan> plan_for(const std::vector<Shape>& input_shapes) const;
  // With `all_values`, also returns a copy of every value of the graph, indexed by ValueId.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, std::vector<Tensor>* all_values = nullptr) const;

 private:
  std::unique_ptr<std::vector<uint8_t>> take_arena(int64_t bytes) const;
  void return_arena(std::unique_ptr<std::vector<uint8_t>> arena) const;

  mutable std::mutex mutex_;
  mutable std::map<std::vector<Shape>, std::shared_ptr<const MemoryPlan>> plans_;
  mutable std::vector<std::unique_ptr<std::vector<uint8_t>>> arenas_;
};

std::shared_ptr<ExecutionPlan> compile_graph(const Graph& graph, const std::vector<TensorInfo>& inputs,
                                             const std::vector<TensorInfo>& outputs, const CompileOptions& options,
                                             bool optimize = true);

}  // namespace krt
