#include "backends/cpu/pad_crop_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/parallel.h"

namespace krt::cpu {

namespace {

// Threads take at least 64 KiB of output each: below that, waking one costs more than the copy.
constexpr int64_t kMinBytesPerThread = 64 << 10;

// y's element at coordinate i of axis a is x's at i - offset[a] (outside x: the fill value).
void move_window(const Tensor& x, Tensor& y, const std::vector<int64_t>& offset, float fill) {
  // The last axis that pads or crops; the axes after it are copied whole, as part of each row.
  int k = y.rank() - 1;
  int64_t unit = 1;  // elements per index of axis k
  while (k >= 0 && offset[k] == 0 && x.dim(k) == y.dim(k)) unit *= y.dim(k--);
  if (k < 0) {
    std::memcpy(y.data(), x.data(), x.nbytes());
    return;
  }
  int64_t outer = 1;
  for (int a = 0; a < k; ++a) outer *= y.dim(a);
  const int64_t y_row = y.dim(k) * unit, x_row = x.dim(k) * unit;
  // The part [first, last) of a y row that x covers, and where it starts in the x row.
  const int64_t first = std::clamp<int64_t>(offset[k], 0, y.dim(k)) * unit;
  const int64_t last = std::clamp<int64_t>(offset[k] + x.dim(k), 0, y.dim(k)) * unit;
  const int64_t from = first - offset[k] * unit;
  float* yp = y.data_as<float>();
  const float* xp = x.data_as<float>();
  parallel_for(
      outer,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          // The x row of y row r, or -1 when some outer axis falls in the padding.
          int64_t rest = r, x_index = 0, x_stride = 1;
          for (int a = k - 1; a >= 0 && x_index >= 0; --a) {
            const int64_t i = rest % y.dim(a) - offset[a];
            rest /= y.dim(a);
            x_index = i < 0 || i >= x.dim(a) ? -1 : x_index + i * x_stride;
            x_stride *= x.dim(a);
          }
          float* dst = yp + r * y_row;
          if (x_index < 0 || last <= first) {
            std::fill_n(dst, y_row, fill);
            continue;
          }
          std::fill_n(dst, first, fill);
          std::copy_n(xp + x_index * x_row + from, last - first, dst + first);
          std::fill_n(dst + last, y_row - last, fill);
        }
      },
      std::max<int64_t>(1, kMinBytesPerThread / std::max<int64_t>(1, y_row * 4)));
}

}  // namespace

bool run_pad_crop_fast(const Node& node, const Tensor& x, Tensor& y) {
  if ((node.kind != OpKind::pad && node.kind != OpKind::slice) || x.dtype() != DType::f32 ||
      y.dtype() != DType::f32 || x.rank() != y.rank())
    return false;
  const int rank = x.rank();
  std::vector<int64_t> offset(static_cast<size_t>(rank));
  float fill = 0.f;
  if (node.kind == OpKind::pad) {
    const auto& p = node.get<PadParams>();
    if (static_cast<int>(p.before.size()) != rank) return false;
    fill = p.value;
    for (int a = 0; a < rank; ++a) offset[a] = p.before[a];
  } else {
    const auto& p = node.get<SliceParams>();
    if (static_cast<int>(p.crop_before.size()) != rank) return false;
    for (int a = 0; a < rank; ++a) offset[a] = -p.crop_before[a];
  }
  if (y.size() == 0) return true;
  move_window(x, y, offset, fill);
  return true;
}

}  // namespace krt::cpu
