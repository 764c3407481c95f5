// The `reference` backend for the registry: every op, plain loops, no passes beyond the
// structural ones. The oracle the other backends are tested against.
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace krt::reference {
std::shared_ptr<const Backend> make_reference_backend();
}  // namespace krt::reference
