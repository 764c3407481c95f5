// The protocol-neutral core of `kerasrt serve`: an inference request and response as both
// front ends (REST and gRPC) decode and encode them, the error kinds they map to HTTP statuses
// and gRPC codes, and the Open Inference Protocol's tensor datatypes.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kerasrt/kerasrt.h"

namespace krt::serve {

// What went wrong, in the protocol's terms: each front end maps a kind to its own status.
enum class ErrorKind {
  bad_request,  // malformed or inconsistent request (HTTP 400, INVALID_ARGUMENT)
  not_found,    // unknown model, version or output (HTTP 404, NOT_FOUND)
  too_large,    // above a configured limit (HTTP 413, RESOURCE_EXHAUSTED)
  unavailable,  // queue full, timed out in the queue, shutting down (HTTP 503, UNAVAILABLE)
  internal,     // a failure of the engine (HTTP 500, INTERNAL)
};

class ServeError : public std::runtime_error {
 public:
  ServeError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

int http_status(ErrorKind kind);

// The protocol's datatype names ("FP32", "INT64", ...) for the dtypes kerasrt tensors hold.
const char* datatype_name(DType dtype);
// The dtype of a protocol datatype; nullopt for those kerasrt does not take (BYTES, BOOL,
// INT8, ...). parse_datatype throws ServeError(bad_request) naming the supported ones.
std::optional<DType> datatype_dtype(const std::string& name);
DType parse_datatype(const std::string& name, const std::string& tensor_name);

// Limits on what one request may ask for; hostile clients must not size our allocations.
struct RequestLimits {
  int64_t max_body_bytes = 64ll << 20;       // whole HTTP body / gRPC message
  int64_t max_tensor_elements = 16ll << 20;  // per input tensor
  int64_t max_json_values = 4ll << 20;       // numbers in one JSON body (a parsed value is ~16 B)
  int max_json_depth = 64;
};

// One input as sent: its data already decoded into a host tensor of the datatype's dtype
// with the declared shape (the decoders check that the element count matches the shape).
struct InferInput {
  std::string name;
  std::string datatype;
  Tensor data;
};

struct RequestedOutput {
  std::string name;
  bool binary = false;  // REST: return it in the binary tensor data extension
};

struct InferRequest {
  std::string model;
  std::string version;  // empty: the latest
  std::string id;
  std::vector<InferInput> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output
  bool binary_outputs = false;           // REST "binary_data_output": every output in binary
};

struct InferOutput {
  std::string name;
  Tensor data;  // host tensor in the output's dtype
  bool binary = false;
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<InferOutput> outputs;
};

// Checks that `shape` has no negative dimension and at most `max_elements` elements, and
// returns the element count; ServeError (bad_request / too_large) naming the tensor otherwise.
// "[2, 8, 8, 3]", as the protocol writes shapes (-1 for a dynamic dimension).
std::string shape_text(const Shape& shape);

int64_t checked_elements(const Shape& shape, const std::string& tensor_name,
                         const RequestLimits& limits);

}  // namespace krt::serve
