// A large batch on the cpu device as several smaller ones, when every node treats batch rows
// independently. A MobileNet at batch 32 has 100 MB activations that stream through memory
// between every pair of layers; one sample's (a few MB) stay in cache, and measured per sample
// its layers ran about 1.4 times faster than at batch 32. Models whose work is reading weights
// (the decoder's Dense layers) have small activations and are not split.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

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
  const auto start = std::chrono::steady_clock::now();
  const int64_t rows = given[0].dim(0), parts = (rows + sub - 1) / sub;
  // The outputs' full-batch shapes, from the memory plan of the whole batch.
  std::vector<Shape> shapes;
  for (const Tensor& t : given) shapes.push_back(t.shape());
  std::shared_ptr<const MemoryPlan> memory = plan_for(shapes);
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < graph.outputs.size(); ++i)
    outputs.emplace_back(DType::f32, memory->shapes[graph.outputs[i]]);
  // With several threads, sub-batches run side by side, one thread each: a row's layers are
  // too small to split between threads without waiting at every one.
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = static_cast<int>(std::min<int64_t>(threads, parts));
  std::vector<std::vector<NodeProfile>> profiles(static_cast<size_t>(workers));
  std::atomic<int64_t> next{0};
  auto work = [&](int w) {
    for (int64_t part; (part = next.fetch_add(1)) < parts;) {
      const int64_t r0 = part * sub, n = std::min(sub, rows - r0);
      std::vector<Tensor> in;
      for (const Tensor& t : given) {
        Shape s = t.shape();
        s[0] = n;
        const size_t row_bytes = t.nbytes() / static_cast<size_t>(rows);
        in.push_back(Tensor::wrap(
            t.dtype(), s,
            const_cast<uint8_t*>(static_cast<const uint8_t*>(t.data())) + r0 * row_bytes));
      }
      RunOptions options_part;
      std::vector<NodeProfile> part_profile;
      if (run_options.profile) options_part.profile = &part_profile;
      std::vector<Tensor> got = run_whole(in, options_part, nullptr, workers > 1 ? 1 : 0);
      for (size_t i = 0; i < got.size(); ++i) {
        const size_t row_bytes = outputs[i].nbytes() / static_cast<size_t>(rows);
        std::memcpy(static_cast<uint8_t*>(outputs[i].data()) + r0 * row_bytes, got[i].data(),
                    got[i].nbytes());
      }
      std::vector<NodeProfile>& mine = profiles[static_cast<size_t>(w)];
      if (mine.empty()) {
        mine = std::move(part_profile);
      } else {
        for (size_t i = 0; i < mine.size() && i < part_profile.size(); ++i)
          mine[i].ms += part_profile[i].ms;
      }
    }
  };
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  for (int w = 1; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        work(w);
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
        next = parts;  // the others stop at their next sub-batch
      }
    });
  try {
    work(0);
  } catch (...) {
    errors[0] = std::current_exception();
    next = parts;
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  if (run_options.device_time_ms)  // the host's wall clock over all sub-batches
    *run_options.device_time_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (run_options.profile) {  // per node, the time summed over sub-batches and threads
    std::vector<NodeProfile> total = std::move(profiles[0]);
    for (size_t w = 1; w < profiles.size(); ++w)
      for (size_t i = 0; i < total.size() && i < profiles[w].size(); ++i)
        total[i].ms += profiles[w][i].ms;
    *run_options.profile = std::move(total);
  }
  return outputs;
}

}  // namespace krt
