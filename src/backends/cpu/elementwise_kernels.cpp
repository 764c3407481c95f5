#include "backends/cpu/elementwise_kernels.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "backends/cpu/parallel.h"

#include "ops/activation.h"

namespace krt::cpu {

bool is_plain_relu(const Activation& act) {
  return act.kind == ActivationKind::relu && act.max_value < 0.f && act.threshold == 0.f &&
         act.negative_slope == 0.f;
}

void activate(const Activation& act, const float* x, float* y, int64_t n) {
  switch (act.kind) {
    case ActivationKind::linear:
      if (x != y) std::copy(x, x + n, y);
      return;
    case ActivationKind::relu: {
      // ops/activation.cpp's relu, inlined so the loop needs no call per element.
      const float cap = act.max_value, threshold = act.threshold, slope = act.negative_slope;
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        y[i] = cap >= 0.f && v >= cap ? cap : v > threshold ? v : slope * (v - threshold);
      }
      return;
    }
    default:
      break;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = apply_activation(act, x[i]);
}

namespace {

// y = x * scale[c] + shift[c] along one axis: rows of `inner` contiguous elements per channel.
// Channels last (inner 1: Rescaling and BatchNormalization over an image) is one flat array
// whose scale and shift repeat with the channels: it runs in pieces of a whole number of
// periods of at least 256 elements, so the loop vectorizes even for 3 channels. Threads share
// the pieces (or the rows).
void scale_shift_one_axis(const Node& node, const Tensor& x, Tensor& y, int64_t axis) {
  const bool scalar_scale = node.weights[0].size() == 1, scalar_shift = node.weights[1].size() == 1;
  const int64_t channels = x.dim(static_cast<int>(axis));
  int64_t inner = 1;
  for (int a = static_cast<int>(axis) + 1; a < x.rank(); ++a) inner *= x.dim(a);
  if (channels * inner == 0) return;
  // Rows: one period of the pattern (channels last) or one block of a channel's `inner` values.
  const int64_t row = inner == 1 ? channels * std::max<int64_t>(1, 256 / channels) : inner;
  const int64_t pattern = inner == 1 ? row : channels;
  const float* scale_w = node.weights[0].data_as<float>();
  const float* shift_w = node.weights[1].data_as<float>();
  std::vector<float> scale(static_cast<size_t>(pattern)), shift(scale.size());
  for (int64_t i = 0; i < pattern; ++i) {
    scale[i] = scale_w[scalar_scale ? 0 : i % channels];
    shift[i] = shift_w[scalar_shift ? 0 : i % channels];
  }
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  const float* sc = scale.data();
  const float* sh = shift.data();
  const int64_t total = x.size(), rows = (total + row - 1) / row;
  parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t n = std::min(row, total - r * row);
          const float* xr = xp + r * row;
          float* yr = yp + r * row;
          if (inner == 1) {
            for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * sc[i] + sh[i];
          } else {
            const float s = sc[r % channels], t = sh[r % channels];
            for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * s + t;
          }
        }
      },
      std::max<int64_t>(1, (int64_t{1} << 14) / row));
}

}  // namespace

bool run_elementwise_fast(const Node& node, const Tensor& x, Tensor& y) {
  if (x.dtype() != DType::f32 || x.size() != y.size()) return false;
  if (node.kind == OpKind::activation) {
    activate(node.get<ActivationParams>().activation, x.data_as<float>(), y.data_as<float>(),
             x.size());
    return true;
  }
  if (node.kind == OpKind::scale_shift) {
    const auto& p = node.get<ScaleShiftParams>();
    if (p.axes.size() > 1 || p.axis < 0 || p.axis >= x.rank()) return false;
    scale_shift_one_axis(node, x, y, p.axis);
    return true;
  }
  return false;
}

namespace {

// A merge seen as `outer` rows of `inner` output elements, where each input is either
// contiguous along the row (it has the output's trailing dims) or one value per row (it
// broadcasts over them): (N,H,W,C) + (C) or (N,1,1,C) are rows of C, (N,H,W,C) * (N,1,1,1)
// rows of H*W*C. Each input's row starts at the sum of the row's outer coordinates times its
// strides (0 on the axes it broadcasts).
struct MergePlan {
  Shape outer_dims;
  int64_t inner = 1;
  std::vector<std::vector<int64_t>> strides;  // per input, per outer axis
  std::vector<bool> scalar;                   // per input: one value per row
};

std::optional<MergePlan> plan_merge(std::span<const Tensor> inputs, const Shape& out) {
  const int rank = static_cast<int>(out.size());
  auto dim_of = [&](size_t k, int a) -> int64_t {
    const int lead = rank - inputs[k].rank();
    return a < lead ? 1 : inputs[k].dim(a - lead);
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].rank() > rank) return std::nullopt;
    for (int a = 0; a < rank; ++a)
      if (dim_of(k, a) != out[a] && dim_of(k, a) != 1) return std::nullopt;
  }
  // The run: the longest trailing axes over which each input keeps one mode (0 unset,
  // 1 contiguous, 2 broadcast); axes of size 1 fit either.
  std::vector<int> mode(inputs.size(), 0);
  int start = rank;
  for (; start > 0; --start) {
    const int a = start - 1;
    if (out[a] == 1) continue;
    std::vector<int> next = mode;
    bool fits = true;
    for (size_t k = 0; k < inputs.size() && fits; ++k) {
      const int m = dim_of(k, a) == out[a] ? 1 : 2;
      fits = next[k] == 0 || next[k] == m;
      next[k] = m;
    }
    if (!fits) break;
    mode = std::move(next);
  }
  MergePlan plan;
  plan.outer_dims.assign(out.begin(), out.begin() + start);
  for (int a = start; a < rank; ++a) plan.inner *= out[a];
  for (size_t k = 0; k < inputs.size(); ++k) {
    plan.scalar.push_back(mode[k] == 2);
    const int lead = rank - inputs[k].rank();
    std::vector<int64_t> st(start, 0);
    int64_t s = 1;
    for (int a = rank - 1; a >= lead; --a) {
      if (a < start && dim_of(k, a) != 1) st[a] = s;
      s *= dim_of(k, a);
    }
    plan.strides.push_back(std::move(st));
  }
  return plan;
}

