// Errors thrown by every kerasrt entry point.
#pragma once

#include <stdexcept>
#include <string>

namespace krt {

enum class ErrorCode {
  invalid_argument,  // the caller passed something wrong (bad input shape, unknown option)
  invalid_file,      // the model or data file is malformed, truncated or inconsistent
  unsupported,       // well-formed, but uses something kerasrt does not implement
  limit_exceeded,    // a size in the file is above a configured limit (see krt::Limits)
  io_error,          // the operating system refused a read or write
  internal,          // a bug in kerasrt
};

const char* error_code_name(ErrorCode code);

// The one exception type of the public API: a code plus a message that names the file,
// the layer and what was expected versus found.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace krt
