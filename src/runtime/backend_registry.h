// The backends by name, built the way the layer registry is: the built-in ones are listed
// one line each in src/backends/builtin_backends.cpp, and the runtime, the CLI, the C API and
// the test suites take the list from here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace krt {

// Registers a backend (at static-initialization time, or from a program or test before it
// compiles a model). A second backend with the same name is an error.
void register_backend(std::shared_ptr<const Backend> backend);

// Removes a backend registered by register_backend (compiled models keep working: they hold
// what they need). For tests and plug-ins that come and go.
void unregister_backend(const std::string& name);

// The backend named `name`, or nullptr.
const Backend* find_backend(const std::string& name);
// The backend for a device: throws krt::Error (invalid_argument) naming the registered ones
// when it does not exist, (unsupported) saying why when it cannot run here.
const Backend& backend_for(const Device& device);
// Every registered backend, in registration order (reference, cpu, then the others).
std::vector<const Backend*> registered_backends();

// The built-in backends, one line each, in src/backends/builtin_backends.cpp.
std::vector<std::shared_ptr<const Backend>> make_builtin_backends();
// The host backend that runs what a device does not support (the cpu backend).
const Backend& fallback_backend();

}  // namespace krt
