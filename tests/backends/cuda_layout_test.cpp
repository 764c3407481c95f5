// The CUDA layout family (reshape, identity, transpose, pad, slice, upsample, concat, pool,
// resize, embedding, recurrent) against the reference kernels, over shapes and parameters the
// fixtures do not all reach. Each case checks that the node really ran on the cuda backend and
// runs three times (eager, recorded into a CUDA Graph, replayed), comparing every result.
// Without a usable GPU (or a build without CUDA) every test skips with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "backend_cases.h"
#include "core/check.h"
#include "ops/shape_inference.h"
#include "runtime/backend_registry.h"
#include "runtime/execution_plan.h"

namespace krt {
namespace {

// "" when the cuda backend can run here; otherwise why not, as the suites report it.
std::string cuda_unavailable() {
  const Backend* b = find_backend("cuda");
  if (!b) return "cuda: this build has no CUDA backend (no CUDA toolkit or cuDNN found)";
  if (b->unavailable_reason().empty()) return "";
  for (const std::string& s : test::unavailable_backends())
    if (s.rfind("cuda", 0) == 0) return s;
  return "cuda: " + b->unavailable_reason();
}

#define SKIP_WITHOUT_CUDA()                     \
  do {                                          \
    const std::string why = cuda_unavailable(); \
    if (!why.empty()) GTEST_SKIP() << why;      \
  } while (0)

using test::make_node;
using test::random_tensor;


CompileOptions cuda_options(Precision precision = Precision::fp32) {
  CompileOptions o;
  o.device = Device::cuda();
  o.precision = precision;
  return o;
}


// Runs `nodes` on `inputs` through the reference backend and the cuda backend (three times:
// eager, recorded, replayed) and compares: |got - want| <= tol * (1 + |want|), plus, in a
// reduced precision, that precision's tolerance relative to the largest |want| (backend_cases.h).
// Expects `on_cuda` nodes on the cuda backend (all of them, and no fallback, by default).
void expect_cuda_matches(const std::vector<Node>& nodes, const std::vector<Tensor>& inputs,
                         double tol = 1e-5, Precision precision = Precision::fp32,
                         int on_cuda = -1) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  CompileOptions ref_options;
  ref_options.device = Device::reference();
  auto ref = test::compile_nodes(nodes, shapes, ref_options);
  const std::vector<Tensor> want = test::run_compiled(*ref, inputs);

  auto gpu = test::compile_nodes(nodes, shapes, cuda_options(precision));
  const CompileReport& report = test::report_of(*gpu);
  const std::string what = str_cat(nodes.front().name, " on ", shape_to_string(shapes.front()),
                                   " in ", precision_name(precision));
  auto it = report.nodes_per_backend.find("cuda");
  const int expected = on_cuda < 0 ? static_cast<int>(nodes.size()) : on_cuda;
  EXPECT_EQ(it == report.nodes_per_backend.end() ? 0 : it->second, expected) << what;
  if (expected == static_cast<int>(nodes.size()))
    for (const std::string& f : report.fallbacks) ADD_FAILURE() << what << ": " << f;

  for (int run = 0; run < 3; ++run) {
    const std::vector<Tensor> got = test::run_compiled(*gpu, inputs);
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t o = 0; o < want.size(); ++o) {
      ASSERT_EQ(got[o].shape(), want[o].shape()) << what << " output " << o;
      const float* g = got[o].data_as<float>();
      const float* w = want[o].data_as<float>();
      double largest = 0;
      for (int64_t i = 0; i < want[o].size(); ++i)
        largest = std::max(largest, std::fabs(static_cast<double>(w[i])));
      const double reduced = test::reduced_precision_tolerance(precision) * largest;
      for (int64_t i = 0; i < want[o].size(); ++i) {
        if (std::isnan(w[i])) {
          ASSERT_TRUE(std::isnan(g[i]))
              << what << " output " << o << " element " << i << " run " << run;
          continue;
        }
        ASSERT_NEAR(g[i], w[i], tol * (1 + std::fabs(w[i])) + reduced)
            << what << " output " << o << " element " << i << " of " << want[o].size() << " run "
            << run;
      }
    }
  }
}

