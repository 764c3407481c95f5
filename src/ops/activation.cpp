// Element-wise activations with the semantics of Keras 3 (numpy/jax backends), plus the Keras 2
// hard_sigmoid. Formulas follow keras/src/backend/numpy/nn.py so results match to a few ulps.
#include "ops/activation.h"

#include <algorithm>
#include <cmath>

namespace krt {

const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::linear:
      return "linear";
    case ActivationKind::relu:
      return "relu";
    case ActivationKind::sigmoid:
      return "sigmoid";
    case ActivationKind::hard_sigmoid:
      return "hard_sigmoid";
    case ActivationKind::hard_sigmoid_keras2:
      return "hard_sigmoid_keras2";
    case ActivationKind::tanh:
      return "tanh";
    case ActivationKind::elu:
      return "elu";
    case ActivationKind::selu:
      return "selu";
    case ActivationKind::celu:
      return "celu";
    case ActivationKind::softplus:
      return "softplus";
    case ActivationKind::softsign:
      return "softsign";
    case ActivationKind::exponential:
      return "exponential";
    case ActivationKind::silu:
      return "silu";
    case ActivationKind::hard_silu:
      return "hard_silu";
    case ActivationKind::gelu:
      return "gelu";
    case ActivationKind::gelu_tanh:
      return "gelu_tanh";
    case ActivationKind::leaky_relu:
      return "leaky_relu";
    case ActivationKind::relu6:
      return "relu6";
    case ActivationKind::mish:
      return "mish";
    case ActivationKind::hard_shrink:
      return "hard_shrink";
    case ActivationKind::soft_shrink:
      return "soft_shrink";
    case ActivationKind::hard_tanh:
      return "hard_tanh";
    case ActivationKind::log_sigmoid:
      return "log_sigmoid";
    case ActivationKind::sparse_plus:
      return "sparse_plus";
    case ActivationKind::sparse_sigmoid:
      return "sparse_sigmoid";
    case ActivationKind::squareplus:
      return "squareplus";
    case ActivationKind::tanh_shrink:
      return "tanh_shrink";
    case ActivationKind::thresholded_relu:
      return "thresholded_relu";
  }
  return "unknown";
}

namespace {

// log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)) (numpy's logaddexp(x, 0)).
float softplus(float x) { return std::max(x, 0.f) + std::log1p(std::exp(-std::fabs(x))); }

// Never evaluates exp of a large positive number.
float sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}

float hard_sigmoid(float x) {
  // Keras 3: relu6(x + 3) / 6, written as numpy does (x / 6 + 0.5, clipped).
  float y = x / 6.f + 0.5f;
  return y <= 0.f ? 0.f : (y >= 1.f ? 1.f : y);
}

float elu(float x, float alpha) { return x >= 0.f ? x : alpha * std::expm1(x); }

// The Keras ReLU layer: a cap, a threshold, and a slope below the threshold.
float relu(const Activation& a, float x) {
  if (a.max_value >= 0.f && x >= a.max_value) return a.max_value;
  if (x > a.threshold) return x;
  return a.negative_slope * (x - a.threshold);
}

}  // namespace

float apply_activation(const Activation& a, float x) {
  switch (a.kind) {
    case ActivationKind::linear:
      return x;
    case ActivationKind::relu:
      return relu(a, x);
    case ActivationKind::sigmoid:
      return sigmoid(x);
    case ActivationKind::hard_sigmoid:
      return hard_sigmoid(x);
    case ActivationKind::hard_sigmoid_keras2:
      return std::clamp(0.2f * x + 0.5f, 0.f, 1.f);
    case ActivationKind::tanh:
      return std::tanh(x);
    case ActivationKind::elu:
      return elu(x, a.alpha);
    case ActivationKind::selu: {
      constexpr float kAlpha = 1.6732632423543772848170429916717f;
      constexpr float kScale = 1.0507009873554804934193349852946f;
      return kScale * elu(x, kAlpha);
    }
    case ActivationKind::celu:
      // max(x, 0) + alpha * expm1(min(x, 0) / alpha)
      return std::max(x, 0.f) + a.alpha * std::expm1(std::min(x, 0.f) / a.alpha);
    case ActivationKind::softplus:
      return softplus(x);
    case ActivationKind::softsign:
      return x / (1.f + std::fabs(x));
    case ActivationKind::exponential:
      return std::exp(x);
    case ActivationKind::silu:
      return x * sigmoid(x);
    case ActivationKind::hard_silu:
      return x * hard_sigmoid(x);
    case ActivationKind::gelu: {
      constexpr float kSqrt2 = 1.41421356237309504880f;
      return x * (std::erf(x / kSqrt2) + 1.f) / 2.f;
    }
    case ActivationKind::gelu_tanh: {
      constexpr float kSqrt2OverPi = 0.79788456080286535588f;
      return x * 0.5f * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
    case ActivationKind::leaky_relu:
      return x >= 0.f ? x : a.alpha * x;
    case ActivationKind::relu6:
      return std::min(std::max(x, 0.f), 6.f);
    case ActivationKind::mish:
      return x * std::tanh(softplus(x));
    case ActivationKind::hard_shrink:
      return std::fabs(x) > a.alpha ? x : 0.f;
    case ActivationKind::soft_shrink:
      return x > a.alpha ? x - a.alpha : (x < -a.alpha ? x + a.alpha : 0.f);
    case ActivationKind::hard_tanh:
      return std::clamp(x, -1.f, 1.f);
    case ActivationKind::log_sigmoid:
      return -softplus(-x);
    case ActivationKind::sparse_plus:
      return x <= -1.f ? 0.f : (x >= 1.f ? x : 0.25f * (x + 1.f) * (x + 1.f));
    case ActivationKind::sparse_sigmoid:
      return x <= -1.f ? 0.f : (x >= 1.f ? 1.f : 0.5f * (x + 1.f));
    case ActivationKind::squareplus:
      return (x + std::sqrt(x * x + a.alpha)) / 2.f;
    case ActivationKind::tanh_shrink:
      return x - std::tanh(x);
    case ActivationKind::thresholded_relu:
      return x > a.alpha ? x : 0.f;
  }
  return x;
}

}  // namespace krt
