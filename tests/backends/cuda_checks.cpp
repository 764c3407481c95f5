#include "backends/cuda_checks.h"

#include <algorithm>
#include <cmath>

#include "backend_cases.h"
#include "runtime/backend_registry.h"

namespace krt::test {

std::string cuda_unavailable() {
  const Backend* b = find_backend("cuda");
  if (!b) return "the cuda backend is not built (no CUDA toolkit found)";
  if (b->unavailable_reason().empty()) return "";
  std::string why;
  for (const std::string& line : unavailable_backends()) why += (why.empty() ? "" : "; ") + line;
  return why;
}

Tensor integer_tensor(const Shape& shape, std::mt19937& rng, int lo, int hi) {
  Tensor t(DType::f32, shape);
  std::uniform_int_distribution<int> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data_as<float>()[i] = static_cast<float>(dist(rng));
  return t;
}

void expect_cuda_matches(const std::vector<Node>& nodes, const std::vector<Shape>& shapes,
                         std::vector<Tensor> inputs, CudaCheck check) {
  std::string what = nodes.front().name;
  for (const Shape& s : shapes) what += " " + shape_to_string(s);
  what += std::string(" ") + precision_name(check.precision);
  SCOPED_TRACE(what);
  std::mt19937 rng(1234);
  if (inputs.empty())
    for (const Shape& s : shapes) {
      Tensor t(DType::f32, s);
      std::uniform_real_distribution<float> dist(-2.f, 2.f);
      for (int64_t i = 0; i < t.size(); ++i) t.data_as<float>()[i] = dist(rng);
      inputs.push_back(t);
    }

  CompileOptions ref_options;
  ref_options.device = Device::reference();
  CompileOptions cuda_options;
  cuda_options.device = Device::cuda();
  cuda_options.precision = check.precision;
  auto ref = compile_nodes(nodes, shapes, ref_options);
  auto gpu = compile_nodes(nodes, shapes, cuda_options);
  const CompileReport& report = report_of(*gpu);
  ASSERT_EQ(report.nodes_per_backend.size(), 1u)
      << "fallbacks: " << (report.fallbacks.empty() ? "" : report.fallbacks[0]);
  ASSERT_EQ(report.nodes_per_backend.begin()->first, "cuda");
  ASSERT_EQ(report.nodes_per_backend.begin()->second, static_cast<int>(nodes.size()));

  const std::vector<Tensor> want = run_compiled(*ref, inputs);
  for (int run = 0; run < 3; ++run) {
    const std::vector<Tensor> got = run_compiled(*gpu, inputs);
    ASSERT_EQ(got.size(), want.size());
    for (size_t o = 0; o < want.size(); ++o) {
      ASSERT_EQ(got[o].shape(), want[o].shape());
      const float* g = got[o].data_as<float>();
      const float* w = want[o].data_as<float>();
      double scale = 0;
      for (int64_t i = 0; i < want[o].size(); ++i)
        if (std::isfinite(w[i])) scale = std::max(scale, std::fabs(static_cast<double>(w[i])));
      const double extra = reduced_precision_tolerance(check.precision) * std::max(scale, 1.0);
      for (int64_t i = 0; i < want[o].size(); ++i) {
        const double tol = check.rtol * (1 + std::fabs(w[i])) + extra;
        if (std::isnan(w[i])) {
          ASSERT_TRUE(std::isnan(g[i])) << "run " << run << " output " << o << " element " << i;
          continue;
        }
        if (std::isinf(w[i])) {
          ASSERT_EQ(g[i], w[i]) << "run " << run << " output " << o << " element " << i;
          continue;
        }
        ASSERT_NEAR(g[i], w[i], tol)
            << "run " << run << " output " << o << " element " << i << " of " << want[o].size();
      }
    }
  }
}

void expect_cuda_matches(const Node& node, const std::vector<Shape>& shapes,
                         std::vector<Tensor> inputs, CudaCheck check) {
  expect_cuda_matches(std::vector<Node>{node}, shapes, std::move(inputs), check);
}

}  // namespace krt::test
