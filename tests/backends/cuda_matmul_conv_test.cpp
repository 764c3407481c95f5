// The CUDA backend's matmul and convolution families against the reference kernels: Dense over
// every activation, GEMV (few rows) and cuBLASLt (many rows) paths, ranks, bias or not, dynamic
// batch; convolutions 1-D/2-D/3-D with every padding, strides, dilation, groups, depthwise
// multipliers, 1x1 and whole-window convolutions (read as GEMMs), transposed convolutions with
// output_padding; reduced precisions on a few cases. Each case checks that the node really ran
// on the GPU. Without a usable GPU every test skips with the backend's reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>

#include "backend_cases.h"
#include "kerasrt/kerasrt.h"
#include "runtime/backend_registry.h"

namespace krt {
namespace {

bool cuda_available() {
  const Backend* b = find_backend("cuda");
  return b != nullptr && b->unavailable_reason().empty();
}

std::string cuda_skip_reason() {
  if (find_backend("cuda") == nullptr) return "the cuda backend is not built";
  std::string why;
  for (const std::string& s : test::unavailable_backends()) why += (why.empty() ? "" : "; ") + s;
  return why;
}

#define REQUIRE_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << cuda_skip_reason()

using test::make_node;
using test::random_tensor;

// Compiles `nodes` (chained) on the reference and on cuda:0 at `precision`, runs both on the
// same random inputs (each of `batches` in turn when the first input's batch is dynamic; the
// CUDA plan three times per shape: eager, recorded, replayed), and compares. Expects at least
// `cuda_nodes` nodes on the GPU (all of `nodes` by default).
// `scaled_weights`: kernels scaled by 1/sqrt(fan-in), so values keep their size through a chain
// of layers (as trained weights do) and float rounding stays comparable to a single layer's.
// `t` rounded to the 16-bit storage type of fp16 and bf16 (unchanged otherwise), so the reference
// and the GPU multiply the same numbers and differ only in summation order: an activation with a
// step (thresholded ReLU, hard shrink, ReLU's threshold) would otherwise flip for a value within
// one rounding of its threshold, a difference of the whole step that no tolerance should allow.
Tensor representable(const Tensor& t, Precision precision) {
  if (t.dtype() != DType::f32) return t;
  if (precision == Precision::fp16) return t.cast(DType::f16).cast(DType::f32);
  if (precision == Precision::bf16) return t.cast(DType::bf16).cast(DType::f32);
  return t;
}

void expect_cuda_matches_inputs(std::vector<Node> nodes, const std::vector<Shape>& input_shapes,
                                Precision precision = Precision::fp32,
                                std::vector<int64_t> batches = {}, int cuda_nodes = -1,
                                bool scaled_weights = false) {
  std::mt19937 rng(1234);
  for (Node& n : nodes)
    for (Tensor& w : n.weights) {
      w = random_tensor(w.shape(), rng);
      if (!scaled_weights || w.rank() < 2) continue;
      const float scale = 1.f / std::sqrt(static_cast<float>(w.size() / w.shape().back()));
      for (int64_t i = 0; i < w.size(); ++i) w.data_as<float>()[i] *= scale;
    }
  for (Node& n : nodes)
    for (Tensor& w : n.weights) w = representable(w, precision);
  CompileOptions ref_options;
  ref_options.device = Device::reference();
  CompileOptions cuda_options;
  cuda_options.device = Device::cuda();
  cuda_options.precision = precision;
  auto ref = test::compile_nodes(nodes, input_shapes, ref_options);
  auto gpu = test::compile_nodes(nodes, input_shapes, cuda_options);
  const auto& per_backend = test::report_of(*gpu).nodes_per_backend;
  const int on_cuda = per_backend.count("cuda") ? per_backend.at("cuda") : 0;
  EXPECT_GE(on_cuda, cuda_nodes < 0 ? static_cast<int>(nodes.size()) : cuda_nodes)
      << nodes.front().name;
  if (batches.empty()) batches.push_back(input_shapes[0][0]);
  for (int64_t batch : batches) {
    std::vector<Tensor> xs;
    for (size_t i = 0; i < input_shapes.size(); ++i) {
      Shape shape = input_shapes[i];
      if (i == 0) shape[0] = batch;
      xs.push_back(representable(random_tensor(shape, rng), precision));
    }
    const Tensor want = test::run_compiled(*ref, xs)[0];
    double max_abs = 0;
    for (int64_t i = 0; i < want.size(); ++i)
      max_abs = std::max(max_abs, std::fabs(double{want.data_as<float>()[i]}));
    const double reduced = test::reduced_precision_tolerance(precision) * std::max(max_abs, 1.0);
    for (int repeat = 0; repeat < 3; ++repeat) {
      const Tensor got = test::run_compiled(*gpu, xs)[0];
      ASSERT_EQ(got.shape(), want.shape());
      for (int64_t i = 0; i < want.size(); ++i) {
        const double a = got.data_as<float>()[i], b = want.data_as<float>()[i];
        ASSERT_NEAR(a, b, 1e-4 * (1 + std::fabs(b)) + reduced)
            << nodes.front().name << " batch " << batch << " run " << repeat << " element " << i
            << " of " << want.size() << " (" << precision_name(precision) << ")";
      }
    }
  }
}

void expect_cuda_matches(std::vector<Node> nodes, const Shape& input_shape,
                         Precision precision = Precision::fp32, std::vector<int64_t> batches = {},
                         int cuda_nodes = -1, bool scaled_weights = false) {
  expect_cuda_matches_inputs(std::move(nodes), {input_shape}, precision, std::move(batches),
                             cuda_nodes, scaled_weights);
}

Node dense_node(int64_t in, int64_t out, bool bias, Activation act = {}) {
  DenseParams p;
  p.has_bias = bias;
  p.activation = act;
  Node n = make_node(OpKind::dense, p, {Tensor(DType::f32, {in, out})});
  if (bias) n.weights.push_back(Tensor(DType::f32, {out}));
  return n;
}

Node conv_node(OpKind kind, ConvParams p, const Shape& kernel_shape, int64_t bias_size) {
  p.has_bias = bias_size > 0;
  Node n = make_node(kind, p, {Tensor(DType::f32, kernel_shape)});
  if (bias_size > 0) n.weights.push_back(Tensor(DType::f32, {bias_size}));
  return n;
}

ConvParams conv_params(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> d,
                       Padding pad, int64_t filters, ActivationKind act = ActivationKind::linear) {
  ConvParams p;
  p.kernel_size = k;
  p.strides = s;
  p.dilation = d;
  p.padding = pad;
  p.filters = filters;
  p.activation.kind = act;
  return p;
}

// Every ActivationKind with parameters that make each branch matter.
std::vector<Activation> every_activation() {
  std::vector<Activation> out;
  for (int k = 0; k <= static_cast<int>(ActivationKind::thresholded_relu); ++k) {
    Activation a;
    a.kind = static_cast<ActivationKind>(k);
    a.alpha = a.kind == ActivationKind::squareplus ? 4.f : 0.3f;
    out.push_back(a);
  }
  Activation capped;  // the Keras ReLU layer's cap, threshold and slope
  capped.kind = ActivationKind::relu;
  capped.max_value = 0.8f;
  capped.threshold = 0.1f;
  capped.negative_slope = 0.2f;
  out.push_back(capped);
  return out;
}

TEST(CudaMatmul, DenseEveryActivationOnGemvAndGemmPaths) {
  REQUIRE_CUDA();
  for (const Activation& act : every_activation()) {
    SCOPED_TRACE(activation_name(act.kind));
    for (int64_t rows : {1, 3, 37})
      expect_cuda_matches({dense_node(33, 20, true, act)}, {rows, 33});
  }
}

TEST(CudaMatmul, DenseShapesBiasAndRanks) {
  REQUIRE_CUDA();
  for (bool bias : {true, false}) {
    for (ActivationKind k : {ActivationKind::linear, ActivationKind::relu, ActivationKind::tanh}) {
      Activation act;
      act.kind = k;
      for (int64_t rows : {1, 2, 4, 5, 32, 256}) {
        expect_cuda_matches({dense_node(64, 40, bias, act)}, {rows, 64});  // vectorized GEMV
        expect_cuda_matches({dense_node(17, 13, bias, act)}, {rows, 17});  // odd sizes
      }
      expect_cuda_matches({dense_node(24, 12, bias, act)}, {2, 5, 24});  // rank 3: 10 rows
      expect_cuda_matches({dense_node(24, 12, bias, act)}, {1, 3, 24});  // rank 3: 3 rows (GEMV)
    }
  }
}

TEST(CudaMatmul, DecoderSizedDenseLayers) {
  REQUIRE_CUDA();
  Activation relu;
  relu.kind = ActivationKind::relu;
  for (int64_t rows : {1, 32}) {
    expect_cuda_matches({dense_node(128, 1024, true, relu)}, {rows, 128});
    expect_cuda_matches({dense_node(1024, 8192, true, relu)}, {rows, 1024});
  }
}

TEST(CudaMatmul, GemvSplitsKWhenColumnsAreFew) {
  REQUIRE_CUDA();
  // Few output columns and a deep K: the GEMV splits K over blocks and the last block of each
  // tile adds the parts; three runs (eager, recorded, replayed) check its tickets are reset.
  Activation tanh_act;
  tanh_act.kind = ActivationKind::tanh;
  for (int64_t rows : {1, 2, 3, 4}) {
    expect_cuda_matches({dense_node(1000, 37, true, tanh_act)}, {rows, 1000});    // scalar loads
    expect_cuda_matches({dense_node(1024, 1000, true, tanh_act)}, {rows, 1024});  // MobileNet fc
    expect_cuda_matches({dense_node(4096, 8, false, tanh_act)}, {rows, 4096});
  }
  for (Precision p : {Precision::fp16, Precision::bf16})
    expect_cuda_matches({dense_node(1024, 1000, true, tanh_act)}, {2, 1024}, p);
}

TEST(CudaMatmul, DenseDynamicBatch) {
  REQUIRE_CUDA();
  Activation gelu;
  gelu.kind = ActivationKind::gelu;
  expect_cuda_matches({dense_node(48, 24, true, gelu)}, {-1, 48}, Precision::fp32,
                      {1, 7, 1, 64, 3});
}

TEST(CudaMatmul, DenseReducedPrecisions) {
  REQUIRE_CUDA();
  Activation relu;
  relu.kind = ActivationKind::relu;
  Activation silu;
  silu.kind = ActivationKind::silu;
  for (Precision p : {Precision::tf32, Precision::fp16, Precision::bf16}) {
    SCOPED_TRACE(precision_name(p));
    for (int64_t rows : {1, 3, 40}) {
      expect_cuda_matches({dense_node(256, 64, true, relu)}, {rows, 256}, p);
      expect_cuda_matches({dense_node(31, 9, false, silu)}, {rows, 31}, p);
    }
  }
}

// Sets an environment variable for one scope (the CUDA kernels read KERASRT_CUDA_MMA when they
// plan a shape, at a compiled model's first run of it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST(CudaMatmul, TensorCoreGemmOnEveryShape) {
  REQUIRE_CUDA();
  // Our tensor-core GEMM forced wherever it applies (f16/bf16, K and N multiples of 8): 32- and
  // 64-row tiles, partial tiles at every edge, K split over blocks with the tickets reset between
  // runs (deep K, few tiles), every activation in its epilogue; K % 8 != 0 falls back.
  auto forced = std::make_unique<ScopedEnv>("KERASRT_CUDA_MMA", "force");
  struct Case {
    int64_t rows, K, N;
  };
  const Case cases[] = {{5, 8, 8},        {37, 40, 24},     {64, 256, 64},
                        {100, 72, 200},   {49, 1024, 1024}, {16, 512, 2304},
                        {300, 128, 1032}, {2000, 32, 64},   {9, 33, 16}};
  for (Precision p : {Precision::fp16, Precision::bf16}) {
    SCOPED_TRACE(precision_name(p));
    for (const Case& c : cases) {
      SCOPED_TRACE(std::to_string(c.rows) + "x" + std::to_string(c.K) + "x" + std::to_string(c.N));
      Activation relu;
      relu.kind = ActivationKind::relu;
      expect_cuda_matches({dense_node(c.K, c.N, true, relu)}, {c.rows, c.K}, p, {}, -1, true);
      expect_cuda_matches({dense_node(c.K, c.N, false)}, {c.rows, c.K}, p, {}, -1, true);
    }
    for (const Activation& act : every_activation())
      expect_cuda_matches({dense_node(64, 48, true, act)}, {70, 64}, p, {}, -1, true);
    // MobileNet's pointwise layers at batch 1 and 2 (rows = pixels), relu6 after a folded BN.
    expect_cuda_matches(
        {conv_node(OpKind::conv,
                   conv_params({1, 1}, {1, 1}, {1, 1}, Padding::same, 64, ActivationKind::relu6),
                   {1, 1, 32, 64}, 64)},
        {-1, 28, 28, 32}, p, {1, 2}, -1, true);
  }
  // Timed against cuBLASLt (and the GEMV up to 16 rows): whichever wins must be right.
  forced.reset();
  ScopedEnv timed("KERASRT_CUDA_MMA", "1");
  for (int64_t rows : {9, 49, 300})
    expect_cuda_matches({dense_node(512, 1024, true)}, {rows, 512}, Precision::fp16, {}, -1, true);
}

TEST(CudaMatmul, DeviceInputsConvertedInsideTheRecordedRun) {
  REQUIRE_CUDA();
  // A caller's device input in another dtype than the storage one is converted by a kernel
  // recorded with the model's nodes (one CUDA Graph per input buffer), one in the storage dtype
  // is read in place: each input dtype at each precision, two buffers, each run three times
  // (eager, recorded, replayed), must each give their own result. Inputs are rounded to their
  // dtype first, so the reference sees the same numbers.
  Activation relu;
  relu.kind = ActivationKind::relu;
  std::vector<Node> seeded = {dense_node(64, 96, true, relu), dense_node(96, 40, true)};
  std::mt19937 rng(77);
  for (Node& n : seeded)
    for (Tensor& w : n.weights) w = random_tensor(w.shape(), rng);
  seeded[1].name += "1";
  CompileOptions ref_options;
  ref_options.device = Device::reference();
  auto ref = test::compile_nodes(seeded, {{-1, 64}}, ref_options);
  for (Precision p : {Precision::fp32, Precision::fp16, Precision::bf16}) {
    SCOPED_TRACE(precision_name(p));
    CompileOptions options;
    options.device = Device::cuda();
    options.precision = p;
    auto gpu = test::compile_nodes(seeded, {{-1, 64}}, options);
    for (int64_t rows : {3, 24, 3}) {
      for (DType input_dtype : {DType::f32, DType::f16, DType::bf16}) {
        const Tensor x = random_tensor({rows, 64}, rng).cast(input_dtype).cast(DType::f32);
        const Tensor want = test::run_compiled(*ref, {x})[0];
        double max_abs = 1;
        for (int64_t i = 0; i < want.size(); ++i)
          max_abs = std::max(max_abs, std::fabs(double{want.data_as<float>()[i]}));
        for (int repeat = 0; repeat < 3; ++repeat) {
          const Tensor got = test::run_compiled_on_device(*gpu, {x}, input_dtype)[0];
          ASSERT_EQ(got.shape(), want.shape());
          for (int64_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i],
                        1e-4 * (1 + std::fabs(want.data_as<float>()[i])) +
                            test::reduced_precision_tolerance(p) * max_abs)
                << "rows " << rows << " input " << dtype_name(input_dtype) << " run " << repeat
                << " element " << i;
        }
      }
    }
  }
}

