// The server's logic, shared by the REST and gRPC front ends: health, metadata, and inference
// (validation against the model, conversion, the batcher, metrics).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "inference.h"
#include "metrics.h"
#include "model_repository.h"

namespace krt::serve {

class InferenceService {
 public:
  InferenceService(ModelRepository& repository, Metrics& metrics, RequestLimits limits)
      : repository_(repository), metrics_(metrics), limits_(limits) {}

  bool live() const { return true; }
  // Ready once started, not ready while shutting down (so load balancers drain us).
  bool ready() const { return ready_.load(); }
  void set_ready(bool ready) { ready_.store(ready); }

  // Throws ServeError(not_found) for an unknown model or version.
  ServedModel& model(const std::string& name, const std::string& version) {
    return repository_.find(name, version);
  }
  std::vector<std::string> versions(const std::string& name) const {
    return repository_.versions(name);
  }
  const RequestLimits& limits() const { return limits_; }
  Metrics& metrics() { return metrics_; }

  // Runs one request through the model's batcher and returns the outputs asked for. Throws
  // ServeError; `protocol` ("http", "grpc") labels the metrics.
  InferResponse infer(InferRequest& request, const char* protocol);

 private:
  InferResponse run(ServedModel& model, InferRequest& request);

  ModelRepository& repository_;
  Metrics& metrics_;
  RequestLimits limits_;
  std::atomic<bool> ready_{false};
};

}  // namespace krt::serve
