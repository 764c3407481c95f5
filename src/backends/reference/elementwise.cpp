// Element-wise ops and the activations that work along axes (softmax, log_softmax, sparsemax,
// glu). Float arithmetic follows the order Keras's numpy backend uses where it matters.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "backends/reference/kernels.h"

namespace krt::reference {

void run_activation(const Node& node, const Tensor& x, Tensor& y) {
  const Activation& act = node.get<ActivationParams>().activation;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t i = 0; i < x.size(); ++i) yp[i] = apply_activation(act, xp[i]);
}

namespace {

// Splits a tensor's elements into groups that share all coordinates outside `axes`: the base
// offset of each group, and the offsets (relative to a base) of the elements inside a group.
struct AxisGroups {
  std::vector<int64_t> bases;
  std::vector<int64_t> members;
};

AxisGroups group_by_axes(const Shape& shape, const std::vector<int64_t>& axes) {
  const auto strides = strides_of(shape);
  Shape kept_shape, red_shape;
  std::vector<int64_t> kept_strides, red_strides;
  for (size_t a = 0; a < shape.size(); ++a) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(a)) != axes.end();
    (reduced ? red_shape : kept_shape).push_back(shape[a]);
    (reduced ? red_strides : kept_strides).push_back(strides[a]);
  }
  auto offsets = [](const Shape& s, const std::vector<int64_t>& st) {
    std::vector<int64_t> out, coords;
    const int64_t n = s.empty() ? 1 : shape_elements(s);
    for (int64_t i = 0; i < n; ++i) {
      unravel(i, s, coords);
      out.push_back(std::inner_product(coords.begin(), coords.end(), st.begin(), int64_t{0}));
    }
    return out;
  };
  return {offsets(kept_shape, kept_strides), offsets(red_shape, red_strides)};
}

void softmax_group(const float* x, float* y, const std::vector<int64_t>& m, bool log) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t o : m) mx = std::max(mx, x[o]);
  double sum = 0.0;
  for (int64_t o : m) sum += std::exp(static_cast<double>(x[o]) - mx);
  if (log) {
    const double lse = std::log(sum);
    for (int64_t o : m) y[o] = static_cast<float>(static_cast<double>(x[o]) - mx - lse);
  } else {
    for (int64_t o : m) y[o] = static_cast<float>(std::exp(static_cast<double>(x[o]) - mx) / sum);
  }
}

// Keras 3.15's sparsemax, reproduced as written (keras/src/backend/*/nn.py): sort descending,
// support_j = z_j - (cumsum_j - 1)/j > 0, k = |support|, but tau = (sum of cumsum_j over the
// support - 1) / k. That sums the cumulative sums instead of taking cumsum_k, so Keras's
// numbers differ from the paper's sparsemax (often all zeros); we match Keras's numbers.
void sparsemax_group(const float* x, float* y, const std::vector<int64_t>& m) {
  std::vector<float> z;
  for (int64_t o : m) z.push_back(x[o]);
  std::sort(z.begin(), z.end(), std::greater<float>());
  float cumsum = 0.f, support_cumsum_sum = 0.f;
  int64_t k = 0;
  for (size_t j = 0; j < z.size(); ++j) {
    cumsum += z[j];
    if (z[j] - (cumsum - 1.f) / static_cast<float>(j + 1) > 0.f) {
      ++k;
      support_cumsum_sum += cumsum;
    }
  }
  const float tau = (support_cumsum_sum - 1.f) / static_cast<float>(k);
  for (int64_t o : m) y[o] = std::max(x[o] - tau, 0.f);
}

// glu along `axis`: y = a * sigmoid(b), a the first half of the axis and b the second.
void run_glu(const Tensor& x, Tensor& y, int64_t axis) {
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t a = 0; a < axis; ++a) outer *= s[a];
  for (size_t a = axis + 1; a < s.size(); ++a) inner *= s[a];
  const int64_t half = s[axis] / 2;
  const Activation sigmoid{ActivationKind::sigmoid};
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t h = 0; h < half * inner; ++h) {
      const float a = xp[o * 2 * half * inner + h];
      const float b = xp[o * 2 * half * inner + half * inner + h];
      yp[o * half * inner + h] = a * apply_activation(sigmoid, b);
    }
}

}  // namespace

