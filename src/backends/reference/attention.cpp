// Reference kernels behind Dot, EinsumDense and the attention layers: a general einsum,
// a masked softmax, L2 normalization and additive (Bahdanau) scores. Sums run in double so
// the oracle is at least as accurate as Keras's float32 arithmetic.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "backends/reference/kernels.h"

namespace krt::reference {

namespace {

// Offsets (row-major) of every element of `shape` whose coordinates differ only on `axes`,
// relative to the group's first element, and the first element of every group.
struct Groups {
  std::vector<int64_t> bases;
  std::vector<int64_t> members;
};

Groups groups_over(const Shape& shape, const std::vector<int64_t>& axes) {
  const auto strides = strides_of(shape);
  Shape kept, reduced;
  std::vector<int64_t> kept_strides, reduced_strides;
  for (size_t a = 0; a < shape.size(); ++a) {
    const bool r = std::find(axes.begin(), axes.end(), static_cast<int64_t>(a)) != axes.end();
    (r ? reduced : kept).push_back(shape[a]);
    (r ? reduced_strides : kept_strides).push_back(strides[a]);
  }
  auto offsets = [](const Shape& s, const std::vector<int64_t>& st) {
    std::vector<int64_t> out, coords;
    const int64_t n = shape_elements(s);
    for (int64_t i = 0; i < n; ++i) {
      unravel(i, s, coords);
      int64_t o = 0;
      for (size_t k = 0; k < coords.size(); ++k) o += coords[k] * st[k];
      out.push_back(o);
    }
    return out;
  };
  return {offsets(kept, kept_strides), offsets(reduced, reduced_strides)};
}

}  // namespace

void run_einsum(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto& p = node.get<EinsumParams>();
  std::vector<const Tensor*> ops;
  for (const Tensor& t : inputs) ops.push_back(&t);
  if (p.operands.size() == inputs.size() + 1) ops.push_back(&node.weights[0]);

  // Every label's size (a size-1 axis broadcasts), output labels first, then summed ones.
  std::map<char, int64_t> size;
  std::string summed;
  for (size_t i = 0; i < ops.size(); ++i)
    for (size_t j = 0; j < p.operands[i].size(); ++j) {
      const char c = p.operands[i][j];
      size[c] = std::max(size[c], ops[i]->shape()[j]);
      if (p.output.find(c) == std::string::npos && summed.find(c) == std::string::npos) summed += c;
    }
  // Per operand, the element stride of each label (summed over repeats, 0 where broadcast).
  auto label_strides = [&](const std::string& labels) {
    std::vector<std::vector<int64_t>> st(ops.size(), std::vector<int64_t>(labels.size(), 0));
    for (size_t i = 0; i < ops.size(); ++i) {
      const auto s = strides_of(ops[i]->shape());
      for (size_t j = 0; j < p.operands[i].size(); ++j) {
        const size_t at = labels.find(p.operands[i][j]);
        if (at != std::string::npos && ops[i]->shape()[j] != 1) st[i][at] += s[j];
      }
    }
    return st;
  };
  const auto out_st = label_strides(p.output);
  const auto sum_st = label_strides(summed);
  Shape sum_shape;
  for (char c : summed) sum_shape.push_back(size[c]);
  const int64_t sum_count = shape_elements(sum_shape);
  std::vector<int64_t> sum_offsets(ops.size() * sum_count, 0), coords;
  for (int64_t s = 0; s < sum_count; ++s) {
    unravel(s, sum_shape, coords);
    for (size_t i = 0; i < ops.size(); ++i)
      for (size_t k = 0; k < coords.size(); ++k)
        sum_offsets[s * ops.size() + i] += coords[k] * sum_st[i][k];
  }

  const Tensor* bias = p.has_bias ? &node.weights.back() : nullptr;
  const Shape& out_shape = y.shape();
  std::vector<int64_t> bias_st;
  if (bias) {
    const auto bs = strides_of(bias->shape());
    bias_st.assign(out_shape.size(), 0);
    const size_t lead = out_shape.size() - bias->shape().size();
    for (size_t k = 0; k < bias->shape().size(); ++k)
      if (bias->shape()[k] != 1) bias_st[lead + k] = bs[k];
  }
  std::vector<const float*> data;
  for (const Tensor* t : ops) data.push_back(t->data_as<float>());
  float* yp = y.data_as<float>();
  std::vector<int64_t> base(ops.size());
  for (int64_t o = 0; o < y.size(); ++o) {
    unravel(o, out_shape, coords);
    for (size_t i = 0; i < ops.size(); ++i) {
      base[i] = 0;
      for (size_t k = 0; k < coords.size(); ++k) base[i] += coords[k] * out_st[i][k];
    }
    double acc = 0.0;
    for (int64_t s = 0; s < sum_count; ++s) {
      double prod = 1.0;
      for (size_t i = 0; i < ops.size(); ++i)
        prod *= data[i][base[i] + sum_offsets[s * ops.size() + i]];
      acc += prod;
    }
    float v = static_cast<float>(acc) * p.scale;
    if (bias) {
      int64_t b = 0;
      for (size_t k = 0; k < coords.size(); ++k) b += coords[k] * bias_st[k];
      v += bias->data_as<float>()[b];
    }
    yp[o] = v;
  }
  apply_activation_inplace(p.activation, y);
}

void run_masked_softmax(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto& p = node.get<MaskedSoftmaxParams>();
  const Tensor& x = inputs[0];
  const Tensor* mask = inputs.size() > 1 ? &inputs[1] : nullptr;
  const Shape& shape = x.shape();
  const size_t rank = shape.size();
  std::vector<int64_t> mask_st;
  if (mask) {
    const auto ms = strides_of(mask->shape());
    mask_st.assign(rank, 0);
    for (size_t k = 0; k < rank; ++k)
      if (mask->shape()[k] != 1) mask_st[k] = ms[k];
  }
  // keep[i]: whether element i takes part; z: the scores with masked entries filled.
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<uint8_t> keep(x.size(), 1);
  std::vector<int64_t> coords;
  for (int64_t i = 0; i < x.size(); ++i) {
    if (!mask && !p.causal) break;
    unravel(i, shape, coords);
    bool k = true;
    if (mask) {
      int64_t m = 0;
      for (size_t a = 0; a < rank; ++a) m += coords[a] * mask_st[a];
      k = mask->data_as<float>()[m] != 0.f;
    }
    if (p.causal && coords[rank - 1] > coords[rank - 2]) k = false;
    keep[i] = k;
  }
  constexpr float kAddNegative = -1e9f;
  constexpr float kReplaceNegative = -0.7f * 3.38953e38f;
  std::vector<float> z(x.size());
  for (int64_t i = 0; i < x.size(); ++i) {
    if (keep[i])
      z[i] = xp[i];
    else
      z[i] = p.fill == MaskFill::add_large_negative ? xp[i] + kAddNegative : kReplaceNegative;
  }
  const Groups g = groups_over(shape, p.axes);
  for (int64_t b : g.bases) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t o : g.members) mx = std::max(mx, z[b + o]);
    double sum = 0.0;
    for (int64_t o : g.members) sum += std::exp(static_cast<double>(z[b + o]) - mx);
    for (int64_t o : g.members) {
      const int64_t i = b + o;
      const float v = static_cast<float>(std::exp(static_cast<double>(z[i]) - mx) / sum);
      yp[i] = p.zero_masked && !keep[i] ? 0.f : v;
    }
  }
}

