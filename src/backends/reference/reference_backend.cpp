// run_node: dispatch on the op kind to the per-family kernels.
#include "backends/reference/reference_backend.h"

#include "backends/reference/kernels.h"
#include "core/check.h"

namespace krt::reference {

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

void unravel(int64_t index, const Shape& shape, std::vector<int64_t>& coords) {
  coords.resize(shape.size());
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    coords[i] = index % shape[i];
    index /= shape[i];
  }
}

void run_node(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  if (node.kind == OpKind::custom) {
    std::vector<Tensor> out(outputs.begin(), outputs.end());  // views: the kernel writes through
    node.get<CustomParams>().layer->run(std::vector<Tensor>(inputs.begin(), inputs.end()), out);
    return;
  }
  if (node.kind == OpKind::recurrent && !inputs.empty() && !outputs.empty())
    return run_recurrent(node, inputs, outputs);
  if (inputs.empty() || outputs.size() != 1)
    fail(ErrorCode::internal, node.label(), ": reference kernel called with ", inputs.size(),
         " inputs and ", outputs.size(), " outputs");
  const Tensor& x = inputs[0];
  Tensor& y = outputs[0];
  switch (node.kind) {
    case OpKind::dense:
      return run_dense(node, x, y);
    case OpKind::conv:
      return run_conv(node, x, y);
    case OpKind::depthwise_conv:
      return run_depthwise_conv(node, x, y);
    case OpKind::conv_transpose:
      return run_conv_transpose(node, x, y);
    case OpKind::reshape:
    case OpKind::copy:
    case OpKind::identity:
      return run_copy(x, y);
    case OpKind::transpose:
      return run_transpose(node, x, y);
    case OpKind::activation:
      return run_activation(node, x, y);
    case OpKind::axis_activation:
      return run_axis_activation(node, x, y);
    case OpKind::prelu:
      return run_prelu(node, x, y);
    case OpKind::scale_shift:
      return run_scale_shift(node, x, y);
    case OpKind::pool:
      return run_pool(node, x, y);
    case OpKind::global_pool:
      return run_global_pool(node, x, y);
    case OpKind::pad:
      return run_pad(node, x, y);
    case OpKind::slice:
      return run_slice(node, x, y);
    case OpKind::upsample:
      return run_upsample(node, x, y);
    case OpKind::elementwise:
      return run_elementwise(node, inputs, y);
    case OpKind::concat:
      return run_concat(node, inputs, y);
    case OpKind::embedding:
      return run_embedding(node, x, y);
    case OpKind::recurrent:
      break;  // handled above: several outputs
    case OpKind::custom:
      break;  // handled above: the user's implementation
    case OpKind::compare:
      return run_compare(node, x, y);
    case OpKind::reduce:
      return run_reduce(node, x, y);
    case OpKind::normalize:
      return run_normalize(node, x, y);
    case OpKind::resize:
      return run_resize(node, x, y);
    case OpKind::einsum:
      return run_einsum(node, inputs, y);
    case OpKind::masked_softmax:
      return run_masked_softmax(node, inputs, y);
    case OpKind::l2_normalize:
      return run_l2_normalize(node, x, y);
    case OpKind::additive_score:
      return run_additive_score(node, inputs, y);
    case OpKind::unary:
      return run_unary(node, x, y);
    case OpKind::binary:
      return run_binary(node, inputs, y);
    case OpKind::where:
      return run_where(node, inputs, y);
    case OpKind::gather:
      return run_gather(node, inputs, y);
    case OpKind::strided_slice:
      return run_strided_slice(node, x, y);
    case OpKind::shape_of:
      return run_shape_of(x, y);
  }
  fail(ErrorCode::internal, node.label(), ": no reference kernel for op ", op_name(node.kind));
}

}  // namespace krt::reference