TEST(CudaMatmul, DeviceOutputsComeFromAPool) {
  REQUIRE_CUDA();
  // Outputs left on the device are allocated from a pool: a warm run whose previous outputs
  // were let go reuses their memory (nothing is allocated per run), and still gives its own
  // values.
  std::mt19937 rng(91);
  GraphBuilder g("pooled");
  auto x = g.input("x", {dynamic, 32});
  Model model = g.build({g.dense(x, random_tensor({32, 48}, rng), random_tensor({48}, rng))});
  CompiledModel gpu = model.compile({Device::cuda(), Precision::fp16});
  RunOptions keep;
  keep.outputs_on_device = true;
  const Tensor x1 = gpu.upload(random_tensor({5, 32}, rng), gpu.storage_dtype());
  const Tensor host_x2 = random_tensor({5, 32}, rng);
  const Tensor x2 = gpu.upload(host_x2, gpu.storage_dtype());
  const Tensor want = gpu.run({host_x2})[0];
  const void* first = nullptr;
  {
    std::vector<Tensor> warm = gpu.run({x1}, keep);
    first = warm[0].data();
  }
  std::vector<Tensor> again = gpu.run({x2}, keep);
  EXPECT_EQ(again[0].data(), first);
  const Tensor got = gpu.download(again[0]);
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i],
                1e-3 * (1 + std::fabs(want.data_as<float>()[i])))
        << i;
}