void expect_node_matches(const Node& node, const std::vector<Shape>& shapes, double tol = 1e-5,
                         Precision precision = Precision::fp32, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes) inputs.push_back(random_tensor(s, rng));
  expect_cuda_matches(std::vector<Node>{node}, inputs, tol, precision);
}

const Precision kReduced[] = {Precision::fp16, Precision::bf16};

// ---- reshape and identity -------------------------------------------------------------------

TEST(CudaLayout, ReshapeAndIdentityAreViewsInAModel) {
  SKIP_WITHOUT_CUDA();
  ReshapeParams r;
  r.target = {4, -1};
  std::mt19937 rng(3);
  const Tensor x = random_tensor({3, 2, 6}, rng);
  // Both nodes run on the GPU; the reshape after the transpose is a view of its output.
  TransposeParams t;
  t.perm = {0, 2, 1};
  expect_cuda_matches({make_node(OpKind::transpose, t), make_node(OpKind::reshape, r)}, {x}, 0);
  for (Precision p : kReduced)
    expect_cuda_matches({make_node(OpKind::transpose, t), make_node(OpKind::reshape, r)}, {x}, 0,
                        p);

  // identity survives only without the inference passes (which remove it).
  const std::vector<Node> nodes{make_node(OpKind::transpose, t),
                                make_node(OpKind::identity, IdentityParams{}),
                                make_node(OpKind::reshape, r)};
  // Without the inference passes, which would drop the identity node.
  auto plan = test::compile_nodes(nodes, {x.shape()}, cuda_options(), /*optimize=*/false);
  EXPECT_EQ(test::report_of(*plan).nodes_per_backend.at("cuda"), 3);
  CompileOptions ref_options;
  ref_options.device = Device::reference();
  auto ref = test::compile_nodes(nodes, {x.shape()}, ref_options, /*optimize=*/false);
  const Tensor want = test::run_compiled(*ref, {x})[0];
  for (int run = 0; run < 3; ++run) {
    const Tensor got = test::run_compiled(*plan, {x})[0];
    ASSERT_EQ(got.shape(), want.shape());
    for (int64_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got.data_as<float>()[i], want.data_as<float>()[i]) << i;
  }
}

// The view kernel given two distinct buffers copies (as the reference's run_copy), and given
// one buffer leaves it alone.
TEST(CudaLayout, ViewKernelCopiesOnlyBetweenDistinctBuffers) {
  SKIP_WITHOUT_CUDA();
  const Backend& cuda = *find_backend("cuda");
  for (OpKind kind : {OpKind::reshape, OpKind::identity}) {
    Graph g;
    const ValueId in = g.add_value("x", {2, 12});
    ReshapeParams r;
    r.target = {3, 4};
    Node node = kind == OpKind::reshape ? make_node(kind, r) : make_node(kind, IdentityParams{});
    const Shape out_shape = infer_output_shapes(node, {{2, 12}})[0];
    const ValueId out = g.add_value("y", out_shape);
    node.inputs = {in};
    node.outputs = {out};
    g.inputs = {in};
    g.outputs = {out};
    g.add_node(node);
    const CompileOptions options = cuda_options();
    ASSERT_TRUE(cuda.supports(g.nodes[0], g, options).supported);
    std::unique_ptr<NodeKernel> kernel = cuda.prepare(g.nodes[0], g, options);
    std::unique_ptr<RunContext> context = cuda.open_run(options);
    context->begin_run();

    std::mt19937 rng(8);
    const Tensor x = random_tensor({2, 12}, rng);
    auto a_mem = cuda.allocate(x.nbytes(), 0), b_mem = cuda.allocate(x.nbytes(), 0);
    Tensor a = Tensor::wrap_device(DType::f32, {2, 12}, a_mem.get(), cuda.memory(0));
    Tensor b = Tensor::wrap_device(DType::f32, out_shape, b_mem.get(), cuda.memory(0));
    cuda.copy_from_host(*context, x, a);
    Tensor zeros(DType::f32, out_shape);
    cuda.copy_from_host(*context, zeros, b);
    Tensor a_view = a.reshaped(out_shape);
    kernel->run(*context, std::span<const Tensor>(&a, 1),
                std::span<Tensor>(&b, 1));  // distinct: copies
    kernel->run(*context, std::span<const Tensor>(&a, 1),
                std::span<Tensor>(&a_view, 1));  // same bytes: nothing
    Tensor hb(DType::f32, out_shape), ha(DType::f32, {2, 12});
    cuda.copy_to_host(*context, b, hb);
    cuda.copy_to_host(*context, a, ha);
    context->synchronize();
    for (int64_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(hb.data_as<float>()[i], x.data_as<float>()[i]) << op_name(kind) << " " << i;
      ASSERT_EQ(ha.data_as<float>()[i], x.data_as<float>()[i]) << op_name(kind) << " " << i;
    }
  }
}

