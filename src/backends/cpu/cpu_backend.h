// The fast CPU backend: oneDNN primitives for dense and the convolution family, threads
// through oneDNN's OpenMP runtime. Every other op, and any case oneDNN cannot express, runs
// the reference kernel, so the CPU device always supports every op.
#pragma once

#include <memory>
#include <span>

#include "graph/graph.h"

namespace krt::cpu {

// Runs one node of a compiled plan. The first run for an input shape builds the oneDNN
// primitive and packs the weights into its preferred layout; later runs reuse both. run() may
// be called from many threads at once. `node` must outlive the runner.
class NodeRunner {
 public:
  explicit NodeRunner(const Node& node);
  ~NodeRunner();
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) const;
  // Runs through oneDNN and returns true, or returns false without touching the outputs when
  // there is no oneDNN kernel for this op or these shapes (tests check the fast path ran).
  bool run_with_onednn(std::span<const Tensor> inputs, std::span<Tensor> outputs) const;
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