Node einsum_node(std::vector<std::string> operands, std::string output,
                 std::vector<Shape> weight_shapes, bool bias = false, float scale = 1.f,
                 ActivationKind act = ActivationKind::linear) {
  EinsumParams p;
  p.operands = std::move(operands);
  p.output = std::move(output);
  p.has_bias = bias;
  p.scale = scale;
  p.activation.kind = act;
  std::vector<Tensor> weights;
  for (const Shape& s : weight_shapes) weights.push_back(Tensor(DType::f32, s));
  return make_node(OpKind::einsum, p, std::move(weights));
}

TEST(CudaMatmul, EinsumDenseAsGemm) {
  REQUIRE_CUDA();
  for (int64_t batch : {1, 9}) {
    expect_cuda_matches(
        {einsum_node({"abc", "cd"}, "abd", {{6, 5}, {5}}, true, 1.f, ActivationKind::relu)},
        {batch, 3, 6});
    expect_cuda_matches({einsum_node({"abc", "cde"}, "abde", {{8, 3, 4}, {3, 4}}, true)},
                        {batch, 2, 8});
    expect_cuda_matches({einsum_node({"abcd", "cde"}, "abe", {{3, 4, 7}}, false)},
                        {batch, 5, 3, 4});
  }
  // Bias on another axis than the kernel's outputs, and a scale: the general kernel.
  expect_cuda_matches(
      {einsum_node({"abc", "cd"}, "abd", {{6, 5}, {3, 1}}, true, 0.5f, ActivationKind::tanh)},
      {2, 3, 6});
  for (Precision p : {Precision::tf32, Precision::fp16, Precision::bf16})
    expect_cuda_matches({einsum_node({"abc", "cd"}, "abd", {{16, 8}, {8}}, true)}, {4, 3, 16}, p);
}

