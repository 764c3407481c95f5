// Fusions for the fast CPU device: fold a per-channel scale_shift (inference BatchNormalization)
// into the dense or convolution that feeds it, and give that node the activation that follows
// it. The reference device skips these: it stays the oracle, one Keras layer per kernel.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/weight_storage.h"
#include "passes/passes.h"

namespace krt {

namespace {

// Dense and the convolutions: the ops whose CPU kernels fold a scale and run an activation.
bool is_linear_producer(const Node& n) {
  const bool foldable = n.kind == OpKind::dense || n.kind == OpKind::conv ||
                        n.kind == OpKind::depthwise_conv || n.kind == OpKind::conv_transpose;
  return foldable && n.fused_activation()->is_linear();
}

// How often `v` is read (by nodes, or as a graph output).
int uses(const Graph& graph, ValueId v) {
  int count = static_cast<int>(std::count(graph.outputs.begin(), graph.outputs.end(), v));
  for (const Node& n : graph.nodes)
    count += static_cast<int>(std::count(n.inputs.begin(), n.inputs.end(), v));
  return count;
}

// The node that alone reads `node`'s input, when that input comes from a dense or
// convolution with no activation of its own; -1 otherwise.
int fusable_producer(const Graph& graph, const Node& node) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return -1;
  const int p = graph.values[node.inputs[0]].producer;
  if (p < 0 || graph.nodes[p].outputs.size() != 1 || !is_linear_producer(graph.nodes[p])) return -1;
  return uses(graph, node.inputs[0]) == 1 ? p : -1;
}

// A kernel in Keras's layout as (outer, channels, inner) around the output channel axis a
// scale_shift on the producer's last axis scales.
struct ChannelAxis {
  int64_t outer, channels, inner;
};
ChannelAxis channel_axis(const Node& producer) {
  const Shape& ks = producer.weights[0].shape();
  const int64_t size = producer.weights[0].size();
  switch (producer.kind) {
    case OpKind::conv_transpose:  // (k..., cout, cin)
      return {size / (ks[ks.size() - 2] * ks.back()), ks[ks.size() - 2], ks.back()};
    case OpKind::depthwise_conv:  // (k..., cin, mult): channel cin * mult + m
      return {size / (ks[ks.size() - 2] * ks.back()), ks[ks.size() - 2] * ks.back(), 1};
    default:  // (..., cout)
      return {size / ks.back(), ks.back(), 1};
  }
}

bool& has_bias(Node& n) {
  return n.kind == OpKind::dense ? n.get<DenseParams>().has_bias : n.get<ConvParams>().has_bias;
}

// W' = W * s, b' = b * s + t. On copies, so the model's own weights stay untouched, from
// allocate_weight_storage (huge-page chunks, not zeroed); or, `in_place`, in the kernel's own
// memory, when the graph alone holds it (a MobileNet: 8.6 MB less to allocate and fill).
void fold(Node& producer, const Node& scale_shift, int64_t channels, bool in_place) {
  const Tensor& s = scale_shift.weights[0];
  const Tensor& t = scale_shift.weights[1];
  auto at = [&](const Tensor& w, int64_t c) { return w.data_as<float>()[w.size() == 1 ? 0 : c]; };
  Tensor& original = producer.weights[0];
  Tensor kernel = original;
  if (!in_place) {
    std::shared_ptr<void> storage = allocate_weight_storage(original.nbytes());
    kernel = Tensor::adopt(DType::f32, original.shape(), storage, storage.get());
  }
  const float* from = std::as_const(original).data_as<float>();
  float* k = kernel.data_as<float>();
  const ChannelAxis axis = channel_axis(producer);
  std::vector<float> scale(static_cast<size_t>(axis.channels));
  for (int64_t c = 0; c < axis.channels; ++c) scale[c] = at(s, c);
  if (axis.inner == 1) {  // channels innermost (every kernel but ConvTranspose's): vectorizes
    const int64_t n = axis.channels;
    const float* sc = scale.data();
    for (int64_t o = 0; o < axis.outer; ++o) {
      const float* src = from + o * n;
      float* dst = k + o * n;
      for (int64_t c = 0; c < n; ++c) dst[c] = src[c] * sc[c];
    }
  } else {
    for (int64_t o = 0, i = 0; o < axis.outer; ++o)
      for (int64_t c = 0; c < axis.channels; ++c)
        for (int64_t j = 0; j < axis.inner; ++j, ++i) k[i] = from[i] * scale[c];
  }
  Tensor bias(DType::f32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    const float b = has_bias(producer) ? producer.weights[1].data_as<float>()[c] : 0.f;
    bias.data_as<float>()[c] = b * at(s, c) + at(t, c);
  }
  producer.weights = {kernel, bias};
  has_bias(producer) = true;
}

// Whether `kernel` (the weight of one node) may be scaled in its own memory: memory of ours
// (not a file's read-only map) that no other weight of the graph shares or overlaps (a
// Keras layer called twice gives two nodes one kernel).
bool foldable_in_place(const Graph& graph, const Tensor& kernel) {
  const auto* begin = static_cast<const uint8_t*>(kernel.data());
  const auto* end = begin + kernel.nbytes();
  if (!in_weight_storage(begin, kernel.nbytes())) return false;
  int readers = 0;
  for (const Node& n : graph.nodes)
    for (const Tensor& w : n.weights) {
      const auto* b = static_cast<const uint8_t*>(w.data());
      if (b && b < end && begin < b + w.nbytes()) ++readers;
    }
  return readers == 1;
}

}  // namespace

int fold_scale_shifts(Graph& graph, bool graph_owns_weights) {
  int folded = 0;
  for (Node& n : graph.nodes) {
    if (n.kind != OpKind::scale_shift) continue;
    const auto& p = n.get<ScaleShiftParams>();
    const int producer = fusable_producer(graph, n);
    if (producer < 0 || p.axes.size() > 1) continue;
    const Shape& shape = graph.values[n.inputs[0]].shape;
    if (p.axis != static_cast<int64_t>(shape.size()) - 1 || shape.back() < 0)
      continue;  // channels last only
    const int64_t channels = shape.back();
    if ((n.weights[0].size() != 1 && n.weights[0].size() != channels) ||
        (n.weights[1].size() != 1 && n.weights[1].size() != channels))
      continue;
    Node& target = graph.nodes[producer];
    fold(target, n, channels,
         graph_owns_weights && foldable_in_place(graph, target.weights[0]));
    graph.nodes[producer].name += "+" + n.name;
    replace_uses(graph, n.outputs[0], n.inputs[0]);
    ++folded;
  }
  if (folded) remove_dead_nodes(graph);
  return folded;
}

int fuse_activations(Graph& graph) {
  int fused = 0;
  for (Node& n : graph.nodes) {
    if (n.kind != OpKind::activation) continue;
    const int producer = fusable_producer(graph, n);
    if (producer < 0) continue;
    *graph.nodes[producer].fused_activation() = n.get<ActivationParams>().activation;
    replace_uses(graph, n.outputs[0], n.inputs[0]);
    ++fused;
  }
  if (fused) remove_dead_nodes(graph);
  return fused;
}

}  // namespace krt
