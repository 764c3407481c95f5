// The fast CPU backend: oneDNN primitives for dense and the convolution family, threads
// through oneDNN's OpenMP runtime. Every other op, and any case oneDNN cannot express, runs
// the reference kernel, so the CPU device always supports every op.
#pragma once

#include <span>

#include "graph/graph.h"

namespace krt::cpu {

// Runs one node like reference::run_node, with a oneDNN kernel where there is one.
void run_node(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs);

// Runs the node through oneDNN and returns true, or returns false without touching the
// outputs when there is no oneDNN kernel for this op or these shapes (tests use it to check
// that the fast path really ran).
bool run_with_onednn(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs);

// Kernels started from the calling thread use `threads` threads (0: one per core). oneDNN's
// OpenMP setting is per calling thread, so concurrent runs with different counts do not mix.
void use_threads_on_this_thread(int threads);

}  // namespace krt::cpu
