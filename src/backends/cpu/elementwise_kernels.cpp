#include "backends/cpu/elementwise_kernels.h"

#include <algorithm>

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
void scale_shift_one_axis(const Node& node, const Tensor& x, Tensor& y, int64_t axis) {
  const float* scale = node.weights[0].data_as<float>();
  const float* shift = node.weights[1].data_as<float>();
  const bool scalar_scale = node.weights[0].size() == 1, scalar_shift = node.weights[1].size() == 1;
  const int64_t channels = x.dim(static_cast<int>(axis));
  int64_t inner = 1;
  for (int a = static_cast<int>(axis) + 1; a < x.rank(); ++a) inner *= x.dim(a);
  const int64_t outer = x.size() / (channels * inner);
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const float s = scale[scalar_scale ? 0 : c], t = shift[scalar_shift ? 0 : c];
      const int64_t base = (o * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) yp[base + i] = xp[base + i] * s + t;
    }
  }
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

bool run_merge_same_shape(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  if (node.kind != OpKind::elementwise || inputs.empty()) return false;
  for (const Tensor& t : inputs)
    if (t.dtype() != DType::f32 || t.shape() != y.shape()) return false;
  const auto kind = node.get<ElementwiseParams>().kind;
  const int64_t n = y.size();
  float* acc = y.data_as<float>();
  std::copy(inputs[0].data_as<float>(), inputs[0].data_as<float>() + n, acc);
  for (size_t k = 1; k < inputs.size(); ++k) {
    const float* v = inputs[k].data_as<float>();
    switch (kind) {
      case ElementwiseKind::add:
      case ElementwiseKind::average:
        for (int64_t i = 0; i < n; ++i) acc[i] += v[i];
        break;
      case ElementwiseKind::subtract:
        for (int64_t i = 0; i < n; ++i) acc[i] -= v[i];
        break;
      case ElementwiseKind::multiply:
        for (int64_t i = 0; i < n; ++i) acc[i] *= v[i];
        break;
      case ElementwiseKind::maximum:
        for (int64_t i = 0; i < n; ++i) acc[i] = std::max(acc[i], v[i]);
        break;
      case ElementwiseKind::minimum:
        for (int64_t i = 0; i < n; ++i) acc[i] = std::min(acc[i], v[i]);
        break;
    }
  }
  if (kind == ElementwiseKind::average) {
    const float count = static_cast<float>(inputs.size());
    for (int64_t i = 0; i < n; ++i) acc[i] /= count;
  }
  return true;
}

}  // namespace krt::cpu
