// The one place where the Python API's device and precision strings become krt::CompileOptions,
// so a change to how the C++ API names devices and precisions is adapted here and nowhere else.
#pragma once

#include <string>

#include "kerasrt/model.h"

namespace krt::python {

// device: "cpu" or "reference"; threads: 0 for one per core; precision: "fp32".
// Throws krt::Error (invalid_argument) naming the accepted values when one is unknown.
CompileOptions to_compile_options(const std::string& device, int threads,
                                  const std::string& precision);

}  // namespace krt::python
