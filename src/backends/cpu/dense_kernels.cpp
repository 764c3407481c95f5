#include "backends/cpu/dense_kernels.h"

#include "backends/cpu/elementwise_kernels.h"
#include "backends/cpu/gemv.h"

namespace krt::cpu {

std::unique_ptr<DenseGemv> DenseGemv::for_node(const Node& node) {
  if (!cpu_has_avx512() || node.kind != OpKind::dense || node.weights.empty() ||
      node.weights[0].dtype() != DType::f32 || node.weights[0].rank() != 2)
    return nullptr;
  return std::unique_ptr<DenseGemv>(new DenseGemv(node));
}

bool DenseGemv::run(const Tensor& x, Tensor& y) const {
  const Tensor& w = node_.weights[0];
  const int64_t k = w.dim(0), n = w.dim(1);
  if (x.dtype() != DType::f32 || x.rank() < 1 || x.dim(-1) != k || y.dim(-1) != n ||
      x.size() / k != y.size() / n || x.size() / k > kMaxRows)
    return false;
  const Activation& act = *node_.fused_activation();
  const bool relu = is_plain_relu(act);
  gemv_rows(x.size() / k, k, n, x.data_as<float>(), w.data_as<float>(),
            node_.get<DenseParams>().has_bias ? node_.weights[1].data_as<float>() : nullptr, relu,
            y.data_as<float>());
  if (!relu && act.kind != ActivationKind::linear)
    activate(act, y.data_as<float>(), y.data_as<float>(), y.size());
  return true;
}

}  // namespace krt::cpu