TEST(CudaMatmul, EinsumGeneralEquations) {
  REQUIRE_CUDA();
  // Attention scores and the weighted sum of values (two inputs, a scale).
  expect_cuda_matches_inputs({einsum_node({"abcd", "aecd"}, "acbe", {}, false, 0.125f)},
                             {{2, 5, 3, 8}, {2, 7, 3, 8}});
  expect_cuda_matches_inputs({einsum_node({"acbe", "aecd"}, "abcd", {})},
                             {{2, 3, 5, 7}, {2, 7, 3, 8}});
  // Broadcast of a size-1 label, a repeated label (diagonal), a label summed in one operand.
  expect_cuda_matches_inputs({einsum_node({"abc", "acd"}, "abd", {})}, {{2, 3, 4}, {1, 4, 5}});
  expect_cuda_matches_inputs({einsum_node({"abb", "bc"}, "ac", {})}, {{2, 4, 4}, {4, 3}});
  expect_cuda_matches({einsum_node({"abc", "cd"}, "ad", {{4, 3}})}, {3, 5, 4});
  // Dot-style batched matmul in fp16.
  expect_cuda_matches_inputs({einsum_node({"abc", "acd"}, "abd", {})}, {{3, 4, 6}, {3, 6, 2}},
                             Precision::fp16);
}