void run_axis_activation(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<AxisActivationParams>();
  if (p.kind == AxisActivationKind::glu) return run_glu(x, y, p.axes[0]);
  const AxisGroups g = group_by_axes(x.shape(), p.axes);
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t base : g.bases) {
    if (p.kind == AxisActivationKind::sparsemax)
      sparsemax_group(xp + base, yp + base, g.members);
    else
      softmax_group(xp + base, yp + base, g.members, p.kind == AxisActivationKind::log_softmax);
  }
}

// alpha is shaped like one sample, with 1 on shared axes: broadcast it per coordinate.
void run_prelu(const Node& node, const Tensor& x, Tensor& y) {
  const Tensor& alpha = node.weights[0];
  const Shape sample(x.shape().begin() + 1, x.shape().end());
  const auto astrides = strides_of(alpha.shape());
  const int64_t per_sample = shape_elements(sample);
  const float* xp = x.data_as<float>();
  const float* ap = alpha.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < per_sample; ++i) {
    unravel(i, sample, c);
    int64_t ai = 0;
    for (size_t a = 0; a < c.size(); ++a) ai += (alpha.shape()[a] == 1 ? 0 : c[a]) * astrides[a];
    for (int64_t n = 0; n < x.dim(0); ++n) {
      const float v = xp[n * per_sample + i];
      yp[n * per_sample + i] = v > 0.f ? v : ap[ai] * v;
    }
  }
}

void run_scale_shift(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<ScaleShiftParams>();
  const std::vector<int64_t> axes = p.axes.empty() ? std::vector<int64_t>{p.axis} : p.axes;
  // Channel index = row-major position over the channel axes; a 1-element weight broadcasts.
  const auto xstrides = strides_of(x.shape());
  const float* scale = node.weights[0].data_as<float>();
  const float* shift = node.weights[1].data_as<float>();
  const bool scalar_scale = node.weights[0].size() == 1, scalar_shift = node.weights[1].size() == 1;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t c = 0;
    for (int64_t a : axes)
      c = c * x.dim(static_cast<int>(a)) + (i / xstrides[a]) % x.dim(static_cast<int>(a));
    yp[i] = xp[i] * scale[scalar_scale ? 0 : c] + shift[scalar_shift ? 0 : c];
  }
}

// n-ary with numpy broadcasting; folds left in input order as Keras's merge layers do.
void run_elementwise(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto kind = node.get<ElementwiseParams>().kind;
  const Shape& out = y.shape();
  const size_t rank = out.size();
  // Per input: the stride of each output axis (0 where the input broadcasts).
  std::vector<std::vector<int64_t>> bstrides;
  for (const Tensor& t : inputs) {
    const auto st = strides_of(t.shape());
    std::vector<int64_t> b(rank, 0);
    const size_t lead = rank - t.shape().size();
    for (size_t a = 0; a < t.shape().size(); ++a) b[lead + a] = t.shape()[a] == 1 ? 0 : st[a];
    bstrides.push_back(std::move(b));
  }
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, out, c);
    auto value = [&](size_t k) {
      const int64_t off = std::inner_product(c.begin(), c.end(), bstrides[k].begin(), int64_t{0});
      return inputs[k].data_as<float>()[off];
    };
    float acc = value(0);
    for (size_t k = 1; k < inputs.size(); ++k) {
      const float v = value(k);
      switch (kind) {
        case ElementwiseKind::add:
        case ElementwiseKind::average:
          acc += v;
          break;
        case ElementwiseKind::subtract:
          acc -= v;
          break;
        case ElementwiseKind::multiply:
          acc *= v;
          break;
        case ElementwiseKind::maximum:
          acc = std::max(acc, v);
          break;
        case ElementwiseKind::minimum:
          acc = std::min(acc, v);
          break;
      }
    }
    if (kind == ElementwiseKind::average) acc /= static_cast<float>(inputs.size());
    yp[i] = acc;
  }
}

}  // namespace krt::reference
