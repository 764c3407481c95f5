// The backends and precisions every conformance and golden suite runs on, taken from the
// backend registry, each with its stated tolerance. A registered backend that cannot run on
// this machine (no GPU) is reported once as a skip with its reason, never silently dropped.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kerasrt/model.h"

namespace krt::test {

struct BackendCase {
  std::string label;  // "cpu/fp32", "cuda:0/fp16"
  CompileOptions options;
  bool reduced_precision = false;  // tf32, fp16, bf16: the looser tolerance below applies
};

// Every available backend in every precision it offers (fp32 first).
std::vector<BackendCase> backend_cases();
// "cuda: no CUDA device found", one per registered backend that cannot run here.
std::vector<std::string> unavailable_backends();

// The tolerance a reduced precision adds on top of a case's own fp32 one, relative to the
// largest |expected| value (see docs/architecture.md, "Backends"): tf32 5e-3, fp16 2e-2,
// bf16 8e-2. fp32 adds nothing.
double reduced_precision_tolerance(Precision precision);

// Uniform random float32 values in [lo, hi) (never zeros: they hide unwritten outputs).
Tensor random_tensor(const Shape& shape, std::mt19937& rng, float lo = -1.f, float hi = 1.f);
// A node named after its op, with these params and weights; inputs and outputs are set by
// compile_nodes (or the caller).
Node make_node(OpKind kind, OpParams params, std::vector<Tensor> weights = {});

struct CompiledNodes;
// `nodes` chained (the first takes the graph inputs, each later one the previous output) and
// compiled for `options`, as Model::compile would: for op conformance on every backend.
// `optimize` false skips the inference passes (which would remove an identity node).
std::shared_ptr<CompiledNodes> compile_nodes(const std::vector<Node>& nodes,
                                             const std::vector<Shape>& input_shapes,
                                             const CompileOptions& options, bool optimize = true);
std::vector<Tensor> run_compiled(const CompiledNodes& compiled, const std::vector<Tensor>& inputs);
// The same with the inputs uploaded to the device first (as `input_dtype` there, as
// CompiledModel::upload makes them) and the outputs left there, then downloaded: a caller
// holding device buffers.
std::vector<Tensor> run_compiled_on_device(const CompiledNodes& compiled,
                                           const std::vector<Tensor>& inputs,
                                           DType input_dtype = DType::f32);
const CompileReport& report_of(const CompiledNodes& compiled);

}  // namespace krt::test
