// The general tensor ops of Keras op nodes and TFOpLambda layers: unary math, broadcast binary
// operators, where, gather (numpy.take) and Python-style strided slicing.
#include <cmath>
#include <numeric>

#include "backends/reference/kernels.h"
#include "core/check.h"

namespace krt::reference {

namespace {

float truth(bool b) { return b ? 1.f : 0.f; }

float unary(const UnaryParams& p, float x) {
  switch (p.kind) {
    case UnaryKind::abs:
      return std::fabs(x);
    case UnaryKind::negative:
      return -x;
    case UnaryKind::sqrt:
      return std::sqrt(x);
    case UnaryKind::rsqrt:
      return 1.f / std::sqrt(x);
    case UnaryKind::square:
      return x * x;
    case UnaryKind::exp:
      return std::exp(x);
    case UnaryKind::expm1:
      return std::expm1(x);
    case UnaryKind::log:
      return std::log(x);
    case UnaryKind::log1p:
      return std::log1p(x);
    case UnaryKind::log2:
      return std::log2(x);
    case UnaryKind::log10:
      return std::log10(x);
    case UnaryKind::floor:
      return std::floor(x);
    case UnaryKind::ceil:
      return std::ceil(x);
    case UnaryKind::round:
      return std::nearbyint(x);  // the default rounding mode: halves to even
    case UnaryKind::cast_int:
      return std::trunc(x);
    case UnaryKind::sign:
      return x > 0.f ? 1.f : x < 0.f ? -1.f : x;  // keeps 0 and NaN
    case UnaryKind::reciprocal:
      return 1.f / x;
    case UnaryKind::sin:
      return std::sin(x);
    case UnaryKind::cos:
      return std::cos(x);
    case UnaryKind::tan:
      return std::tan(x);
    case UnaryKind::asin:
      return std::asin(x);
    case UnaryKind::acos:
      return std::acos(x);
    case UnaryKind::atan:
      return std::atan(x);
    case UnaryKind::sinh:
      return std::sinh(x);
    case UnaryKind::cosh:
      return std::cosh(x);
    case UnaryKind::asinh:
      return std::asinh(x);
    case UnaryKind::acosh:
      return std::acosh(x);
    case UnaryKind::atanh:
      return std::atanh(x);
    case UnaryKind::erf:
      return std::erf(x);
    case UnaryKind::logical_not:
      return truth(x == 0.f);
    case UnaryKind::isnan:
      return truth(std::isnan(x));
    case UnaryKind::isinf:
      return truth(std::isinf(x));
    case UnaryKind::isfinite:
      return truth(std::isfinite(x));
    case UnaryKind::clip:
      return std::min(std::max(x, p.a), p.b);  // numpy: max first, then min
  }
  return x;
}

float binary(BinaryKind kind, float a, float b) {
  switch (kind) {
    case BinaryKind::add:
      return a + b;
    case BinaryKind::subtract:
      return a - b;
    case BinaryKind::multiply:
      return a * b;
    case BinaryKind::divide:
      return a / b;
    case BinaryKind::floor_divide:
      return std::floor(a / b);
    case BinaryKind::mod: {
      // Python's %: the result has the divisor's sign.
      const float r = std::fmod(a, b);
      return r != 0.f && ((r < 0.f) != (b < 0.f)) ? r + b : r;
    }
    case BinaryKind::power:
      return std::pow(a, b);
    case BinaryKind::maximum:
      return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case BinaryKind::minimum:
      return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case BinaryKind::squared_difference:
      return (a - b) * (a - b);
    case BinaryKind::equal:
      return truth(a == b);
    case BinaryKind::not_equal:
      return truth(a != b);
    case BinaryKind::less:
      return truth(a < b);
    case BinaryKind::less_equal:
      return truth(a <= b);
    case BinaryKind::greater:
      return truth(a > b);
    case BinaryKind::greater_equal:
      return truth(a >= b);
    case BinaryKind::logical_and:
      return truth(a != 0.f && b != 0.f);
    case BinaryKind::logical_or:
      return truth(a != 0.f || b != 0.f);
    case BinaryKind::logical_xor:
      return truth((a != 0.f) != (b != 0.f));
    case BinaryKind::atan2:
      return std::atan2(a, b);
  }
  return a;
}

// The operands of binary/where in order: inputs, with constants taken from the weights.
std::vector<const Tensor*> operands(const Node& node, std::span<const Tensor> inputs, size_t n,
                                    uint32_t constants) {
  std::vector<const Tensor*> out;
  size_t next_input = 0, next_weight = 0;
  for (size_t i = 0; i < n; ++i)
    out.push_back(constants & (1u << i) ? &node.weights[next_weight++] : &inputs[next_input++]);
  return out;
}

// Calls f(y_index, offsets) for every output element, with the offset of each operand under
// numpy broadcasting.
template <class F>
void for_each_broadcast(const std::vector<const Tensor*>& ops, const Shape& out, F f) {
  const size_t rank = out.size();
  std::vector<std::vector<int64_t>> bstrides;
  for (const Tensor* t : ops) {
    const auto st = strides_of(t->shape());
    std::vector<int64_t> b(rank, 0);
    const size_t lead = rank - t->shape().size();
    for (size_t a = 0; a < t->shape().size(); ++a) b[lead + a] = t->shape()[a] == 1 ? 0 : st[a];
    bstrides.push_back(std::move(b));
  }
  std::vector<int64_t> c, off(ops.size());
  const int64_t n = shape_elements(out);
  for (int64_t i = 0; i < n; ++i) {
    unravel(i, out, c);
    for (size_t k = 0; k < ops.size(); ++k)
      off[k] = std::inner_product(c.begin(), c.end(), bstrides[k].begin(), int64_t{0});
    f(i, off);
  }
}

}  // namespace

void run_unary(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<UnaryParams>();
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  for (int64_t i = 0; i < x.size(); ++i) yp[i] = unary(p, xp[i]);
}

void run_binary(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto& p = node.get<BinaryParams>();
  const auto ops = operands(node, inputs, 2, p.constant_operands);
  const float* a = ops[0]->data_as<float>();
  const float* b = ops[1]->data_as<float>();
  float* yp = y.data_as<float>();
  // The common cases (same shapes, or a scalar such as the 3.0 of x + 3.0) need no index
  // arithmetic; the general loop below gives the same values.
  const int64_t n = y.size();
  const bool a_full = ops[0]->size() == n, b_full = ops[1]->size() == n;
  if ((a_full || ops[0]->size() == 1) && (b_full || ops[1]->size() == 1) &&
      (!a_full || ops[0]->shape() == y.shape()) && (!b_full || ops[1]->shape() == y.shape())) {
    for (int64_t i = 0; i < n; ++i) yp[i] = binary(p.kind, a[a_full ? i : 0], b[b_full ? i : 0]);
    return;
  }
  for_each_broadcast(ops, y.shape(), [&](int64_t i, const std::vector<int64_t>& o) {
    yp[i] = binary(p.kind, a[o[0]], b[o[1]]);
  });
}

void run_where(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const auto ops = operands(node, inputs, 3, node.get<WhereParams>().constant_operands);
  const float* c = ops[0]->data_as<float>();
  const float* a = ops[1]->data_as<float>();
  const float* b = ops[2]->data_as<float>();
  float* yp = y.data_as<float>();
  for_each_broadcast(ops, y.shape(), [&](int64_t i, const std::vector<int64_t>& o) {
    yp[i] = c[o[0]] != 0.f ? a[o[1]] : b[o[2]];
  });
}

void run_gather(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  const Tensor& x = inputs[0];
  const Tensor& idx = inputs.size() == 2 ? inputs[1] : node.weights[0];
  const int64_t axis = node.get<GatherParams>().axis;
  const int64_t dim = x.dim(static_cast<int>(axis));
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= x.dim(a);
  for (int a = static_cast<int>(axis) + 1; a < x.rank(); ++a) inner *= x.dim(a);
  const float* xp = x.data_as<float>();
  const float* ip = idx.data_as<float>();
  float* yp = y.data_as<float>();
  const int64_t n_idx = idx.size();
  for (int64_t k = 0; k < n_idx; ++k) {
    // Indices come from the data when they are an input: checked here, as Embedding does.
    const float v = ip[k];
    if (!(v >= static_cast<float>(-dim) && v < static_cast<float>(dim)) || v != std::floor(v))
      fail(ErrorCode::invalid_argument, node.label(), ": index ", v, " is out of range for axis ",
           axis, " of size ", dim);
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n_idx; ++k) {
      int64_t j = static_cast<int64_t>(ip[k]);
      if (j < 0) j += dim;
      const float* src = xp + (o * dim + j) * inner;
      std::copy(src, src + inner, yp + (o * n_idx + k) * inner);
    }
}

void run_strided_slice(const Node& node, const Tensor& x, Tensor& y) {
  const auto& p = node.get<StridedSliceParams>();
  const Shape& s = x.shape();
  std::vector<int64_t> start(s.size(), 0), step(s.size(), 1);
  for (size_t a = 0; a < p.axes.size(); ++a) {
    const ResolvedSlice r = resolve_slice(p.axes[a], s[a]);
    start[a] = r.start;
    step[a] = r.step;
  }
  const auto xs = strides_of(s);
  const float* xp = x.data_as<float>();
  float* yp = y.data_as<float>();
  std::vector<int64_t> c;
  for (int64_t i = 0; i < y.size(); ++i) {
    unravel(i, y.shape(), c);
    int64_t off = 0;
    for (size_t a = 0; a < s.size(); ++a) off += (start[a] + c[a] * step[a]) * xs[a];
    yp[i] = xp[off];
  }
}

void run_shape_of(const Tensor& x, Tensor& y) {
  for (int a = 0; a < x.rank(); ++a) y.data_as<float>()[a] = static_cast<float>(x.dim(a));
}

}  // namespace krt::reference
