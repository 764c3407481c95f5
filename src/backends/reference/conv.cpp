// Dense and the convolution family. Sums accumulate in double: the oracle should be more
// accurate than any fast kernel, so their float rounding is what the tolerances measure.
#include <array>

#include "backends/reference/kernels.h"
#include "ops/shape_inference.h"

namespace krt::reference {

void apply_activation_inplace(const Activation& act, Tensor& y) {
  if (act.is_linear()) return;
  float* p = y.data_as<float>();
  for (int64_t i = 0; i < y.size(); ++i) p[i] = apply_activation(act, p[i]);
}

void run_dense(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<DenseParams>();
  const Tensor& kernel = node.weights[0];
  const int64_t in = kernel.dim(0), out = kernel.dim(1);
  const int64_t rows = x.size() / in;
  const float* xp = x.data_as<float>();
  const float* w = kernel.data_as<float>();
  const float* b = p.has_bias ? node.weights[1].data_as<float>() : nullptr;
  float* yp = y.data_as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? b[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(xp[r * in + i]) * w[i * out + o];
      yp[r * out + o] = static_cast<float>(acc);
    }
  }
  apply_activation_inplace(p.activation, y);
}

namespace {

// Convolution geometry with the spatial axes padded to three (trailing unit axes), so one
// loop nest serves 1-D, 2-D and 3-D: appending unit axes keeps every row-major offset.
struct Geometry {
  int64_t batch = 0, cin = 0, cout = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, stride{1, 1, 1}, dil{1, 1, 1},
      pad{0, 0, 0};

  int64_t x_offset(int64_t n, const std::array<int64_t, 3>& s) const {
    return (((n * in[0] + s[0]) * in[1] + s[1]) * in[2] + s[2]) * cin;
  }
  int64_t y_offset(int64_t n, const std::array<int64_t, 3>& s) const {
    return (((n * out[0] + s[0]) * out[1] + s[1]) * out[2] + s[2]) * cout;
  }
  int64_t k_index(const std::array<int64_t, 3>& t) const {
    return (t[0] * k[1] + t[1]) * k[2] + t[2];
  }
};

Geometry make_geometry(const Node& node, const Tensor& x, const Tensor& y) {
  const auto& p = node.get<ConvParams>();
  const size_t spatial = p.kernel_size.size();
  Geometry g;
  g.batch = x.dim(0);
  g.cin = x.dim(-1);
  g.cout = y.dim(-1);
  const Shape& ks = node.weights[0].shape();
  for (size_t i = 0; i < spatial; ++i) {
    g.in[i] = x.dim(static_cast<int>(i) + 1);
    g.out[i] = y.dim(static_cast<int>(i) + 1);
    g.k[i] = ks[i];
    g.stride[i] = i < p.strides.size() ? p.strides[i] : 1;
    g.dil[i] = i < p.dilation.size() ? p.dilation[i] : 1;
    if (node.kind == OpKind::conv_transpose) {
      const int64_t op = i < p.output_padding.size() ? p.output_padding[i] : -1;
      g.pad[i] = conv_transpose_pad(g.k[i], g.stride[i], g.dil[i], p.padding, op);
    } else {
      g.pad[i] = conv_pad_before(g.in[i], g.k[i], g.stride[i], g.dil[i], p.padding);
    }
  }
  return g;
}

// Calls fn(output position) for every output spatial position.
template <class Fn>
void for_each_position(const std::array<int64_t, 3>& extent, Fn&& fn) {
  std::array<int64_t, 3> s{};
  for (s[0] = 0; s[0] < extent[0]; ++s[0])
    for (s[1] = 0; s[1] < extent[1]; ++s[1])
      for (s[2] = 0; s[2] < extent[2]; ++s[2]) fn(s);
}

// Input position read by output `o` through tap `t` of a forward convolution; false if padding.
bool input_position(const Geometry& g, const std::array<int64_t, 3>& o,
                    const std::array<int64_t, 3>& t, std::array<int64_t, 3>& i) {
  for (int a = 0; a < 3; ++a) {
    i[a] = o[a] * g.stride[a] + t[a] * g.dil[a] - g.pad[a];
    if (i[a] < 0 || i[a] >= g.in[a]) return false;
  }
  return true;
}

void finish(const Node& node, const float* bias, Tensor& y) {
  const auto& p = node.get<ConvParams>();
  float* yp = y.data_as<float>();
  const int64_t c = y.dim(-1);
  if (bias)
    for (int64_t i = 0; i < y.size(); ++i) yp[i] += bias[i % c];
  apply_activation_inplace(p.activation, y);
}

const float* bias_of(const Node& node) {
  return node.get<ConvParams>().has_bias ? node.weights[1].data_as<float>() : nullptr;
}

}  // namespace

