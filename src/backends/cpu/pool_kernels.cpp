#include "backends/cpu/pool_kernels.h"

#include <algorithm>
#include <limits>

#include "backends/cpu/parallel.h"
#include "ops/shape_inference.h"

namespace krt::cpu {

namespace {

// Channels per accumulator block: the block's sums (double) stay in registers/L1, and several
// blocks give threads work when the batch is 1.
constexpr int64_t kChannelBlock = 64;
// About this many input elements per thread before a second thread is worth waking.
constexpr int64_t kMinElementsPerThread = 16 * 1024;

// The reference's std::max(running, v): keeps `running` when v is NaN. Written out so the
// compiler sees a select it can vectorize.
inline float max_skip_nan(float running, float v) { return running < v ? v : running; }

// One channel block [c0, c0 + w) of one batch row: `positions` rows of `channels` floats.
void global_pool_block(PoolKind kind, const float* x, int64_t positions, int64_t channels,
                       int64_t w, float* y) {
  if (kind == PoolKind::max) {
    float mx[kChannelBlock];
    std::fill(mx, mx + w, -std::numeric_limits<float>::infinity());
    for (int64_t s = 0; s < positions; ++s) {
      const float* row = x + s * channels;
      for (int64_t j = 0; j < w; ++j) mx[j] = max_skip_nan(mx[j], row[j]);
    }
    std::copy(mx, mx + w, y);
    return;
  }
  double sum[kChannelBlock] = {};
  for (int64_t s = 0; s < positions; ++s) {
    const float* row = x + s * channels;
    for (int64_t j = 0; j < w; ++j) sum[j] += row[j];
  }
  const double count = static_cast<double>(positions);
  for (int64_t j = 0; j < w; ++j) y[j] = static_cast<float>(sum[j] / count);
}

// A pooling window geometry over NHWC (1-D pooling is H = 1).
struct PoolGeometry {
  int64_t batch, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw;
};

// One output row (n, oy): every ox, channel block by channel block, window in row-major order
// (the reference's order, so the double sums round the same way).
void pool_row(PoolKind kind, const PoolGeometry& g, const float* x, int64_t n, int64_t oy,
              float* y) {
  const int64_t iy0 = oy * g.sh - g.ph;
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(g.kh, g.h - iy0);
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    const int64_t ix0 = ox * g.sw - g.pw;
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(g.kw, g.w - ix0);
    const int64_t count = std::max<int64_t>(0, ky1 - ky0) * std::max<int64_t>(0, kx1 - kx0);
    float* out = y + ((n * g.oh + oy) * g.ow + ox) * g.c;
    for (int64_t c0 = 0; c0 < g.c; c0 += kChannelBlock) {
      const int64_t w = std::min(kChannelBlock, g.c - c0);
      if (kind == PoolKind::max) {
        float mx[kChannelBlock];
        std::fill(mx, mx + w, -std::numeric_limits<float>::infinity());
        for (int64_t ky = ky0; ky < ky1; ++ky)
          for (int64_t kx = kx0; kx < kx1; ++kx) {
            const float* in = x + ((n * g.h + iy0 + ky) * g.w + ix0 + kx) * g.c + c0;
            for (int64_t j = 0; j < w; ++j) mx[j] = max_skip_nan(mx[j], in[j]);
          }
        std::copy(mx, mx + w, out + c0);
      } else {
        double sum[kChannelBlock] = {};
        for (int64_t ky = ky0; ky < ky1; ++ky)
          for (int64_t kx = kx0; kx < kx1; ++kx) {
            const float* in = x + ((n * g.h + iy0 + ky) * g.w + ix0 + kx) * g.c + c0;
            for (int64_t j = 0; j < w; ++j) sum[j] += in[j];
          }
        const double d = static_cast<double>(count);
        for (int64_t j = 0; j < w; ++j) out[c0 + j] = static_cast<float>(sum[j] / d);
      }
    }
  }
}

}  // namespace

bool pool_fast_applies(const Node& node, int rank) {
  if (node.kind != OpKind::pool) return false;
  const auto& p = node.get<PoolParams>();
  return (rank == 3 && p.pool_size.size() == 1) || (rank == 4 && p.pool_size.size() == 2);
}

bool run_pool_fast(const Node& node, const Tensor& x, Tensor& y) {
  if (!pool_fast_applies(node, x.rank()) || x.dtype() != DType::f32 || y.rank() != x.rank())
    return false;
  const auto& p = node.get<PoolParams>();
  const bool two_d = x.rank() == 4;
  auto stride = [&](size_t a) { return a < p.strides.size() ? p.strides[a] : p.pool_size[a]; };
  PoolGeometry g{};
  g.batch = x.dim(0);
  g.c = x.dim(-1);
  g.h = two_d ? x.dim(1) : 1;
  g.w = x.dim(-2);
  g.oh = two_d ? y.dim(1) : 1;
  g.ow = y.dim(-2);
  g.kh = two_d ? p.pool_size[0] : 1;
  g.kw = p.pool_size.back();
  g.sh = two_d ? stride(0) : 1;
  g.sw = stride(p.pool_size.size() - 1);
  g.ph = two_d ? conv_pad_before(g.h, g.kh, g.sh, 1, p.padding) : 0;
  g.pw = conv_pad_before(g.w, g.kw, g.sw, 1, p.padding);
  if (y.size() == 0) return true;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  const int64_t per_row = std::max<int64_t>(1, g.ow * g.kh * g.kw * g.c);
  parallel_for(
      g.batch * g.oh,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) pool_row(p.kind, g, xp, r / g.oh, r % g.oh, yp);
      },
      std::max<int64_t>(1, kMinElementsPerThread / per_row));
  return true;
}

bool run_global_pool_fast(const Node& node, const Tensor& x, Tensor& y) {
  if (node.kind != OpKind::global_pool || x.dtype() != DType::f32 || x.rank() < 2) return false;
  const PoolKind kind = node.get<GlobalPoolParams>().kind;
  const int64_t batch = x.dim(0), channels = x.dim(-1);
  if (y.size() == 0 || batch * channels == 0) return true;
  const int64_t positions = x.size() / (batch * channels);
  const int64_t blocks = (channels + kChannelBlock - 1) / kChannelBlock;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  parallel_for(
      batch * blocks,
      [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t n = item / blocks, c0 = (item % blocks) * kChannelBlock;
          global_pool_block(kind, xp + n * positions * channels + c0, positions, channels,
                            std::min(kChannelBlock, channels - c0), yp + n * channels + c0);
        }
      },
      std::max<int64_t>(1,
                        kMinElementsPerThread / std::max<int64_t>(1, positions * kChannelBlock)));
  return true;
}

}  // namespace krt::cpu