// ---- transpose, pad, slice, upsample, concat ------------------------------------------------

TEST(CudaLayout, TransposeAnyPermutationUpToRank8) {
  SKIP_WITHOUT_CUDA();
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases{
      {{3, 5}, {1, 0}},
      {{2, 3, 4}, {0, 2, 1}},
      {{2, 3, 4}, {2, 1, 0}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},
      {{2, 3, 4, 5}, {3, 2, 0, 1}},
      {{2, 1, 7, 3, 2}, {0, 4, 2, 1, 3}},
      {{2, 3, 1, 4, 2, 3}, {5, 0, 3, 1, 4, 2}},
      {{2, 1, 3, 2, 1, 2, 3, 2}, {7, 6, 5, 4, 3, 2, 1, 0}},
      {{3, 2, 2, 3, 2, 1, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7}},
  };
  for (const auto& [shape, perm] : cases) {
    TransposeParams p;
    p.perm = perm;
    expect_node_matches(make_node(OpKind::transpose, p), {shape}, 0);
  }
  TransposeParams p;
  p.perm = {0, 3, 1, 2};
  for (Precision prec : kReduced)
    expect_node_matches(make_node(OpKind::transpose, p), {{2, 3, 4, 5}}, 0, prec);
}

TEST(CudaLayout, PadConstantPerAxis) {
  SKIP_WITHOUT_CUDA();
  struct Case {
    Shape shape;
    std::vector<int64_t> before, after;
    float value;
  };
  const std::vector<Case> cases{
      {{2, 5, 3}, {0, 2, 0}, {0, 1, 0}, 0.f},
      {{2, 5, 3}, {0, 0, 0}, {0, 0, 0}, 0.f},
      {{2, 4, 5, 3}, {0, 1, 2, 0}, {0, 3, 0, 0}, 1.5f},
      {{1, 3, 2, 4, 2}, {0, 1, 1, 0, 0}, {0, 1, 2, 2, 0}, -2.f},
      {{2, 3, 4}, {1, 0, 2}, {2, 1, 0}, 0.25f},  // batch and channels too
  };
  for (const Case& c : cases) {
    PadParams p;
    p.before = c.before;
    p.after = c.after;
    p.value = c.value;
    expect_node_matches(make_node(OpKind::pad, p), {c.shape}, 0);
    if (&c == &cases[2])
      for (Precision prec : kReduced)
        expect_node_matches(make_node(OpKind::pad, p), {c.shape}, 0, prec);
  }
}

