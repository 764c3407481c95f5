#include "ops/resize_weights.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace krt {

namespace {

double kernel_value(ResizeMethod method, double x) {
  switch (method) {
    case ResizeMethod::linear:
      return std::max(0.0, 1.0 - x);
    case ResizeMethod::cubic: {  // Keys cubic, a = -0.5
      if (x >= 2.0) return 0.0;
      if (x >= 1.0) return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
      return ((1.5 * x - 2.5) * x) * x + 1.0;
    }
    case ResizeMethod::lanczos3:
    case ResizeMethod::lanczos5: {
      const double radius = method == ResizeMethod::lanczos3 ? 3.0 : 5.0;
      if (x > radius) return 0.0;
      if (x <= 1e-3) return 1.0;
      const double pi = std::numbers::pi;
      return radius * std::sin(pi * x) * std::sin(pi * x / radius) / (pi * pi * x * x);
    }
    case ResizeMethod::nearest:
      break;
  }
  return 0.0;
}

}  // namespace

std::vector<ResizeTaps> resize_weight_matrix(ResizeMethod method, int64_t in, int64_t out, bool antialias) {
  std::vector<ResizeTaps> taps(out);
  if (method == ResizeMethod::nearest) {
    for (int64_t j = 0; j < out; ++j) {
      // jax computes (j + 0.5) * in / out in float32 and floors it; do the same so that
      // ties round the same way.
      const float pos =
          (static_cast<float>(j) + 0.5f) * static_cast<float>(in) / static_cast<float>(out);
      taps[j].first = std::min<int64_t>(static_cast<int64_t>(std::floor(pos)), in - 1);
      taps[j].weights = {1.f};
    }
    return taps;
  }
  const double scale = static_cast<double>(out) / static_cast<double>(in);
  const double inv_scale = 1.0 / scale;
  const double kernel_scale = antialias ? std::max(inv_scale, 1.0) : 1.0;
  std::vector<double> w(in);
  for (int64_t j = 0; j < out; ++j) {
    const double sample = (static_cast<double>(j) + 0.5) * inv_scale - 0.5;
    double total = 0.0;
    for (int64_t k = 0; k < in; ++k) {
      w[k] = kernel_value(method, std::abs(sample - static_cast<double>(k)) / kernel_scale);
      total += w[k];
    }
    const bool inside = sample >= -0.5 && sample <= static_cast<double>(in) - 0.5;
    if (!inside || std::abs(total) <= 1000.0 * 1.1920928955078125e-07)
      continue;  // all zero, as jax
    int64_t lo = 0, hi = in - 1;
    while (lo < hi && w[lo] == 0.0) ++lo;
    while (hi > lo && w[hi] == 0.0) --hi;
    taps[j].first = lo;
    for (int64_t k = lo; k <= hi; ++k) taps[j].weights.push_back(static_cast<float>(w[k] / total));
  }
  return taps;
}


}  // namespace krt
