// A model compiled for a device: the optimized and placed graph, a prepared kernel per node,
// cached memory plans per input shapes, and a pool of run slots (arenas from the backends'
// allocators plus run contexts), so concurrent runs never share scratch memory and a slot's
// addresses stay stable between runs (recorded CUDA Graphs rely on that).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "graph/graph.h"
#include "kerasrt/model.h"
#include "runtime/backend.h"
#include "runtime/memory_plan.h"
#include "runtime/placement.h"

namespace krt {

struct ExecutionPlan {
  Graph graph;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  CompileOptions options;
  Placement placement;
  std::vector<std::unique_ptr<NodeKernel>> kernels;  // per node; nullptr for copy nodes
  CompileReport report;
  // Every node treats batch rows independently (cpu device only): a large batch may run as
  // several smaller ones whose intermediates stay in cache (sub_batches.cpp).
  bool batch_separable = false;

  // The memory plan for these input shapes (computed once, then cached).
  std::shared_ptr<const MemoryPlan> plan_for(const std::vector<Shape>& input_shapes) const;
  // With `all_values`, also returns a host copy of every value of the graph, indexed by ValueId.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const RunOptions& run_options = {},
                          std::vector<Tensor>* all_values = nullptr) const;

  // CompiledModel::upload / download: a copy in the device's memory (float32, or the float dtype
  // given), or a float32 copy of a device tensor on the host.
  Tensor transfer(const Tensor& tensor, bool to_device, DType device_dtype = DType::f32) const;

  ExecutionPlan() = default;
  ~ExecutionPlan();
  ExecutionPlan(const ExecutionPlan&) = delete;
  ExecutionPlan& operator=(const ExecutionPlan&) = delete;

  struct RunSlot;

 private:
  // `threads` > 0: the host kernels of this run use that many threads.
  std::vector<Tensor> run_whole(const std::vector<Tensor>& inputs, const RunOptions& run_options,
                                std::vector<Tensor>* all_values, int threads = 0) const;
  // Rows per sub-batch for these inputs, or 0 to run them whole.
  int64_t sub_batch_rows(const std::vector<Tensor>& inputs) const;
  std::vector<Tensor> run_in_sub_batches(const std::vector<Tensor>& inputs, int64_t rows,
                                         const RunOptions& run_options) const;
  std::unique_ptr<RunSlot> take_slot(const MemoryPlan& memory) const;
  void return_slot(std::unique_ptr<RunSlot> slot) const;

  mutable std::mutex mutex_;
  mutable std::map<std::vector<Shape>, std::shared_ptr<const MemoryPlan>> plans_;
  mutable std::vector<std::unique_ptr<RunSlot>> slots_;
};

// Whether every node of `graph` computes each batch row from the same rows of its inputs, and
// every value has the batch axis first.
bool is_batch_separable(const Graph& graph);

// Runs the passes the device's backend wants, places every node (the device where it can, the
// cpu backend elsewhere, copies between), and prepares the kernels. `optimize` false keeps the
// graph as imported (for tracing every layer's output). `graph_owns_weights`: the caller
// guarantees nothing else will read the graph's weights (it let go of the model), so passes may
// change them in place (fold_scale_shifts).
std::shared_ptr<ExecutionPlan> compile_graph(const Graph& graph,
                                             const std::vector<TensorInfo>& inputs,
                                             const std::vector<TensorInfo>& outputs,
                                             const CompileOptions& options, bool optimize = true,
                                             bool graph_owns_weights = false);

}  // namespace krt
