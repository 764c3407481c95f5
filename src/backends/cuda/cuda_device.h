// The `cuda` backend for the registry (built when CMake finds the CUDA toolkit).
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace krt::cuda {
std::shared_ptr<const Backend> make_cuda_backend();
}  // namespace krt::cuda
