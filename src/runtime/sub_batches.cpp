// A large batch on the cpu device as several smaller ones, when every node treats batch rows
// independently. A MobileNet at batch 32 has 100 MB activations that stream through memory
// between every pair of layers; one sample's (a few MB) stay in cache, and measured per sample
// its layers ran about 1.4 times faster than at batch 32. Models whose work is reading weights
// (the decoder's Dense layers) have small activations and are not split.
#include <algorithm>
#include <cstring>

#include "runtime/execution_plan.h"

namespace krt {

namespace {

// Intermediates of this many bytes or fewer per sub-batch stay in the core's caches.
constexpr size_t kSubBatchBytes = size_t{4} << 20;

int64_t normalized_axis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

// Whether `node` computes each batch row from the same row of its inputs only.
bool per_row(const Node& node, const Graph& graph) {
  const size_t rank = graph.values[node.outputs[0]].shape.size();
  switch (node.kind) {
    case OpKind::dense:
    case OpKind::conv:
    case OpKind::depthwise_conv:
    case OpKind::conv_transpose:
    case OpKind::activation:
    case OpKind::pool:
    case OpKind::global_pool:
    case OpKind::identity:
    case OpKind::elementwise:
    case OpKind::pad:
    case OpKind::upsample:
      return true;
    case OpKind::scale_shift: {
      const auto& p = node.get<ScaleShiftParams>();
      if (normalized_axis(p.axis, rank) == 0) return false;
      return std::none_of(p.axes.begin(), p.axes.end(),
                          [&](int64_t a) { return normalized_axis(a, rank) == 0; });
    }
    case OpKind::axis_activation: {
      const auto& p = node.get<AxisActivationParams>();
      return std::none_of(p.axes.begin(), p.axes.end(),
                          [&](int64_t a) { return normalized_axis(a, rank) == 0; });
    }
    case OpKind::concat:
      return normalized_axis(node.get<ConcatParams>().axis, rank) != 0;
    case OpKind::reshape: {  // Keras's Reshape keeps the batch axis and moves nothing else
      if (node.get<ReshapeParams>().with_batch) return false;
      const Shape& in = graph.values[node.inputs[0]].shape;
      const Shape& out = graph.values[node.outputs[0]].shape;
      int64_t a = 1, b = 1;
      for (size_t i = 1; i < in.size(); ++i) a = in[i] < 0 ? -1 : a * in[i];
      for (size_t i = 1; i < out.size(); ++i) b = out[i] < 0 ? -1 : b * out[i];
      return a > 0 && a == b;
    }
    default:
      return false;
  }
}

}  // namespace

bool is_batch_separable(const Graph& graph) {
  for (const Value& v : graph.values)
    if (v.shape.empty() || v.shape[0] != dynamic) return false;
  for (const Node& n : graph.nodes)
    if (n.inputs.empty() || n.outputs.size() != 1 || !per_row(n, graph)) return false;
  return !graph.inputs.empty();
}

int64_t ExecutionPlan::sub_batch_rows(const std::vector<Tensor>& given) const {
  if (!batch_separable || given.size() != inputs.size()) return 0;
  const int64_t rows = given.empty() || given[0].rank() < 1 ? 0 : given[0].dim(0);
  std::vector<Shape> shapes;
  for (size_t i = 0; i < given.size(); ++i) {
    const Tensor& t = given[i];
    const Shape& want = inputs[i].shape;  // inputs the run would refuse are left to run_whole
    if (!t.is_host() || t.rank() < 1 || t.dim(0) != rows || t.shape().size() != want.size())
      return 0;
    for (size_t d = 1; d < want.size(); ++d)
      if (want[d] >= 0 && want[d] != t.shape()[d]) return 0;
    shapes.push_back(t.shape());
  }
  if (rows < 2) return 0;
  const size_t per_row = plan_for(shapes)->arena_bytes / static_cast<size_t>(rows);
  // Small rows (the decoder's 100 KB) leave the whole batch to the kernels, whose weights are
  // then read once for all rows.
  if (per_row < kSubBatchBytes / 4) return 0;
  const int64_t sub = static_cast<int64_t>(kSubBatchBytes / per_row);
  return std::clamp<int64_t>(sub, 1, rows) < rows ? std::max<int64_t>(sub, 1) : 0;
}

std::vector<Tensor> ExecutionPlan::run_in_sub_batches(const std::vector<Tensor>& given, int64_t sub,
                                                      const RunOptions& run_options) const {
  const int64_t rows = given[0].dim(0);
  std::vector<Tensor> outputs;
  double total_ms = 0;
  std::vector<NodeProfile> profile;
  for (int64_t r0 = 0; r0 < rows; r0 += sub) {
    const int64_t n = std::min(sub, rows - r0);
    std::vector<Tensor> part;
    for (const Tensor& t : given) {
      Shape s = t.shape();
      s[0] = n;
      const size_t row_bytes = t.nbytes() / static_cast<size_t>(rows);
      part.push_back(Tensor::wrap(
          t.dtype(), s,
          const_cast<uint8_t*>(static_cast<const uint8_t*>(t.data())) + r0 * row_bytes));
    }
    RunOptions options = run_options;
    double ms = 0;
    std::vector<NodeProfile> part_profile;
    if (run_options.device_time_ms) options.device_time_ms = &ms;
    if (run_options.profile) options.profile = &part_profile;
    std::vector<Tensor> got = run_whole(part, options, nullptr);
    if (outputs.empty())
      for (const Tensor& g : got) {
        Shape s = g.shape();
        s[0] = rows;
        outputs.emplace_back(g.dtype(), s);
      }
    for (size_t i = 0; i < got.size(); ++i) {
      const size_t row_bytes = outputs[i].nbytes() / static_cast<size_t>(rows);
      std::memcpy(static_cast<uint8_t*>(outputs[i].data()) + r0 * row_bytes, got[i].data(),
                  got[i].nbytes());
    }
    total_ms += ms;
    if (profile.empty()) {
      profile = std::move(part_profile);
    } else {
      for (size_t i = 0; i < profile.size() && i < part_profile.size(); ++i)
        profile[i].ms += part_profile[i].ms;
    }
  }
  if (run_options.device_time_ms) *run_options.device_time_ms = total_ms;
  if (run_options.profile) *run_options.profile = std::move(profile);
  return outputs;
}

}  // namespace krt
