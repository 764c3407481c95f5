// The CPU backend's own pooling, softmax, broadcasting-merge and concat kernels against the
// reference kernels: odd sizes (tails of the vector loops and channel blocks), every
// broadcasting pattern the row plan distinguishes, NaN and infinities, on 1, 2 and 3 threads.
// Each case also checks that our kernel ran (its function returned true) and what the profile
// will call it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "backend_cases.h"
#include "backends/cpu/concat_kernels.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/pad_crop_kernels.h"
#include "backends/cpu/pool_kernels.h"
#include "backends/cpu/softmax_kernels.h"
#include "backends/reference/reference_backend.h"
#include "ops/shape_inference.h"

namespace krt::cpu {
namespace {

using test::make_node;
using test::random_tensor;

// Sets the OpenMP thread count our kernels split over, and puts the default back after.
class Threads {
 public:
  explicit Threads(int n) { use_threads_on_this_thread(n); }
  ~Threads() { use_threads_on_this_thread(0); }
};

// Equal bits, or both NaN (max pooling and softmax propagate or skip NaN as the reference).
// `rel` > 0 allows that much relative error (plus as much absolute, for values near 0).
void expect_same(const Tensor& got, const Tensor& want, float rel, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.size(); ++i) {
    const float a = got.data_as<float>()[i], b = want.data_as<float>()[i];
    if (std::isnan(b)) {
      ASSERT_TRUE(std::isnan(a)) << what << " at element " << i << ": " << a << " for NaN";
    } else if (rel == 0.f || std::isinf(b)) {
      ASSERT_EQ(a, b) << what << " at element " << i << " of " << want.size();
    } else {
      ASSERT_NEAR(a, b, rel * (1.f + std::fabs(b))) << what << " at element " << i;
    }
  }
}

using FastFn = bool (*)(const Node&, std::span<const Tensor>, Tensor&);

// The reference's output against our kernel's (called directly, which must take the node) and
// the NodeRunner's (what the cpu device runs), on 1, 2 and 3 threads.
void expect_fast_matches(const Node& node, const std::vector<Tensor>& inputs, FastFn fast,
                         float rel, const std::string& what) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  const Shape out = infer_output_shapes(node, shapes)[0];
  Tensor want(DType::f32, out);
  reference::run_node(node, inputs, std::span<Tensor>(&want, 1));
  for (int threads : {1, 2, 3}) {
    Threads scope(threads);
    const std::string label = what + " on " + std::to_string(threads) + " threads";
    Tensor got(DType::f32, out);
    ASSERT_TRUE(fast(node, inputs, got)) << label;
    expect_same(got, want, rel, label);
    Tensor via_runner(DType::f32, out);
    NodeRunner(node, shapes[0], out).run(inputs, std::span<Tensor>(&via_runner, 1));
    expect_same(via_runner, want, rel, label + " (NodeRunner)");
  }
}

bool global_pool_fn(const Node& n, std::span<const Tensor> in, Tensor& y) {
  return in.size() == 1 && run_global_pool_fast(n, in[0], y);
}
bool pool_fn(const Node& n, std::span<const Tensor> in, Tensor& y) {
  return in.size() == 1 && run_pool_fast(n, in[0], y);
}
bool pad_crop_fn(const Node& n, std::span<const Tensor> in, Tensor& y) {
  return in.size() == 1 && run_pad_crop_fast(n, in[0], y);
}
bool softmax_fn(const Node& n, std::span<const Tensor> in, Tensor& y) {
  return in.size() == 1 && run_softmax_fast(n, in[0], y);
}

std::string name_of(const Shape& s) { return shape_to_string(s); }

TEST(CpuLayerKernels, GlobalPoolingIsIdenticalToTheReference) {
  std::mt19937 rng(11);
  for (PoolKind kind : {PoolKind::average, PoolKind::max}) {
    for (bool keepdims : {false, true}) {
      GlobalPoolParams p;
      p.kind = kind;
      p.keepdims = keepdims;
      const Node n = make_node(OpKind::global_pool, p);
      EXPECT_EQ(NodeRunner(n).kernel_name(), "cpu global_pool_nhwc_f32");
      for (const Shape& s : {Shape{1, 7, 7, 1024}, Shape{3, 5, 5, 13}, Shape{2, 9, 70},
                             Shape{2, 3, 4, 5, 67}, Shape{4, 1, 1, 129}})
        expect_fast_matches(n, {random_tensor(s, rng)}, global_pool_fn, 0.f, name_of(s));
    }
  }
  // NaN is skipped by the max (std::max keeps the running value) and poisons the average.
  Tensor x = random_tensor({2, 4, 4, 70}, rng);
  // NaN first and last in a channel's positions (a NaN-keeping max would differ at the last).
  x.data_as<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  x.data_as<float>()[70 * 15 + 6] = std::numeric_limits<float>::quiet_NaN();
  x.data_as<float>()[70 * 3 + 69] = std::numeric_limits<float>::infinity();
  for (PoolKind kind : {PoolKind::average, PoolKind::max}) {
    GlobalPoolParams p;
    p.kind = kind;
    expect_fast_matches(make_node(OpKind::global_pool, p), {x}, global_pool_fn, 0.f, "NaN");
  }
}

