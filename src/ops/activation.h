// Activation functions: the element-wise ones that can be fused into Dense/Conv, and the
// ones that work along an axis (softmax, log_softmax, sparsemax, glu), which are ops.
#pragma once

#include <string>

namespace krt {

enum class ActivationKind {
  linear, relu, sigmoid, hard_sigmoid, hard_sigmoid_keras2, tanh, elu, selu, celu, softplus,
  softsign, exponential, silu, hard_silu, gelu, gelu_tanh, leaky_relu, relu6, mish, hard_shrink,
  soft_shrink, hard_tanh, log_sigmoid, sparse_plus, sparse_sigmoid, squareplus, tanh_shrink,
  thresholded_relu,
};

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
