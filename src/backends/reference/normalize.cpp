// normalize: statistics over some axes (and over channel groups), then scale/shift.
// Statistics are accumulated in double: the reference should be the most accurate party,
// Keras's float32 sums then sit within the fixtures' tolerances.
#include <algorithm>
#include <cmath>

#include "backends/reference/kernels.h"

namespace krt::reference {

namespace {

// Walks the elements of `shape` in row-major order, keeping the flat offsets of the
// statistics slot and of each broadcast weight up to date.
struct Odometer {
  Shape shape;
  std::vector<int64_t> coords;
  std::vector<std::vector<int64_t>> strides;  // per tracked offset, per axis (0 = broadcast)
  std::vector<int64_t> offsets;

  Odometer(Shape s, std::vector<std::vector<int64_t>> st)
      : shape(std::move(s)),
        coords(shape.size(), 0),
        strides(std::move(st)),
        offsets(strides.size(), 0) {}

  void next() {
    for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
      for (size_t k = 0; k < strides.size(); ++k) offsets[k] += strides[k][a];
      if (++coords[a] < shape[a]) return;
      for (size_t k = 0; k < strides.size(); ++k) offsets[k] -= strides[k][a] * shape[a];
      coords[a] = 0;
    }
  }
};

std::vector<int64_t> broadcast_strides(const Shape& w) {
  std::vector<int64_t> s = strides_of(w);
  for (size_t a = 0; a < w.size(); ++a)
    if (w[a] == 1) s[a] = 0;
  return s;
}

}  // namespace

void run_normalize(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<NormalizeParams>();
  const Shape& shape = x.shape();
  const size_t rank = shape.size();
  if (x.size() == 0) return;

  // Statistics slots: one per kept coordinate, one per group on the grouped axis, and a
  // single one along reduced axes. The grouped axis's slot is coord / group_size, which a
  // plain stride cannot express, so it is handled by expanding that axis into (groups, size).
  Shape walk;        // the input shape with the grouped axis split in two
  Shape stat_shape;  // same rank as `walk`, 1 on reduced axes
  for (size_t a = 0; a < rank; ++a) {
    bool reduced = false;
    for (int64_t r : p.axes) reduced = reduced || r == static_cast<int64_t>(a);
    if (static_cast<int64_t>(a) == p.group_axis) {
      walk.push_back(p.groups);
      walk.push_back(shape[a] / p.groups);
      stat_shape.push_back(p.groups);
      stat_shape.push_back(1);
    } else {
      walk.push_back(shape[a]);
      stat_shape.push_back(reduced ? 1 : shape[a]);
    }
  }
  int64_t stats = 1;
  for (int64_t d : stat_shape) stats *= d;
  const double count = static_cast<double>(x.size()) / static_cast<double>(stats);

  // Weights are shaped like the input (1 on broadcast axes); map them onto `walk` too.
  auto walk_strides = [&](const Shape& w) {
    std::vector<int64_t> s = broadcast_strides(w), out;
    for (size_t a = 0; a < rank; ++a) {
      if (static_cast<int64_t>(a) == p.group_axis) {
        const int64_t inner = shape[a] / p.groups;
        out.push_back(s[a] * inner);
        out.push_back(s[a]);
      } else {
        out.push_back(s[a]);
      }
    }
    return out;
  };
  std::vector<std::vector<int64_t>> st{broadcast_strides(stat_shape)};
  const float* scale = nullptr;
  const float* shift = nullptr;
  size_t w = 0;
  if (p.has_scale) {
    scale = node.weights[w].data_as<float>();
    st.push_back(walk_strides(node.weights[w++].shape()));
  }
  if (p.has_shift) {
    shift = node.weights[w].data_as<float>();
    st.push_back(walk_strides(node.weights[w++].shape()));
  }

  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  const int64_t n = x.size();
  std::vector<double> mean(stats, 0.0), second(stats, 0.0);
  {
    Odometer it(walk, st);
    for (int64_t i = 0; i < n; ++i, it.next()) {
      mean[it.offsets[0]] += xp[i];
      second[it.offsets[0]] += static_cast<double>(xp[i]) * xp[i];
    }
  }
  for (double& m : mean) m /= count;
  const bool centered = p.kind == NormalizeKind::moments || p.kind == NormalizeKind::centered_rms;
  if (centered) {  // two-pass variance: no cancellation
    std::fill(second.begin(), second.end(), 0.0);
    Odometer it(walk, st);
    for (int64_t i = 0; i < n; ++i, it.next()) {
      const double d = xp[i] - mean[it.offsets[0]];
      second[it.offsets[0]] += d * d;
    }
  }
  std::vector<double> inv(stats);
  for (int64_t s = 0; s < stats; ++s) {
    switch (p.kind) {
      case NormalizeKind::moments:
      case NormalizeKind::centered_rms:
      case NormalizeKind::rms:
        inv[s] = 1.0 / std::sqrt(second[s] / count + p.epsilon);
        break;
      case NormalizeKind::l2:
        inv[s] = 1.0 / std::sqrt(std::max(second[s], static_cast<double>(p.epsilon)));
        break;
    }
  }
  Odometer it(walk, st);
  for (int64_t i = 0; i < n; ++i, it.next()) {
    const int64_t s = it.offsets[0];
    const double centre = p.kind == NormalizeKind::moments ? mean[s] : 0.0;
    double v = (xp[i] - centre) * inv[s];
    size_t k = 1;
    if (scale) v *= scale[it.offsets[k++]];
    if (shift) v += shift[it.offsets[k++]];
    yp[i] = static_cast<float>(v);
  }
}

}  // namespace krt::reference