TEST(CpuLayerKernels, PoolingIsIdenticalToTheReference) {
  std::mt19937 rng(12);
  struct Case {
    std::vector<int64_t> pool, strides;
    Padding padding;
    Shape shape;
  };
  const std::vector<Case> cases = {
      {{2, 2}, {2, 2}, Padding::valid, {2, 9, 11, 5}},
      {{3, 3}, {2, 2}, Padding::same, {1, 8, 8, 70}},
      {{3, 3}, {1, 1}, Padding::same, {2, 7, 5, 3}},
      {{2, 3}, {1, 2}, Padding::valid, {3, 6, 9, 130}},
      {{3, 2}, {}, Padding::same, {1, 10, 7, 17}},  // strides default to the pool size
      {{3}, {2}, Padding::same, {2, 13, 6}},        // 1-D
      {{4}, {1}, Padding::valid, {1, 20, 65}},
      {{2, 2, 2}, {2, 2, 2}, Padding::valid, {2, 5, 6, 7, 3}},  // 3-D
      {{3, 2, 3}, {2, 1, 2}, Padding::same, {1, 7, 4, 9, 70}},
  };
  for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
    for (const Case& c : cases) {
      PoolParams p;
      p.kind = kind;
      p.pool_size = c.pool;
      p.strides = c.strides;
      p.padding = c.padding;
      const Node n = make_node(OpKind::pool, p);
      EXPECT_EQ(NodeRunner(n).kernel_name(), "cpu pool_nhwc_f32");
      expect_fast_matches(n, {random_tensor(c.shape, rng)}, pool_fn, 0.f, name_of(c.shape));
    }
  }
  Tensor x = random_tensor({1, 6, 6, 3}, rng);
  // NaN first (channel 0) and last (channel 1, at (1, 1)) in the first 2x2 window.
  x.data_as<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  x.data_as<float>()[(1 * 6 + 1) * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  x.data_as<float>()[4] = -std::numeric_limits<float>::infinity();
  for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
    PoolParams p;
    p.kind = kind;
    p.pool_size = {2, 2};
    p.padding = Padding::same;
    expect_fast_matches(make_node(OpKind::pool, p), {x}, pool_fn, 0.f, "NaN");
  }
  // A 2-D window on a tensor of another rank is left to the reference kernel.
  PoolParams two_d;
  two_d.pool_size = {2, 2};
  Tensor x3 = random_tensor({1, 4, 4, 4, 2}, rng), y3(DType::f32, {1, 2, 2, 4, 2});
  EXPECT_FALSE(run_pool_fast(make_node(OpKind::pool, two_d), x3, y3));
}

