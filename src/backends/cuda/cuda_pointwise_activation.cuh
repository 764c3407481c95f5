// The pointwise family's name for the shared activation function (cuda_activation.cuh).
#pragma once

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_pointwise_kernels.h"

namespace krt::cuda {

__device__ __forceinline__ float apply_activation_f32(const ActivationArgs& a, float x) { return apply_activation(a, x); }

}  // namespace krt::cuda
