// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
#pragma once

#include <string>

#include "io/bytes.h"
#include "kerasrt/limits.h"
#include "kerasrt/tensor.h"

namespace krt::io {

// Parses an .npy file into a tensor that owns a copy of the data (a copy, because Tensor
// data is writable and the source may be a read-only mapping). Supports little-endian or
// native f4, f8, i4, i8, u1 and b1 (read as u8), C order only. Throws krt::Error:
// invalid_file for malformed or truncated files, unsupported for well-formed files we do
// not handle (Fortran order, big-endian, object, string or structured dtypes),
// limit_exceeded when the shape is above `limits`. Messages start with `display_name`.
Tensor read_npy(const Bytes& bytes, const std::string& display_name, const Limits& limits = {});

// Writes `tensor` as a version 1.0 .npy file laid out byte for byte as numpy.save does.
// Throws krt::Error (io_error) naming `path` if the file cannot be written.
void write_npy(const Tensor& tensor, const std::string& path);

}  // namespace krt::io