TEST(CudaLayout, SliceCropsPerAxis) {
  SKIP_WITHOUT_CUDA();
  struct Case {
    Shape shape;
    std::vector<int64_t> before, after;
  };
  const std::vector<Case> cases{
      {{2, 9, 3}, {0, 2, 0}, {0, 3, 0}},
      {{2, 7, 6, 3}, {0, 1, 0, 0}, {0, 2, 4, 0}},
      {{2, 5, 6, 7, 3}, {0, 1, 2, 3, 1}, {0, 1, 1, 1, 1}},
      {{4, 3, 5}, {1, 0, 2}, {2, 1, 0}},
  };
  for (const Case& c : cases) {
    SliceParams p;
    p.crop_before = c.before;
    p.crop_after = c.after;
    expect_node_matches(make_node(OpKind::slice, p), {c.shape}, 0);
  }
  SliceParams p;
  p.crop_before = {0, 1, 0, 0};
  p.crop_after = {0, 2, 4, 0};
  for (Precision prec : kReduced)
    expect_node_matches(make_node(OpKind::slice, p), {{2, 7, 6, 3}}, 0, prec);
}

TEST(CudaLayout, UpsampleNearest1d2d3d) {
  SKIP_WITHOUT_CUDA();
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases{
      {{2, 5, 3}, {3}},
      {{2, 4, 5, 3}, {2, 3}},
      {{2, 4, 5, 3}, {1, 1}},
      {{1, 2, 3, 4, 2}, {2, 1, 3}},
  };
  for (const auto& [shape, factors] : cases) {
    UpsampleParams p;
    p.factors = factors;
    expect_node_matches(make_node(OpKind::upsample, p), {shape}, 0);
  }
  UpsampleParams p;
  p.factors = {2, 3};
  for (Precision prec : kReduced)
    expect_node_matches(make_node(OpKind::upsample, p), {{2, 4, 5, 3}}, 0, prec);
}

TEST(CudaLayout, ConcatAnyAxisAnyInputs) {
  SKIP_WITHOUT_CUDA();
  for (int64_t axis = 0; axis < 4; ++axis) {
    for (size_t n : {1, 2, 3}) {
      std::vector<Shape> shapes;
      for (size_t k = 0; k < n; ++k) {
        Shape s{2, 3, 4, 5};
        s[axis] = static_cast<int64_t>(k) + 1 + axis;  // inputs of different sizes on the axis
        shapes.push_back(s);
      }
      ConcatParams p;
      p.axis = axis;
      expect_node_matches(make_node(OpKind::concat, p), shapes, 0);
      if (axis == 3 && n == 3)
        for (Precision prec : kReduced)
          expect_node_matches(make_node(OpKind::concat, p), shapes, 0, prec);
    }
  }
  ConcatParams p;
  p.axis = 1;
  expect_node_matches(make_node(OpKind::concat, p), {{3, 7}, {3, 1}, {3, 12}, {3, 2}, {3, 5}}, 0);
}

// ---- pooling --------------------------------------------------------------------------------

TEST(CudaLayout, Pool2dMaxAndAverageValidAndSame) {
  SKIP_WITHOUT_CUDA();
  for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
    for (Padding pad : {Padding::valid, Padding::same}) {
      for (const std::vector<int64_t>& strides :
           std::vector<std::vector<int64_t>>{{}, {1, 1}, {2, 2}, {3, 2}, {1, 3}}) {
        for (const std::vector<int64_t>& pool :
             std::vector<std::vector<int64_t>>{{2, 2}, {3, 3}, {3, 2}, {1, 1}}) {
          PoolParams p;
          p.kind = kind;
          p.padding = pad;
          p.pool_size = pool;
          p.strides = strides;
          // 11x10: odd sizes leave rows unread (valid) or windows half outside (same).
          expect_node_matches(make_node(OpKind::pool, p), {{2, 11, 10, 3}}, 1e-5);
        }
      }
    }
  }
  PoolParams p;
  p.kind = PoolKind::average;
  p.padding = Padding::same;
  p.pool_size = {3, 3};
  p.strides = {2, 2};
  for (Precision prec : kReduced)
    expect_node_matches(make_node(OpKind::pool, p), {{2, 9, 8, 4}}, 1e-5, prec);
}

