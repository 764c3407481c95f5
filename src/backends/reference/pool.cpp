// Max/average pooling (rank 1-3) and global pooling. Padded positions never take part: a
// 'same' max ignores them and a 'same' average divides by the count of real inputs (Keras/TF).
#include <algorithm>
#include <limits>

#include "backends/reference/kernels.h"
#include "ops/shape_inference.h"

namespace krt::reference {

void run_pool(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<PoolParams>();
  const int rank = x.rank();
  const size_t spatial = p.pool_size.size();
  std::vector<int64_t> stride(spatial), pad(spatial);
  for (size_t a = 0; a < spatial; ++a) {
    stride[a] = a < p.strides.size() ? p.strides[a] : p.pool_size[a];
    pad[a] = conv_pad_before(x.shape()[a + 1], p.pool_size[a], stride[a], 1, p.padding);
  }
  const Shape window(p.pool_size.begin(), p.pool_size.end());
  const int64_t window_size = shape_elements(window);
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c, w;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);  // (n, out..., ch)
    double sum = 0.0;
    float mx = -std::numeric_limits<float>::infinity();
    int64_t count = 0;
    for (int64_t k = 0; k < window_size; ++k) {
      unravel(k, window, w);
      int64_t off = c[0] * xs[0] + c[rank - 1];
      bool inside = true;
      for (size_t a = 0; a < spatial && inside; ++a) {
        const int64_t src = c[a + 1] * stride[a] + w[a] - pad[a];
        inside = src >= 0 && src < x.shape()[a + 1];
        off += src * xs[a + 1];
      }
      if (!inside) continue;
      sum += xp[off];
      mx = std::max(mx, xp[off]);
      ++count;
    }
    yp[i] = p.kind == PoolKind::max ? mx : static_cast<float>(sum / static_cast<double>(count));
  }
}

void run_global_pool(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<GlobalPoolParams>();
  const int64_t batch = x.dim(0), channels = x.dim(-1);
  const int64_t positions = x.size() / (batch * channels);
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t ch = 0; ch < channels; ++ch) {
      double sum = 0.0;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t s = 0; s < positions; ++s) {
        const float v = xp[(n * positions + s) * channels + ch];
        sum += v;
        mx = std::max(mx, v);
      }
      yp[n * channels + ch] =
          p.kind == PoolKind::max ? mx : static_cast<float>(sum / static_cast<double>(positions));
    }
  }
}

}  // namespace krt::reference
