// The REST side's JSON: inference requests (JSON tensors, nested or flat, and the binary
// tensor data extension), responses, metadata and errors. The only file that includes
// nlohmann/json, whose parse is bounded by RequestLimits (depth, number of values).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inference.h"
#include "model_repository.h"

namespace krt::serve {

// Decodes POST .../infer. `json_length` is the Inference-Header-Content-Length header (the
// JSON's byte count; binary tensor data follows it), or -1 when absent (all of `body` is
// JSON). Throws ServeError(bad_request / too_large) naming the problem.
InferRequest parse_infer_request(std::string_view body, int64_t json_length,
                                 const std::string& model, const std::string& version,
                                 const RequestLimits& limits);

// An encoded response: JSON, then the binary outputs when any output is binary.
struct EncodedResponse {
  std::string body;
  size_t json_length = 0;  // for Inference-Header-Content-Length when `binary`
  bool binary = false;
};
EncodedResponse encode_infer_response(const InferResponse& response);

std::string server_metadata_json(const std::string& version);
std::string model_metadata_json(const ServedModel& model, const std::vector<std::string>& versions);
std::string model_ready_json(const ServedModel& model);
std::string error_json(const std::string& message);
// A JSON string literal for any text (invalid UTF-8 is replaced, not thrown).
std::string json_string(const std::string& text);

// The server's name and the protocol extensions it implements (REST and gRPC metadata).
inline constexpr const char* kServerName = "kerasrt";
inline const std::vector<std::string> kExtensions = {"binary_tensor_data"};

}  // namespace krt::serve