void run_l2_normalize(const Node& node, const Tensor& x, Tensor& y) {
  const Groups g = groups_over(x.shape(), node.get<L2NormalizeParams>().axes);
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t b : g.bases) {
    double sq = 0.0;
    for (int64_t o : g.members) sq += static_cast<double>(xp[b + o]) * xp[b + o];
    const double norm = sq == 0.0 ? 1.0 : std::sqrt(sq);
    for (int64_t o : g.members) yp[b + o] = static_cast<float>(xp[b + o] / norm);
  }
}

void run_additive_score(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto& p = node.get<AdditiveScoreParams>();
  const Tensor& q = inputs[0];
  const Tensor& k = inputs[1];
  const size_t r = q.shape().size();
  const int64_t tq = q.shape()[r - 2], tv = k.shape()[r - 2], d = q.shape()[r - 1];
  const int64_t batch = q.size() / std::max<int64_t>(tq * d, 1);
  const float* w = p.has_weight ? node.weights[0].data_as<float>() : nullptr;
  const float* qp = q.data_as<float>();
  const float* kp = k.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < tq; ++i)
      for (int64_t j = 0; j < tv; ++j) {
        const float* qi = qp + (b * tq + i) * d;
        const float* kj = kp + (b * tv + j) * d;
        double acc = 0.0;
        for (int64_t c = 0; c < d; ++c) {
          const float t = std::tanh(p.inner_scale * (qi[c] + kj[c]));
          acc += w ? static_cast<double>(w[c]) * t : t;
        }
        yp[(b * tq + i) * tv + j] = p.outer_scale * static_cast<float>(acc);
      }
}

}  // namespace krt::reference
