// Activation functions: the element-wise ones that can be fused into Dense/Conv, and the
// ones that work along an axis (softmax, log_softmax, sparsemax, glu), which are ops.
#pragma once

#include <string>

#include "kerasrt/op_types.h"

namespace krt {

// An element-wise activation with its parameters. Which fields matter depends on the kind:
//   relu: y = x >= max ? max : x > threshold ? x : negative_slope * (x - threshold)
//         (Keras ReLU layer semantics; max_value < 0 means no cap)
//   elu, celu: alpha;  leaky_relu: alpha (negative slope);  hard_shrink, soft_shrink: alpha
//   (threshold);  squareplus: alpha (b);  thresholded_relu: alpha (theta).
struct Activation {
  ActivationKind kind = ActivationKind::linear;
  float alpha = 0.f;
  float max_value = -1.f;
  float threshold = 0.f;
  float negative_slope = 0.f;

  bool is_linear() const { return kind == ActivationKind::linear; }
};

const char* activation_name(ActivationKind kind);
// The value of the activation at x (the reference definition, used by every backend's tests).
float apply_activation(const Activation& a, float x);

}  // namespace krt
