// Loading a model from bytes already in memory (the fuzzers and tests use it; krt::load maps
// the file and calls it).
#pragma once

#include <string>

#include "io/bytes.h"
#include "kerasrt/model.h"

namespace krt {

// Recognizes the format of `bytes` (.keras zip or legacy .h5) and imports the model.
// `name` stands for the file in error messages. Throws krt::Error like krt::load.
Model load_from_bytes(io::Bytes bytes, const std::string& name, const LoadOptions& options = {});

}  // namespace krt
