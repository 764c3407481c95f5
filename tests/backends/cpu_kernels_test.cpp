// The CPU backend's oneDNN kernels against the reference kernels, over shapes and options the
// fixtures do not all reach: 1-D/2-D/3-D, strides, dilation, every padding, groups, depthwise
// multipliers, transposed convolutions with output_padding, dense over rank-3 inputs, with and
// without bias and activation. Each case also checks that the oneDNN path really ran.
#include <gtest/gtest.h>

#include "backend_cases.h"

#include <cmath>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/gemv.h"
#include "backends/reference/reference_backend.h"
#include "ops/shape_inference.h"

namespace krt::cpu {
namespace {

using test::make_node;
using test::random_tensor;

// Runs `node` on a random input through both backends; expects oneDNN to run it (unless
// `expect_onednn` is false) and the outputs to agree to float accumulation error.
void expect_matches_reference(Node node, const Shape& input_shape, bool expect_onednn = true) {
  std::mt19937 rng(1234);
  for (Tensor& w : node.weights) w = random_tensor(w.shape(), rng);
  Tensor x = random_tensor(input_shape, rng);
  const Shape out_shape = infer_output_shapes(node, {input_shape})[0];
  Tensor want(DType::f32, out_shape), got(DType::f32, out_shape);
  reference::run_node(node, std::span<const Tensor>(&x, 1), std::span<Tensor>(&want, 1));
  NodeRunner runner(node);
  const bool fast =
      runner.run_with_onednn(std::span<const Tensor>(&x, 1), std::span<Tensor>(&got, 1));
  EXPECT_EQ(fast, expect_onednn) << node.name;
  if (!fast) runner.run(std::span<const Tensor>(&x, 1), std::span<Tensor>(&got, 1));
  // Sums of up to a few hundred products of values in [-1, 1]: float error stays far below 1e-4.
  for (int64_t i = 0; i < want.size(); ++i) {
    const float a = got.data_as<float>()[i], b = want.data_as<float>()[i];
    ASSERT_NEAR(a, b, 1e-4f * (1.f + std::fabs(b)))
        << node.name << " at element " << i << " of " << want.size();
  }
}

Node conv_node(OpKind kind, ConvParams p, const Shape& kernel_shape, int64_t bias_size) {
  p.has_bias = bias_size > 0;
  Node n = make_node(kind, p, {Tensor(DType::f32, kernel_shape)});
  if (bias_size > 0) n.weights.push_back(Tensor(DType::f32, {bias_size}));
  return n;
}

ConvParams conv_params(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> d,
                       Padding pad, int64_t filters) {
  ConvParams p;
  p.kernel_size = k;
  p.strides = s;
  p.dilation = d;
  p.padding = pad;
  p.filters = filters;
  return p;
}

TEST(CpuKernels, Dense) {
  for (bool bias : {true, false}) {
    for (ActivationKind act :
         {ActivationKind::linear, ActivationKind::relu, ActivationKind::gelu}) {
      DenseParams p;
      p.has_bias = bias;
      p.activation.kind = act;
      Node n = make_node(OpKind::dense, p, {Tensor(DType::f32, {37, 19})});
      if (bias) n.weights.push_back(Tensor(DType::f32, {19}));
      expect_matches_reference(n, {3, 37});
      expect_matches_reference(n, {2, 5, 37});  // over the last axis of a rank-3 input
    }
  }
}

TEST(CpuKernels, Conv2dPaddingsStridesDilations) {
  for (Padding pad : {Padding::valid, Padding::same}) {
    for (int64_t s : {1, 2, 3}) {
      for (int64_t d : {1, 2}) {
        if (s > 1 && d > 1) continue;  // Keras refuses strides and dilation together
        ConvParams p = conv_params({3, 2}, {s, s}, {d, d}, pad, 8);
        p.activation.kind = ActivationKind::relu;
        // 11x10 inputs: valid padding with stride 2 or 3 leaves input rows unread.
        expect_matches_reference(conv_node(OpKind::conv, p, {3, 2, 5, 8}, 8), {2, 11, 10, 5});
      }
    }
  }
}

TEST(CpuKernels, Conv1dCausalAnd3d) {
  expect_matches_reference(
      conv_node(OpKind::conv, conv_params({3}, {1}, {2}, Padding::causal, 6), {3, 4, 6}, 6),
      {2, 13, 4});
  expect_matches_reference(
      conv_node(OpKind::conv, conv_params({2, 3, 2}, {1, 2, 1}, {1, 1, 1}, Padding::same, 5),
                {2, 3, 2, 3, 5}, 0),
      {1, 5, 7, 4, 3});
}

TEST(CpuKernels, GroupedAndDepthwiseConv) {
  ConvParams grouped = conv_params({3, 3}, {1, 1}, {1, 1}, Padding::same, 12);
  grouped.groups = 3;
  expect_matches_reference(conv_node(OpKind::conv, grouped, {3, 3, 2, 12}, 12), {2, 6, 7, 6});
  for (int64_t mult : {1, 3}) {
    ConvParams dw = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 0);
    dw.depth_multiplier = mult;
    expect_matches_reference(conv_node(OpKind::depthwise_conv, dw, {3, 3, 4, mult}, 4 * mult),
                             {2, 9, 8, 4});
  }
  ConvParams dw1d = conv_params({5}, {1}, {2}, Padding::valid, 0);
  dw1d.depth_multiplier = 2;
  expect_matches_reference(conv_node(OpKind::depthwise_conv, dw1d, {5, 3, 2}, 6), {2, 20, 3});
}

TEST(CpuKernels, ConvTranspose) {
  for (Padding pad : {Padding::valid, Padding::same}) {
    for (int64_t s : {1, 2, 3}) {
      ConvParams p = conv_params({3, 4}, {s, s}, {1, 1}, pad, 7);
      p.activation.kind = ActivationKind::tanh;
      expect_matches_reference(conv_node(OpKind::conv_transpose, p, {3, 4, 7, 5}, 7), {2, 5, 6, 5});
    }
  }
  ConvParams with_output_padding = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 4);
  with_output_padding.output_padding = {1, 0};
  expect_matches_reference(conv_node(OpKind::conv_transpose, with_output_padding, {3, 3, 4, 6}, 4),
                           {1, 4, 5, 6});
  ConvParams dilated_1d = conv_params({3}, {1}, {2}, Padding::valid, 3);
  expect_matches_reference(conv_node(OpKind::conv_transpose, dilated_1d, {3, 3, 2}, 0), {2, 9, 2});
}

