// Structured access logs: one JSON object per line per request, from both front ends, e.g.
// {"time":"2026-01-02T03:04:05.678Z","protocol":"http","remote":"127.0.0.1:50312",
//  "method":"POST","path":"/v2/models/seed/infer","status":200,"request_bytes":980,
//  "response_bytes":8431,"ms":1.234}
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace krt::serve {

struct AccessRecord {
  const char* protocol = "http";
  std::string remote;
  std::string method;  // HTTP method, or the gRPC method name
  std::string path;    // HTTP path, or the model for gRPC
  int status = 0;      // HTTP status, or the gRPC status code
  size_t request_bytes = 0;
  size_t response_bytes = 0;
  double ms = -1;  // negative: not measured (requests refused before routing)
  std::string error;
};

class AccessLog {
 public:
  // "-": standard error; "off": nothing; otherwise a file, appended to.
  explicit AccessLog(const std::string& destination);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  bool enabled() const { return file_ != nullptr; }
  void write(const AccessRecord& record);

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace krt::serve
