#include "ops/shape_rules_norm.h"

#include "core/check.h"

namespace krt {

Shape infer_normalize(const Node& node, const Shape& in) {
  const auto& p = node.get<NormalizeParams>();
  const int64_t rank = static_cast<int64_t>(in.size());
  if (p.axes.empty() && p.group_axis < 0)
    fail(ErrorCode::invalid_file, node.label(), ": no axis to normalize over");
  for (int64_t a : p.axes)
    if (a < 0 || a >= rank)
      fail(ErrorCode::invalid_file, node.label(), ": axis ", a,
           " is out of range for an input of rank ", rank);
  if (p.group_axis >= 0) {
    if (p.group_axis < 0 || p.group_axis >= rank)
      fail(ErrorCode::invalid_file, node.label(), ": group axis ", p.group_axis,
           " is out of range for rank ", rank);
    const int64_t c = in[p.group_axis];
    if (c < 0)
      fail(ErrorCode::invalid_file, node.label(), ": the grouped axis must have a known size");
    if (p.groups <= 0 || c % p.groups != 0)
      fail(ErrorCode::invalid_file, node.label(), ": ", c, " channels cannot be split into ",
           p.groups, " groups");
  }
  const size_t expected = (p.has_scale ? 1 : 0) + (p.has_shift ? 1 : 0);
  if (node.weights.size() != expected)
    fail(ErrorCode::invalid_file, node.label(), ": expects ", expected, " weights, found ",
         node.weights.size());
  for (const Tensor& w : node.weights) {
    bool fits = w.rank() == rank;
    for (int64_t i = 0; fits && i < rank; ++i)
      fits = w.shape()[i] == 1 || in[i] < 0 || w.shape()[i] == in[i];
    if (!fits)
      fail(ErrorCode::invalid_file, node.label(), ": weight of shape ", shape_to_string(w.shape()),
           " does not broadcast to the input ", shape_to_string(in));
  }
  return in;
}

Shape infer_resize(const Node& node, const Shape& in) {
  const auto& p = node.get<ResizeParams>();
  const size_t spatial = p.size.empty() ? p.factors.size() : p.size.size();
  if (spatial == 0 || in.size() != spatial + 2)
    fail(ErrorCode::invalid_file, node.label(), ": input has shape ", shape_to_string(in),
         ", expected rank ", spatial + 2, " (batch, ", spatial, " spatial axes, channels)");
  Shape out = in;
  for (size_t i = 0; i < spatial; ++i) {
    if (!p.size.empty()) {
      if (p.size[i] <= 0)
        fail(ErrorCode::invalid_file, node.label(), ": output size ", p.size[i], " on axis ",
             i + 1);
      out[i + 1] = p.size[i];
    } else {
      if (p.factors[i] <= 0)
        fail(ErrorCode::invalid_file, node.label(), ": factor ", p.factors[i], " on axis ", i + 1);
      out[i + 1] = in[i + 1] < 0 ? dynamic : in[i + 1] * p.factors[i];
    }
  }
  return out;
}

}  // namespace krt