// Kernel (k..., cin/groups, cout); group gi reads input channels [gi*cin_g, (gi+1)*cin_g) and
// writes output channels [gi*cout_g, (gi+1)*cout_g).
void run_conv(const Node& node, const Tensor& x, Tensor& y) {
  const Geometry g = make_geometry(node, x, y);
  const int64_t groups = node.get<ConvParams>().groups > 0 ? node.get<ConvParams>().groups : 1;
  const int64_t cin_g = g.cin / groups, cout_g = g.cout / groups;
  const float* xp = x.data_as<float>();
  const float* w = node.weights[0].data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<double> acc(g.cout);
  for (int64_t n = 0; n < g.batch; ++n) {
    for_each_position(g.out, [&](const std::array<int64_t, 3>& o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      std::array<int64_t, 3> i{};
      for_each_position(g.k, [&](const std::array<int64_t, 3>& t) {
        if (!input_position(g, o, t, i)) return;
        const float* xv = xp + g.x_offset(n, i);
        const float* wt = w + g.k_index(t) * cin_g * g.cout;
        for (int64_t co = 0; co < g.cout; ++co) {
          const int64_t gi = co / cout_g;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            acc[co] += static_cast<double>(xv[gi * cin_g + ci]) * wt[ci * g.cout + co];
        }
      });
      float* yv = yp + g.y_offset(n, o);
      for (int64_t co = 0; co < g.cout; ++co) yv[co] = static_cast<float>(acc[co]);
    });
  }
  finish(node, bias_of(node), y);
}

// Kernel (k..., cin, mult); output channel c*mult + m reads only input channel c.
void run_depthwise_conv(const Node& node, const Tensor& x, Tensor& y) {
  const Geometry g = make_geometry(node, x, y);
  const int64_t mult = g.cout / g.cin;
  const float* xp = x.data_as<float>();
  const float* w = node.weights[0].data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<double> acc(g.cout);
  for (int64_t n = 0; n < g.batch; ++n) {
    for_each_position(g.out, [&](const std::array<int64_t, 3>& o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      std::array<int64_t, 3> i{};
      for_each_position(g.k, [&](const std::array<int64_t, 3>& t) {
        if (!input_position(g, o, t, i)) return;
        const float* xv = xp + g.x_offset(n, i);
        const float* wt = w + g.k_index(t) * g.cout;  // (cin, mult) flattened = cout
        for (int64_t co = 0; co < g.cout; ++co)
          acc[co] += static_cast<double>(xv[co / mult]) * wt[co];
      });
      float* yv = yp + g.y_offset(n, o);
      for (int64_t co = 0; co < g.cout; ++co) yv[co] = static_cast<float>(acc[co]);
    });
  }
  finish(node, bias_of(node), y);
}

// Kernel (k..., cout, cin). Scatter form y[i*s + t*d - pad] += x[i] * w[t], computed here as a
// gather: output o takes tap t from input i = (o + pad - t*d) / s when that divides exactly.
void run_conv_transpose(const Node& node, const Tensor& x, Tensor& y) {
  const Geometry g = make_geometry(node, x, y);
  const float* xp = x.data_as<float>();
  const float* w = node.weights[0].data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<double> acc(g.cout);
  for (int64_t n = 0; n < g.batch; ++n) {
    for_each_position(g.out, [&](const std::array<int64_t, 3>& o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for_each_position(g.k, [&](const std::array<int64_t, 3>& t) {
        std::array<int64_t, 3> i{};
        for (int a = 0; a < 3; ++a) {
          const int64_t num = o[a] + g.pad[a] - t[a] * g.dil[a];
          if (num < 0 || num % g.stride[a] != 0) return;
          i[a] = num / g.stride[a];
          if (i[a] >= g.in[a]) return;
        }
        const float* xv = xp + g.x_offset(n, i);
        const float* wt = w + g.k_index(t) * g.cout * g.cin;
        for (int64_t co = 0; co < g.cout; ++co)
          for (int64_t ci = 0; ci < g.cin; ++ci)
            acc[co] += static_cast<double>(xv[ci]) * wt[co * g.cin + ci];
      });
      float* yv = yp + g.y_offset(n, o);
      for (int64_t co = 0; co < g.cout; ++co) yv[co] = static_cast<float>(acc[co]);
    });
  }
  finish(node, bias_of(node), y);
}

}  // namespace krt::reference
