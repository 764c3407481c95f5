// ops/activation.h's Activation as a POD that kernels take by value (C++17-clean, for .cu files
// and host code alike); cuda_activation.cuh computes it on the device.
#pragma once

#include "kerasrt/op_types.h"

namespace krt::cuda {

struct ActParams {
  ActivationKind kind = ActivationKind::linear;
  float alpha = 0.f;
  float max_value = -1.f;
  float threshold = 0.f;
  float negative_slope = 0.f;
};

}  // namespace krt::cuda
