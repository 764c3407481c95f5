// The CUDA backend's pointwise and reduction kernels against the reference kernels: every
// activation kind and parameter, scale_shift over one/several/non-consecutive axes and single
// values, PReLU with shared axes, n-ary merges with broadcasting, compare, reduce over any axes,
// softmax/log_softmax/sparsemax/glu, masked softmax (masks, causal, both fills, zero_masked),
// l2_normalize, layer/group/RMS/L2 normalization, global pooling and additive scores. Each
// case checks that the node really ran on "cuda", and runs three times (eager, recorded as a
// CUDA Graph, replayed). Without a GPU every test skips, saying why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "backend_cases.h"
#include "backends/cuda_checks.h"
#include "graph/graph.h"
#include "ops/params.h"
#include "runtime/backend_registry.h"

namespace krt {
namespace {

Tensor random_tensor(const Shape& shape, std::mt19937& rng, float lo = -2.f, float hi = 2.f) {
  Tensor t(DType::f32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data_as<float>()[i] = dist(rng);
  return t;
}

Node make_node(OpKind kind, OpParams params, std::vector<Shape> weight_shapes = {}) {
  Node n;
  n.kind = kind;
  n.name = op_name(kind);
  n.params = std::move(params);
  std::mt19937 rng(77);
  for (const Shape& s : weight_shapes) n.weights.push_back(random_tensor(s, rng, 0.5f, 1.5f));
  return n;
}

using test::CudaCheck;
using test::expect_cuda_matches;
using test::integer_tensor;
using Check = CudaCheck;

const std::vector<Precision> kReduced = {Precision::fp16, Precision::bf16};

Node activation_node(ActivationKind kind, float alpha = 0.f, float max_value = -1.f,
                     float threshold = 0.f, float slope = 0.f) {
  ActivationParams p;
  p.activation.kind = kind;
  p.activation.alpha = alpha;
  p.activation.max_value = max_value;
  p.activation.threshold = threshold;
  p.activation.negative_slope = slope;
  Node n = make_node(OpKind::activation, p);
  n.name = std::string("activation_") + activation_name(kind);
  return n;
}

TEST(CudaPointwise, EveryActivationKind) {
  REQUIRE_CUDA();
  for (int k = 0; k <= static_cast<int>(ActivationKind::thresholded_relu); ++k) {
    const auto kind = static_cast<ActivationKind>(k);
    std::vector<Node> variants;
    switch (kind) {
      case ActivationKind::relu:
        variants = {activation_node(kind), activation_node(kind, 0.f, 6.f, 0.f, 0.f),
                    activation_node(kind, 0.f, 1.5f, 0.5f, 0.1f),
                    activation_node(kind, 0.f, -1.f, -0.3f, 0.2f),
                    activation_node(kind, 0.f, 0.f, 0.f, 0.3f)};
        break;
      case ActivationKind::elu:
      case ActivationKind::celu:
      case ActivationKind::leaky_relu:
      case ActivationKind::hard_shrink:
      case ActivationKind::soft_shrink:
      case ActivationKind::thresholded_relu:
        variants = {activation_node(kind, 0.7f), activation_node(kind, 1.3f)};
        break;
      case ActivationKind::squareplus:
        variants = {activation_node(kind, 0.f), activation_node(kind, 4.f)};
        break;
      default:
        variants = {activation_node(kind)};
    }
    for (const Node& n : variants) {
      std::mt19937 rng(k);
      // 3*37*5 elements: a vectorized body and a tail; a misaligned element count.
      expect_cuda_matches(n, {{3, 37, 5}}, {random_tensor({3, 37, 5}, rng, -5.f, 5.f)});
      expect_cuda_matches(n, {{4, 256}}, {random_tensor({4, 256}, rng, -5.f, 5.f)});
    }
  }
}

TEST(CudaPointwise, ActivationReducedPrecision) {
  REQUIRE_CUDA();
  for (Precision p : kReduced)
    for (ActivationKind kind : {ActivationKind::relu, ActivationKind::gelu, ActivationKind::sigmoid,
                                ActivationKind::silu})
      expect_cuda_matches(activation_node(kind), {{2, 7, 9}}, {}, {p});
}

TEST(CudaPointwise, ReducedPrecisionInputsAndOutputsOfEverySize) {
  REQUIRE_CUDA();
  // The f32 input is converted on the GPU, four elements a thread with the rest one at a time,
  // and the result back: sizes below, at and around multiples of four.
  for (Precision p : kReduced)
    for (int64_t n : {1, 3, 4, 5, 8, 1027, 4099})
      expect_cuda_matches(activation_node(ActivationKind::relu), {{1, n}}, {}, {p});
}

Node scale_shift_node(std::vector<int64_t> axes, int64_t scale_size, int64_t shift_size) {
  ScaleShiftParams p;
  if (axes.size() == 1)
    p.axis = axes[0];
  else
    p.axes = axes;
  return make_node(OpKind::scale_shift, p, {{scale_size}, {shift_size}});
}

TEST(CudaPointwise, ScaleShift) {
  REQUIRE_CUDA();
  const Shape s{2, 5, 7, 6};
  expect_cuda_matches(scale_shift_node({3}, 6, 6), {s});
  expect_cuda_matches(scale_shift_node({1}, 5, 5), {s});
  expect_cuda_matches(scale_shift_node({2}, 7, 7), {s});
  expect_cuda_matches(scale_shift_node({1, 2}, 35, 35), {s});
  expect_cuda_matches(scale_shift_node({2, 3}, 42, 42), {s});
  expect_cuda_matches(scale_shift_node({1, 3}, 30, 30), {s});     // not consecutive
  expect_cuda_matches(scale_shift_node({0, 2, 3}, 84, 84), {s});  // the batch axis too
  expect_cuda_matches(scale_shift_node({3}, 1, 6), {s});          // a single scale
  expect_cuda_matches(scale_shift_node({3}, 6, 1), {s});
  expect_cuda_matches(scale_shift_node({1}, 1, 1), {s});
  expect_cuda_matches(scale_shift_node({1}, 13, 13), {{3, 13}});
  for (Precision p : kReduced) expect_cuda_matches(scale_shift_node({3}, 6, 6), {s}, {}, {p});
}

Node prelu_node(const Shape& alpha) {
  Node n = make_node(OpKind::prelu, PReluParams{}, {alpha});
  // Negative and positive slopes.
  std::mt19937 rng(5);
  n.weights[0] = random_tensor(alpha, rng, -0.5f, 0.5f);
  return n;
}

TEST(CudaPointwise, PreluSharedAxes) {
  REQUIRE_CUDA();
  const Shape s{2, 5, 7, 6};
  for (const Shape& alpha : std::vector<Shape>{
           {5, 7, 6}, {1, 1, 6}, {5, 1, 1}, {1, 7, 1}, {5, 1, 6}, {1, 7, 6}, {1, 1, 1}})
    expect_cuda_matches(prelu_node(alpha), {s});
  expect_cuda_matches(prelu_node({9}), {{3, 9}});
  for (Precision p : kReduced) expect_cuda_matches(prelu_node({1, 1, 6}), {s}, {}, {p});
}

Node merge_node(ElementwiseKind kind) {
  Node n = make_node(OpKind::elementwise, ElementwiseParams{kind});
  n.name = "elementwise_" + std::to_string(static_cast<int>(kind));
  return n;
}

const std::vector<ElementwiseKind> kMergeKinds = {
    ElementwiseKind::add,     ElementwiseKind::subtract, ElementwiseKind::multiply,
    ElementwiseKind::average, ElementwiseKind::maximum,  ElementwiseKind::minimum};

TEST(CudaPointwise, ElementwiseSameShape) {
  REQUIRE_CUDA();
  for (ElementwiseKind kind : kMergeKinds) {
    expect_cuda_matches(merge_node(kind), {{2, 9, 7}, {2, 9, 7}});
    expect_cuda_matches(merge_node(kind), {{4, 64}, {4, 64}});
    if (kind == ElementwiseKind::subtract) continue;
    expect_cuda_matches(merge_node(kind), {{3, 11}, {3, 11}, {3, 11}});
    // More inputs than one launch folds.
    expect_cuda_matches(merge_node(kind), std::vector<Shape>(11, Shape{2, 6, 5}));
    expect_cuda_matches(merge_node(kind), std::vector<Shape>(17, Shape{3, 4}));
  }
  for (Precision p : kReduced)
    expect_cuda_matches(merge_node(ElementwiseKind::add), {{2, 33}, {2, 33}}, {}, {p});
}

TEST(CudaPointwise, ElementwiseBroadcast) {
  REQUIRE_CUDA();
  const std::vector<std::vector<Shape>> cases = {
      {{2, 5, 7, 6}, {2, 1, 1, 6}},  // squeeze-and-excitation
      {{2, 1, 1, 6}, {2, 5, 7, 6}},  // the broadcast one first
      {{5, 1}, {1, 4}},              // both broadcast
      {{3, 4, 5}, {5}},              // lower rank, right-aligned
      {{3, 4, 5}, {4, 1}},
      {{2, 3, 1, 4}, {3, 5, 1}, {1}},  // three inputs
      {{1, 6}, {3, 1}, {3, 6}, {1, 1}},
      {{2, 1, 7}, {2, 3, 7}},
  };
  for (ElementwiseKind kind : kMergeKinds)
    for (const auto& shapes : cases) {
      if (kind == ElementwiseKind::subtract && shapes.size() != 2) continue;
      expect_cuda_matches(merge_node(kind), shapes);
    }
  std::vector<Shape> many(10, Shape{2, 3, 4});
  many[3] = {3, 1};
  many[9] = {1, 1, 4};
  expect_cuda_matches(merge_node(ElementwiseKind::add), many);
  expect_cuda_matches(merge_node(ElementwiseKind::average), many);
  expect_cuda_matches(merge_node(ElementwiseKind::maximum), many);
  for (Precision p : kReduced)
    expect_cuda_matches(merge_node(ElementwiseKind::multiply), cases[0], {}, {p});
}

TEST(CudaPointwise, CompareEveryKind) {
  REQUIRE_CUDA();
  for (CompareKind kind :
       {CompareKind::equal, CompareKind::not_equal, CompareKind::less, CompareKind::less_equal,
        CompareKind::greater, CompareKind::greater_equal})
    for (float value : {0.f, 1.f}) {
      CompareParams p;
      p.kind = kind;
      p.value = value;
      std::mt19937 rng(3);
      expect_cuda_matches(make_node(OpKind::compare, p), {{3, 17}},
                          {integer_tensor({3, 17}, rng, -2, 2)});
    }
}

Node reduce_node(ReduceKind kind, std::vector<int64_t> axes, bool keepdims) {
  ReduceParams p;
  p.kind = kind;
  p.axes = std::move(axes);
  p.keepdims = keepdims;
  return make_node(OpKind::reduce, p);
}

TEST(CudaReduction, ReduceEveryKindAndAxes) {
  REQUIRE_CUDA();
  const Shape s{2, 5, 7, 6};
  const std::vector<std::vector<int64_t>> axes_sets = {{1},    {2},    {3},      {1, 2},
                                                       {1, 3}, {2, 3}, {1, 2, 3}};
  for (ReduceKind kind : {ReduceKind::any, ReduceKind::all, ReduceKind::sum, ReduceKind::mean,
                          ReduceKind::max, ReduceKind::min}) {
    const bool logical = kind == ReduceKind::any || kind == ReduceKind::all;
    for (const auto& axes : axes_sets)
      for (bool keep : {false, true}) {
        std::mt19937 rng(9);
        // any/all: mostly nonzero values with some zeros, so both answers occur.
        Tensor x = logical ? integer_tensor(s, rng, 0, 6) : random_tensor(s, rng);
        expect_cuda_matches(reduce_node(kind, axes, keep), {s}, {x});
      }
    std::mt19937 rng(10);
    expect_cuda_matches(reduce_node(kind, {0, 1}, true), {{3, 4, 5}},
                        {integer_tensor({3, 4, 5}, rng, 0, 3)});
    // Long groups: a block per group.
    expect_cuda_matches(reduce_node(kind, {1}, false), {{3, 3000}},
                        {integer_tensor({3, 3000}, rng, 0, 30)});
  }
}

Node axis_activation_node(AxisActivationKind kind, std::vector<int64_t> axes) {
  AxisActivationParams p;
  p.kind = kind;
  p.axes = std::move(axes);
  Node n = make_node(OpKind::axis_activation, p);
  n.name = "axis_activation_" + std::to_string(static_cast<int>(kind));
  return n;
}

TEST(CudaReduction, SoftmaxAndLogSoftmax) {
  REQUIRE_CUDA();
  for (AxisActivationKind kind : {AxisActivationKind::softmax, AxisActivationKind::log_softmax}) {
    expect_cuda_matches(axis_activation_node(kind, {1}), {{4, 33}});
    expect_cuda_matches(axis_activation_node(kind, {1}), {{3, 1000}});  // a block per row
    // Several members a lane: a warp per row under 512 members, a block per row above.
    expect_cuda_matches(axis_activation_node(kind, {1}), {{3, 300}});
    expect_cuda_matches(axis_activation_node(kind, {1}), {{2, 3000}});
    expect_cuda_matches(axis_activation_node(kind, {2}), {{2, 5, 7}});
    expect_cuda_matches(axis_activation_node(kind, {1}), {{2, 5, 7}});
    expect_cuda_matches(axis_activation_node(kind, {1, 2}), {{2, 5, 7}});
    expect_cuda_matches(axis_activation_node(kind, {1, 3}), {{2, 5, 3, 7}});
    expect_cuda_matches(axis_activation_node(kind, {3, 1}), {{2, 5, 3, 7}});
    std::mt19937 rng(4);
    // Large logits: the max subtraction keeps exp finite.
    expect_cuda_matches(axis_activation_node(kind, {1}), {{3, 40}},
                        {random_tensor({3, 40}, rng, -80.f, 80.f)});
    for (Precision p : kReduced)
      expect_cuda_matches(axis_activation_node(kind, {1}), {{4, 50}}, {}, {p});
  }
}

TEST(CudaReduction, SparsemaxAndGlu) {
  REQUIRE_CUDA();
  const auto sparsemax = AxisActivationKind::sparsemax;
  expect_cuda_matches(axis_activation_node(sparsemax, {1}), {{3, 10}});
  expect_cuda_matches(axis_activation_node(sparsemax, {1}), {{2, 6, 5}});
  expect_cuda_matches(axis_activation_node(sparsemax, {2}), {{2, 6, 5}});
  std::mt19937 rng(8);
  // Small values: a support of several members.
  expect_cuda_matches(axis_activation_node(sparsemax, {1}), {{4, 12}},
                      {random_tensor({4, 12}, rng, -0.2f, 0.2f)});
  expect_cuda_matches(axis_activation_node(sparsemax, {1}), {{2, 300}},
                      {random_tensor({2, 300}, rng, -0.05f, 0.05f)});
  const auto glu = AxisActivationKind::glu;
  expect_cuda_matches(axis_activation_node(glu, {1}), {{3, 8}});
  expect_cuda_matches(axis_activation_node(glu, {2}), {{3, 5, 10}});
  expect_cuda_matches(axis_activation_node(glu, {1}), {{2, 6, 5}});
  for (Precision p : kReduced)
    expect_cuda_matches(axis_activation_node(glu, {2}), {{3, 5, 10}}, {}, {p});
}

TEST(CudaReduction, SparsemaxOverLongAxesRunsOnTheCpu) {
  REQUIRE_CUDA();
  CompileOptions options;
  options.device = Device::cuda();
  auto gpu = test::compile_nodes({axis_activation_node(AxisActivationKind::sparsemax, {1})},
                                 {{1, 10000}}, options);
  const CompileReport& report = test::report_of(*gpu);
  EXPECT_EQ(report.nodes_per_backend.count("cuda"), 0u);
  EXPECT_EQ(report.nodes_per_backend.at("cpu"), 1);
}

Node masked_softmax_node(std::vector<int64_t> axes, bool causal, MaskFill fill, bool zero_masked) {
  MaskedSoftmaxParams p;
  p.axes = std::move(axes);
  p.causal = causal;
  p.fill = fill;
  p.zero_masked = zero_masked;
  return make_node(OpKind::masked_softmax, p);
}

TEST(CudaReduction, MaskedSoftmax) {
  REQUIRE_CUDA();
  const Shape s{2, 3, 5, 5};
  for (MaskFill fill : {MaskFill::add_large_negative, MaskFill::replace_large_negative})
    for (bool zero : {false, true}) {
      expect_cuda_matches(masked_softmax_node({3}, true, fill, zero), {s});  // causal only
      for (const Shape& m :
           std::vector<Shape>{{2, 3, 5, 5}, {2, 1, 1, 5}, {1, 3, 5, 1}, {2, 1, 5, 5}})
        for (bool causal : {false, true})
          for (const std::vector<int64_t>& axes : std::vector<std::vector<int64_t>>{{3}, {2, 3}}) {
            std::mt19937 rng(21);
            expect_cuda_matches(masked_softmax_node(axes, causal, fill, zero), {s, m},
                                {random_tensor(s, rng), integer_tensor(m, rng, 0, 1)});
          }
    }
  std::mt19937 rng(22);
  expect_cuda_matches(masked_softmax_node({2}, true, MaskFill::add_large_negative, false),
                      {{2, 600, 600}});
  for (Precision p : kReduced)
    expect_cuda_matches(masked_softmax_node({3}, true, MaskFill::add_large_negative, true),
                        {s, {2, 1, 1, 5}},
                        {random_tensor(s, rng), integer_tensor({2, 1, 1, 5}, rng, 0, 1)}, {p});
}

TEST(CudaReduction, L2Normalize) {
  REQUIRE_CUDA();
  const Shape s{3, 4, 5};
  std::mt19937 rng(6);
  Tensor x = random_tensor(s, rng);
  for (int64_t i = 0; i < 5; ++i) x.data_as<float>()[i] = 0.f;  // a zero row: its norm counts as 1
  for (const std::vector<int64_t>& axes :
       std::vector<std::vector<int64_t>>{{2}, {1}, {1, 2}, {0, 2}})
    expect_cuda_matches(make_node(OpKind::l2_normalize, L2NormalizeParams{axes}), {s}, {x});
  expect_cuda_matches(make_node(OpKind::l2_normalize, L2NormalizeParams{{1}}), {{2, 2000}});
}

Node normalize_node(NormalizeKind kind, std::vector<int64_t> axes, const Shape& input, bool scale,
                    bool shift, int64_t group_axis = -1, int64_t groups = 1, float eps = 1e-3f,
                    Shape weight = {}) {
  NormalizeParams p;
  p.kind = kind;
  p.axes = std::move(axes);
  p.group_axis = group_axis;
  p.groups = groups;
  p.epsilon = eps;
  p.has_scale = scale;
  p.has_shift = shift;
  if (weight.empty()) {  // one value per channel of the last axis
    weight.assign(input.size(), 1);
    weight.back() = input.back();
  }
  std::vector<Shape> weights;
  if (scale) weights.push_back(weight);
  if (shift) weights.push_back(weight);
  return make_node(OpKind::normalize, p, weights);
}

TEST(CudaReduction, LayerRmsAndL2Normalization) {
  REQUIRE_CUDA();
  for (NormalizeKind kind :
       {NormalizeKind::moments, NormalizeKind::centered_rms, NormalizeKind::rms, NormalizeKind::l2})
    for (bool scale : {false, true})
      for (bool shift : {false, true}) {
        expect_cuda_matches(normalize_node(kind, {2}, {2, 5, 24}, scale, shift), {{2, 5, 24}});
        expect_cuda_matches(
            normalize_node(kind, {1, 2}, {2, 5, 24}, scale, shift, -1, 1, 1e-5f, {1, 5, 24}),
            {{2, 5, 24}});
        expect_cuda_matches(
            normalize_node(kind, {1}, {2, 5, 24}, scale, shift, -1, 1, 0.1f, {1, 5, 1}),
            {{2, 5, 24}});
      }
  // Long rows: a block per row; an offset mean tests the two-pass variance.
  std::mt19937 rng(12);
  expect_cuda_matches(normalize_node(NormalizeKind::moments, {1}, {4, 1024}, true, true),
                      {{4, 1024}}, {random_tensor({4, 1024}, rng, 9.f, 11.f)});
  for (Precision p : kReduced)
    expect_cuda_matches(normalize_node(NormalizeKind::moments, {2}, {2, 5, 64}, true, true),
                        {{2, 5, 64}}, {}, {p});
}

TEST(CudaReduction, GroupNormalization) {
  REQUIRE_CUDA();
  const Shape s{2, 4, 5, 12};
  for (int64_t groups : {1, 3, 4, 12})
    for (bool affine : {false, true})
      expect_cuda_matches(
          normalize_node(NormalizeKind::moments, {1, 2}, s, affine, affine, 3, groups), {s});
  // Group axis in the middle, statistics over the last axis too.
  expect_cuda_matches(
      normalize_node(NormalizeKind::moments, {2}, {2, 6, 7}, true, true, 1, 3, 1e-3f, {1, 6, 1}),
      {{2, 6, 7}});
}

TEST(CudaReduction, GlobalPool) {
  REQUIRE_CUDA();
  for (PoolKind kind : {PoolKind::max, PoolKind::average})
    for (bool keep : {false, true}) {
      GlobalPoolParams p;
      p.kind = kind;
      p.keepdims = keep;
      const Node n = make_node(OpKind::global_pool, p);
      expect_cuda_matches(n, {{2, 7, 7, 40}});
      expect_cuda_matches(n, {{3, 5, 70}});
      expect_cuda_matches(n, {{1, 2, 3, 4, 33}});
      expect_cuda_matches(n, {{1, 56, 56, 8}});
      for (Precision pr : kReduced) expect_cuda_matches(n, {{2, 7, 7, 40}}, {}, {pr});
    }
}

TEST(CudaReduction, AdditiveScore) {
  REQUIRE_CUDA();
  for (bool weight : {false, true}) {
    AdditiveScoreParams p;
    p.has_weight = weight;
    p.inner_scale = 0.7f;
    p.outer_scale = 1.3f;
    const Node n = make_node(OpKind::additive_score, p,
                             weight ? std::vector<Shape>{{8}} : std::vector<Shape>{});
    expect_cuda_matches(n, {{2, 5, 8}, {2, 7, 8}});
    expect_cuda_matches(n, {{2, 3, 4, 8}, {2, 3, 6, 8}});
  }
}

}  // namespace
}  // namespace krt
