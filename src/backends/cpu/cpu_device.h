// The `cpu` backend for the registry.
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace krt::cpu {
std::shared_ptr<const Backend> make_cpu_backend();
}  // namespace krt::cpu