TEST(CudaLayout, Pool1dAnd3d) {
  SKIP_WITHOUT_CUDA();
  for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
    for (Padding pad : {Padding::valid, Padding::same}) {
      PoolParams p1;
      p1.kind = kind;
      p1.padding = pad;
      p1.pool_size = {3};
      p1.strides = {2};
      expect_node_matches(make_node(OpKind::pool, p1), {{3, 13, 4}}, 1e-5);
      p1.strides = {};
      p1.pool_size = {2};
      expect_node_matches(make_node(OpKind::pool, p1), {{3, 7, 4}}, 1e-5);
      PoolParams p3;
      p3.kind = kind;
      p3.padding = pad;
      p3.pool_size = {2, 3, 2};
      p3.strides = {1, 2, 2};
      expect_node_matches(make_node(OpKind::pool, p3), {{2, 5, 7, 6, 3}}, 1e-5);
    }
  }
}

// ---- resize ---------------------------------------------------------------------------------

TEST(CudaLayout, ResizeEveryMethodUpAndDownWithAndWithoutAntialias) {
  SKIP_WITHOUT_CUDA();
  for (ResizeMethod method : {ResizeMethod::nearest, ResizeMethod::linear, ResizeMethod::cubic,
                              ResizeMethod::lanczos3, ResizeMethod::lanczos5}) {
    for (bool antialias : {false, true}) {
      for (const std::vector<int64_t>& size :
           std::vector<std::vector<int64_t>>{{14, 9}, {5, 3}, {7, 20}, {3, 10}, {1, 1}, {8, 5}}) {
        ResizeParams p;
        p.method = method;
        p.antialias = antialias;
        p.size = size;  // from 8x10: up, down, mixed, one axis unchanged ({8, 5}: axis 1 kept)
        expect_node_matches(make_node(OpKind::resize, p), {{2, 8, 10, 3}}, 1e-5);
      }
    }
  }
  ResizeParams by_factors;
  by_factors.method = ResizeMethod::linear;
  by_factors.factors = {2, 3};
  expect_node_matches(make_node(OpKind::resize, by_factors), {{2, 4, 5, 3}}, 1e-5);
  for (Precision prec : kReduced)
    expect_node_matches(make_node(OpKind::resize, by_factors), {{2, 4, 5, 3}}, 1e-5, prec);
}

TEST(CudaLayout, Resize1dAnd3d) {
  SKIP_WITHOUT_CUDA();
  for (ResizeMethod method :
       {ResizeMethod::nearest, ResizeMethod::linear, ResizeMethod::cubic, ResizeMethod::lanczos3}) {
    ResizeParams p;
    p.method = method;
    p.antialias = true;
    p.size = {17};
    expect_node_matches(make_node(OpKind::resize, p), {{2, 6, 3}}, 1e-5);
    p.size = {3};
    expect_node_matches(make_node(OpKind::resize, p), {{2, 11, 3}}, 1e-5);
    p.size = {3, 7, 4};
    expect_node_matches(make_node(OpKind::resize, p), {{2, 5, 4, 6, 2}}, 1e-5);
  }
}

// ---- embedding ------------------------------------------------------------------------------

// Ids: whole numbers, some as floats that Keras truncates (2.7 -> 2, -0.5 -> 0).
Tensor embedding_ids(const Shape& shape, int64_t rows, std::mt19937& rng) {
  Tensor ids(DType::f32, shape);
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  for (int64_t i = 0; i < ids.size(); ++i) ids.data_as<float>()[i] = static_cast<float>(pick(rng));
  if (ids.size() > 2) {
    ids.data_as<float>()[0] = -0.5f;
    ids.data_as<float>()[1] = static_cast<float>(rows) - 0.3f;
    ids.data_as<float>()[2] = 2.7f;
  }
  return ids;
}

