// EinsumDense's computation, shared by the EinsumDense importer and MultiHeadAttention's
// query/key/value/output projections (which are EinsumDense sublayers).
#pragma once

#include <string>
#include <vector>

#include "keras/layer_importer.h"

namespace krt::keras {

// An EinsumDense equation with its ellipsis expanded for an input of rank `input_rank`:
// "...b,bc->...c" on rank 3 gives input "XYb", kernel "bc", output "XYc".
struct EinsumSpec {
  std::string input, kernel, output;
  size_t elided = 0;
  bool left_elided = false;
};
EinsumSpec parse_einsum_dense_equation(const LayerContext& ctx, const std::string& equation,
                                       size_t input_rank);

// Emits einsum(x, kernel) (+ bias over `bias_axes` when not null) with a fused activation,
// reading the kernel (variable 0) and bias (variable 1) from `scope`.
ValueId emit_einsum_dense(LayerContext& ctx, const WeightScope& scope, const std::string& equation,
                          const std::string* bias_axes, ValueId x, const Activation& activation,
                          const std::string& suffix);

// Variable `index` named `name` of `scope`, checked against `expected` (-1 matches anything).
Tensor scoped_weight(const LayerContext& ctx, const WeightScope& scope, int index,
                     std::string_view name, const Shape& expected, const std::string& what);

}  // namespace krt::keras
