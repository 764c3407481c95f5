// Small enums shared by the graph builder API and the engine.
#pragma once

namespace krt {

// Keras padding modes: 'valid' (none), 'same' (output = ceil(input / stride), extra padding
// after), 'causal' (1-D convolutions: all padding before).
enum class Padding { valid, same, causal };

// Element-wise activations, with Keras 3 semantics (hard_sigmoid_keras2 is Keras 1/2's
// clip(0.2x + 0.5, 0, 1)).
enum class ActivationKind {
  linear,
  relu,
  sigmoid,
  hard_sigmoid,
  hard_sigmoid_keras2,
  tanh,
  elu,
  selu,
  celu,
  softplus,
  softsign,
  exponential,
  silu,
  hard_silu,
  gelu,
  gelu_tanh,
  leaky_relu,
  relu6,
  mish,
  hard_shrink,
  soft_shrink,
  hard_tanh,
  log_sigmoid,
  sparse_plus,
  sparse_sigmoid,
  squareplus,
  tanh_shrink,
  thresholded_relu,
};

}  // namespace krt
