// Shared by the CUDA kernel tests: why the cuda backend cannot run here (each test then skips
// with that reason), and a comparison of nodes run on cuda against the reference kernels.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kerasrt/kerasrt.h"

namespace krt::test {

// "" when a CUDA device can run the tests, else why not.
std::string cuda_unavailable();

#define REQUIRE_CUDA()                                        \
  do {                                                        \
    const std::string why_ = ::krt::test::cuda_unavailable(); \
    if (!why_.empty()) GTEST_SKIP() << why_;                  \
  } while (0)

// Whole numbers in [lo, hi]: equality comparisons, any/all and masks hit both outcomes.
Tensor integer_tensor(const Shape& shape, std::mt19937& rng, int lo, int hi);

struct CudaCheck {
  Precision precision = Precision::fp32;
  double rtol = 1e-4;  // fp32: |got - want| <= rtol * (1 + |want|)
};

// Compiles `nodes` (chained) for the reference backend and for cuda, runs both on `inputs`
// (uniform in [-2, 2) when empty) and compares; every node must run on cuda, and the cuda plan
// runs three times (eager, recorded, replayed). NaN must stay NaN.
void expect_cuda_matches(const std::vector<Node>& nodes, const std::vector<Shape>& shapes,
                         std::vector<Tensor> inputs = {}, CudaCheck check = {});
void expect_cuda_matches(const Node& node, const std::vector<Shape>& shapes,
                         std::vector<Tensor> inputs = {}, CudaCheck check = {});

}  // namespace krt::test