TEST(CudaConv, Conv2dPaddingsStridesDilations) {
  REQUIRE_CUDA();
  for (Padding pad : {Padding::valid, Padding::same}) {
    for (int64_t s : {1, 2, 3}) {
      for (int64_t d : {1, 2}) {
        if (s > 1 && d > 1) continue;
        ConvParams p = conv_params({3, 2}, {s, s}, {d, d}, pad, 8, ActivationKind::relu);
        // 11x10 inputs: valid padding with stride 2 or 3 leaves input rows unread.
        expect_cuda_matches({conv_node(OpKind::conv, p, {3, 2, 5, 8}, 8)}, {2, 11, 10, 5});
      }
    }
  }
  // Unequal strides and dilations per axis, no bias.
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({3, 3}, {1, 2}, {1, 1}, Padding::same, 6), {3, 3, 4, 6},
                 0)},
      {3, 9, 7, 4});
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({2, 3}, {1, 1}, {3, 1}, Padding::same, 5), {2, 3, 4, 5},
                 5)},
      {1, 8, 9, 4});
  // Windows of more than kSmallConvWindow values go through im2col: 4 channels per copy
  // (cin 16) and one (cin 5).
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 12),
                 {3, 3, 16, 12}, 12)},
      {2, 9, 8, 16});
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({3, 3}, {1, 1}, {1, 1}, Padding::valid, 6), {3, 3, 5, 6},
                 6)},
      {3, 7, 6, 5});
}

TEST(CudaConv, PointwiseAndWholeWindowConvolutionsAsGemms) {
  REQUIRE_CUDA();
  for (Padding pad : {Padding::valid, Padding::same}) {
    // MobileNet's pointwise convolutions, with a folded BatchNormalization's bias and relu6.
    expect_cuda_matches(
        {conv_node(OpKind::conv,
                   conv_params({1, 1}, {1, 1}, {1, 1}, pad, 48, ActivationKind::relu6),
                   {1, 1, 32, 48}, 48)},
        {2, 7, 6, 32});
    // Strided 1x1: im2col.
    expect_cuda_matches(
        {conv_node(OpKind::conv, conv_params({1, 1}, {2, 2}, {1, 1}, pad, 8), {1, 1, 6, 8}, 8)},
        {1, 7, 6, 6});
  }
  // The decoder's first layer: an 8x8 window over an 8x8 input (one output position).
  for (int64_t batch : {1, 5})
    expect_cuda_matches(
        {conv_node(OpKind::conv,
                   conv_params({8, 8}, {1, 1}, {1, 1}, Padding::valid, 128, ActivationKind::relu),
                   {8, 8, 3, 128}, 128)},
        {batch, 8, 8, 3});
  // MobileNet's stem: 3x3 stride 2 'same' on a 3-channel image.
  expect_cuda_matches(
      {conv_node(OpKind::conv,
                 conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 32, ActivationKind::relu6),
                 {3, 3, 3, 32}, 32)},
      {1, 32, 32, 3});
}

