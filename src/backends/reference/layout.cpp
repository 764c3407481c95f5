// Ops that only move data: reshape/identity copies, transpose, pad, slice (crop), nearest
// upsampling and concat. Each maps an output coordinate to the input element it reads.
#include <cstring>

#include "backends/reference/kernels.h"

namespace krt::reference {

void run_copy(const Tensor& x, Tensor& y) {
  if (x.data() != y.data() && x.nbytes()) std::memcpy(y.data(), x.data(), x.nbytes());
}

void run_transpose(const Node& node, const Tensor& x, Tensor& y) {
  const auto& perm = node.get<TransposeParams>().perm;
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) off += c[a] * xs[perm[a]];  // y axis a is x axis perm[a]
    yp[i] = xp[off];
  }
}

void run_pad(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<PadParams>();
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    int64_t off = 0;
    bool inside = true;
    for (size_t a = 0; a < c.size() && inside; ++a) {
      const int64_t src = c[a] - p.before[a];
      inside = src >= 0 && src < x.shape()[a];
      off += src * xs[a];
    }
    yp[i] = inside ? xp[off] : p.value;
  }
}

void run_slice(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<SliceParams>();
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) off += (c[a] + p.crop_before[a]) * xs[a];
    yp[i] = xp[off];
  }
}

// Nearest neighbour: out[i] = in[i / factor] on each spatial axis (axes 1..rank-2).
void run_upsample(const Node& node, const Tensor& x, Tensor& y) {
  const auto& f = node.get<UpsampleParams>().factors;
  const auto xs = strides_of(x.shape());
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    int64_t off = 0;
    for (size_t a = 0; a < c.size(); ++a) {
      const bool spatial = a >= 1 && a + 1 < c.size();
      off += (spatial ? c[a] / f[a - 1] : c[a]) * xs[a];
    }
    yp[i] = xp[off];
  }
}

// Row-major concat: for every index of the axes before `axis`, the inputs' blocks follow each other.
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