// The matmul + gather kernel: batches split into column chunks with a remainder (large and
// middling samples), channel counts off the 16-float vectors and past one register block,
// relu applied in the gather, no bias, 2-D dilation, 3-D, valid padding with kernel < stride;
// batches of up to 64 input positions run gemm_nt_avx512, larger ones oneDNN's matmul.
TEST(CpuKernels, ConvTransposeAsGemmChunksAndTails) {
  if (!own_kernels_enabled()) GTEST_SKIP() << "KERASRT_CPU_KERNELS=onednn: our kernels are off";
  ConvParams big = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 150);
  big.activation.kind = ActivationKind::relu;
  EXPECT_EQ(NodeRunner(conv_node(OpKind::conv_transpose, big, {3, 3, 150, 8}, 150)).kernel_name(),
            "onednn matmul + gather");
  expect_matches_reference(conv_node(OpKind::conv_transpose, big, {3, 3, 150, 8}, 150),
                           {3, 16, 16, 8});
  ConvParams middling = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::valid, 170);
  expect_matches_reference(conv_node(OpKind::conv_transpose, middling, {3, 3, 170, 5}, 0),
                           {3, 8, 8, 5});
  ConvParams dilated = conv_params({3, 2}, {1, 1}, {2, 3}, Padding::same, 9);
  dilated.activation.kind = ActivationKind::sigmoid;
  expect_matches_reference(conv_node(OpKind::conv_transpose, dilated, {3, 2, 9, 4}, 9),
                           {2, 6, 7, 4});
  ConvParams three_d = conv_params({2, 3, 2}, {2, 1, 3}, {1, 1, 1}, Padding::same, 6);
  expect_matches_reference(conv_node(OpKind::conv_transpose, three_d, {2, 3, 2, 6, 3}, 6),
                           {2, 3, 4, 2, 3});
  ConvParams sparse = conv_params({2}, {3}, {1}, Padding::valid, 33);
  expect_matches_reference(conv_node(OpKind::conv_transpose, sparse, {2, 33, 4}, 33), {2, 5, 4});
  // The small-batch kernel's tails: rows not a multiple of 16 (one group, and two), cin past 16
  // and not a multiple of it, taps * cout not a multiple of its 12-row blocks of W.
  ConvParams odd = conv_params({3}, {2}, {1}, Padding::same, 5);
  expect_matches_reference(conv_node(OpKind::conv_transpose, odd, {3, 5, 37}, 5), {1, 3, 37});
  expect_matches_reference(conv_node(OpKind::conv_transpose, odd, {3, 5, 37}, 5), {3, 7, 37});
}

