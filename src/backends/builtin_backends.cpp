// The built-in backends, one line each. A new backend adds its folder, one line here and its
// sources to the build; nothing else in the runtime names it.
#include "backends/cpu/cpu_device.h"
#include "backends/reference/reference_device.h"
#include "runtime/backend_registry.h"
#ifdef KERASRT_WITH_CUDA
#include "backends/cuda/cuda_device.h"
#endif

namespace krt {

std::vector<std::shared_ptr<const Backend>> make_builtin_backends() {
  std::vector<std::shared_ptr<const Backend>> backends;
  backends.push_back(reference::make_reference_backend());
  backends.push_back(cpu::make_cpu_backend());
#ifdef KERASRT_WITH_CUDA
  backends.push_back(cuda::make_cuda_backend());
#endif
  return backends;
}

const Backend& fallback_backend() {
  static const Backend* cpu = find_backend("cpu");
  return *cpu;
}

}  // namespace krt
