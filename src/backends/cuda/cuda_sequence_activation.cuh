// The recurrent cells' name for the shared activation function (cuda_activation.cuh).
#pragma once

#include "backends/cuda/cuda_activation.cuh"
#include "backends/cuda/cuda_sequence_kernels.h"

namespace krt::cuda {

__host__ __device__ __forceinline__ float seq_activation(const SeqActivation& a, float x) { return apply_activation(a, x); }

}  // namespace krt::cuda