TEST(CudaConv, Conv1dCausalAnd3d) {
  REQUIRE_CUDA();
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({3}, {1}, {2}, Padding::causal, 6), {3, 4, 6}, 6)},
      {2, 13, 4});
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({4}, {3}, {1}, Padding::same, 5, ActivationKind::elu),
                 {4, 4, 5}, 5)},
      {3, 14, 4});
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({2, 3, 2}, {1, 2, 1}, {1, 1, 1}, Padding::same, 5),
                 {2, 3, 2, 3, 5}, 0)},
      {1, 5, 7, 4, 3});
  expect_cuda_matches(
      {conv_node(OpKind::conv, conv_params({2, 2, 2}, {2, 1, 1}, {1, 2, 1}, Padding::valid, 4),
                 {2, 2, 2, 3, 4}, 4)},
      {2, 6, 5, 4, 3});
}

TEST(CudaConv, GroupedAndDepthwiseConv) {
  REQUIRE_CUDA();
  ConvParams grouped =
      conv_params({3, 3}, {1, 1}, {1, 1}, Padding::same, 12, ActivationKind::sigmoid);
  grouped.groups = 3;
  expect_cuda_matches({conv_node(OpKind::conv, grouped, {3, 3, 2, 12}, 12)}, {2, 6, 7, 6});
  ConvParams grouped_strided = conv_params({3, 2}, {2, 1}, {1, 1}, Padding::valid, 8);
  grouped_strided.groups = 2;
  expect_cuda_matches({conv_node(OpKind::conv, grouped_strided, {3, 2, 3, 8}, 0)}, {1, 9, 6, 6});
  for (int64_t mult : {1, 3}) {
    for (Padding pad : {Padding::valid, Padding::same}) {
      for (int64_t s : {1, 2}) {
        ConvParams dw = conv_params({3, 3}, {s, s}, {1, 1}, pad, 0, ActivationKind::relu6);
        dw.depth_multiplier = mult;
        expect_cuda_matches({conv_node(OpKind::depthwise_conv, dw, {3, 3, 4, mult}, 4 * mult)},
                            {2, 9, 8, 4});
      }
    }
  }
  ConvParams dw_dilated = conv_params({3, 3}, {1, 1}, {2, 2}, Padding::same, 0);
  expect_cuda_matches({conv_node(OpKind::depthwise_conv, dw_dilated, {3, 3, 64, 1}, 0)},
                      {1, 10, 11, 64});
  ConvParams dw1d = conv_params({5}, {1}, {2}, Padding::valid, 0);
  dw1d.depth_multiplier = 2;
  expect_cuda_matches({conv_node(OpKind::depthwise_conv, dw1d, {5, 3, 2}, 6)}, {2, 20, 3});
  ConvParams dw_causal = conv_params({3}, {1}, {1}, Padding::causal, 0);
  expect_cuda_matches({conv_node(OpKind::depthwise_conv, dw_causal, {3, 5, 1}, 5)}, {2, 9, 5});
}

TEST(CudaConv, ConvTranspose) {
  REQUIRE_CUDA();
  for (Padding pad : {Padding::valid, Padding::same}) {
    for (int64_t s : {1, 2, 3}) {
      ConvParams p = conv_params({3, 4}, {s, s}, {1, 1}, pad, 7, ActivationKind::tanh);
      expect_cuda_matches({conv_node(OpKind::conv_transpose, p, {3, 4, 7, 5}, 7)}, {2, 5, 6, 5});
    }
  }
  ConvParams with_output_padding = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 4);
  with_output_padding.output_padding = {1, 0};
  expect_cuda_matches({conv_node(OpKind::conv_transpose, with_output_padding, {3, 3, 4, 6}, 4)},
                      {1, 4, 5, 6});
  ConvParams valid_output_padding = conv_params({3, 3}, {3, 2}, {1, 1}, Padding::valid, 3);
  valid_output_padding.output_padding = {2, 1};
  expect_cuda_matches({conv_node(OpKind::conv_transpose, valid_output_padding, {3, 3, 3, 4}, 3)},
                      {2, 4, 3, 4});
  ConvParams dilated_1d = conv_params({3}, {1}, {2}, Padding::valid, 3);
  expect_cuda_matches({conv_node(OpKind::conv_transpose, dilated_1d, {3, 3, 2}, 0)}, {2, 9, 2});
  ConvParams three_d = conv_params({2, 3, 2}, {2, 1, 2}, {1, 1, 1}, Padding::same, 3);
  expect_cuda_matches({conv_node(OpKind::conv_transpose, three_d, {2, 3, 2, 3, 2}, 3)},
                      {1, 3, 4, 2, 2});
  // Channels in fours take the vectorized 2-D col2im: dilation, uneven strides, 'same'.
  ConvParams dilated_vec = conv_params({3, 2}, {2, 3}, {2, 1}, Padding::valid, 8);
  expect_cuda_matches({conv_node(OpKind::conv_transpose, dilated_vec, {3, 2, 8, 6}, 8)},
                      {2, 5, 4, 6});
  ConvParams wide_same = conv_params({4, 4}, {3, 3}, {1, 1}, Padding::same, 12);
  expect_cuda_matches({conv_node(OpKind::conv_transpose, wide_same, {4, 4, 12, 5}, 0)},
                      {1, 3, 5, 5});
  // The decoder's last layer (fewer channels): 3x3 stride 2 'same' from 4x4, batch 1 and 3.
  ConvParams decoder = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 32);
  for (int64_t batch : {1, 3})
    expect_cuda_matches({conv_node(OpKind::conv_transpose, decoder, {3, 3, 32, 64}, 32)},
                        {batch, 4, 4, 64});
}