TEST(CudaLayout, EmbeddingLookups) {
  SKIP_WITHOUT_CUDA();
  std::mt19937 rng(11);
  for (const Shape& shape : std::vector<Shape>{{3}, {2, 5}, {2, 3, 4}}) {
    Node n = make_node(OpKind::embedding, EmbeddingParams{}, {random_tensor({13, 6}, rng)});
    expect_cuda_matches({n}, {embedding_ids(shape, 13, rng)}, 0);
  }
  // In fp16 the ids stay f32: ids above 2048 keep their exact value.
  Node big = make_node(OpKind::embedding, EmbeddingParams{}, {random_tensor({5000, 4}, rng)});
  Tensor ids(DType::f32, {2, 4});
  const float values[] = {2049, 4999, 3001, 0, 2051, 4097, 17, 2047};
  std::copy(std::begin(values), std::end(values), ids.data_as<float>());
  for (Precision prec : kReduced) expect_cuda_matches({big}, {ids}, 0, prec);
  // Ids that pass through a reshape (TimeDistributed(Embedding) folds time into the batch):
  // in fp16/bf16 the reshape runs on the host, so the ids reach the GPU as f32.
  ReshapeParams flat;
  flat.target = {-1};
  flat.with_batch = true;
  const std::vector<Node> chain{make_node(OpKind::reshape, flat), big};
  expect_cuda_matches(chain, {ids}, 0);
  for (Precision prec : kReduced) expect_cuda_matches(chain, {ids}, 0, prec, /*on_cuda=*/1);
}

// ---- recurrent ------------------------------------------------------------------------------

struct RecurrentCase {
  RecurrentKind kind = RecurrentKind::lstm;
  bool has_bias = true, reset_after = true, go_backwards = false, return_sequences = false,
       return_state = false;
  bool zero_output_for_mask = false, sequence_in_input_order = false, has_mask = false,
       has_initial_state = false;
  ActivationKind act = ActivationKind::tanh, ract = ActivationKind::sigmoid;
};

std::string describe(const RecurrentCase& c) {
  return str_cat("kind ", static_cast<int>(c.kind), " bias ", c.has_bias, " reset_after ",
                 c.reset_after, " backwards ", c.go_backwards, " sequences ", c.return_sequences,
                 " state ", c.return_state, " zero_masked ", c.zero_output_for_mask,
                 " input_order ", c.sequence_in_input_order, " mask ", c.has_mask, " initial ",
                 c.has_initial_state, " act ", activation_name(c.act), " ract ",
                 activation_name(c.ract));
}

void expect_recurrent_matches(const RecurrentCase& c, int64_t batch, int64_t steps,
                              int64_t features, int64_t units,
                              Precision precision = Precision::fp32, uint32_t seed = 21) {
  SCOPED_TRACE(describe(c));
  RecurrentParams p;
  p.kind = c.kind;
  p.units = units;
  p.activation.kind = c.act;
  p.recurrent_activation.kind = c.ract;
  p.has_bias = c.has_bias;
  p.reset_after = c.reset_after;
  p.go_backwards = c.go_backwards;
  p.return_sequences = c.return_sequences;
  p.return_state = c.return_state;
  p.zero_output_for_mask = c.zero_output_for_mask;
  p.sequence_in_input_order = c.sequence_in_input_order;
  p.has_mask = c.has_mask;
  p.has_initial_state = c.has_initial_state;
  std::mt19937 rng(seed);
  const int64_t g = recurrent_gate_count(c.kind) * units;
  std::vector<Tensor> weights{random_tensor({features, g}, rng, -0.5f, 0.5f),
                              random_tensor({units, g}, rng, -0.5f, 0.5f)};
  if (c.has_bias)
    weights.push_back(c.kind == RecurrentKind::gru && c.reset_after
                          ? random_tensor({2, g}, rng, -0.5f, 0.5f)
                          : random_tensor({g}, rng, -0.5f, 0.5f));
  Node n = make_node(OpKind::recurrent, p, weights);
  std::vector<Tensor> inputs{random_tensor({batch, steps, features}, rng)};
  if (c.has_mask) {
    Tensor m(DType::f32, {batch, steps});
    std::bernoulli_distribution keep(0.7);
    for (int64_t i = 0; i < m.size(); ++i) m.data_as<float>()[i] = keep(rng) ? 1.f : 0.f;
    m.data_as<float>()[0] = 0.f;  // a masked first step: the output is the initial h (or zeros)
    inputs.push_back(m);
  }
  if (c.has_initial_state)
    for (int s = 0; s < recurrent_state_count(c.kind); ++s)
      inputs.push_back(random_tensor({batch, units}, rng));
  expect_cuda_matches({n}, inputs, 2e-5, precision);
}

