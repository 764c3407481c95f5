#include "compile_options.h"

#include "kerasrt/error.h"

namespace krt::python {

// Device and precision names are parsed by the library (one place for every front end): an
// unknown name is an error that lists the registered devices or the precisions.
CompileOptions to_compile_options(const std::string& device, int threads,
                                  const std::string& precision) {
  CompileOptions options;
  options.device = Device::parse(device);
  options.precision = parse_precision(precision);
  if (threads < 0)
    throw Error(
        ErrorCode::invalid_argument,
        "threads must be 0 (one per core) or a positive count, got " + std::to_string(threads));
  options.threads = threads;
  return options;
}

}  // namespace krt::python