// out[i] = a[i] (op) b[i], where a scalar operand is read at [0] for every i: the reference's
// fold, one input at a time, so every element sees the same float operations in the same
// order. The first fold reads input 0 directly (no copy pass); later ones have out as a.
template <bool kScalarA, bool kScalarB, typename Op>
void combine(float* out, const float* a, const float* b, int64_t n, Op op) {
  for (int64_t i = 0; i < n; ++i) out[i] = op(a[kScalarA ? 0 : i], b[kScalarB ? 0 : i]);
}

template <typename Op>
void combine(float* out, const float* a, bool scalar_a, const float* b, bool scalar_b, int64_t n,
             Op op) {
  if (scalar_a && scalar_b) return combine<true, true>(out, a, b, n, op);
  if (scalar_a) return combine<true, false>(out, a, b, n, op);
  if (scalar_b) return combine<false, true>(out, a, b, n, op);
  combine<false, false>(out, a, b, n, op);
}

void combine(ElementwiseKind kind, float* out, const float* a, bool scalar_a, const float* b,
             bool scalar_b, int64_t n) {
  switch (kind) {
    case ElementwiseKind::add:
    case ElementwiseKind::average:
      return combine(out, a, scalar_a, b, scalar_b, n, [](float x, float y) { return x + y; });
    case ElementwiseKind::subtract:
      return combine(out, a, scalar_a, b, scalar_b, n, [](float x, float y) { return x - y; });
    case ElementwiseKind::multiply:
      return combine(out, a, scalar_a, b, scalar_b, n, [](float x, float y) { return x * y; });
    case ElementwiseKind::maximum:
      return combine(out, a, scalar_a, b, scalar_b, n,
                     [](float x, float y) { return std::max(x, y); });
    case ElementwiseKind::minimum:
      return combine(out, a, scalar_a, b, scalar_b, n,
                     [](float x, float y) { return std::min(x, y); });
  }
}

// Rows are cut into pieces of this many elements, so one long row (same-shaped inputs, batch 1)
// still spreads over the threads; a piece is 64 KiB of output.
constexpr int64_t kPiece = 16 * 1024;

}  // namespace

bool run_merge(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  if (node.kind != OpKind::elementwise || inputs.empty() || y.dtype() != DType::f32) return false;
  for (const Tensor& t : inputs)
    if (t.dtype() != DType::f32) return false;
  const std::optional<MergePlan> plan = plan_merge(inputs, y.shape());
  if (!plan) return false;
  if (y.size() == 0) return true;
  const auto kind = node.get<ElementwiseParams>().kind;
  const int64_t inner = plan->inner, rows = y.size() / inner;
  const int64_t pieces = (inner + kPiece - 1) / kPiece;
  const int outer_rank = static_cast<int>(plan->outer_dims.size());
  float* yp = y.data_as<float>();
  parallel_for(
      rows * pieces,
      [&](int64_t begin, int64_t end) {
        std::vector<const float*> row(inputs.size());  // once per thread
        for (int64_t item = begin; item < end; ++item) {
          const int64_t r = item / pieces, i0 = (item % pieces) * kPiece;
          const int64_t n = std::min(kPiece, inner - i0);
          for (size_t k = 0; k < inputs.size(); ++k) {
            int64_t off = 0, rest = r;
            for (int a = outer_rank - 1; a >= 0; --a) {
              off += (rest % plan->outer_dims[a]) * plan->strides[k][a];
              rest /= plan->outer_dims[a];
            }
            row[k] = inputs[k].data_as<float>() + off + (plan->scalar[k] ? 0 : i0);
          }
          float* acc = yp + r * inner + i0;
          if (inputs.size() == 1) {
            if (plan->scalar[0])
              std::fill(acc, acc + n, row[0][0]);
            else
              std::copy(row[0], row[0] + n, acc);
          }
          for (size_t k = 1; k < inputs.size(); ++k) {
            const bool first = k == 1;
            combine(kind, acc, first ? row[0] : acc, first && plan->scalar[0], row[k],
                    plan->scalar[k], n);
          }
          if (kind == ElementwiseKind::average) {
            const float count = static_cast<float>(inputs.size());
            for (int64_t i = 0; i < n; ++i) acc[i] /= count;
          }
        }
      },
      std::max<int64_t>(1, kPiece / std::min(inner, kPiece)));
  return true;
}

bool run_merge_same_shape(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  for (const Tensor& t : inputs)
    if (t.shape() != y.shape()) return false;
  return run_merge(node, inputs, y);
}

}  // namespace krt::cpu
