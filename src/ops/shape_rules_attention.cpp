// Output-shape rules for einsum, masked_softmax, l2_normalize and additive_score. Unknown (-1)
// dimensions propagate; mismatches throw invalid_file naming the layer.
#include "ops/shape_rules_attention.h"

#include <map>

#include "core/check.h"

namespace krt {

namespace {

bool known(int64_t d) { return d >= 0; }

bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

void check_axes(const Node& node, const std::vector<int64_t>& axes, size_t rank) {
  if (axes.empty()) fail(ErrorCode::invalid_file, node.label(), ": no axis given");
  for (int64_t a : axes)
    if (a < 0 || a >= static_cast<int64_t>(rank))
      fail(ErrorCode::invalid_file, node.label(), ": axis ", a,
           " is out of range for an input of rank ", rank);
}

// Merges one more occurrence of a label's size: 1 broadcasts, -1 is unknown.
void merge_dim(const Node& node, char label, int64_t& have, int64_t d) {
  if (have == d || d == 1 || (!known(d) && have != 1)) return;
  if (have == 1 || !known(have)) {
    have = d;
    return;
  }
  fail(ErrorCode::invalid_file, node.label(), ": einsum label '", std::string(1, label),
       "' has sizes ", have, " and ", d);
}

}  // namespace

Shape infer_einsum(const Node& node, const std::vector<Shape>& inputs) {
  const auto& p = node.get<EinsumParams>();
  std::vector<Shape> operands = inputs;
  if (p.operands.size() == inputs.size() + 1) {
    if (node.weights.empty())
      fail(ErrorCode::invalid_file, node.label(), ": einsum kernel weight is missing");
    operands.push_back(node.weights[0].shape());
  }
  if (operands.size() != p.operands.size() || operands.empty())
    fail(ErrorCode::invalid_file, node.label(), ": einsum equation has ", p.operands.size(),
         " operands, found ", operands.size());
  std::map<char, int64_t> size;
  for (size_t i = 0; i < operands.size(); ++i) {
    const std::string& labels = p.operands[i];
    if (labels.size() != operands[i].size())
      fail(ErrorCode::invalid_file, node.label(), ": einsum operand ", i, " '", labels,
           "' does not fit shape ", shape_to_string(operands[i]));
    for (size_t j = 0; j < labels.size(); ++j) {
      if (!is_label(labels[j]))
        fail(ErrorCode::invalid_file, node.label(), ": bad einsum label in '", labels, "'");
      auto [it, fresh] = size.emplace(labels[j], operands[i][j]);
      if (!fresh) merge_dim(node, labels[j], it->second, operands[i][j]);
    }
  }
  Shape out;
  for (char c : p.output) {
    auto it = size.find(c);
    if (it == size.end())
      fail(ErrorCode::invalid_file, node.label(), ": einsum output label '", std::string(1, c),
           "' is in no operand");
    if (p.output.find(c) != p.output.rfind(c))
      fail(ErrorCode::invalid_file, node.label(), ": einsum output label '", std::string(1, c),
           "' repeats");
    out.push_back(it->second);
  }
  const size_t bias_at = node.weights.size() - 1;
  if (p.has_bias) {
    if (node.weights.size() < (p.operands.size() == inputs.size() + 1 ? 2u : 1u))
      fail(ErrorCode::invalid_file, node.label(), ": einsum bias weight is missing");
    const Shape& b = node.weights[bias_at].shape();
    bool fits = b.size() <= out.size();
    for (size_t i = 0; fits && i < b.size(); ++i) {
      const int64_t o = out[out.size() - b.size() + i];
      fits = b[i] == 1 || !known(o) || b[i] == o;
    }
    if (!fits)
      fail(ErrorCode::invalid_file, node.label(), ": bias of shape ", shape_to_string(b),
           " does not broadcast to output ", shape_to_string(out));
  }
  return out;
}

Shape infer_masked_softmax(const Node& node, const std::vector<Shape>& inputs) {
  const auto& p = node.get<MaskedSoftmaxParams>();
  if (inputs.empty() || inputs.size() > 2)
    fail(ErrorCode::invalid_file, node.label(),
         ": masked softmax takes scores and an optional mask, found ", inputs.size(), " inputs");
  const Shape& x = inputs[0];
  check_axes(node, p.axes, x.size());
  if (p.causal && x.size() < 2)
    fail(ErrorCode::invalid_file, node.label(), ": a causal mask needs rank >= 2");
  if (inputs.size() == 2) {
    const Shape& m = inputs[1];
    bool fits = m.size() == x.size();
    for (size_t i = 0; fits && i < m.size(); ++i)
      fits = m[i] == 1 || !known(m[i]) || !known(x[i]) || m[i] == x[i];
    if (!fits)
      fail(ErrorCode::invalid_file, node.label(), ": mask of shape ", shape_to_string(m),
           " does not broadcast to scores ", shape_to_string(x));
  }
  return x;
}

Shape infer_l2_normalize(const Node& node, const std::vector<Shape>& inputs) {
  if (inputs.size() != 1)
    fail(ErrorCode::invalid_file, node.label(), ": expects 1 input, found ", inputs.size());
  check_axes(node, node.get<L2NormalizeParams>().axes, inputs[0].size());
  return inputs[0];
}

Shape infer_additive_score(const Node& node, const std::vector<Shape>& inputs) {
  const auto& p = node.get<AdditiveScoreParams>();
  if (inputs.size() != 2)
    fail(ErrorCode::invalid_file, node.label(), ": expects query and key, found ", inputs.size(),
         " inputs");
  const Shape& q = inputs[0];
  const Shape& k = inputs[1];
  if (q.size() < 3 || q.size() != k.size())
    fail(ErrorCode::invalid_file, node.label(), ": query ", shape_to_string(q), " and key ",
         shape_to_string(k), " should both be (batch, ..., steps, features)");
  Shape out(q.begin(), q.end() - 1);
  for (size_t i = 0; i + 2 < q.size(); ++i) {
    if (known(q[i]) && known(k[i]) && q[i] != k[i])
      fail(ErrorCode::invalid_file, node.label(), ": query ", shape_to_string(q), " and key ",
           shape_to_string(k), " differ on axis ", i);
    if (!known(out[i])) out[i] = k[i];
  }
  const int64_t d = q.back();
  if (known(d) && known(k.back()) && d != k.back())
    fail(ErrorCode::invalid_file, node.label(), ": query has ", d, " features, key has ", k.back());
  if (p.has_weight) {
    if (node.weights.empty())
      fail(ErrorCode::invalid_file, node.label(), ": scale weight is missing");
    if (known(d) && node.weights[0].size() != d)
      fail(ErrorCode::invalid_file, node.label(), ": scale has shape ",
           shape_to_string(node.weights[0].shape()), ", expected (", d, ",)");
  }
  out.push_back(k[k.size() - 2]);
  return out;
}

}  // namespace krt
