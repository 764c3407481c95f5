// The CUDA kernels of the recorded tensor ops (unary, binary, where, gather, strided_slice,
// shape_of) against the reference kernels: every unary and binary kind, numpy broadcasting with
// constants on either side, negative gather indices and out-of-range ones, Python slices with
// negative steps, and the reduced precisions. Each case checks that the nodes ran on "cuda" and
// runs three times (eager, recorded as a CUDA Graph, replayed). Without a GPU each test skips.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend_cases.h"
#include "backends/cuda_checks.h"
#include "ops/params.h"

namespace krt {
namespace {

using test::CudaCheck;
using test::expect_cuda_matches;
using test::integer_tensor;
using test::make_node;

Tensor values(Shape shape, std::vector<float> v) {
  Tensor t(DType::f32, std::move(shape));
  std::copy(v.begin(), v.end(), t.data_as<float>());
  return t;
}

// Inputs each unary kind is defined on (the reference's NaNs elsewhere are compared too).
Tensor unary_input(UnaryKind kind, const Shape& s, std::mt19937& rng) {
  switch (kind) {
    case UnaryKind::acosh:
      return test::random_tensor(s, rng, 1.f, 4.f);
    case UnaryKind::asin:
    case UnaryKind::acos:
    case UnaryKind::atanh:
      return test::random_tensor(s, rng, -0.95f, 0.95f);
    case UnaryKind::logical_not:
      return integer_tensor(s, rng, 0, 2);
    default:
      return test::random_tensor(s, rng, -3.f, 3.f);
  }
}

TEST(CudaTensorOps, EveryUnaryKind) {
  REQUIRE_CUDA();
  std::mt19937 rng(5);
  const Shape s{3, 67};
  for (int k = 0; k <= static_cast<int>(UnaryKind::clip); ++k) {
    const auto kind = static_cast<UnaryKind>(k);
    Node n = make_node(OpKind::unary, UnaryParams{kind, -0.5f, 1.25f});
    n.name = "unary kind " + std::to_string(k);
    Tensor x = unary_input(kind, s, rng);
    // Halves, zeros, NaN and infinities: round to even, sign of 0, the predicates.
    float* xp = x.data_as<float>();
    xp[0] = 2.5f, xp[1] = -0.5f, xp[2] = 0.f, xp[3] = NAN, xp[4] = INFINITY, xp[5] = -INFINITY;
    expect_cuda_matches(n, {s}, {x}, CudaCheck{Precision::fp32, 2e-6});
  }
}

TEST(CudaTensorOps, EveryBinaryKindBroadcast) {
  REQUIRE_CUDA();
  std::mt19937 rng(6);
  for (int k = 0; k <= static_cast<int>(BinaryKind::atan2); ++k) {
    const auto kind = static_cast<BinaryKind>(k);
    const bool logical = kind >= BinaryKind::equal && kind <= BinaryKind::logical_xor;
    Node n = make_node(OpKind::binary, BinaryParams{kind});
    n.name = "binary kind " + std::to_string(k);
    const Shape a{2, 1, 5}, b{3, 1};
    Tensor x = logical ? integer_tensor(a, rng, -2, 2) : test::random_tensor(a, rng, 0.5f, 3.f);
    Tensor y = logical ? integer_tensor(b, rng, -2, 2) : test::random_tensor(b, rng, -3.f, 3.f);
    if (kind == BinaryKind::power) y = test::random_tensor(b, rng, -2.f, 2.f);
    expect_cuda_matches(n, {a, b}, {x, y}, CudaCheck{Precision::fp32, 2e-6});
  }
}

TEST(CudaTensorOps, ConstantsOnEitherSideAndWhere) {
  REQUIRE_CUDA();
  std::mt19937 rng(7);
  // 3 - x (the constant is operand 0) and x / [1, 2, 4, 8] (a constant row, operand 1).
  expect_cuda_matches(
      make_node(OpKind::binary, BinaryParams{BinaryKind::subtract, 1u}, {values({}, {3.f})}),
      {{4, 8}});
  expect_cuda_matches(make_node(OpKind::binary, BinaryParams{BinaryKind::divide, 2u},
                                {values({4}, {1.f, 2.f, 4.f, 8.f})}),
                      {{2, 3, 4}});
  // Python's floor division and modulo, with divisors of both signs.
  const Shape s{5, 16};
  Tensor num = test::random_tensor(s, rng, -9.f, 9.f), den = integer_tensor(s, rng, 1, 4);
  for (int64_t i = 0; i < den.size(); i += 2) den.data_as<float>()[i] *= -1.f;
  expect_cuda_matches(make_node(OpKind::binary, BinaryParams{BinaryKind::floor_divide}), {s, s},
                      {num, den});
  expect_cuda_matches(make_node(OpKind::binary, BinaryParams{BinaryKind::mod}), {s, s}, {num, den});
  // where(cond, x, -1) with the condition broadcast over rows, and where(cond, 2, x).
  const Shape c{3, 1}, x{3, 6};
  expect_cuda_matches(make_node(OpKind::where, WhereParams{4u}, {values({}, {-1.f})}), {c, x},
                      {integer_tensor(c, rng, 0, 1), test::random_tensor(x, rng)});
  expect_cuda_matches(make_node(OpKind::where, WhereParams{2u}, {values({}, {2.f})}), {x, x},
                      {integer_tensor(x, rng, 0, 1), test::random_tensor(x, rng)});
  // Three inputs, rank 4, every operand broadcast somewhere.
  const Shape c4{2, 1, 3, 1}, a4{1, 4, 1, 5}, b4{4, 3, 5};
  expect_cuda_matches(
      make_node(OpKind::where, WhereParams{}), {c4, a4, b4},
      {integer_tensor(c4, rng, 0, 1), test::random_tensor(a4, rng), test::random_tensor(b4, rng)});
}

TEST(CudaTensorOps, GatherConstantAndInputIndices) {
  REQUIRE_CUDA();
  std::mt19937 rng(8);
  // Constant indices (negative ones count from the end) on the middle axis.
  const Tensor idx = values({2, 3}, {4.f, -1.f, 0.f, -5.f, 2.f, 2.f});
  expect_cuda_matches(make_node(OpKind::gather, GatherParams{1}, {idx}), {{3, 5, 7}});
  // Indices as an input, on the first axis; out-of-range and fractional ones give NaN rows
  // on the GPU, where the reference raises: only valid indices are compared here.
  const Tensor ids = values({4}, {3.f, -4.f, 1.f, 0.f});
  expect_cuda_matches(make_node(OpKind::gather, GatherParams{0}), {{4, 6}, {4}},
                      {test::random_tensor({4, 6}, rng), ids});
  // Reduced precision: constant indices stay on the GPU; indices from data run on the host.
  for (Precision p : {Precision::fp16, Precision::bf16})
    expect_cuda_matches(make_node(OpKind::gather, GatherParams{1}, {idx}), {{3, 5, 7}}, {},
                        CudaCheck{p});
}

TEST(CudaTensorOps, StridedSlicesFollowPython) {
  REQUIRE_CUDA();
  const std::vector<SliceSpec> specs = {
      {false, false, 0, 0, -1},  // [::-1]
      {true, false, -2, 0, 1},   // [-2:]
      {true, true, 1, -1, 2},    // [1:-1:2]
      {true, true, 6, 0, -3},    // [6:0:-3]
      {true, true, -100, 100, 1},
  };
  for (const SliceSpec& s : specs)
    expect_cuda_matches(
        make_node(OpKind::strided_slice, StridedSliceParams{{SliceSpec{}, s, SliceSpec{}}}),
        {{2, 9, 5}});
  // Several axes sliced at once, the last one reversed.
  expect_cuda_matches(
      make_node(OpKind::strided_slice,
                StridedSliceParams{{SliceSpec{true, true, 1, 3, 1}, SliceSpec{true, false, 2, 0, 3},
                                    SliceSpec{false, false, 0, 0, -2}}}),
      {{3, 10, 7}});
}

TEST(CudaTensorOps, ShapeOfFeedsArithmetic) {
  REQUIRE_CUDA();
  // y = x * shape(x)[-1]-like: shape_of's output multiplied by a constant.
  const std::vector<Node> nodes = {
      make_node(OpKind::shape_of, ShapeOfParams{}),
      make_node(OpKind::binary, BinaryParams{BinaryKind::multiply, 2u}, {values({}, {0.5f})})};
  expect_cuda_matches(nodes, {{2, 3, 40}});
  for (Precision p : {Precision::fp16, Precision::bf16})
    expect_cuda_matches(nodes, {{2, 3, 40}}, {}, CudaCheck{p});
}

TEST(CudaTensorOps, ProdArgmaxArgminReductions) {
  REQUIRE_CUDA();
  std::mt19937 rng(9);
  const Shape s{3, 7, 5};
  // Values near 1 keep the product of 7 finite and well conditioned.
  expect_cuda_matches(make_node(OpKind::reduce, ReduceParams{ReduceKind::prod, {1}, false}), {s},
                      {test::random_tensor(s, rng, 0.7f, 1.3f)});
  expect_cuda_matches(make_node(OpKind::reduce, ReduceParams{ReduceKind::prod, {0, 2}, true}), {s},
                      {test::random_tensor(s, rng, 0.7f, 1.3f)});
  // Whole numbers in [0, 3] give ties: the first best index wins, as in the reference.
  for (ReduceKind kind : {ReduceKind::argmax, ReduceKind::argmin})
    for (int64_t axis : {0, 1, 2}) {
      expect_cuda_matches(make_node(OpKind::reduce, ReduceParams{kind, {axis}, false}), {s},
                          {integer_tensor(s, rng, 0, 3)}, CudaCheck{Precision::fp32, 0});
      expect_cuda_matches(make_node(OpKind::reduce, ReduceParams{kind, {axis}, true}), {s},
                          {integer_tensor(s, rng, 0, 3)}, CudaCheck{Precision::fp16, 0});
    }
}

TEST(CudaTensorOps, ReducedPrecisionChains) {
  REQUIRE_CUDA();
  // sqrt(|x|) + 1, then clipped: a chain of op nodes in f16 and bf16.
  const std::vector<Node> nodes = {
      make_node(OpKind::unary, UnaryParams{UnaryKind::abs}),
      make_node(OpKind::unary, UnaryParams{UnaryKind::sqrt}),
      make_node(OpKind::binary, BinaryParams{BinaryKind::add, 2u}, {values({}, {1.f})}),
      make_node(OpKind::unary, UnaryParams{UnaryKind::clip, 1.2f, 2.f})};
  for (Precision p : {Precision::fp16, Precision::bf16})
    expect_cuda_matches(nodes, {{4, 33}}, {}, CudaCheck{p});
}

}  // namespace
}  // namespace krt
