#include "ops/shape_rules_sequence.h"

#include "core/check.h"

namespace krt {

namespace {

bool known(int64_t d) { return d >= 0; }

// Two dimensions that must agree: the known one wins, a conflict is an error.
int64_t merge_dim(const Node& node, int64_t a, int64_t b, const char* what) {
  if (known(a) && known(b) && a != b)
    fail(ErrorCode::invalid_file, node.label(), ": ", what, ": ", a, " != ", b);
  return known(a) ? a : b;
}

void expect_weight_shape(const Node& node, size_t i, const Shape& expected, const char* what) {
  if (node.weights.size() <= i)
    fail(ErrorCode::invalid_file, node.label(), ": the ", what, " is missing");
  const Shape& s = node.weights[i].shape();
  bool ok = s.size() == expected.size();
  for (size_t k = 0; ok && k < s.size(); ++k) ok = !known(expected[k]) || s[k] == expected[k];
  if (!ok)
    fail(ErrorCode::invalid_file, node.label(), ": the ", what, " has shape ", shape_to_string(s),
         ", expected ", shape_to_string(expected));
}

}  // namespace

Shape infer_embedding(const Node& node, const Shape& in) {
  if (in.empty()) fail(ErrorCode::invalid_file, node.label(), ": the ids have no batch axis");
  expect_weight_shape(node, 0, {-1, -1}, "embedding table");
  Shape out = in;
  out.push_back(node.weights[0].shape()[1]);
  return out;
}

std::vector<Shape> infer_recurrent(const Node& node, const std::vector<Shape>& inputs) {
  const auto& p = node.get<RecurrentParams>();
  const int n_states = recurrent_state_count(p.kind);
  const size_t expected_inputs = 1 + (p.has_mask ? 1 : 0) + (p.has_initial_state ? n_states : 0);
  if (inputs.size() != expected_inputs)
    fail(ErrorCode::invalid_file, node.label(), ": expects ", expected_inputs, " inputs, found ",
         inputs.size());
  const Shape& x = inputs[0];
  if (x.size() != 3)
    fail(ErrorCode::invalid_file, node.label(), ": input has shape ", shape_to_string(x),
         ", expected (batch, time, features)");
  if (p.units <= 0) fail(ErrorCode::invalid_file, node.label(), ": units must be positive");
  const int64_t g = recurrent_gate_count(p.kind) * p.units;
  expect_weight_shape(node, 0, {x[2], g}, "kernel");
  expect_weight_shape(node, 1, {p.units, g}, "recurrent kernel");
  if (p.has_bias) {
    if (p.kind == RecurrentKind::gru && p.reset_after)
      expect_weight_shape(node, 2, {2, g}, "bias");
    else
      expect_weight_shape(node, 2, {g}, "bias");
  }
  int64_t batch = x[0];
  size_t next = 1;
  if (p.has_mask) {
    const Shape& m = inputs[next++];
    if (m.size() != 2)
      fail(ErrorCode::invalid_file, node.label(), ": the mask has shape ", shape_to_string(m),
           ", expected (batch, time)");
    batch = merge_dim(node, batch, m[0], "the mask's batch differs from the input's");
    merge_dim(node, x[1], m[1], "the mask's time steps differ from the input's");
  }
  if (p.has_initial_state) {
    for (int s = 0; s < n_states; ++s) {
      const Shape& st = inputs[next++];
      if (st.size() != 2 || (known(st[1]) && st[1] != p.units))
        fail(ErrorCode::invalid_file, node.label(), ": initial state ", s, " has shape ",
             shape_to_string(st), ", expected (batch, ", p.units, ")");
      batch = merge_dim(node, batch, st[0], "an initial state's batch differs from the input's");
    }
  }
  if (known(x[1]) && x[1] == 0)
    fail(ErrorCode::invalid_file, node.label(), ": the sequence has no time steps");
  std::vector<Shape> out;
  out.push_back(p.return_sequences ? Shape{batch, x[1], p.units} : Shape{batch, p.units});
  if (p.return_state)
    for (int s = 0; s < n_states; ++s) out.push_back({batch, p.units});
  return out;
}

Shape infer_compare(const Node&, const Shape& in) { return in; }

Shape infer_reduce(const Node& node, const Shape& in) {
  const auto& p = node.get<ReduceParams>();
  if (p.axes.empty()) fail(ErrorCode::invalid_file, node.label(), ": no axis to reduce");
  if ((p.kind == ReduceKind::argmax || p.kind == ReduceKind::argmin) && p.axes.size() != 1)
    fail(ErrorCode::invalid_file, node.label(), ": argmax and argmin reduce one axis, given ",
         p.axes.size());
  for (size_t i = 0; i < p.axes.size(); ++i) {
    if (p.axes[i] < 0 || p.axes[i] >= static_cast<int64_t>(in.size()))
      fail(ErrorCode::invalid_file, node.label(), ": axis ", p.axes[i],
           " is out of range for an input of rank ", in.size());
    if (i > 0 && p.axes[i] <= p.axes[i - 1])
      fail(ErrorCode::invalid_file, node.label(), ": reduction axes must be sorted and distinct");
  }
  // Reducing axis 0 away is allowed: recorded operations (ops.mean(x), moments over the batch)
  // give tensors without a batch axis, which the runtime handles like any other shape.
  Shape out;
  size_t k = 0;
  for (size_t a = 0; a < in.size(); ++a) {
    if (k < p.axes.size() && p.axes[k] == static_cast<int64_t>(a)) {
      ++k;
      if (p.keepdims) out.push_back(1);
    } else {
      out.push_back(in[a]);
    }
  }
  return out;
}

}  // namespace krt
