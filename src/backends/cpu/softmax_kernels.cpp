#include "backends/cpu/softmax_kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/cpu/parallel.h"

namespace krt::cpu {

namespace {

// Four lanes (one SSE register, the baseline ABI's vector) in GCC/Clang vector types (plain
// operators, lowered to whatever SIMD the build targets): the loops below are reductions and
// selects that -O3 alone does not vectorize without -ffast-math (it would reassociate the sums, and
// it refuses to if-convert the comparisons of the exp, which could trap).
using F4 = float __attribute__((vector_size(16)));
using I4 = int32_t __attribute__((vector_size(16)));
using D4 = double __attribute__((vector_size(32)));  // locals only: no AVX-sized arguments
constexpr int64_t kLanes = 4;
constexpr int64_t kMinElementsPerThread = 8 * 1024;

inline F4 load4(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, F4 v) { std::memcpy(p, &v, sizeof v); }
inline F4 splat4(float f) { return F4{} + f; }
// mask ? a : b per lane, by bits (the vector ?: is not in every compiler's C++).
inline F4 select4(I4 mask, F4 a, F4 b) {
  return reinterpret_cast<F4>((mask & reinterpret_cast<I4>(a)) | (~mask & reinterpret_cast<I4>(b)));
}

inline float max_skip_nan(float running, float v) { return running < v ? v : running; }
// The reference's std::max(running, v) per lane: keeps `running` where v is NaN.
inline F4 max_skip_nan(F4 running, F4 v) { return select4(running < v, v, running); }

// Cephes' expf: n = round(t / ln 2), r = t - n ln 2 (in two parts), a degree-6 polynomial for
// exp(r), times 2^n built in the exponent bits. t is clamped first so no NaN or huge value is
// converted to int (by the callers); NaN and values below the clamp are put back after. For
// tc in [kLowest, 0] only.
constexpr float kLowest = -87.f;  // exp(-87) is near the smallest normal float
template <typename V, typename I>
inline V exp_le0_impl(V tc) {
  constexpr float kRound = 12582912.f;  // 1.5 * 2^23: adding it rounds to an integer
  const V n = (tc * 1.44269504088896341f + kRound) - kRound;
  const V r = (tc - n * 0.693359375f) - n * -2.12194440e-4f;
  V p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V e = p * (r * r) + r + 1.f;
  I bits;
  if constexpr (std::is_same_v<V, float>)
    bits = (static_cast<int32_t>(n) + 127) << 23;
  else
    bits = (__builtin_convertvector(n, I) + 127) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

inline float exp_le0(float t) {
  if (t >= kLowest) return exp_le0_impl<float, int32_t>(t);
  return t < kLowest ? 0.f : t;  // the last case is NaN: keep it
}

inline F4 exp_le0(F4 t) {
  const I4 in_range = t >= kLowest;  // false for NaN
  const F4 v = exp_le0_impl<F4, I4>(select4(in_range, t, splat4(kLowest)));
  return select4(in_range, v, select4(t < kLowest, splat4(0.f), t));  // NaN stays NaN
}

float row_max(const float* x, int64_t len) {
  F4 m = splat4(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes) m = max_skip_nan(m, load4(x + i));
  float mx = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < kLanes; ++j) mx = max_skip_nan(mx, m[j]);
  for (; i < len; ++i) mx = max_skip_nan(mx, x[i]);
  return mx;
}

// Sum of exp(x - mx) in double (as the reference sums); with kStore, the exps go to y too.
template <bool kStore>
double row_exp_sum(const float* x, float mx, int64_t len, float* y) {
  D4 s = {};
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes) {
    const F4 e = exp_le0(load4(x + i) - mx);
    if constexpr (kStore) store4(y + i, e);
    s += __builtin_convertvector(e, D4);
  }
  double sum = 0.0;
  for (int j = 0; j < kLanes; ++j) sum += s[j];
  for (; i < len; ++i) {
    const float e = exp_le0(x[i] - mx);
    if constexpr (kStore) y[i] = e;
    sum += e;
  }
  return sum;
}

void softmax_row(const float* x, float* y, int64_t len, bool log) {
  const float mx = row_max(x, len);
  if (log) {
    const double lse = std::log(row_exp_sum<false>(x, mx, len, nullptr));
    for (int64_t i = 0; i < len; ++i)
      y[i] = static_cast<float>(static_cast<double>(x[i]) - mx - lse);
    return;
  }
  const double sum = row_exp_sum<true>(x, mx, len, y);
  for (int64_t i = 0; i < len; ++i) y[i] = static_cast<float>(static_cast<double>(y[i]) / sum);
}

}  // namespace

float exp_nonpositive(float t) { return exp_le0(t); }

bool softmax_fast_applies(const Node& node, int rank) {
  if (node.kind != OpKind::axis_activation) return false;
  const auto& p = node.get<AxisActivationParams>();
  if (p.kind != AxisActivationKind::softmax && p.kind != AxisActivationKind::log_softmax)
    return false;
  if (p.axes.empty() || static_cast<int64_t>(p.axes.size()) > rank) return false;
  // The reference visits a group's members in row-major order whatever the axes' order: axes
  // next to each other, in any order, make one row (strided unless they are the trailing ones).
  std::vector<int64_t> axes = p.axes;
  std::sort(axes.begin(), axes.end());
  if (axes.front() < 0 || axes.back() >= rank) return false;
  for (size_t k = 1; k < axes.size(); ++k)
    if (axes[k] != axes[k - 1] + 1) return false;
  return true;
}

bool run_softmax_fast(const Node& node, const Tensor& x, Tensor& y) {
  if (!softmax_fast_applies(node, x.rank()) || x.dtype() != DType::f32 || x.size() != y.size())
    return false;
  const auto& p = node.get<AxisActivationParams>();
  const int64_t last = *std::max_element(p.axes.begin(), p.axes.end());
  int64_t len = 1, inner = 1;
  for (int64_t a : p.axes) len *= x.dim(static_cast<int>(a));
  for (int a = static_cast<int>(last) + 1; a < x.rank(); ++a) inner *= x.dim(a);
  if (len == 0 || x.size() == 0) return true;
  const bool log = p.kind == AxisActivationKind::log_softmax;
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  // Group (o, i) is x[(o * len + k) * inner + i] for k < len: over trailing axes (inner 1) a
  // contiguous row, run in place; otherwise (the time axis of (N, T, C)) gathered into a row,
  // run, and put back.
  parallel_for(
      x.size() / len,
      [&](int64_t begin, int64_t end) {
        std::vector<float> row(inner == 1 ? 0 : static_cast<size_t>(2 * len));
        for (int64_t g = begin; g < end; ++g) {
          const int64_t base = g / inner * len * inner + g % inner;
          if (inner == 1) {
            softmax_row(xp + base, yp + base, len, log);
            continue;
          }
          float* in = row.data();
          float* out = in + len;
          for (int64_t k = 0; k < len; ++k) in[k] = xp[base + k * inner];
          softmax_row(in, out, len, log);
          for (int64_t k = 0; k < len; ++k) yp[base + k * inner] = out[k];
        }
      },
      std::max<int64_t>(1, kMinElementsPerThread / len));
  return true;
}

}  // namespace krt::cpu
