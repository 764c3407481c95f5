#include "inference.h"

#include <utility>

namespace krt::serve {

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_request:
      return 400;
    case ErrorKind::not_found:
      return 404;
    case ErrorKind::too_large:
      return 413;
    case ErrorKind::unavailable:
      return 503;
    case ErrorKind::internal:
      return 500;
  }
  return 500;
}

namespace {

constexpr std::pair<const char*, DType> kDatatypes[] = {
    {"FP32", DType::f32},  {"FP64", DType::f64},  {"FP16", DType::f16}, {"BF16", DType::bf16},
    {"INT32", DType::i32}, {"INT64", DType::i64}, {"UINT8", DType::u8},
};

}  // namespace

const char* datatype_name(DType dtype) {
  for (const auto& [name, d] : kDatatypes)
    if (d == dtype) return name;
  return "FP32";  // unreachable: every DType is listed
}

std::optional<DType> datatype_dtype(const std::string& name) {
  for (const auto& [n, d] : kDatatypes)
    if (name == n) return d;
  return std::nullopt;
}

DType parse_datatype(const std::string& name, const std::string& tensor_name) {
  if (auto d = datatype_dtype(name)) return *d;
  std::string list;
  for (const auto& [n, d] : kDatatypes) list += std::string(list.empty() ? "" : ", ") + n;
  throw ServeError(ErrorKind::bad_request, "input '" + tensor_name + "': datatype '" + name +
                                               "' is not supported (supported: " + list + ")");
}

std::string shape_text(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

int64_t checked_elements(const Shape& shape, const std::string& tensor_name,
                         const RequestLimits& limits) {
  if (shape.size() > 16)
    throw ServeError(ErrorKind::bad_request, "input '" + tensor_name + "' has " +
                                                 std::to_string(shape.size()) +
                                                 " dimensions; at most 16 are accepted");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw ServeError(ErrorKind::bad_request, "input '" + tensor_name + "' has shape " +
                                                   shape_text(shape) +
                                                   " with a negative dimension");
    // Compare before multiplying, so that no product can overflow.
    if (d != 0 && n > limits.max_tensor_elements / d)
      throw ServeError(ErrorKind::too_large, "input '" + tensor_name + "' has shape " +
                                                 shape_text(shape) + ", more than the limit of " +
                                                 std::to_string(limits.max_tensor_elements) +
                                                 " elements");
    n *= d;
  }
  return n;
}

}  // namespace krt::serve