TEST(CpuLayerKernels, ExpIsWithinTwoUlpsOfTheLibrary) {
  for (float t = -87.f; t <= 0.f; t += 0.00390625f) {
    const float want = static_cast<float>(std::exp(static_cast<double>(t)));
    ASSERT_NEAR(exp_nonpositive(t), want, 2.4e-7f * want) << t;
  }
  EXPECT_EQ(exp_nonpositive(0.f), 1.f);
  EXPECT_EQ(exp_nonpositive(-100.f), 0.f);
  EXPECT_EQ(exp_nonpositive(-std::numeric_limits<float>::infinity()), 0.f);
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST(CpuLayerKernels, SoftmaxOverAdjacentAxesMatchesTheReference) {
  std::mt19937 rng(13);
  struct Case {
    Shape shape;
    std::vector<int64_t> axes;
  };
  // Trailing axes (contiguous rows), then axes before others (strided groups): the time axis
  // of (N, T, C), two middle axes, the batch axis, and enough groups to share threads.
  const std::vector<Case> cases = {
      {{2, 1000}, {1}},     {{3, 7, 13}, {2}},    {{5, 3}, {1}},         {{2, 3, 4, 5}, {3, 2}},
      {{1, 1}, {1}},        {{4, 37}, {0, 1}},    {{3, 7, 13}, {1}},     {{2, 3, 4, 5}, {2, 1}},
      {{6, 5}, {0}},        {{2, 50, 300}, {1}}};
  for (AxisActivationKind kind : {AxisActivationKind::softmax, AxisActivationKind::log_softmax}) {
    for (const Case& c : cases) {
      AxisActivationParams p;
      p.kind = kind;
      p.axes = c.axes;
      const Node n = make_node(OpKind::axis_activation, p);
      EXPECT_EQ(NodeRunner(n, c.shape, c.shape).kernel_name(), "cpu softmax_rows_f32");
      // Logits up to +-30 put exp over most of its range.
      expect_fast_matches(n, {random_tensor(c.shape, rng, -30.f, 30.f)}, softmax_fn, 1e-6f,
                          name_of(c.shape));
    }
  }
  // A NaN row stays NaN, -inf gives 0 (or -inf in log_softmax), +inf makes its row NaN, and a
  // row far below the others underflows to 0 where the reference gives at most ~1e-38.
  Tensor x = random_tensor({5, 19}, rng);
  float* xp = x.data_as<float>();
  xp[3] = std::numeric_limits<float>::quiet_NaN();
  xp[19 + 4] = -std::numeric_limits<float>::infinity();
  xp[38 + 18] = std::numeric_limits<float>::infinity();
  for (int i = 0; i < 19; ++i) xp[57 + i] = -std::numeric_limits<float>::infinity();
  xp[76] = 100.f;
  for (AxisActivationKind kind : {AxisActivationKind::softmax, AxisActivationKind::log_softmax}) {
    AxisActivationParams p;
    p.kind = kind;
    p.axes = {1};
    expect_fast_matches(make_node(OpKind::axis_activation, p), {x}, softmax_fn, 1e-6f, "inf/NaN");
  }
  // Axes that are not next to each other are left to the reference kernel.
  AxisActivationParams apart;
  apart.axes = {0, 2};
  Tensor x3 = random_tensor({2, 3, 4}, rng), y3(DType::f32, {2, 3, 4});
  EXPECT_FALSE(run_softmax_fast(make_node(OpKind::axis_activation, apart), x3, y3));
  EXPECT_EQ(
      NodeRunner(make_node(OpKind::axis_activation, apart), {2, 3, 4}, {2, 3, 4}).kernel_name(),
      "reference");
}

bool merge_fn(const Node& n, std::span<const Tensor> in, Tensor& y) { return run_merge(n, in, y); }

TEST(CpuLayerKernels, BroadcastingMergesAreIdenticalToTheReference) {
  std::mt19937 rng(14);
  const Shape full{2, 5, 6, 7};
  const std::vector<Shape> others = {{7},          {1, 1, 1, 7}, {2, 1, 1, 7}, {2, 5, 6, 1},
                                     {2, 1, 1, 1}, {1, 5, 1, 7}, {5, 6, 7},    {1},
                                     {2, 5, 1, 7}, {6, 1}};
  for (ElementwiseKind kind :
       {ElementwiseKind::add, ElementwiseKind::subtract, ElementwiseKind::multiply,
        ElementwiseKind::average, ElementwiseKind::maximum, ElementwiseKind::minimum}) {
    ElementwiseParams p;
    p.kind = kind;
    const Node n = make_node(OpKind::elementwise, p);
    EXPECT_EQ(NodeRunner(n).kernel_name(), "cpu merge_broadcast_f32");
    for (const Shape& other : others) {
      const std::string what = name_of(full) + " with " + name_of(other);
      Tensor a = random_tensor(full, rng), b = random_tensor(other, rng);
      expect_fast_matches(n, {a, b}, merge_fn, 0.f, what);
      expect_fast_matches(n, {b, a}, merge_fn, 0.f, what + ", broadcast first");
      if (kind != ElementwiseKind::subtract)
        expect_fast_matches(n, {a, b, random_tensor({1, 1, 6, 7}, rng)}, merge_fn, 0.f,
                            what + " and (1,1,6,7)");
    }
    // Both inputs broadcast into a shape neither has.
    expect_fast_matches(n, {random_tensor({3, 1, 4}, rng), random_tensor({1, 5, 1}, rng)}, merge_fn,
                        0.f, "(3,1,4) with (1,5,1)");
    // One long row (same shapes, batch 1) is cut into pieces across the threads.
    const Shape big{1, 50000};
    expect_fast_matches(n, {random_tensor(big, rng), random_tensor(big, rng)}, merge_fn, 0.f,
                        "same shape (1,50000)");
    expect_fast_matches(n, {random_tensor(big, rng), random_tensor({1, 1}, rng)}, merge_fn, 0.f,
                        "(1,50000) with (1,1)");
  }
}

bool concat_fn(const Node& n, std::span<const Tensor> in, Tensor& y) {
  return run_concat_fast(n, in, y);
}

TEST(CpuLayerKernels, ConcatIsIdenticalToTheReference) {
  std::mt19937 rng(15);
  for (int64_t axis = 0; axis < 4; ++axis) {
    std::vector<Tensor> inputs;
    for (int64_t k : {3, 1, 5}) {
      Shape s{2, 3, 5, 7};
      s[axis] = k;
      inputs.push_back(random_tensor(s, rng));
    }
    ConcatParams p;
    p.axis = axis;
    const Node n = make_node(OpKind::concat, p);
    EXPECT_EQ(NodeRunner(n).kernel_name(), "cpu concat_copy");
    expect_fast_matches(n, inputs, concat_fn, 0.f, "axis " + std::to_string(axis));
  }
  // Big enough that threads split rows and blocks at cache lines, not at block edges.
  for (int64_t axis : {0, 1, 2}) {
    ConcatParams p;
    p.axis = axis;
    Shape a{1, 301, 70}, b{1, 301, 70};
    b[axis] = axis == 0 ? 2 : 53;
    expect_fast_matches(make_node(OpKind::concat, p),
                        {random_tensor(a, rng), random_tensor(b, rng)}, concat_fn, 0.f,
                        "big, axis " + std::to_string(axis));
  }
}

// Pads and crops on every axis pattern the row plan distinguishes: the channel axis alone,
// spatial axes (rows of whole channels), the batch axis, several axes at once, none, and a
// pad wider than the input; a fill value other than zero; 1-D, 2-D and 3-D layouts.
TEST(CpuLayerKernels, PaddingAndCroppingAreIdenticalToTheReference) {
  std::mt19937 rng(16);
  struct Case {
    Shape shape;
    std::vector<int64_t> before, after;
  };
  const std::vector<Case> cases = {
      {{2, 5, 7, 3}, {0, 1, 2, 0}, {0, 1, 0, 0}},  // ZeroPadding2D, asymmetric
      {{2, 5, 7, 3}, {0, 0, 0, 2}, {0, 0, 0, 1}},  // channels only
      {{2, 5, 7, 3}, {1, 0, 0, 0}, {2, 0, 0, 0}},  // the batch axis
      {{2, 5, 7, 3}, {1, 2, 3, 1}, {1, 0, 2, 2}},  // every axis
      {{2, 5, 7, 3}, {0, 0, 0, 0}, {0, 0, 0, 0}},  // nothing
      {{3, 9, 4}, {0, 12, 0}, {0, 5, 0}},          // 1-D, wider than the input
      {{1, 3, 4, 5, 2}, {0, 1, 0, 2, 0}, {0, 2, 1, 0, 0}},  // 3-D
      {{1, 64, 64, 32}, {0, 3, 3, 0}, {0, 3, 3, 0}},        // big enough to share threads
  };
  for (const Case& c : cases) {
    const Tensor x = random_tensor(c.shape, rng);
    for (float value : {0.f, -1.5f}) {
      PadParams p;
      p.before = c.before;
      p.after = c.after;
      p.value = value;
      const Node n = make_node(OpKind::pad, p);
      EXPECT_EQ(NodeRunner(n).kernel_name(), "cpu pad_crop_rows");
      expect_fast_matches(n, {x}, pad_crop_fn, 0.f,
                          "pad " + name_of(c.shape) + " value " + std::to_string(value));
    }
    // The same amounts cropped from the padded shape give the input back; cropping the input
    // itself by what fits covers crops on each pattern too.
    Shape padded = c.shape;
    for (size_t a = 0; a < padded.size(); ++a) padded[a] += c.before[a] + c.after[a];
    SliceParams s;
    s.crop_before = c.before;
    s.crop_after = c.after;
    expect_fast_matches(make_node(OpKind::slice, s), {random_tensor(padded, rng)}, pad_crop_fn,
                        0.f, "crop " + name_of(padded));
    for (size_t a = 0; a < c.shape.size(); ++a) {
      s.crop_before[a] = std::min<int64_t>(c.before[a], (c.shape[a] - 1) / 2);
      s.crop_after[a] = std::min<int64_t>(c.after[a], (c.shape[a] - 1) / 2);
    }
    expect_fast_matches(make_node(OpKind::slice, s), {x}, pad_crop_fn, 0.f,
                        "crop " + name_of(c.shape));
  }
  // Other dtypes are left to the reference kernel.
  PadParams p;
  p.before = {0, 1};
  p.after = {0, 1};
  Tensor xi(DType::i32, {2, 3}), yi(DType::i32, {2, 5});
  EXPECT_FALSE(run_pad_crop_fast(make_node(OpKind::pad, p), xi, yi));
}

}  // namespace
}  // namespace krt::cpu
