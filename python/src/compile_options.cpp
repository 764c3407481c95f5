#include "compile_options.h"

#include "kerasrt/error.h"

namespace krt::python {

CompileOptions to_compile_options(const std::string& device, int threads, const std::string& precision) {
  CompileOptions options;
  if (device == "cpu") {
    options.device = Device::cpu();
  } else if (device == "reference") {
    options.device = Device::reference();
  } else {
    throw Error(ErrorCode::invalid_argument,
                "unknown device '" + device + "': the available devices are 'cpu' and 'reference'");
  }
  if (precision != "fp32")
    throw Error(ErrorCode::invalid_argument,
                "unknown precision '" + precision + "': the available precisions are 'fp32'");
  options.precision = Precision::fp32;
  if (threads < 0)
    throw Error(ErrorCode::invalid_argument,
                "threads must be 0 (one per core) or a positive count, got " + std::to_string(threads));
  options.threads = threads;
  return options;
}

}  // namespace krt::python
