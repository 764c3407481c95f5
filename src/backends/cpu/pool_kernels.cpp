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

// A pooling window geometry over channels-last (N, D, H, W, C); 1-D and 2-D pooling have D = 1
// (and H = 1), with a window of 1 there.
struct PoolGeometry {
  int64_t batch, c;
  int64_t in[3], out[3], k[3], s[3], pad[3];  // depth, height, width
};

// One output row (n, oz, oy): every ox, channel block by channel block, window in row-major
// order (the reference's order, so the double sums round the same way).
void pool_row(PoolKind kind, const PoolGeometry& g, const float* x, int64_t n, int64_t oz,
              int64_t oy, float* y) {
  const int64_t iz0 = oz * g.s[0] - g.pad[0], iy0 = oy * g.s[1] - g.pad[1];
  const int64_t kz0 = std::max<int64_t>(0, -iz0), kz1 = std::min(g.k[0], g.in[0] - iz0);
  const int64_t ky0 = std::max<int64_t>(0, -iy0), ky1 = std::min(g.k[1], g.in[1] - iy0);
  const int64_t rows = std::max<int64_t>(0, kz1 - kz0) * std::max<int64_t>(0, ky1 - ky0);
  for (int64_t ox = 0; ox < g.out[2]; ++ox) {
    const int64_t ix0 = ox * g.s[2] - g.pad[2];
    const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min(g.k[2], g.in[2] - ix0);
    const int64_t count = rows * std::max<int64_t>(0, kx1 - kx0);
    float* out = y + (((n * g.out[0] + oz) * g.out[1] + oy) * g.out[2] + ox) * g.c;
    // Calls visit(in) for every tap of the window inside the input, in row-major order, `in`
    // pointing at channel c0 of that input position.
    auto each_tap = [&](int64_t c0, auto visit) {
      for (int64_t kz = kz0; kz < kz1; ++kz)
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const float* row = x + ((n * g.in[0] + iz0 + kz) * g.in[1] + iy0 + ky) * g.in[2] * g.c;
          for (int64_t kx = kx0; kx < kx1; ++kx) visit(row + (ix0 + kx) * g.c + c0);
        }
    };
    for (int64_t c0 = 0; c0 < g.c; c0 += kChannelBlock) {
      const int64_t w = std::min(kChannelBlock, g.c - c0);
      if (kind == PoolKind::max) {
        float mx[kChannelBlock];
        std::fill(mx, mx + w, -std::numeric_limits<float>::infinity());
        each_tap(c0, [&](const float* in) {
          for (int64_t j = 0; j < w; ++j) mx[j] = max_skip_nan(mx[j], in[j]);
        });
        std::copy(mx, mx + w, out + c0);
      } else {
        double sum[kChannelBlock] = {};
        each_tap(c0, [&](const float* in) {
          for (int64_t j = 0; j < w; ++j) sum[j] += in[j];
        });
        const double d = static_cast<double>(count);
        for (int64_t j = 0; j < w; ++j) out[c0 + j] = static_cast<float>(sum[j] / d);
      }
    }
  }
}

}  // namespace

bool pool_fast_applies(const Node& node, int rank) {
  if (node.kind != OpKind::pool) return false;
  const size_t spatial = node.get<PoolParams>().pool_size.size();
  return spatial >= 1 && spatial <= 3 && rank == static_cast<int>(spatial) + 2;
}

bool run_pool_fast(const Node& node, const Tensor& x, Tensor& y) {
  if (!pool_fast_applies(node, x.rank()) || x.dtype() != DType::f32 || y.rank() != x.rank())
    return false;
  const auto& p = node.get<PoolParams>();
  const int spatial = x.rank() - 2, lead = 3 - spatial;  // axes of size 1 in front
  PoolGeometry g{};
  g.batch = x.dim(0);
  g.c = x.dim(-1);
  for (int a = 0; a < 3; ++a) {
    const int axis = a - lead;  // index into the node's per-axis params; < 0 for the padding axes
    g.in[a] = axis < 0 ? 1 : x.dim(axis + 1);
    g.out[a] = axis < 0 ? 1 : y.dim(axis + 1);
    g.k[a] = axis < 0 ? 1 : p.pool_size[axis];
    g.s[a] = axis < 0 ? 1
             : static_cast<size_t>(axis) < p.strides.size() ? p.strides[axis]
                                                            : p.pool_size[axis];
    g.pad[a] = axis < 0 ? 0 : conv_pad_before(g.in[a], g.k[a], g.s[a], 1, p.padding);
  }
  if (y.size() == 0) return true;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  const int64_t per_row = std::max<int64_t>(1, g.out[2] * g.k[0] * g.k[1] * g.k[2] * g.c);
  parallel_for(
      g.batch * g.out[0] * g.out[1],
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          pool_row(p.kind, g, xp, r / (g.out[0] * g.out[1]), r / g.out[1] % g.out[0],
                   r % g.out[1], yp);
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
