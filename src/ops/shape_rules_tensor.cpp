#include "ops/shape_rules_tensor.h"

#include <algorithm>

#include "core/check.h"

namespace krt {

Shape broadcast_shapes(const Node& node, const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    for (size_t j = 0; j < s.size(); ++j) {
      int64_t& o = out[rank - s.size() + j];
      const int64_t d = s[j];
      if (d == 1) continue;
      if (o == 1 || (o == dynamic && d >= 0)) {
        o = d;
      } else if (d >= 0 && o >= 0 && d != o) {
        std::string all;
        for (const Shape& t : shapes) all += (all.empty() ? "" : ", ") + shape_to_string(t);
        fail(ErrorCode::invalid_file, node.label(), ": operand shapes ", all,
             " cannot be broadcast together");
      }
    }
  }
  return out;
}

std::vector<Shape> operand_shapes(const Node& node, const std::vector<Shape>& inputs,
                                  size_t operands, uint32_t constant_operands) {
  std::vector<Shape> out;
  size_t next_input = 0, next_weight = 0;
  for (size_t i = 0; i < operands; ++i) {
    if (constant_operands & (1u << i)) {
      if (next_weight >= node.weights.size())
        fail(ErrorCode::invalid_file, node.label(), ": operand ", i,
             " is a constant, but the node has ", node.weights.size(), " weight(s)");
      out.push_back(node.weights[next_weight++].shape());
    } else {
      if (next_input >= inputs.size())
        fail(ErrorCode::invalid_file, node.label(), ": expects ", operands, " operands, found ",
             inputs.size(), " input(s) and ", node.weights.size(), " constant(s)");
      out.push_back(inputs[next_input++]);
    }
  }
  if (next_input != inputs.size())
    fail(ErrorCode::invalid_file, node.label(), ": expects ", next_input, " input(s), found ",
         inputs.size());
  return out;
}

Shape infer_binary(const Node& node, const std::vector<Shape>& inputs) {
  return broadcast_shapes(
      node, operand_shapes(node, inputs, 2, node.get<BinaryParams>().constant_operands));
}

Shape infer_where(const Node& node, const std::vector<Shape>& inputs) {
  return broadcast_shapes(
      node, operand_shapes(node, inputs, 3, node.get<WhereParams>().constant_operands));
}

// x.shape[:axis] + indices.shape + x.shape[axis + 1:], as numpy.take.
Shape infer_gather(const Node& node, const std::vector<Shape>& inputs) {
  const bool from_input = inputs.size() == 2;
  if (inputs.empty() || inputs.size() > 2 || (!from_input && node.weights.size() != 1))
    fail(ErrorCode::invalid_file, node.label(),
         ": expects a tensor and indices (an input or one weight), found ", inputs.size(),
         " input(s) and ", node.weights.size(), " weight(s)");
  const Shape& x = inputs[0];
  const Shape idx = from_input ? inputs[1] : node.weights[0].shape();
  const int64_t axis = node.get<GatherParams>().axis;
  if (axis < 0 || axis >= static_cast<int64_t>(x.size()))
    fail(ErrorCode::invalid_file, node.label(), ": axis ", axis,
         " is out of range for an input of rank ", x.size());
  if (!from_input && x[axis] >= 0) {
    const Tensor& w = node.weights[0];
    for (int64_t i = 0; i < w.size(); ++i) {
      const float v = w.data_as<float>()[i];
      if (!(v >= static_cast<float>(-x[axis]) && v < static_cast<float>(x[axis])))
        fail(ErrorCode::invalid_file, node.label(), ": index ", v, " is out of range for axis ",
             axis, " of size ", x[axis]);
    }
  }
  Shape out(x.begin(), x.begin() + axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  return out;
}

Shape infer_strided_slice(const Node& node, const Shape& in) {
  const auto& p = node.get<StridedSliceParams>();
  if (p.axes.size() > in.size())
    fail(ErrorCode::invalid_file, node.label(), ": slices for ", p.axes.size(),
         " axes, input has rank ", in.size());
  Shape out = in;
  for (size_t i = 0; i < p.axes.size(); ++i) {
    if (p.axes[i].step == 0)
      fail(ErrorCode::invalid_file, node.label(), ": slice step is zero on axis ", i);
    if (in[i] >= 0) out[i] = resolve_slice(p.axes[i], in[i]).length;
  }
  return out;
}

}  // namespace krt