TEST(CudaConv, SmallWindowConvSeveralChannelWidths) {
  REQUIRE_CUDA();
  // The direct small-window kernel over several output widths (8 or 4 channels a thread in
  // 16-bit types, 4 in f32); 3x3x3 and 2x5x2 windows, strides, dilation and 'same' padding.
  for (int64_t cout : {32, 48, 24, 12}) {
    SCOPED_TRACE(cout);
    ConvParams p = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, cout, ActivationKind::relu);
    expect_cuda_matches({conv_node(OpKind::conv, p, {3, 3, 3, cout}, cout)}, {3, 15, 14, 3});
    expect_cuda_matches({conv_node(OpKind::conv, p, {3, 3, 3, cout}, cout)}, {3, 15, 14, 3},
                        Precision::fp16);
    ConvParams q = conv_params({2, 5}, {1, 3}, {2, 1}, Padding::valid, cout);
    expect_cuda_matches({conv_node(OpKind::conv, q, {2, 5, 2, cout}, 0)}, {2, 9, 17, 2});
  }
}

TEST(CudaConv, ReducedPrecisions) {
  REQUIRE_CUDA();
  for (Precision p : {Precision::tf32, Precision::fp16, Precision::bf16}) {
    SCOPED_TRACE(precision_name(p));
    expect_cuda_matches(
        {conv_node(OpKind::conv,
                   conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 16, ActivationKind::relu),
                   {3, 3, 8, 16}, 16)},
        {2, 9, 9, 8}, p);
    // An image stem (a window of 27 values): the direct kernel, 8 channels a thread in 16 bits.
    expect_cuda_matches(
        {conv_node(OpKind::conv,
                   conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 16, ActivationKind::relu6),
                   {3, 3, 3, 16}, 16)},
        {2, 11, 10, 3}, p);
    expect_cuda_matches(
        {conv_node(OpKind::conv, conv_params({1, 1}, {1, 1}, {1, 1}, Padding::same, 24),
                   {1, 1, 16, 24}, 24)},
        {1, 5, 5, 16}, p);
    ConvParams dw = conv_params({3, 3}, {1, 1}, {1, 1}, Padding::same, 0, ActivationKind::relu6);
    expect_cuda_matches({conv_node(OpKind::depthwise_conv, dw, {3, 3, 16, 1}, 16)}, {1, 6, 6, 16},
                        p);
    expect_cuda_matches(
        {conv_node(OpKind::conv_transpose, conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 8),
                   {3, 3, 8, 16}, 8)},
        {2, 4, 4, 16}, p);
  }
}