// Element-wise kernels must equal the reference bit for bit: same formulas, other loops.
void expect_identical_to_reference(Node node, const Shape& shape, bool expect_fast) {
  std::mt19937 rng(99);
  for (Tensor& w : node.weights) w = random_tensor(w.shape(), rng);
  Tensor x = random_tensor(shape, rng);
  Tensor want(DType::f32, shape), got(DType::f32, shape);
  reference::run_node(node, std::span<const Tensor>(&x, 1), std::span<Tensor>(&want, 1));
  EXPECT_EQ(run_elementwise_fast(node, x, got), expect_fast) << node.name;
  NodeRunner(node).run(std::span<const Tensor>(&x, 1), std::span<Tensor>(&got, 1));
  for (int64_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(got.data_as<float>()[i], want.data_as<float>()[i])
        << node.name << " at element " << i;
}

TEST(CpuKernels, ActivationsAndScaleShiftAreIdenticalToTheReference) {
  for (ActivationKind kind :
       {ActivationKind::relu, ActivationKind::sigmoid, ActivationKind::linear}) {
    for (float slope : {0.f, 0.1f}) {
      ActivationParams p;
      p.activation.kind = kind;
      p.activation.negative_slope = kind == ActivationKind::relu ? slope : 0.f;
      if (kind == ActivationKind::relu && slope > 0.f) {  // ReLU(max_value=0.5, threshold=-0.2)
        p.activation.max_value = 0.5f;
        p.activation.threshold = -0.2f;
      }
      expect_identical_to_reference(make_node(OpKind::activation, p), {2, 5, 3}, true);
    }
  }
  // Channels first and last; small, and big enough for several pieces of the channel-last
  // pattern (3 channels: periods of 255) shared among threads.
  for (const Shape& shape : {Shape{2, 4, 5, 6}, Shape{2, 37, 41, 3}})
    for (int64_t axis : {1, 3}) {
      for (bool scalar : {true, false}) {  // one scale and shift for all, or one per channel
        ScaleShiftParams p;
        p.axis = axis;
        const int64_t c = scalar ? 1 : shape[axis];
        for (int threads : {1, 2}) {
          use_threads_on_this_thread(threads);
          expect_identical_to_reference(
              make_node(OpKind::scale_shift, p,
                        {Tensor(DType::f32, {c}), Tensor(DType::f32, {c})}),
              shape, true);
        }
        use_threads_on_this_thread(0);
      }
    }
  ScaleShiftParams two_axes;
  two_axes.axis = 1;
  two_axes.axes = {1, 2};
  expect_identical_to_reference(make_node(OpKind::scale_shift, two_axes,
                                          {Tensor(DType::f32, {20}), Tensor(DType::f32, {20})}),
                                {2, 4, 5, 6},
                                false);  // the reference kernel runs it
}

TEST(CpuKernels, MergesOfSameShapedInputsAreIdenticalToTheReference) {
  std::mt19937 rng(5);
  const Shape shape{2, 3, 4};
  for (ElementwiseKind kind :
       {ElementwiseKind::add, ElementwiseKind::subtract, ElementwiseKind::multiply,
        ElementwiseKind::average, ElementwiseKind::maximum, ElementwiseKind::minimum}) {
    ElementwiseParams p;
    p.kind = kind;
    const Node n = make_node(OpKind::elementwise, p);
    const size_t count = kind == ElementwiseKind::subtract ? 2 : 3;
    std::vector<Tensor> xs;
    for (size_t k = 0; k < count; ++k) xs.push_back(random_tensor(shape, rng));
    Tensor want(DType::f32, shape), got(DType::f32, shape);
    reference::run_node(n, xs, std::span<Tensor>(&want, 1));
    ASSERT_TRUE(run_merge_same_shape(n, xs, got));
    for (int64_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got.data_as<float>()[i], want.data_as<float>()[i]) << i;
    // A broadcasting input leaves it to the reference kernel.
    std::vector<Tensor> broadcast{xs[0], random_tensor({1, 3, 4}, rng)};
    EXPECT_FALSE(run_merge_same_shape(n, broadcast, got));
  }
}

TEST(CpuKernels, OneRunnerServesSeveralShapes) {
  Node n = conv_node(OpKind::conv, conv_params({3, 3}, {1, 1}, {1, 1}, Padding::same, 4),
                     {3, 3, 2, 4}, 4);
  std::mt19937 rng(7);
  for (Tensor& w : n.weights) w = random_tensor(w.shape(), rng);
  NodeRunner runner(n);
  for (int round = 0; round < 2; ++round) {
    for (const Shape& shape : {Shape{1, 5, 5, 2}, Shape{3, 8, 6, 2}}) {
      Tensor x = random_tensor(shape, rng);
      const Shape out = infer_output_shapes(n, {shape})[0];
      Tensor want(DType::f32, out), got(DType::f32, out);
      reference::run_node(n, std::span<const Tensor>(&x, 1), std::span<Tensor>(&want, 1));
      ASSERT_TRUE(
          runner.run_with_onednn(std::span<const Tensor>(&x, 1), std::span<Tensor>(&got, 1)));
      for (int64_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], 1e-4f)
            << "shape " << shape_to_string(shape);
    }
  }
  EXPECT_LE(runner.packed_weight_copies(), 1u);  // both shapes share one packed kernel
}

TEST(CpuKernels, OtherOpsFallBackToTheReference) {
  ActivationParams p;
  p.activation.kind = ActivationKind::tanh;
  expect_matches_reference(make_node(OpKind::activation, p), {2, 3}, /*expect_onednn=*/false);
}

}  // namespace
}  // namespace krt::cpu