TEST(CudaLayout, RecurrentEveryKindAndFlag) {
  SKIP_WITHOUT_CUDA();
  for (RecurrentKind kind : {RecurrentKind::simple, RecurrentKind::lstm, RecurrentKind::gru}) {
    for (int variant = 0; variant < 8; ++variant) {
      RecurrentCase c;
      c.kind = kind;
      c.has_bias = variant != 1;
      c.go_backwards = variant == 2 || variant == 3 || variant == 6;
      c.return_sequences = variant >= 3;
      c.return_state = variant == 4 || variant == 6 || variant == 7;
      c.sequence_in_input_order = variant == 6;
      c.has_mask = variant >= 5;
      c.zero_output_for_mask = variant == 7;
      c.has_initial_state = variant == 4 || variant == 7;
      expect_recurrent_matches(c, 3, 7, 5, 6);
      if (kind == RecurrentKind::gru) {
        c.reset_after = false;
        expect_recurrent_matches(c, 3, 7, 5, 6);
      }
    }
  }
}

TEST(CudaLayout, RecurrentActivationsAndSizes) {
  SKIP_WITHOUT_CUDA();
  // Keras 2's defaults (hard_sigmoid recurrent activation) and other activations.
  for (auto [act, ract] : std::vector<std::pair<ActivationKind, ActivationKind>>{
           {ActivationKind::tanh, ActivationKind::hard_sigmoid_keras2},
           {ActivationKind::relu, ActivationKind::hard_sigmoid},
           {ActivationKind::linear, ActivationKind::sigmoid},
           {ActivationKind::elu, ActivationKind::softsign},
           {ActivationKind::gelu, ActivationKind::silu}}) {
    for (RecurrentKind kind : {RecurrentKind::simple, RecurrentKind::lstm, RecurrentKind::gru}) {
      RecurrentCase c;
      c.kind = kind;
      c.act = act;
      c.ract = ract;
      c.return_sequences = true;
      expect_recurrent_matches(c, 2, 5, 4, 3);
    }
  }
  // Batches beyond one row tile of the matmul kernel, more units than features and back.
  for (RecurrentKind kind : {RecurrentKind::simple, RecurrentKind::lstm, RecurrentKind::gru}) {
    RecurrentCase c;
    c.kind = kind;
    c.return_sequences = true;
    c.return_state = true;
    c.has_mask = true;
    expect_recurrent_matches(c, 19, 12, 3, 33);
    expect_recurrent_matches(c, 9, 4, 40, 7);
  }
}

TEST(CudaLayout, RecurrentReducedPrecision) {
  SKIP_WITHOUT_CUDA();
  for (RecurrentKind kind : {RecurrentKind::simple, RecurrentKind::lstm, RecurrentKind::gru}) {
    RecurrentCase c;
    c.kind = kind;
    c.return_sequences = true;
    c.return_state = true;
    c.has_mask = true;
    c.has_initial_state = true;
    for (Precision prec : kReduced) expect_recurrent_matches(c, 3, 6, 5, 8, prec);
  }
}

}  // namespace
}  // namespace krt
