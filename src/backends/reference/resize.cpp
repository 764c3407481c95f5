// resize: jax.image.resize (which Keras 3's image.resize calls on every backend it was
// checked against): half-pixel centres, separable kernels applied one spatial axis at a time,
// weights normalised to sum to one, the kernel widened when downsampling with antialias.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "backends/reference/kernels.h"
#include "ops/resize_weights.h"

namespace krt::reference {


void run_resize(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<ResizeParams>();
  Shape cur = x.shape();
  std::vector<float> buf(x.data_as<float>(), x.data_as<float>() + x.size());
  for (size_t d = 1; d + 1 < cur.size(); ++d) {
    const int64_t in = cur[d], out = y.shape()[d];
    if (in == out) continue;  // jax leaves axes whose size does not change untouched
    const std::vector<ResizeTaps> taps = resize_weight_matrix(p.method, in, out, p.antialias);
    int64_t outer = 1, inner = 1;
    for (size_t a = 0; a < d; ++a) outer *= cur[a];
    for (size_t a = d + 1; a < cur.size(); ++a) inner *= cur[a];
    std::vector<float> next(static_cast<size_t>(outer * out * inner));
    std::vector<double> acc(inner);
    for (int64_t o = 0; o < outer; ++o) {
      const float* src = buf.data() + o * in * inner;
      for (int64_t j = 0; j < out; ++j) {
        std::fill(acc.begin(), acc.end(), 0.0);
        const ResizeTaps& t = taps[j];
        for (size_t k = 0; k < t.weights.size(); ++k) {
          const float* row = src + (t.first + static_cast<int64_t>(k)) * inner;
          for (int64_t i = 0; i < inner; ++i) acc[i] += static_cast<double>(t.weights[k]) * row[i];
        }
        float* dst = next.data() + (o * out + j) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<float>(acc[i]);
      }
    }
    buf.swap(next);
    cur[d] = out;
  }
  std::copy(buf.begin(), buf.end(), y.data_as<float>());
}

}  // namespace krt::reference
