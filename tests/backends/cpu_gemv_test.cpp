// Our own AVX-512 Dense kernel for a few rows (backends/cpu/gemv.h, dense_kernels.h) against the
// reference kernel: 1 to 4 rows, rank-3 inputs, with and without bias, relu fused or another
// activation after, column counts that are not multiples of 16 and depths that are not multiples
// of the unrolling, on one and two threads; more rows are left to oneDNN. Skipped, with a
// message, on CPUs without AVX-512 (oneDNN runs Dense there).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend_cases.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/dense_kernels.h"
#include "backends/cpu/gemv.h"
#include "backends/reference/reference_backend.h"
#include "ops/shape_inference.h"

namespace krt::cpu {
namespace {

using test::make_node;
using test::random_tensor;

void expect_gemv_matches_reference(const Node& node, const Shape& input_shape, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor x = random_tensor(input_shape, rng);
  const Shape out_shape = infer_output_shapes(node, {input_shape})[0];
  Tensor want(DType::f32, out_shape);
  reference::run_node(node, std::span<const Tensor>(&x, 1), std::span<Tensor>(&want, 1));
  std::unique_ptr<DenseGemv> own = DenseGemv::for_node(node);
  ASSERT_NE(own, nullptr);
  const int64_t depth = node.weights[0].dim(0);
  for (int threads : {1, 2}) {
    use_threads_on_this_thread(threads);
    Tensor got(DType::f32, out_shape);
    ASSERT_TRUE(own->run(x, got));
    for (int64_t i = 0; i < want.size(); ++i) {
      const float a = got.data_as<float>()[i], b = want.data_as<float>()[i];
      ASSERT_NEAR(a, b, 1e-5f * std::sqrt(static_cast<float>(depth)) * (1.f + std::fabs(b)))
          << node.name << " input " << shape_to_string(input_shape) << " threads " << threads
          << " element " << i << " of " << want.size() << " (seed " << seed << ")";
    }
  }
  use_threads_on_this_thread(0);
}

TEST(CpuGemv, DenseOverOneToFourRows) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU: oneDNN runs Dense here";
  std::mt19937 rng(42);
  uint32_t seed = 1;
  for (auto [in, out] : {std::pair<int64_t, int64_t>{37, 19},
                         {128, 1024},
                         {130, 1000},
                         {3, 64},
                         {515, 33},
                         {1024, 8192}}) {
    for (bool bias : {true, false}) {
      for (ActivationKind act :
           {ActivationKind::linear, ActivationKind::relu, ActivationKind::gelu}) {
        DenseParams p;
        p.has_bias = bias;
        p.activation.kind = act;
        Node n = make_node(OpKind::dense, p, {random_tensor({in, out}, rng)});
        if (bias) n.weights.push_back(random_tensor({out}, rng));
        n.name = "dense " + std::to_string(in) + "x" + std::to_string(out);
        for (int64_t rows : {1, 2, 3, 4}) expect_gemv_matches_reference(n, {rows, in}, seed++);
        expect_gemv_matches_reference(n, {2, 2, in}, seed++);  // over the last axis of rank 3
        // More rows are oneDNN's.
        Tensor x(DType::f32, {5, in}), y(DType::f32, {5, out});
        EXPECT_FALSE(DenseGemv::for_node(n)->run(x, y));
      }
    }
  }
}

TEST(CpuGemv, TheRunnerUsesItForFewRowsAndOneDnnForMore) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU: oneDNN runs Dense here";
  std::mt19937 rng(3);
  DenseParams p;
  p.activation.kind = ActivationKind::relu;
  Node n = make_node(OpKind::dense, p, {random_tensor({64, 48}, rng), random_tensor({48}, rng)});
  NodeRunner runner(n, {-1, 64}, {-1, 48});
  EXPECT_EQ(runner.kernel_name(), "gemv avx512 / onednn");
  for (int64_t rows : {1, 9}) {
    Tensor x = random_tensor({rows, 64}, rng);
    Tensor want(DType::f32, {rows, 48}), got(DType::f32, {rows, 48});
    reference::run_node(n, std::span<const Tensor>(&x, 1), std::span<Tensor>(&want, 1));
    runner.run(std::span<const Tensor>(&x, 1), std::span<Tensor>(&got, 1));
    for (int64_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], 1e-4f) << rows << " " << i;
  }
  EXPECT_EQ(runner.packed_weight_copies(), 1u);  // oneDNN's, for the 9 rows only
}

}  // namespace
}  // namespace krt::cpu
