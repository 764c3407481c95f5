// Ops that only move data: reshape/identity copies, transpose, pad, slice (crop), nearest
// upsampling and concat. Each maps an output coordinate to the input element it reads.
#include <cstring>

#include "backends/reference/kernels.h"

namespace krt::reference {

void run_copy(const Tensor& x, Tensor& y) {
  if (x.data() != y.data() && x.nbytes()) std::memcpy(y.data(), x.data(), x.nbytes());
}

namespace {

// The loop every data-movement op shares: for each output element, `source` maps its
// coordinates and the input strides to the offset of the input element it copies, or -1 for
// an element outside the input (which gets `fill`).
template <class Source>
void gather(const Tensor& x, Tensor& y, Source source, float fill = 0.f) {
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    const int64_t off = source(c, xs);
    yp[i] = off >= 0 ? xp[off] : fill;
  }
}

}  // namespace

void run_transpose(const Node& node, const Tensor& x, Tensor& y) {
  const auto& perm = node.get<TransposeParams>().perm;
  gather(x, y, [&](const std::vector<int64_t>& c, const std::vector<int64_t>& xs) {
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) off += c[a] * xs[perm[a]];  // y axis a is x axis perm[a]
    return off;
  });
}

void run_pad(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<PadParams>();
  gather(
      x, y,
      [&](const std::vector<int64_t>& c, const std::vector<int64_t>& xs) -> int64_t {
        int64_t off = 0;
        for (size_t a = 0; a < c.size(); ++a) {
          const int64_t src = c[a] - p.before[a];
          if (src < 0 || src >= x.shape()[a]) return -1;
          off += src * xs[a];
        }
        return off;
      },
      p.value);
}

void run_slice(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<SliceParams>();
  gather(x, y, [&](const std::vector<int64_t>& c, const std::vector<int64_t>& xs) {
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) off += (c[a] + p.crop_before[a]) * xs[a];
    return off;
  });
}

// Nearest neighbour: out[i] = in[i / factor] on each spatial axis (axes 1..rank-2).
void run_upsample(const Node& node, const Tensor& x, Tensor& y) {
  const auto& f = node.get<UpsampleParams>().factors;
  gather(x, y, [&](const std::vector<int64_t>& c, const std::vector<int64_t>& xs) {
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) {
      const bool spatial = a >= 1 && a + 1 < c.size();
      off += (spatial ? c[a] / f[a - 1] : c[a]) * xs[a];
    }
    return off;
  });
}

// Row-major concat: for every index of the axes before `axis`, the inputs' blocks follow each
// other.
void run_concat(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const int64_t axis = node.get<ConcatParams>().axis;
  int64_t outer = 1;
  for (int64_t a = 0; a < axis; ++a) outer *= y.shape()[a];
  char* yp = static_cast<char*>(y.data());
  const size_t out_block = y.nbytes() / (outer ? outer : 1);
  size_t at = 0;
  for (const Tensor& t : inputs) {
    const size_t block = t.nbytes() / (outer ? outer : 1);
    const char* tp = static_cast<const char*>(t.data());
    for (int64_t o = 0; o < outer; ++o) std::memcpy(yp + o * out_block + at, tp + o * block, block);
    at += block;
  }
}

}  // namespace krt::reference
