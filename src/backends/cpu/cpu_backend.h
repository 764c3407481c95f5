// The fast CPU backend's node runner: oneDNN primitives for dense and the convolution family,
// threads through oneDNN's OpenMP runtime, contiguous loops for activations, merges, pooling,
// softmax and concat. Every
// other op, and any case oneDNN cannot express, runs the reference kernel, so the CPU device
// supports every op. The Backend itself is in cpu_device.cpp.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace krt::cpu {

// Runs one node of a compiled plan. The first run for an input shape builds the oneDNN
// primitive and packs the weights into its preferred layout; later runs reuse both. run() may
// be called from many threads at once. `node` must outlive the runner.
class NodeRunner {
 public:
  // With the node's input and output shapes (dynamic dims allowed), decides at compile time
  // whether oneDNN runs it, by building the primitive for the batch-1 shape.
  explicit NodeRunner(const Node& node, const Shape& input_shape = {},
                      const Shape& output_shape = {});
  ~NodeRunner();
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  // `scratch` is the run's oneDNN scratchpad (grown as needed); nullptr for a private one.
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs,
           std::vector<uint8_t>* scratch = nullptr) const;
  // Runs through oneDNN and returns true, or returns false without touching the outputs when
  // there is no oneDNN kernel for this op or these shapes (tests check the fast path ran).
  bool run_with_onednn(std::span<const Tensor> inputs, std::span<Tensor> outputs,
                       std::vector<uint8_t>* scratch = nullptr) const;
  // Whether oneDNN runs this node (decided at construction).
  bool uses_onednn() const;
  // What runs it, for profiles: "onednn", "cpu loop" or "cpu <kernel>" (ours, e.g.
  // "cpu pool_nhwc_f32"), "view" (no work) or "reference" (for the shapes seen at compile time).
  std::string kernel_name() const;
  // Packed copies of the kernel held now (input shapes that want the same layout share one).
  size_t packed_weight_copies() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Kernels started from the calling thread use `threads` threads (0: one per core). oneDNN's
// OpenMP setting is per calling thread, so concurrent runs with different counts do not mix.
void use_threads_on_this_thread(int threads);

}  // namespace krt::cpu
