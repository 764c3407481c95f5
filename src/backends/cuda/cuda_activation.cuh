// Every element-wise activation on the device, computed exactly as src/ops/activation.cpp does
// (same formulas, same order of operations, same NaN behaviour of std::min/max/clamp), in f32
// with CUDA's IEEE-accurate math functions (never the fast intrinsics). The one copy every
// family uses: Dense/Conv epilogues, the activation op, the recurrent cells. .cu files only.
#pragma once

#include <cuda_runtime.h>

#include "backends/cuda/cuda_activation.h"

namespace krt::cuda {

namespace act_detail {

// std::max / std::min / std::clamp as the C++ library defines them (NaN handling included).
__host__ __device__ __forceinline__ float std_max(float a, float b) { return a < b ? b : a; }
__host__ __device__ __forceinline__ float std_min(float a, float b) { return b < a ? b : a; }
__host__ __device__ __forceinline__ float std_clamp(float v, float lo, float hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

__host__ __device__ __forceinline__ float softplus(float x) {
  return std_max(x, 0.f) + log1pf(expf(-fabsf(x)));
}

__host__ __device__ __forceinline__ float sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + expf(-x));
  const float e = expf(x);
  return e / (1.f + e);
}

__host__ __device__ __forceinline__ float hard_sigmoid(float x) {
  const float y = x / 6.f + 0.5f;
  return y <= 0.f ? 0.f : (y >= 1.f ? 1.f : y);
}

__host__ __device__ __forceinline__ float elu(float x, float alpha) {
  return x >= 0.f ? x : alpha * expm1f(x);
}

}  // namespace act_detail

__host__ __device__ __forceinline__ float sigmoid_f32(float x) { return act_detail::sigmoid(x); }

__host__ __device__ __forceinline__ float apply_activation(const ActParams& a, float x) {
  using namespace act_detail;
  switch (a.kind) {
    case ActivationKind::linear:
      return x;
    case ActivationKind::relu:
      if (a.max_value >= 0.f && x >= a.max_value) return a.max_value;
      if (x > a.threshold) return x;
      return a.negative_slope * (x - a.threshold);
    case ActivationKind::sigmoid:
      return sigmoid(x);
    case ActivationKind::hard_sigmoid:
      return hard_sigmoid(x);
    case ActivationKind::hard_sigmoid_keras2:
      return std_clamp(0.2f * x + 0.5f, 0.f, 1.f);
    case ActivationKind::tanh:
      return tanhf(x);
    case ActivationKind::elu:
      return elu(x, a.alpha);
    case ActivationKind::selu: {
      constexpr float kAlpha = 1.6732632423543772848170429916717f;
      constexpr float kScale = 1.0507009873554804934193349852946f;
      return kScale * elu(x, kAlpha);
    }
    case ActivationKind::celu:
      return std_max(x, 0.f) + a.alpha * expm1f(std_min(x, 0.f) / a.alpha);
    case ActivationKind::softplus:
      return softplus(x);
    case ActivationKind::softsign:
      return x / (1.f + fabsf(x));
    case ActivationKind::exponential:
      return expf(x);
    case ActivationKind::silu:
      return x * sigmoid(x);
    case ActivationKind::hard_silu:
      return x * hard_sigmoid(x);
    case ActivationKind::gelu: {
      constexpr float kSqrt2 = 1.41421356237309504880f;
      return x * (erff(x / kSqrt2) + 1.f) / 2.f;
    }
    case ActivationKind::gelu_tanh: {
      constexpr float kSqrt2OverPi = 0.79788456080286535588f;
      return x * 0.5f * (1.f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
    case ActivationKind::leaky_relu:
      return x >= 0.f ? x : a.alpha * x;
    case ActivationKind::relu6:
      return std_min(std_max(x, 0.f), 6.f);
    case ActivationKind::mish:
      return x * tanhf(softplus(x));
    case ActivationKind::hard_shrink:
      return fabsf(x) > a.alpha ? x : 0.f;
    case ActivationKind::soft_shrink:
      return x > a.alpha ? x - a.alpha : (x < -a.alpha ? x + a.alpha : 0.f);
    case ActivationKind::hard_tanh:
      return std_clamp(x, -1.f, 1.f);
    case ActivationKind::log_sigmoid:
      return -softplus(-x);
    case ActivationKind::sparse_plus:
      return x <= -1.f ? 0.f : (x >= 1.f ? x : 0.25f * (x + 1.f) * (x + 1.f));
    case ActivationKind::sparse_sigmoid:
      return x <= -1.f ? 0.f : (x >= 1.f ? 1.f : 0.5f * (x + 1.f));
    case ActivationKind::squareplus:
      return (x + sqrtf(x * x + a.alpha)) / 2.f;
    case ActivationKind::tanh_shrink:
      return x - tanhf(x);
    case ActivationKind::thresholded_relu:
      return x > a.alpha ? x : 0.f;
  }
  return x;
}

}  // namespace krt::cuda