TEST(CudaConv, SmallWindowConvOnTensorCoresAndWithout) {
  REQUIRE_CUDA();
  // Windows of up to 32 values in f16/bf16 run on tensor cores (64 positions x 32 channels a
  // block): channel counts below, at and past one block's 32, windows of 1 to 32 values, strides,
  // dilation, both paddings, a batch whose positions end mid-block (KERASRT_CUDA_MMA=conv, the
  // default); then the same with the tensor-core kernels off (=0), where the direct kernel runs.
  struct Case {
    std::vector<int64_t> k, s, d;
    Padding pad;
    int64_t cin, cout;
    Shape input;
  };
  const Case cases[] = {
      {{3, 3}, {2, 2}, {1, 1}, Padding::same, 3, 32, {2, 15, 17, 3}},  // MobileNet's stem
      {{3, 3}, {1, 1}, {1, 1}, Padding::valid, 3, 48, {3, 9, 8, 3}},   // a partial column block
      {{5, 5}, {1, 1}, {1, 1}, Padding::same, 1, 16, {1, 12, 13, 1}},  // 25 values, 16 channels
      {{2, 2}, {1, 1}, {2, 1}, Padding::same, 8, 64, {2, 7, 9, 8}},    // exactly 32 values
      {{1, 1}, {2, 2}, {1, 1}, Padding::valid, 4, 8, {1, 5, 5, 4}},    // 4 values (strided: not a
                                                                       // GEMM)
      {{3, 1}, {2, 1}, {1, 1}, Padding::valid, 2, 24, {2, 11, 6, 2}},
  };
  for (const char* mode : {"conv", "0"}) {
    ScopedEnv mma("KERASRT_CUDA_MMA", mode);
    for (Precision p : {Precision::fp16, Precision::bf16}) {
      for (const Case& c : cases) {
        SCOPED_TRACE(std::string(precision_name(p)) + " KERASRT_CUDA_MMA=" + mode + " cout " +
                     std::to_string(c.cout) + " cin " + std::to_string(c.cin));
        expect_cuda_matches(
            {conv_node(OpKind::conv,
                       conv_params(c.k, c.s, c.d, c.pad, c.cout, ActivationKind::relu6),
                       {c.k[0], c.k[1], c.cin, c.cout}, c.cout)},
            c.input, p);
      }
      // No bias, a linear activation, a dynamic batch.
      expect_cuda_matches(
          {conv_node(OpKind::conv, conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 32),
                     {3, 3, 3, 32}, 0)},
          {-1, 10, 10, 3}, p, {1, 4});
    }
  }
}

TEST(CudaConv, MobileNetBlockChain) {
  REQUIRE_CUDA();
  // Stem, then a depthwise + pointwise block, as the fusion pass leaves MobileNet.
  std::vector<Node> nodes;
  nodes.push_back(conv_node(
      OpKind::conv, conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 16, ActivationKind::relu),
      {3, 3, 3, 16}, 16));
  ConvParams dw = conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 0, ActivationKind::relu);
  nodes.push_back(conv_node(OpKind::depthwise_conv, dw, {3, 3, 16, 1}, 16));
  nodes.push_back(conv_node(
      OpKind::conv, conv_params({1, 1}, {1, 1}, {1, 1}, Padding::same, 32, ActivationKind::relu),
      {1, 1, 16, 32}, 32));
  for (Node& n : nodes) n.name += std::to_string(&n - nodes.data());
  expect_cuda_matches(nodes, {2, 24, 24, 3}, Precision::fp32, {}, -1, /*scaled_weights=*/true);
}

TEST(CudaConv, DecoderModelChain) {
  REQUIRE_CUDA();
  // The founding "decoder": Conv2D(128, 8x8, valid, relu) -> Reshape(128) -> Dense(1024, relu)
  // -> Dense(8192, relu) -> Reshape(4, 4, 512) -> Conv2DTranspose(256, 3x3, stride 2, same),
  // with a dynamic batch. The reshapes belong to another family: only the four compute nodes
  // must be on the GPU.
  Activation relu;
  relu.kind = ActivationKind::relu;
  ReshapeParams flat;
  flat.target = {128};
  ReshapeParams image;
  image.target = {4, 4, 512};
  std::vector<Node> nodes;
  nodes.push_back(conv_node(
      OpKind::conv, conv_params({8, 8}, {1, 1}, {1, 1}, Padding::valid, 128, ActivationKind::relu),
      {8, 8, 3, 128}, 128));
  nodes.push_back(make_node(OpKind::reshape, flat));
  nodes.push_back(dense_node(128, 1024, true, relu));
  nodes.push_back(dense_node(1024, 8192, true, relu));
  nodes.push_back(make_node(OpKind::reshape, image));
  nodes.push_back(conv_node(OpKind::conv_transpose,
                            conv_params({3, 3}, {2, 2}, {1, 1}, Padding::same, 256),
                            {3, 3, 256, 512}, 256));
  for (Node& n : nodes) n.name += std::to_string(&n - nodes.data());
  for (Precision p : {Precision::fp32, Precision::fp16})
    expect_cuda_matches(nodes, {-1, 8, 8, 3}, p, {1, 3}, 4, /*scaled_weights=*/true);
  ScopedEnv forced("KERASRT_CUDA_MMA", "force");  // the transposed convolution's 16-row GEMM
  expect_cuda_matches(nodes, {-1, 8, 8, 3}, Precision::fp16, {1, 3}, 4, /*scaled_weights=*/true);
}

}  // namespace
}  // namespace krt
